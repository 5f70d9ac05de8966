// CRC32 (zlib's, hardware-accelerated in Node >= 20.15) over the fields that give an entry or a
// snapshot its meaning, so a bit flip anywhere in them is detected when the record is read back.
import { crc32 } from "node:zlib";
import type { ConfState, Entry, HardState, Snapshot } from "./types.js";

const header = Buffer.alloc(24);

/**
 * zlib.crc32 continues `seed` over `data`, except that for some empty views (a zero-length
 * ArrayBuffer) Node 20 returns 0 instead of the seed; an empty input must not change the checksum.
 */
function crcOver(data: Uint8Array | string, seed: number): number {
  return data.length === 0 ? seed : crc32(data, seed);
}

function u64(buf: Buffer, off: number, n: number): void {
  buf.writeUInt32LE(n >>> 0, off);
  buf.writeUInt32LE(Math.floor(n / 0x100000000) >>> 0, off + 4);
}

export function entryChecksum(e: Pick<Entry, "term" | "index" | "type" | "data">): number {
  u64(header, 0, e.term);
  u64(header, 8, e.index);
  u64(header, 16, e.type);
  return crcOver(e.data, crc32(header));
}

export function snapshotChecksum(s: Snapshot): number {
  u64(header, 0, s.meta.term);
  u64(header, 8, s.meta.index);
  u64(header, 16, 0);
  const conf = JSON.stringify(s.meta.conf);
  return crcOver(s.data, crc32(conf, crc32(header)));
}

export function hardStateChecksum(hs: HardState): number {
  u64(header, 0, hs.term);
  u64(header, 8, hs.commit);
  u64(header, 16, 0);
  return crcOver(hs.vote, crc32(header));
}

/** The configuration of a snapshot on its own: it survives damage to the snapshot's data. */
export function confChecksum(c: ConfState): number {
  return crc32(JSON.stringify(c));
}
