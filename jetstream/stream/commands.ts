// Every change to a stream's state is one of these commands. A command carries all its inputs
// (the message's timestamp, "now" for expiry, the admission decision about server resources),
// so applying the same commands in the same order to the same starting state gives the same
// stream on every replica: Stream.apply() reads no clock and draws no random number. On one
// server the commands are applied as they are made (the R1 case); with clustering they will be
// proposed to the stream's Raft group and applied from its log. encode/decode give the log form.

import type { StoredMsg } from "../store/store.js";
import type { Nanos } from "../util/time.js";
import type { StreamConfig } from "./config.js";

export type StreamCommand =
  | {
      kind: "msg";
      /** The subject as stored (after the stream's subject transform). */
      subject: string;
      hdr: Buffer | null;
      data: Buffer;
      /** The stored timestamp; the proposer makes it grow within the stream. */
      ts: Nanos;
      /** The proposer found the server over its max_file_store/max_memory_store. */
      overLimit?: boolean;
      /** A sourced message: which source (its index name) and its sequence there, kept as the source's position. */
      source?: { iname: string; seq: number };
    }
  /** A mirrored message: the origin's stored message, kept at its sequence and time, the gap before it skipped. */
  | ({ kind: "mirror" } & StoredMsg)
  | { kind: "purge"; filter?: string; seq?: number; keep?: number }
  | { kind: "delete"; seq: number; erase: boolean }
  | { kind: "expire"; now: Nanos }
  | { kind: "update"; config: StreamConfig };

type Wire =
  | { k: "msg"; s: string; h: string | null; d: string; t: string; o?: 1; src?: [string, number] }
  | { k: "mirror"; q: number; t: string; s: string; h: string | null; d: string; l: number }
  | { k: "purge"; f?: string; q?: number; p?: number }
  | { k: "delete"; q: number; e: 0 | 1 }
  | { k: "expire"; t: string }
  | { k: "update"; c: StreamConfig };

export function encodeCommand(c: StreamCommand): Buffer {
  let w: Wire;
  switch (c.kind) {
    case "msg":
      w = { k: "msg", s: c.subject, h: c.hdr === null ? null : c.hdr.toString("base64"), d: c.data.toString("base64"), t: c.ts.toString(), ...(c.overLimit ? { o: 1 as const } : {}), ...(c.source ? { src: [c.source.iname, c.source.seq] as [string, number] } : {}) };
      break;
    case "mirror":
      w = { k: "mirror", q: c.seq, t: c.ts.toString(), s: c.subject, h: c.hdr === null ? null : c.hdr.toString("base64"), d: c.data.toString("base64"), l: c.ttl };
      break;
    case "purge":
      w = { k: "purge", ...(c.filter !== undefined ? { f: c.filter } : {}), ...(c.seq !== undefined ? { q: c.seq } : {}), ...(c.keep !== undefined ? { p: c.keep } : {}) };
      break;
    case "delete":
      w = { k: "delete", q: c.seq, e: c.erase ? 1 : 0 };
      break;
    case "expire":
      w = { k: "expire", t: c.now.toString() };
      break;
    case "update":
      w = { k: "update", c: c.config };
      break;
  }
  return Buffer.from(JSON.stringify(w));
}

export function decodeCommand(b: Buffer): StreamCommand {
  const w = JSON.parse(b.toString("utf8")) as Wire;
  switch (w.k) {
    case "msg":
      return { kind: "msg", subject: w.s, hdr: w.h === null ? null : Buffer.from(w.h, "base64"), data: Buffer.from(w.d, "base64"), ts: BigInt(w.t), ...(w.o ? { overLimit: true } : {}), ...(w.src ? { source: { iname: w.src[0], seq: w.src[1] } } : {}) };
    case "mirror":
      return { kind: "mirror", seq: w.q, ts: BigInt(w.t), subject: w.s, hdr: w.h === null ? null : Buffer.from(w.h, "base64"), data: Buffer.from(w.d, "base64"), ttl: w.l };
    case "purge":
      return { kind: "purge", ...(w.f !== undefined ? { filter: w.f } : {}), ...(w.q !== undefined ? { seq: w.q } : {}), ...(w.p !== undefined ? { keep: w.p } : {}) };
    case "delete":
      return { kind: "delete", seq: w.q, erase: w.e === 1 };
    case "expire":
      return { kind: "expire", now: BigInt(w.t) };
    case "update":
      return { kind: "update", config: w.c };
    default:
      throw new Error(`unknown stream command ${JSON.stringify((w as { k?: unknown }).k)}`);
  }
}
