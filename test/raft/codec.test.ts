// The message codec: every message round-trips exactly, and damaged frames are rejected, never stepped.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { decodeMessage, encodeMessage } from "../../raft/codec.js";
import { type Message, MessageType } from "../../raft/types.js";

const id = fc.string({ maxLength: 12 });
const uint = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const entry = fc.record({ term: uint, index: uint, type: fc.constantFrom(0, 1), data: fc.uint8Array({ maxLength: 64 }) });
const message: fc.Arbitrary<Message> = fc.record({
  type: fc.constantFrom(...(Object.values(MessageType).filter((v) => typeof v === "number") as MessageType[])),
  from: id,
  to: id,
  term: uint,
  logTerm: uint,
  index: uint,
  entries: fc.array(entry, { maxLength: 5 }),
  commit: uint,
  reject: fc.boolean(),
  rejectHint: uint,
  snapshot: fc.option(
    fc.record({
      meta: fc.record({ index: uint, term: uint, conf: fc.record({ voters: fc.array(id, { maxLength: 5 }), learners: fc.array(id, { maxLength: 3 }) }) }),
      data: fc.uint8Array({ maxLength: 128 }),
    }),
    { nil: null },
  ),
  context: fc.string({ maxLength: 20 }),
});

test("encodeMessage/decodeMessage round-trip every message", () => {
  fc.assert(
    fc.property(message, (m) => {
      // fast-check builds null-prototype records; compare against plain objects.
      const plain: Message = {
        ...m,
        entries: m.entries.map((e) => ({ ...e })),
        snapshot: m.snapshot ? { meta: { ...m.snapshot.meta, conf: { ...m.snapshot.meta.conf } }, data: m.snapshot.data } : null,
      };
      assert.deepEqual(decodeMessage(encodeMessage(m)), plain);
    }),
    { numRuns: 500 },
  );
});

test("a frame with any single flipped bit is rejected", () => {
  fc.assert(
    fc.property(message, fc.nat(), fc.integer({ min: 0, max: 7 }), (m, pos, bit) => {
      const buf = encodeMessage(m);
      buf[pos % buf.length]! ^= 1 << bit;
      assert.throws(() => decodeMessage(buf), RangeError);
    }),
    { numRuns: 500 },
  );
});

test("truncated frames are rejected", () => {
  fc.assert(
    fc.property(message, fc.nat(), (m, cut) => {
      const buf = encodeMessage(m);
      assert.throws(() => decodeMessage(buf.subarray(0, cut % buf.length)), RangeError);
    }),
    { numRuns: 300 },
  );
});

test("unknown message types are rejected", () => {
  const m = decodeMessage(encodeMessage({ type: MessageType.Quiesce, from: "a", to: "b", term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, snapshot: null, context: "" }));
  assert.equal(m.type, MessageType.Quiesce);
  const bad = encodeMessage({ ...m, type: 99 as MessageType });
  assert.throws(() => decodeMessage(bad), /unknown message type 99/);
});
