// A connection's outbound bytes. Small writes are packed into chunks carved from one larger buffer
// (bump allocation), so a turn's worth of messages leaves as one write and a flush never copies;
// large payloads are queued by reference. The owner decides when to flush (once per event-loop turn).

/** Node's Buffer has a fast direct UTF-8 writer that the typings do not declare. */
type FastBuffer = Buffer & { utf8Write(s: string, offset: number): number };

const MIN_CHUNK = 2048;
const MAX_CHUNK = 64 * 1024;
/** Payloads at least this big are queued by reference instead of copied. */
const BIG = 16 * 1024;
/** When less than this is left in the current chunk after a flush, start a new one. */
const MIN_LEFT = 512;

export class Outbound {
  /** Filled chunks (and referenced big payloads) waiting for the next flush. */
  private queued: Buffer[] = [];
  private cur: Buffer | null = null;
  private start = 0; // start of the unflushed region of cur
  private pos = 0; // write position in cur
  private chunkSize = MIN_CHUNK;
  /** Bytes written into this buffer and not yet taken by take(). */
  size = 0;

  private ensure(n: number): Buffer {
    let cur = this.cur;
    if (cur !== null && cur.length - this.pos >= n) return cur;
    if (cur !== null && this.pos > this.start) {
      this.queued.push(cur.subarray(this.start, this.pos));
      // Filling a chunk within one turn means this connection is busy: use bigger chunks.
      if (this.chunkSize < MAX_CHUNK) this.chunkSize *= 2;
    }
    cur = Buffer.allocUnsafeSlow(Math.max(this.chunkSize, n));
    this.cur = cur;
    this.start = 0;
    this.pos = 0;
    return cur;
  }

  writeString(s: string): void {
    // Protocol lines are ASCII apart from subjects; utf8 byte length is at most 3 per UTF-16 unit.
    const max = s.length * 3;
    const buf = this.ensure(max);
    const n = (buf as FastBuffer).utf8Write(s, this.pos);
    this.pos += n;
    this.size += n;
  }

  writeBytes(b: Buffer | Uint8Array): void {
    const len = b.length;
    if (len >= BIG) {
      if (this.cur !== null && this.pos > this.start) {
        this.queued.push(this.cur.subarray(this.start, this.pos));
        this.start = this.pos;
      }
      this.queued.push(b as Buffer);
      this.size += len;
      return;
    }
    const buf = this.ensure(len);
    if (len < 64) {
      // A loop beats a native copy call for the tiny payloads that dominate message rates.
      let p = this.pos;
      for (let i = 0; i < len; i++) buf[p++] = b[i]!;
    } else {
      buf.set(b, this.pos);
    }
    this.pos += len;
    this.size += len;
  }

  /**
   * Copies buf[start, end). Always a copy, big or small: the source may be a transport's read
   * buffer, which is reused as soon as the parser returns.
   */
  writeRange(src: Buffer, start: number, end: number): void {
    const len = end - start;
    const buf = this.ensure(len);
    if (len < 64) {
      let p = this.pos;
      for (let i = start; i < end; i++) buf[p++] = src[i]!;
    } else {
      src.copy(buf, this.pos, start, end);
    }
    this.pos += len;
    this.size += len;
  }

  /** Writes a non-negative integer in decimal. */
  writeUint(n: number): void {
    const buf = this.ensure(16);
    let p = this.pos;
    if (n < 10) {
      buf[p++] = 48 + n;
    } else {
      const digits = n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : String(n).length;
      let q = n;
      for (let i = digits - 1; i >= 0; i--) {
        buf[p + i] = 48 + (q % 10);
        q = Math.floor(q / 10);
      }
      p += digits;
    }
    this.size += p - this.pos;
    this.pos = p;
  }

  writeByte(b: number): void {
    const buf = this.ensure(1);
    buf[this.pos++] = b;
    this.size++;
  }

  writeCRLF(): void {
    const buf = this.ensure(2);
    buf[this.pos++] = 13;
    buf[this.pos++] = 10;
    this.size += 2;
  }

  /** Hands over everything written so far, as buffers the caller may keep. */
  take(): Buffer[] {
    const out = this.queued;
    this.queued = [];
    const cur = this.cur;
    if (cur !== null && this.pos > this.start) {
      out.push(cur.subarray(this.start, this.pos));
      this.start = this.pos;
      if (cur.length - this.pos < MIN_LEFT) {
        this.cur = null;
        this.start = this.pos = 0;
      }
    }
    this.size = 0;
    return out;
  }

  /** Drops everything (the connection is closing). */
  clear(): void {
    this.queued = [];
    this.cur = null;
    this.start = this.pos = 0;
    this.size = 0;
  }
}
