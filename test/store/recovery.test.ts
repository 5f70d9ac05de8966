// Recovery and group commit: what a store says is durable is on disk, what it has not said is
// durable may be missing but is never half there, and a reopened store equals the one closed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { StreamExistsError, StreamNotFoundError } from "../../jetstream/store/errors.js";
import { StoreManager } from "../../jetstream/store/manager.js";
import { encodeName } from "../../jetstream/store/names.js";
import { SqliteStreamStore } from "../../jetstream/store/sqlite_store.js";
import type { StreamStore, SyncInterval } from "../../jetstream/store/store.js";
import { payloadFor, tempDir } from "./harness.js";

const HDR = Buffer.from("NATS/1.0\r\nKV-Operation: PURGE\r\n\r\n");

function fill(s: StreamStore, from: number, n: number): void {
  for (let seq = from; seq < from + n; seq++) {
    s.storeMsg(seq, 1_700_000_000_000_000_000n + BigInt(seq), `r.${seq % 5}`, seq % 4 === 0 ? HDR : null, payloadFor(seq, seq % 300), seq % 10 === 0 ? 60 : 0);
  }
}

function snapshot(s: StreamStore) {
  const msgs = [];
  for (let m = s.loadNextMsg(">", 0); m !== null; m = s.loadNextMsg(">", m.seq + 1)) msgs.push(m);
  return {
    state: s.state({ deleted: true }),
    subjects: s.subjectsState(">"),
    msgs,
    config: s.config(),
    meta: s.getMeta("created"),
    consumers: s.consumerNames().map((n) => [n, s.consumer(n)!.config(), s.consumer(n)!.state()]),
    nextExpiry: s.nextExpiry(),
  };
}

/** What a crash at this instant would leave: a copy of the database files as they are on disk now. */
function crashCopy(store: StreamStore, to: string): string {
  const dir = join(to, encodeName(store.account));
  mkdirSync(dir, { recursive: true });
  const dst = join(dir, encodeName(store.name) + ".db");
  for (const sfx of ["", "-wal"]) if (existsSync(store.path! + sfx)) copyFileSync(store.path! + sfx, dst + sfx);
  return to;
}

for (const sync of ["always", 20] as SyncInterval[]) {
  test(`close without flush, reopen: everything written is recovered (sync ${sync})`, () => {
    const dir = tempDir("recover");
    try {
      const m = StoreManager.open(dir.path, { syncInterval: sync });
      const s = m.createStream("$G", "ORDERS", "file");
      s.saveConfig('{"name":"ORDERS","subjects":["r.>"]}');
      s.setMeta("created", "2024-01-01T00:00:00Z");
      fill(s, 1, 500);
      s.removeMsg(7);
      s.purgeEx("r.3", 0, 2);
      const c = s.createConsumer("dur", '{"durable_name":"dur"}', "explicit");
      c.updateDelivered(1, 1, 1, 5n);
      c.updateDelivered(2, 2, 1, 6n);
      c.updateDelivered(3, 1, 2, 7n);
      c.updateAcks(2, 2);
      const before = snapshot(s);
      m.close();

      const m2 = StoreManager.open(dir.path, { verify: "full" });
      const rec = m2.recover();
      assert.deepEqual(rec.failures, []);
      assert.equal(rec.streams.length, 1);
      assert.equal(rec.streams[0]!.config, before.config);
      assert.deepEqual(rec.streams[0]!.consumers, ["dur"]);
      assert.deepEqual(snapshot(rec.streams[0]!.store), before);
      // And it keeps working where it left off.
      fill(rec.streams[0]!.store, before.state.lastSeq + 1, 3);
      assert.equal(rec.streams[0]!.store.state().lastSeq, before.state.lastSeq + 3);
      m2.close();
    } finally {
      dir.remove();
    }
  });
}

