// Row checksums. SQLite checks its page structure but not the values in rows, so every row we
// read back (messages, stream totals, metadata, consumer state) carries a CRC-32 of its values
// and is verified on read: a flipped byte surfaces as StoreCorruptError, never as wrong data.

import { crc32 } from "node:zlib";

const scratch = Buffer.alloc(48);

/**
 * crc32 continued over x. Empty input must leave c unchanged, but zlib's crc32 answers 0 when
 * handed a null data pointer, which is what an empty Buffer read from SQLite has.
 */
function add(c: number, x: Buffer | string): number {
  return x.length === 0 ? c : crc32(x, c);
}

function putNum(off: number, n: number): number {
  scratch.writeDoubleLE(n, off);
  return off + 8;
}

function putBig(off: number, n: bigint): number {
  scratch.writeBigInt64LE(n, off);
  return off + 8;
}

/**
 * Small messages are checksummed in one crc32 call over a copy: a native call per part and the
 * subject's conversion to bytes cost more than copying a few hundred bytes. Views of every length
 * are made once, so the hot path allocates nothing. The value is the same either way (CRC-32 of the
 * concatenation).
 */
const ONE_PASS = 512;
const onePass = Buffer.alloc(24 + ONE_PASS);
const onePassViews: Buffer[] = [];
for (let n = 0; n <= onePass.length; n++) onePassViews.push(onePass.subarray(0, n));
// Typed views write the numbers without Buffer's BigInt arithmetic; little-endian machines only
// (the stored checksums are defined little-endian).
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const onePassF64 = new Float64Array(onePass.buffer, onePass.byteOffset, 3);
const onePassI64 = new BigInt64Array(onePass.buffer, onePass.byteOffset, 3);

/** seq, ts and ttl as the first 24 bytes of onePass. */
function putHead(seq: number, ts: bigint, ttl: number): void {
  if (LE) {
    onePassF64[0] = seq;
    onePassI64[1] = ts;
    onePassF64[2] = ttl;
  } else {
    onePass.writeDoubleLE(seq, 0);
    onePass.writeBigInt64LE(ts, 8);
    onePass.writeDoubleLE(ttl, 16);
  }
}

export function msgCrc(seq: number, ts: bigint, ttl: number, subject: string, hdr: Buffer | null, data: Buffer): number {
  putHead(seq, ts, ttl);
  const hlen = hdr === null ? 0 : hdr.length;
  // subject.length * 3 bounds its UTF-8 size.
  if (subject.length * 3 + hlen + data.length <= ONE_PASS) {
    let o = 24 + onePass.write(subject, 24, "utf8");
    if (hlen > 0) o += hdr!.copy(onePass, o);
    o += data.copy(onePass, o);
    return crc32(onePassViews[o]!);
  }
  // A large message: the head and the subject still go in one call, the rest by reference.
  let c: number;
  if (subject.length * 3 <= ONE_PASS) {
    c = crc32(onePassViews[24 + onePass.write(subject, 24, "utf8")]!);
  } else {
    c = add(crc32(onePassViews[24]!), subject);
  }
  if (hdr !== null) c = add(c, hdr);
  return add(c, data);
}

export function stateCrc(first: number, firstTs: bigint, last: number, lastTs: bigint, msgs: number, bytes: number): number {
  let o = putNum(0, first);
  o = putBig(o, firstTs);
  o = putNum(o, last);
  o = putBig(o, lastTs);
  o = putNum(o, msgs);
  o = putNum(o, bytes);
  return crc32(scratch.subarray(0, o));
}

export function textCrc(key: string, value: string): number {
  return add(crc32(key + "\u0000"), value);
}

export function consumerCrc(name: string, config: string, ackPolicy: string, nums: readonly number[]): number {
  let o = 0;
  for (const n of nums) o = putNum(o, n);
  return crc32(scratch.subarray(0, o), add(crc32(`${name}\u0000${ackPolicy}\u0000`), config));
}

export function pendingCrc(cid: number, sseq: number, cseq: number, ts: bigint): number {
  let o = putNum(0, cid);
  o = putNum(o, sseq);
  o = putNum(o, cseq);
  o = putBig(o, ts);
  return crc32(scratch.subarray(0, o));
}

export function redeliveredCrc(cid: number, sseq: number, count: number): number {
  let o = putNum(0, cid);
  o = putNum(o, sseq);
  o = putNum(o, count);
  return crc32(scratch.subarray(0, o));
}
