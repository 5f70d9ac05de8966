// The file store may be handed a transport's read buffer (StreamStore.storeMsg borrows it): it
// copies what it keeps before returning, so the caller can overwrite its bytes at once, whether
// the rows are still held for a batched insert, inserted, or read back before the commit.

import { test } from "node:test";
import assert from "node:assert/strict";
import { StoreManager } from "../../jetstream/store/manager.js";
import { payloadFor, rng, tempDir, testSeed } from "./harness.js";

const T0 = 1_700_000_000_000_000_000n;

function header(seq: number, size: number): Buffer {
  const head = Buffer.from(`NATS/1.0\r\nSeq: ${seq}\r\nPad: `);
  const b = Buffer.alloc(Math.max(size, head.length + 4), 0x61 + (seq % 26));
  head.copy(b);
  b.write("\r\n\r\n", b.length - 4);
  return b;
}

test("the file store keeps its own copy of every message: the caller's buffer is overwritten after each store", async () => {
  const seed = testSeed();
  const rand = rng(seed);
  const dir = tempDir("tsnats-file-buffers-");
  const m = StoreManager.open(dir.path);
  try {
    const s = m.createStream("ACC", "B", "file");
    // One read buffer for every message, as a transport has; more than the store's staging room
    // of held rows goes through it within one turn, with headers and payloads on both sides of
    // the size the store stages (16 KiB).
    const scratch = Buffer.alloc(96 * 1024);
    const want: { hdr: Buffer | null; data: Buffer }[] = [];
    let turnBytes = 0;
    for (let seq = 1; seq <= 1200; seq++) {
      const r = rand();
      const hsize = r < 0.3 ? 0 : r < 0.9 ? 20 + Math.floor(rand() * 200) : r < 0.97 ? 4096 + Math.floor(rand() * 12_288) : 16 * 1024 + 1 + Math.floor(rand() * 8192);
      const q = rand();
      const dsize = q < 0.8 ? Math.floor(rand() * 3000) : q < 0.97 ? 8192 + Math.floor(rand() * 8193) : 16 * 1024 + 1 + Math.floor(rand() * 40_000);
      const hdr = hsize > 0 ? header(seq, hsize) : null;
      const data = payloadFor(seq, dsize);
      const hl = hdr?.length ?? 0;
      if (hdr !== null) hdr.copy(scratch, 0);
      data.copy(scratch, hl);
      s.storeMsg(seq, T0 + BigInt(seq), `b.${seq % 5}`, hdr === null ? null : scratch.subarray(0, hl), scratch.subarray(hl, hl + dsize));
      scratch.fill(0xee, 0, hl + dsize);
      want.push({ hdr, data });
      turnBytes += hl + dsize;
      // Now and then a read inside the turn (it inserts the rows held so far) and a commit.
      if (rand() < 0.01) assert.deepEqual(s.loadMsg(seq)?.data, data, `seq ${seq} read back in its turn (seed ${seed})`);
      if (turnBytes > 600 * 1024) {
        await s.flush();
        turnBytes = 0;
      }
    }
    await s.flush();
    for (let seq = 1; seq <= want.length; seq++) {
      const got = s.loadMsg(seq);
      assert.ok(got !== null, `seq ${seq} stored`);
      assert.deepEqual(got.hdr ?? null, want[seq - 1]!.hdr, `seq ${seq}'s headers (seed ${seed})`);
      assert.deepEqual(got.data, want[seq - 1]!.data, `seq ${seq}'s payload (seed ${seed})`);
    }
  } finally {
    m.close();
    dir.remove();
  }
});
