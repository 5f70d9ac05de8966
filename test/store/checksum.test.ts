import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { msgCrc } from "../../jetstream/store/checksum.js";

/** The definition: CRC-32 of seq, ts and ttl (8 bytes each, little-endian), subject, headers, data. */
function reference(seq: number, ts: bigint, ttl: number, subject: string, hdr: Buffer | null, data: Buffer): number {
  const head = Buffer.alloc(24);
  head.writeDoubleLE(seq, 0);
  head.writeBigInt64LE(ts, 8);
  head.writeDoubleLE(ttl, 16);
  return crc32(Buffer.concat([head, Buffer.from(subject, "utf8"), hdr ?? Buffer.alloc(0), data]));
}

test("a message's checksum is the CRC-32 of its fields, for small messages (one pass) and large ones alike", () => {
  fc.assert(
    fc.property(
      fc.nat(),
      fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
      fc.nat(),
      fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 })),
      fc.option(fc.uint8Array({ maxLength: 600 }), { nil: null }),
      fc.uint8Array({ maxLength: 1200 }),
      (seq, ts, ttl, subject, hdr, data) => {
        const h = hdr === null ? null : Buffer.from(hdr);
        const d = Buffer.from(data);
        assert.equal(msgCrc(seq, ts, ttl, subject, h, d), reference(seq, ts, ttl, subject, h, d));
      },
    ),
    { numRuns: 2000 },
  );
});
