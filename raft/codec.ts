// Binary encoding of Raft messages for transports (the server carries them over internal subjects).
// Layout: version byte, then fields in a fixed order; integers as unsigned LEB128 varints, strings and
// byte arrays length-prefixed. A CRC32 of the body trails the frame so a damaged frame is rejected
// rather than stepped into the core.
import { crc32 } from "node:zlib";
import { type ConfState, type Entry, type Message, MessageType, type Snapshot } from "./types.js";

const VERSION = 1;
const MAX_TYPE = MessageType.QuiesceResp;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

class Writer {
  buf = new Uint8Array(256);
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  uint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cannot encode ${n}`);
    this.ensure(8);
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.len++] = n;
  }

  bytes(b: Uint8Array): void {
    this.uint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  str(s: string): void {
    this.bytes(encoder.encode(s));
  }

  u32(n: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setUint32(this.len, n >>> 0, true);
    this.len += 4;
  }
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly end: number) {}

  uint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError("truncated varint");
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 0x80;
      if (mul > 2 ** 53) throw new RangeError("varint too long");
    }
    return n;
  }

  bytes(): Uint8Array {
    const n = this.uint();
    if (this.pos + n > this.end) throw new RangeError("truncated bytes");
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  str(): string {
    return decoder.decode(this.bytes());
  }
}

function writeConf(w: Writer, c: ConfState): void {
  w.uint(c.voters.length);
  for (const v of c.voters) w.str(v);
  w.uint(c.learners.length);
  for (const l of c.learners) w.str(l);
}

function readConf(r: Reader): ConfState {
  const voters: string[] = [];
  for (let n = r.uint(); n > 0; n--) voters.push(r.str());
  const learners: string[] = [];
  for (let n = r.uint(); n > 0; n--) learners.push(r.str());
  return { voters, learners };
}

export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer();
  w.uint(VERSION);
  w.uint(m.type);
  w.str(m.from);
  w.str(m.to);
  w.uint(m.term);
  w.uint(m.logTerm);
  w.uint(m.index);
  w.uint(m.commit);
  w.uint(m.reject ? 1 : 0);
  w.uint(m.rejectHint);
  w.str(m.context);
  w.uint(m.entries.length);
  for (const e of m.entries) {
    w.uint(e.term);
    w.uint(e.index);
    w.uint(e.type);
    w.bytes(e.data);
  }
  const s = m.snapshot;
  w.uint(s ? 1 : 0);
  if (s) {
    w.uint(s.meta.index);
    w.uint(s.meta.term);
    writeConf(w, s.meta.conf);
    w.bytes(s.data);
  }
  w.u32(crc32(w.buf.subarray(0, w.len)));
  return w.buf.slice(0, w.len);
}

/** Throws RangeError on a malformed or damaged frame. */
export function decodeMessage(buf: Uint8Array): Message {
  if (buf.length < 5) throw new RangeError("frame too short");
  const body = buf.length - 4;
  const want = new DataView(buf.buffer, buf.byteOffset, buf.length).getUint32(body, true);
  if (crc32(buf.subarray(0, body)) !== want) throw new RangeError("frame checksum mismatch");
  const r = new Reader(buf, body);
  const v = r.uint();
  if (v !== VERSION) throw new RangeError(`unknown message version ${v}`);
  const type = r.uint();
  if (type < 1 || type > MAX_TYPE) throw new RangeError(`unknown message type ${type}`);
  const m: Message = {
    type,
    from: r.str(),
    to: r.str(),
    term: r.uint(),
    logTerm: r.uint(),
    index: r.uint(),
    commit: r.uint(),
    reject: r.uint() === 1,
    rejectHint: r.uint(),
    context: r.str(),
    entries: [],
    snapshot: null,
  };
  const n = r.uint();
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const term = r.uint();
    const index = r.uint();
    const etype = r.uint();
    if (etype > 1) throw new RangeError(`unknown entry type ${etype}`);
    entries.push({ term, index, type: etype, data: r.bytes() });
  }
  m.entries = entries;
  if (r.uint() === 1) {
    const index = r.uint();
    const term = r.uint();
    const conf = readConf(r);
    const snap: Snapshot = { meta: { index, term, conf }, data: r.bytes() };
    m.snapshot = snap;
  }
  if (r.pos !== body) throw new RangeError("trailing bytes in frame");
  return m;
}
