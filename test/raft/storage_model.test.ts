// The SQLite storage against the in-memory one as a model: random sequences of what drivers do (save
// entries that overwrite a suffix, hard states, incoming snapshots, state-machine snapshots with
// compaction, reopening the database) must leave both with the same log, snapshot and hard state.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { MemoryStorage } from "../../raft/memory_storage.js";
import { type SqliteLogStorage, SqliteRaftStore } from "../../raft/sqlite_storage.js";
import type { LogStore } from "../../raft/storage.js";
import { type Entry, EntryType, type HardState } from "../../raft/types.js";
import { Rng } from "./sim/rng.js";

const conf = { voters: ["a", "b", "c"], learners: [] };

function same(model: LogStore, real: LogStore, what: string): void {
  assert.equal(real.firstIndex(), model.firstIndex(), `${what}: firstIndex`);
  assert.equal(real.lastIndex(), model.lastIndex(), `${what}: lastIndex`);
  for (let i = model.firstIndex() - 1; i <= model.lastIndex(); i++) assert.equal(real.term(i), model.term(i), `${what}: term(${i})`);
  assert.equal(real.term(model.lastIndex() + 1), undefined);
  if (model.lastIndex() >= model.firstIndex()) {
    const a = model.entries(model.firstIndex(), model.lastIndex() + 1, Infinity);
    const b = real.entries(model.firstIndex(), model.lastIndex() + 1, Infinity);
    assert.deepEqual(
      b.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString("hex")]),
      a.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString("hex")]),
      `${what}: entries`,
    );
    // Size-limited reads agree too (at least one entry, then as many as fit).
    const lim = 60;
    assert.deepEqual(
      real.entries(model.firstIndex(), model.lastIndex() + 1, lim).map((e) => e.index),
      model.entries(model.firstIndex(), model.lastIndex() + 1, lim).map((e) => e.index),
      `${what}: limited entries`,
    );
  }
  const ms = model.snapshot();
  const rs = real.snapshot();
  assert.deepEqual([rs.meta.index, rs.meta.term, rs.meta.conf, Buffer.from(rs.data).toString("hex")], [ms.meta.index, ms.meta.term, ms.meta.conf, Buffer.from(ms.data).toString("hex")], `${what}: snapshot`);
  assert.deepEqual(real.initialState().hardState, model.initialState().hardState, `${what}: hard state`);
}

test("SQLite storage behaves as the in-memory model under random driver operations and reopening", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-raft-model-"));
  try {
    for (let seed = 1; seed <= 30; seed++) {
      const rng = new Rng(seed);
      const path = join(dir, `s${seed}.db`);
      let store = new SqliteRaftStore(path, { synchronous: "off", cacheEntries: rng.pick([2, 8, 4096]) });
      let real: SqliteLogStorage = store.group("g", conf);
      const model = new MemoryStorage(conf);
      let term = 1;
      const data = () => {
        const b = new Uint8Array(rng.int(0, 40));
        for (let i = 0; i < b.length; i++) b[i] = rng.int(0, 255);
        return b;
      };
      for (let step = 0; step < 120; step++) {
        const op = rng.int(0, 9);
        let what = `seed ${seed} step ${step}`;
        if (op <= 4) {
          // A follower append: overwrite an uncommitted suffix (or extend the log) with newer-term entries.
          const commit = model.initialState().hardState.commit;
          const from = rng.int(Math.max(model.firstIndex(), commit + 1), model.lastIndex() + 1);
          if (rng.chance(0.3)) term++;
          const ents: Entry[] = [];
          for (let i = 0, n = rng.int(1, 6); i < n; i++) ents.push({ index: from + i, term, type: rng.chance(0.1) ? EntryType.ConfChange : EntryType.Normal, data: data() });
          const hs: HardState | null = rng.chance(0.6) ? { term, vote: rng.pick(["", "a", "b"]), commit: rng.int(commit, from - 1) } : null;
          model.save(hs, ents, null);
          real.save(hs, ents, null);
          what += ` save ${from}..${from + ents.length - 1}/${term}`;
        } else if (op === 5 && model.initialState().hardState.commit >= model.firstIndex()) {
          // The state machine snapshots at some applied (so committed) index and compacts.
          const i = rng.int(model.firstIndex(), model.initialState().hardState.commit);
          const d = data();
          model.createSnapshot(i, conf, d);
          model.compact(i);
          real.createSnapshot(i, conf, d);
          real.compact(i);
          what += ` snapshot+compact ${i}`;
        } else if (op === 6) {
          // A snapshot from the leader that the log does not contain: beyond the log, or at an index with another term.
          const beyond = rng.chance(0.5) || model.lastIndex() < model.firstIndex();
          const index = beyond ? model.lastIndex() + rng.int(1, 5) : rng.int(model.firstIndex(), model.lastIndex());
          term++;
          const s = { meta: { index, term, conf: { voters: ["a", "b"], learners: ["c"] } }, data: data() };
          const hs: HardState = { ...model.initialState().hardState, term, commit: index };
          model.save({ ...hs }, [], s);
          real.save({ ...hs }, [], s);
          what += ` install snapshot ${index}/${term}`;
        } else if (op === 7) {
          store.close();
          store = new SqliteRaftStore(path, { synchronous: "off", cacheEntries: rng.pick([2, 8, 4096]) });
          real = store.group("g");
          what += " reopen";
        } else {
          continue;
        }
        same(model, real, what);
      }
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
