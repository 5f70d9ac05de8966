// A trickle of small commits (a publisher waiting for each PubAck, a consumer acking one message
// at a time) must not grow a stream's WAL without bound. Each commit writes whole pages to the
// WAL however little changed on them, so the checkpoint trigger has to count pages, not only the
// bytes of the messages; once checkpoints run, the log restarts and is overwritten in place.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { StoreManager } from "../../jetstream/store/manager.js";
import type { StreamStore } from "../../jetstream/store/store.js";
import { tempDir } from "./harness.js";

/** One-change commits; at 8 KiB pages each writes 16 KB to 25 KB of WAL: 190 MB or more if it never restarted. */
const COMMITS = 12_000;
/**
 * The log restarts once it passes 64 MiB (sqlite_store.ts WAL_RESTART_BYTES) and the checkpoint
 * thread has caught up with it, which takes a few more rounds under a fast trickle (about 80 MB
 * seen here).
 */
const BOUND = 128 * 1024 * 1024;
const T0 = 1_700_000_000_000_000_000n;
const PAYLOAD = Buffer.alloc(16, 97);

function walSize(s: StreamStore): number {
  const p = `${s.path!}-wal`;
  return existsSync(p) ? statSync(p).size : 0;
}

async function withStream(fn: (s: StreamStore) => Promise<void>): Promise<void> {
  const dir = tempDir("wal-bound");
  // A sync interval: commits do not wait for fsync, so the test runs the commits quickly; the
  // checkpoint trigger is the same as with sync always.
  const m = StoreManager.open(dir.path, { syncInterval: 60_000 });
  try {
    await fn(m.createStream("ACC", "S", "file"));
  } finally {
    m.close();
    dir.remove();
  }
}

test("one publish per commit keeps the WAL bounded", async () => {
  await withStream(async (s) => {
    let max = 0;
    for (let seq = 1; seq <= COMMITS; seq++) {
      s.storeMsg(seq, T0 + BigInt(seq), "trickle", null, PAYLOAD);
      await s.flush();
      max = Math.max(max, walSize(s));
    }
    assert.equal(s.state().msgs, COMMITS);
    assert.ok(max < BOUND, `WAL reached ${(max / 1e6).toFixed(1)} MB after ${COMMITS} one-message commits`);
  });
});

test("one ack per commit keeps the WAL bounded", async () => {
  await withStream(async (s) => {
    for (let seq = 1; seq <= COMMITS; seq++) s.storeMsg(seq, T0 + BigInt(seq), "trickle", null, PAYLOAD);
    await s.flush();
    const c = s.createConsumer("C", '{"durable_name":"C"}', "explicit");
    await c.flush();
    const start = walSize(s);
    let max = 0;
    for (let seq = 1; seq <= COMMITS; seq++) {
      c.updateDelivered(seq, seq, 1, T0 + BigInt(seq));
      await c.flush();
      assert.equal(c.updateAcks(seq, seq), true);
      await c.flush();
      max = Math.max(max, walSize(s));
    }
    assert.deepEqual(c.state().ackFloor, { consumerSeq: COMMITS, streamSeq: COMMITS });
    assert.ok(max - start < BOUND, `WAL grew by ${((max - start) / 1e6).toFixed(1)} MB over ${2 * COMMITS} one-change commits`);
  });
});

test("with sync always, large batches restart the log too, and every acknowledged message reads back after reopening", async () => {
  // 1 KB messages in batches of 500, each batch acknowledged (committed and synced) before the
  // next: about 160 MB in all, so the log passes the restart size twice over. Restarting it
  // means copying its tail here and syncing the database before the next commit.
  const dir = tempDir("wal-always");
  const n = 160_000;
  const batch = 500;
  const data = (seq: number) => {
    const b = Buffer.alloc(1024, seq & 0xff);
    b.writeUInt32BE(seq, 0);
    return b;
  };
  try {
    let m = StoreManager.open(dir.path);
    const s = m.createStream("ACC", "S", "file");
    let max = 0;
    for (let seq = 1; seq <= n; ) {
      for (const end = Math.min(n, seq + batch - 1); seq <= end; seq++) s.storeMsg(seq, T0 + BigInt(seq), `big.${seq % 7}`, null, data(seq));
      await s.flush();
      max = Math.max(max, walSize(s));
    }
    assert.ok(max < BOUND, `WAL reached ${(max / 1e6).toFixed(1)} MB while ${((n * 1024) / 1e6).toFixed(0)} MB were written`);
    m.close();
    m = StoreManager.open(dir.path);
    try {
      const r = m.openStream("ACC", "S");
      assert.equal(r.state().msgs, n);
      let seq = 1;
      while (seq <= n) {
        const got = r.loadNextMsgs(">", seq, 1000, 1 << 30);
        assert.ok(got.length > 0, `nothing from ${seq}`);
        for (const msg of got) {
          assert.equal(msg.seq, seq);
          assert.equal(msg.subject, `big.${seq % 7}`);
          assert.ok(msg.data.equals(data(seq)), `payload of ${seq}`);
          seq++;
        }
      }
    } finally {
      m.close();
    }
  } finally {
    dir.remove();
  }
});
