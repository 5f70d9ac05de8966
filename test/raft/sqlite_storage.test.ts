// SqliteRaftStore: durability across reopen, checksums catching damage, the recovery watermark.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { RaftCore } from "../../raft/core.js";
import { SqliteRaftStore } from "../../raft/sqlite_storage.js";
import { CorruptionError, type Entry, EntryType } from "../../raft/types.js";

function tmp(): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-raft-"));
  return { path: join(dir, "raft.db"), done: () => rmSync(dir, { recursive: true, force: true }) };
}

const e = (index: number, term: number, s = `e${index}`): Entry => ({ index, term, type: EntryType.Normal, data: new TextEncoder().encode(s) });
const conf = { voters: ["a", "b", "c"], learners: [] };

test("term, vote, entries and snapshot survive reopening", () => {
  const t = tmp();
  try {
    let store = new SqliteRaftStore(t.path);
    let g = store.group("g1", conf);
    g.save({ term: 3, vote: "b", commit: 2 }, [e(1, 1), e(2, 2), e(3, 3)], null);
    g.save(null, [e(3, 4, "replaced"), e(4, 4)], null);
    store.close();
    store = new SqliteRaftStore(t.path);
    g = store.group("g1");
    const st = g.initialState();
    assert.deepEqual(st.hardState, { term: 3, vote: "b", commit: 2 });
    assert.deepEqual(st.conf, conf);
    assert.equal(st.recoveryWatermark, 0);
    assert.equal(g.lastIndex(), 4);
    assert.equal(g.term(3), 4);
    assert.equal(new TextDecoder().decode(g.entries(3, 4, 1 << 20)[0]!.data), "replaced");
    g.createSnapshot(3, conf, new Uint8Array([7, 7]));
    g.compact(3);
    store.close();
    store = new SqliteRaftStore(t.path);
    g = store.group("g1");
    assert.equal(g.firstIndex(), 4);
    assert.deepEqual([...g.snapshot().data], [7, 7]);
    assert.equal(g.snapshot().meta.term, 4);
    assert.deepEqual(g.entries(4, 5, 1 << 20).map((x) => x.index), [4]);
    // A core restarts on it.
    const core = new RaftCore({ id: "a", storage: g, random: () => 0.5, applied: 3 });
    assert.equal(core.term, 3);
    assert.equal(core.log.lastIndex(), 4);
    store.close();
  } finally {
    t.done();
  }
});

test("groups are independent and one transaction persists several (group commit)", () => {
  const t = tmp();
  try {
    const store = new SqliteRaftStore(t.path);
    const g1 = store.group("s1", conf);
    const g2 = store.group("s2", conf);
    store.transaction(() => {
      g1.save({ term: 1, vote: "a", commit: 0 }, [e(1, 1)], null);
      g2.save({ term: 5, vote: "c", commit: 0 }, [e(1, 5), e(2, 5)], null);
    });
    assert.equal(g1.lastIndex(), 1);
    assert.equal(g2.lastIndex(), 2);
    assert.throws(() =>
      store.transaction(() => {
        g1.save(null, [e(2, 1)], null);
        throw new Error("crash mid-turn");
      }),
    );
    store.close();
    const again = new SqliteRaftStore(t.path);
    assert.equal(again.group("s1").lastIndex(), 1, "the rolled-back append is gone");
    assert.equal(again.group("s2").initialState().hardState.term, 5);
    again.close();
  } finally {
    t.done();
  }
});

test("a flipped bit in an entry is found on open: the log is cut there and the watermark set", () => {
  const t = tmp();
  try {
    let store = new SqliteRaftStore(t.path);
    store.group("g", conf).save({ term: 2, vote: "", commit: 5 }, [1, 2, 3, 4, 5, 6].map((i) => e(i, 2)), null);
    store.close();
    const db = new Database(t.path);
    db.prepare("UPDATE raft_entry SET data = ? WHERE grp = 'g' AND idx = 4").run(Buffer.from("e5"));
    db.close();
    store = new SqliteRaftStore(t.path);
    const g = store.group("g");
    assert.equal(g.corruptAt, 4);
    assert.equal(g.lastIndex(), 3);
    const st = g.initialState();
    assert.equal(st.recoveryWatermark, 6);
    assert.equal(st.hardState.commit, 3, "commit clamped to what survived");
    const core = new RaftCore({ id: "a", storage: g, random: () => 0.5 });
    assert.equal(core.status().recovering, true);
    g.clearRecoveryWatermark();
    store.close();
    store = new SqliteRaftStore(t.path);
    assert.equal(store.group("g").initialState().recoveryWatermark, 0);
    store.close();
  } finally {
    t.done();
  }
});