test("a write is not on disk before its commit callback, and is once the callback runs", async () => {
  const dir = tempDir("durable");
  try {
    const m = StoreManager.open(dir.path);
    const s = m.createStream("A", "S", "file");
    fill(s, 1, 10);
    await s.flush();
    fill(s, 11, 5);
    const c = s.createConsumer("c", "{}", "explicit");
    c.updateDelivered(1, 12, 1, 1n);
    // Still inside the turn: a crash now loses seq 11..15 and the consumer, and nothing else.
    let n = 0;
    const early = StoreManager.open(crashCopy(s, join(dir.path, `copy${n++}`)), { verify: "full" });
    const e = early.openStream("A", "S");
    assert.equal(e.state().lastSeq, 10);
    assert.deepEqual(e.consumerNames(), []);
    early.close();

    const seen = await new Promise<number>((resolve, reject) =>
      s.afterCommit((err) => {
        if (err) return reject(err);
        const copy = StoreManager.open(crashCopy(s, join(dir.path, `copy${n++}`)), { verify: "full" });
        const cs = copy.openStream("A", "S");
        const last = cs.state().lastSeq;
        assert.deepEqual(cs.consumer("c")!.state().pending.get(12), { consumerSeq: 1, ts: 1n });
        copy.close();
        resolve(last);
      }),
    );
    assert.equal(seen, 15);
    m.close();
  } finally {
    dir.remove();
  }
});

test("group commit: one transaction per stream per turn, callbacks after their commit, in order per stream", async () => {
  const dir = tempDir("group");
  try {
    const m = StoreManager.open(dir.path);
    const streams = ["A", "B", "C"].map((n) => m.createStream("acc", n, "file") as SqliteStreamStore);
    const mem = m.createStream("acc", "MEM", "memory");
    await m.flush();
    const base = streams.map((s) => s.commitCount);
    const order: string[] = [];
    for (let turn = 0; turn < 3; turn++) {
      const done: Promise<void>[] = [];
      for (const s of [...streams, mem]) {
        if (s === mem) mem.storeMsg(mem.state().lastSeq + 1, 1n, "m", null, Buffer.alloc(1));
        else fill(s, s.state().lastSeq + 1, 50);
        // Two callbacks per stream and turn: they run in registration order, after the commit.
        s.afterCommit(() => order.push(`${s.name}${turn}a`));
        done.push(new Promise<void>((resolve) => s.afterCommit(() => (order.push(`${s.name}${turn}b`), resolve()))));
      }
      // Each file stream's commit for this turn has happened once the turn's writes are in.
      await Promise.all(done);
      streams.forEach((s, i) => assert.equal(s.commitCount, base[i]! + turn + 1, `${s.name}: one commit per turn`));
    }
    // Background syncs finish in any order across streams; within a stream, in order.
    for (const name of ["A", "B", "C", "MEM"]) {
      assert.deepEqual(
        order.filter((o) => o.startsWith(name)),
        [0, 1, 2].flatMap((t) => [`${name}${t}a`, `${name}${t}b`]),
        name,
      );
    }
    assert.equal(order.length, 24);
    // A callback registered with nothing pending still waits for the next round.
    let fired = false;
    streams[1]!.afterCommit(() => (fired = true));
    assert.equal(fired, false);
    await streams[1]!.flush();
    assert.equal(fired, true);
    m.close();
  } finally {
    dir.remove();
  }
});

