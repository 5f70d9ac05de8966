// The memory store keeps the buffers a stream hands it (StreamStore.storeMsg) instead of copying
// them again, except a small view of a large buffer, which it copies so as not to keep the whole
// of it alive; and it never writes into them, not even to erase.

import { test } from "node:test";
import assert from "node:assert/strict";
import { StoreManager } from "../../jetstream/store/manager.js";

const T0 = 1_700_000_000_000_000_000n;

test("the memory store keeps handed-over buffers, copies small views of large ones, and never writes into them", () => {
  const m = StoreManager.open(null);
  try {
    const s = m.createStream("ACC", "M", "memory");
    // As a stream passes an inbound message: headers and payload in one allocation of Node's pool.
    const msg = Buffer.from("NATS/1.0\r\nA: b\r\n\r\npayload one");
    const hdr = msg.subarray(0, 18);
    const data = msg.subarray(18);
    s.storeMsg(1, T0, "a", hdr, data);
    const kept = s.loadMsg(1)!;
    assert.equal(kept.data.buffer, msg.buffer, "the payload is the caller's bytes");
    assert.equal(kept.data.byteOffset, data.byteOffset);
    assert.equal(kept.hdr!.buffer, msg.buffer, "so are the headers");
    assert.equal(kept.data.toString(), "payload one");

    // A 5-byte view of a 1 MiB buffer (a batch read's concatenated bodies, say).
    const big = Buffer.alloc(1 << 20, 0x61);
    s.storeMsg(2, T0 + 1n, "a", null, big.subarray(1000, 1005));
    const copied = s.loadMsg(2)!;
    assert.notEqual(copied.data.buffer, big.buffer, "not kept: it would keep 1 MiB alive");
    assert.ok(copied.data.buffer.byteLength <= Buffer.poolSize, `copied into ${copied.data.buffer.byteLength} bytes`);
    assert.equal(copied.data.toString(), "aaaaa");

    assert.equal(s.eraseMsg(1), true);
    assert.equal(s.loadMsg(1), null);
    assert.equal(msg.toString(), "NATS/1.0\r\nA: b\r\n\r\npayload one", "erasing left the caller's bytes as they were");
  } finally {
    m.close();
  }
});