test("damage found while serving entries raises CorruptionError", () => {
  const t = tmp();
  try {
    const store = new SqliteRaftStore(t.path);
    const g = store.group("g", conf);
    // More entries than the in-memory tail keeps, so early ones are read back from disk.
    const ents = Array.from({ length: 5000 }, (_, i) => e(i + 1, 1));
    g.save({ term: 1, vote: "", commit: 0 }, ents, null);
    store.db.prepare("UPDATE raft_entry SET crc = crc + 1 WHERE grp = 'g' AND idx = 10").run();
    assert.throws(() => g.entries(5, 20, 1 << 20), CorruptionError);
    store.close();
  } finally {
    t.done();
  }
});

test("a damaged snapshot leaves an empty, recovering log that keeps its configuration if that is intact; a damaged hard state refuses to start", () => {
  const t = tmp();
  try {
    let store = new SqliteRaftStore(t.path);
    const g = store.group("g", conf);
    g.save({ term: 2, vote: "a", commit: 3 }, [e(1, 2), e(2, 2), e(3, 2)], null);
    g.createSnapshot(2, conf, new Uint8Array([1, 2, 3]));
    store.close();
    let db = new Database(t.path);
    db.prepare("UPDATE raft_snap SET data = ? WHERE grp = 'g'").run(Buffer.from([9, 9, 9]));
    db.close();
    store = new SqliteRaftStore(t.path);
    const g2 = store.group("g");
    assert.equal(g2.lastIndex(), 0);
    assert.equal(g2.initialState().recoveryWatermark, 3);
    assert.deepEqual(g2.initialState().conf, conf, "the configuration, checksummed on its own, survives damage to the data");
    g2.save({ term: 3, vote: "a", commit: 2 }, [e(1, 3), e(2, 3)], null);
    g2.createSnapshot(2, conf, new Uint8Array([5]));
    store.close();
    // Damage to the configuration itself: the node no longer knows its group (it learns it from a snapshot or a configuration entry).
    db = new Database(t.path);
    db.prepare(`UPDATE raft_snap SET conf = '{"voters":["a","b","x"],"learners":[]}' WHERE grp = 'g'`).run();
    db.close();
    store = new SqliteRaftStore(t.path);
    const g3 = store.group("g");
    assert.equal(g3.lastIndex(), 0);
    assert.deepEqual(g3.initialState().conf, { voters: [], learners: [] });
    store.close();
    db = new Database(t.path);
    db.prepare("UPDATE raft_snap SET conf = 'not json' WHERE grp = 'g'").run();
    db.close();
    store = new SqliteRaftStore(t.path);
    assert.deepEqual(store.group("g").initialState().conf, { voters: [], learners: [] }, "unparseable: damaged, not a crash");
    store.close();
    db = new Database(t.path);
    db.prepare("UPDATE raft_hard SET vote = 'z' WHERE grp = 'g'").run();
    db.close();
    store = new SqliteRaftStore(t.path);
    assert.throws(() => store.group("g"), CorruptionError);
    store.close();
  } finally {
    t.done();
  }
});

test("checksums of empty data do not depend on how the empty array was made", async () => {
  const { entryChecksum } = await import("../../raft/checksum.js");
  const base = { index: 7, term: 3, type: EntryType.Normal };
  const a = entryChecksum({ ...base, data: new Uint8Array(0) });
  const b = entryChecksum({ ...base, data: new Uint8Array(new ArrayBuffer(0)) });
  const c = entryChecksum({ ...base, data: Buffer.alloc(0) });
  assert.equal(a, b);
  assert.equal(a, c);
  assert.notEqual(a, entryChecksum({ ...base, index: 8, data: new Uint8Array(0) }));
});