test("manager: names, listing, create/open/delete, memory streams are not persisted", () => {
  const dir = tempDir("manager");
  try {
    const m = StoreManager.open(dir.path);
    const names: [string, string][] = [
      ["$G", "ORDERS"],
      ["$G", "KV_cfg"],
      ["acct/with:odd chars", "Str\u00e9am-1"],
    ];
    for (const [a, n] of names) m.createStream(a, n, "file").storeMsg(1, 1n, "x", null, Buffer.from(n));
    m.createStream("$G", "MEMONLY", "memory");
    assert.throws(() => m.createStream("$G", "ORDERS", "file"), StreamExistsError);
    assert.throws(() => m.createStream("$G", "ORDERS", "memory"), StreamExistsError);
    assert.throws(() => m.openStream("$G", "NOPE"), StreamNotFoundError);
    const listed = m.listStreams().map((l) => [l.account, l.name]);
    assert.deepEqual(listed.sort(), [...names].sort());
    m.close();

    const m2 = StoreManager.open(dir.path);
    const rec = m2.recover();
    assert.deepEqual(rec.failures, []);
    assert.deepEqual(rec.streams.map((r) => [r.account, r.name]).sort(), [...names].sort());
    for (const r of rec.streams) assert.deepEqual(r.store.loadMsg(1)!.data, Buffer.from(r.name));
    const path = rec.streams.find((r) => r.name === "ORDERS")!.store.path!;
    assert.ok(statSync(path).size > 0);
    assert.equal(m2.deleteStream("$G", "ORDERS"), true);
    assert.equal(existsSync(path), false, "deleting a stream removes its file");
    assert.equal(m2.deleteStream("$G", "ORDERS"), false);
    const again = m2.createStream("$G", "ORDERS", "file");
    assert.equal(again.state().lastSeq, 0, "a re-created stream starts empty");
    m2.close();
    // The lock files stay (removing a lock file can race with another process taking it).
    const leftovers = readdirSync(join(dir.path, encodeName("$G"))).filter((f) => !f.endsWith(".db") && !f.endsWith(".db-lock"));
    assert.deepEqual(leftovers, [], "no -wal/-shm files after a clean close");
  } finally {
    dir.remove();
  }
});

test("manager: stream names too long for a file name get a hashed file and are recovered from inside it", () => {
  const dir = tempDir("longnames");
  try {
    const m = StoreManager.open(dir.path);
    const shared = "b".repeat(240);
    const names = [
      "a".repeat(255),
      // 255 bytes of two-byte letters: six characters each once encoded.
      "\u00e9".repeat(127) + "x",
      shared + "-one",
      shared + "-two",
      "tilde~" + "%".repeat(240),
      "a".repeat(235),
    ];
    for (const n of names) m.createStream("$G", n, "file").storeMsg(1, 1n, "x", null, Buffer.from(n));
    const files = readdirSync(join(dir.path, encodeName("$G")));
    assert.ok(files.every((f) => Buffer.byteLength(f) <= 255), "every file name fits");
    const listed = m.listStreams();
    assert.equal(listed.filter((l) => l.name === null).length, 5, "only the 235-byte name is stored under its own encoding");
    m.close();

    const m2 = StoreManager.open(dir.path);
    const rec = m2.recover();
    assert.deepEqual(rec.failures, []);
    assert.deepEqual(rec.streams.map((r) => r.name).sort(), [...names].sort());
    for (const r of rec.streams) assert.deepEqual(r.store.loadMsg(1)!.data, Buffer.from(r.name));
    assert.equal(m2.openStream("$G", shared + "-two").loadMsg(1)!.data.toString(), shared + "-two", "open by name finds the hashed file");
    assert.equal(m2.deleteStream("$G", names[0]!), true);
    assert.equal(m2.createStream("$G", names[0]!, "file").state().lastSeq, 0, "a re-created stream starts empty");
    m2.close();

    // A hashed file holding another stream is reported as corrupt, not opened as the stream it claims.
    const gdir = join(dir.path, encodeName("$G"));
    const one = rec.streams.find((r) => r.name === shared + "-one")!.store.path!;
    const two = rec.streams.find((r) => r.name === shared + "-two")!.store.path!;
    copyFileSync(one, two);
    const m3 = StoreManager.open(dir.path);
    const rec3 = m3.recover();
    assert.equal(rec3.failures.length, 1);
    assert.match(rec3.failures[0]!.message, /file belongs to stream "b{240}-one"/);
    assert.ok(rec3.failures[0]!.message.includes(two), "the failure names the file");
    assert.ok(readdirSync(gdir).some((f) => join(gdir, f) === two), "the file is left in place");
    m3.close();
  } finally {
    dir.remove();
  }
});

test("rows inserted many to a statement keep each row's TTL and headers, whichever statement took them", () => {
  // Held rows go to the database 32 to a statement: rows without TTL or headers through one that
  // binds five values per row, any group with one of them through the full one. A turn of runs
  // of each kind, and a TTL or a header row at the first, a middle and the last place of a group.
  const dir = tempDir("plain-rows");
  const special = new Map<number, "ttl" | "hdr">([
    [33, "ttl"], [49, "hdr"], [64, "ttl"], [97, "hdr"], [130, "ttl"], [131, "hdr"], [160, "hdr"],
  ]);
  const expected = (seq: number) => ({
    seq,
    ts: 1_700_000_000_000_000_000n + BigInt(seq),
    subject: `p.${seq % 3}`,
    hdr: special.get(seq) === "hdr" ? HDR : null,
    data: payloadFor(seq, 40 + (seq % 17)),
    ttl: special.get(seq) === "ttl" ? 90 : 0,
  });
  const N = 200;
  try {
    const m = StoreManager.open(dir.path);
    const s = m.createStream("A", "PLAIN", "file");
    for (let seq = 1; seq <= N; seq++) {
      const e = expected(seq);
      s.storeMsg(seq, e.ts, e.subject, e.hdr, e.data, e.ttl);
    }
    for (let seq = 1; seq <= N; seq++) assert.deepEqual(s.loadMsg(seq), expected(seq), `message ${seq} before the restart`);
    m.close();
    const m2 = StoreManager.open(dir.path, { verify: "full" });
    try {
      const rec = m2.recover();
      assert.deepEqual(rec.failures, []);
      const s2 = m2.openStream("A", "PLAIN");
      for (let seq = 1; seq <= N; seq++) assert.deepEqual(s2.loadMsg(seq), expected(seq), `message ${seq} after the restart`);
      assert.equal(s2.nextExpiry(), expected(33).ts + 90n * 1_000_000_000n);
    } finally {
      m2.close();
    }
  } finally {
    dir.remove();
  }
});

test("first_seq and purge keep sequence numbering across restarts", () => {
  const dir = tempDir("firstseq");
  try {
    const m = StoreManager.open(dir.path);
    const s = m.createStream("A", "FS", "file");
    s.compact(1000); // first_seq: 1000 on a new stream
    assert.deepEqual([s.state().firstSeq, s.state().lastSeq], [1000, 999]);
    s.storeMsg(1000, 5n, "a", null, Buffer.alloc(0));
    s.storeMsg(1001, 6n, "a", null, Buffer.alloc(0));
    s.purge();
    m.close();
    const m2 = StoreManager.open(dir.path);
    const st = m2.openStream("A", "FS").state();
    assert.deepEqual([st.msgs, st.firstSeq, st.lastSeq, st.firstTs, st.lastTs], [0, 1002, 1001, 0n, 6n]);
    m2.close();
  } finally {
    dir.remove();
  }
});

test("a subject row without messages is taken up again by the next message on that subject", () => {
  // No write leaves one (the last message of a subject takes its row along), but a file may have
  // one; the store must reuse it rather than fail on the unique subject.
  const dir = tempDir("orphan-subject");
  try {
    const m = StoreManager.open(dir.path);
    const path = m.createStream("A", "OS", "file").path!;
    m.close();
    const db = new Database(path);
    db.prepare("INSERT INTO subjects (subject) VALUES (?)").run("orphan.x");
    db.close();
    const m2 = StoreManager.open(dir.path);
    const s = m2.openStream("A", "OS");
    s.storeMsg(1, 5n, "orphan.x", null, Buffer.from("one"));
    s.storeMsg(2, 6n, "fresh.y", null, Buffer.from("two"));
    m2.close();
    const m3 = StoreManager.open(dir.path, { verify: "full" });
    const s3 = m3.openStream("A", "OS");
    assert.deepEqual([s3.loadMsg(1)?.subject, s3.loadMsg(1)?.data.toString()], ["orphan.x", "one"]);
    assert.deepEqual([s3.loadMsg(2)?.subject, s3.loadMsg(2)?.data.toString()], ["fresh.y", "two"]);
    assert.deepEqual(s3.subjectsState(">"), new Map([["fresh.y", { msgs: 1, first: 2, last: 2 }], ["orphan.x", { msgs: 1, first: 1, last: 1 }]]));
    m3.close();
  } finally {
    dir.remove();
  }
});
