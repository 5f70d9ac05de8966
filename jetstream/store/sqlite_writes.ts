// The SQLite stream store's writes: storing, skipping and removing messages (one, ranges, purges,
// limits, expiry), each keeping the in-memory state of SqliteStreamReads current and noting what
// the next commit owes. They run inside the turn's transaction, which SqliteStreamStore owns.

import { msgCrc } from "./checksum.js";
import { DiscardNewError, InvalidArgumentError, PurgeArgError, SequenceMismatchError } from "./errors.js";
import { fileStoreMsgSize, subjectBytes } from "./msg_size.js";
import { BLOCK_SIZE } from "./seq_blocks.js";
import { SqliteStreamReads } from "./sqlite_reads.js";
import { CHUNK, NS_PER_SEC, ROWS_PER_INSERT } from "./sqlite_statements.js";
import { asBuffer, isMarkerHeader, NO_LIMITS, StoreFlags, TTL_NEVER, type ExpiredMsg, type LimitRemovalHandler, type Nanos, type StoreLimits } from "./store.js";
import { SubjectEntry, type EntrySet } from "./subject_index.js";
import { isAllFilter } from "./subject_match.js";

export abstract class SqliteStreamWrites extends SqliteStreamReads {
  /** Headers of the last message removed with removeOne(..., withHdr). */
  private removedHdr: Uint8Array | null = null;
  private lim: StoreLimits = { ...NO_LIMITS };
  private limActive = false;
  private limitHandler: LimitRemovalHandler | null = null;

  // What the next commit owes.
  protected stateDirty = false;
  protected vacuumPending = false;
  /** Estimated WAL bytes written since the last checkpoint request. */
  protected walDebt = 0;

  /** Throws if the store cannot be written; opens the turn's transaction and marks it a write. */
  abstract beginWrite(): void;

  storeMsg(seq: number, ts: Nanos, subject: string, hdr: Uint8Array | null, data: Uint8Array, ttl = 0, flags = 0): void {
    this.check();
    if (seq !== this.last + 1) throw new SequenceMismatchError(this.last + 1, seq);
    if (subject.length === 0) throw new InvalidArgumentError("empty subject");
    const hlen = hdr === null ? 0 : hdr.byteLength;
    const dlen = data.byteLength;
    let e = this.index.get(subject);
    if (this.limActive && this.lim.discardNew) this.checkDiscardNew(e, hlen, dlen, flags);
    try {
      this.beginWrite();
      if (e === undefined) {
        const q = this.q;
        const ins = q.insSubject.run(subject);
        const sid = ins.changes === 1 ? Number(ins.lastInsertRowid) : (q.subjectSid.get(subject) as number);
        e = new SubjectEntry(subject, sid, subjectBytes(subject));
        this.index.add(e);
      }
      this.stageRoom(hlen, dlen);
      const h = hlen > 0 ? this.hold(asBuffer(hdr!)) : null;
      const d = this.hold(asBuffer(data));
      const expires = ttl > 0 ? ts + BigInt(ttl) * NS_PER_SEC : null;
      // Rows are inserted in batches (one statement for many rows): any other use of the
      // database inserts them first (see q), and so does the commit.
      const r = this.rows;
      r.push(seq, ts, e.sid, ttl, expires, msgCrc(seq, ts, ttl, subject, h, d), h, d);
      if (r.length >= ROWS_PER_INSERT * 8 * 4) this.insertRows();
    } catch (err) {
      this.writeFailed(err);
    }
    if (this.msgs === 0) {
      this.first = seq;
      this.firstTs = ts;
    }
    this.msgs++;
    this.bytes += fileStoreMsgSize(e.slen, hlen, dlen);
    this.walDebt += hlen + dlen + 64;
    this.last = seq;
    this.lastTime = ts;
    if (e.msgs === 0) e.first = seq;
    e.msgs++;
    e.last = seq;
    this.blocks?.add(seq);
    this.stateDirty = true;
    if (this.limActive) this.enforceAfterStore(e);
  }

  /** nats-server filestore.storeRawMsg's discard-new checks, before anything is written. */
  private checkDiscardNew(e: SubjectEntry | undefined, hlen: number, dlen: number, flags: number): void {
    const lim = this.lim;
    let atSubjectLimit = false;
    let fseq = 0;
    if (lim.maxMsgsPerSubject > 0 && e !== undefined && e.msgs >= lim.maxMsgsPerSubject) {
      if (lim.discardNewPerSubject && (flags & StoreFlags.SkipDiscardNewPerSubject) === 0) throw new DiscardNewError("msgs_per_subject");
      atSubjectLimit = true;
      fseq = e.first;
    }
    if (lim.maxMsgs > 0 && this.msgs >= lim.maxMsgs && !atSubjectLimit) throw new DiscardNewError("msgs");
    if (lim.maxBytes > 0 && this.bytes + dlen + hlen >= lim.maxBytes) {
      if (!atSubjectLimit || this.sizeOf(fseq) <= dlen + hlen) throw new DiscardNewError("bytes");
    }
  }

  private sizeOf(seq: number): number {
    const r = this.q.sizeOf.get(seq) as [number, number | null, number] | undefined;
    if (r === undefined) return 0;
    const e = this.index.bySidGet(r[0]);
    return fileStoreMsgSize(e ? e.slen : 0, r[1] ?? 0, r[2]);
  }

  private enforceAfterStore(e: SubjectEntry): void {
    const lim = this.lim;
    if (lim.maxMsgsPerSubject > 0) while (e.msgs > lim.maxMsgsPerSubject) this.removeForLimit(e.first);
    if (lim.maxMsgs > 0) while (this.msgs > lim.maxMsgs) this.removeForLimit(this.first);
    if (lim.maxBytes > 0) while (this.bytes > lim.maxBytes && this.msgs > 0) this.removeForLimit(this.first);
  }

  private removeForLimit(seq: number): void {
    const subject = this.removeOne(seq, false);
    if (subject !== null && this.limitHandler !== null) this.limitHandler(seq, subject);
  }

  skipMsgs(seq: number, count: number, ts: Nanos): void {
    this.check();
    if (seq !== this.last + 1) throw new SequenceMismatchError(this.last + 1, seq);
    if (count < 1) return;
    try {
      this.beginWrite();
    } catch (e) {
      this.writeFailed(e);
    }
    this.last = seq + count - 1;
    this.lastTime = ts;
    // As nats-server's SkipMsg: an empty stream's first time is the skip's time.
    if (this.msgs === 0) {
      this.first = this.last + 1;
      this.firstTs = ts;
    }
    this.stateDirty = true;
  }

  removeMsg(seq: number): boolean {
    this.check();
    return this.removeOne(seq, false) !== null;
  }

  eraseMsg(seq: number): boolean {
    this.check();
    return this.removeOne(seq, true) !== null;
  }

  /** Removes one message and updates every structure; returns its subject, or null if absent. */
  /** With withHdr, the removed message's headers are left in removedHdr. */
  private removeOne(seq: number, secure: boolean, withHdr = false): string | null {
    if (seq < this.first || seq > this.last || this.msgs === 0) return null;
    try {
      this.beginWrite();
      // Held rows (not inserted yet) are newer than every row in the database, so a message
      // still held is dropped from memory (a KV key put again within a turn is never written
      // twice), and the statements below, which look at older rows, need not insert them first.
      let r: [number, number | null, number, Uint8Array | null] | undefined;
      this.cache?.delete(this, seq);
      const j = this.heldRow(seq);
      if (j >= 0) {
        const held = this.rows;
        const h = held[j + 6] as Buffer | null;
        r = [held[j + 2] as number, h === null ? null : h.length, (held[j + 7] as Buffer).length, h];
        held.splice(j, 8);
      } else {
        if (secure) this.db.pragma("secure_delete = 1");
        r = (withHdr ? this.s.sizeOfHdr : this.s.sizeOf).get(seq) as [number, number | null, number, Uint8Array | null] | undefined;
        if (r !== undefined) this.s.delOne.run(seq);
        if (secure) this.db.pragma("secure_delete = 0");
      }
      if (r === undefined) return null;
      if (withHdr) this.removedHdr = r[3] ?? null;
      const e = this.index.bySidGet(r[0]);
      if (e === undefined) throw new Error(`message ${seq} has unknown subject id ${r[0]}`);
      this.msgs--;
      this.bytes -= fileStoreMsgSize(e.slen, r[1] ?? 0, r[2]);
      this.walDebt += 256;
      this.blocks?.remove(seq);
      this.stateDirty = true;
      e.msgs--;
      if (e.msgs === 0) {
        this.index.delete(e);
        this.s.delSubject.run(e.sid);
      } else if (e.msgs === 1) {
        // The one left is the other end (a KV key with history 1 after every put).
        if (seq === e.first) e.first = e.last;
        else if (seq === e.last) e.last = e.first;
      } else if (seq === e.first) {
        e.first = this.nextOfSid(e.sid, seq);
      } else if (seq === e.last) {
        e.last = this.prevOfSid(e.sid, seq);
      }
      if (this.msgs === 0) {
        this.first = this.last + 1;
        this.firstTs = 0n;
      } else if (seq === this.first) {
        this.setFirstFrom(seq + 1);
      }
      return e.subject;
    } catch (err) {
      return this.writeFailed(err);
    }
  }

  private setFirstFrom(seq: number): void {
    const held = this.rows;
    if (held.length > 0 && held.length / 8 === this.msgs) {
      // Every message left is held (newer than any row in the database): the first held is first.
      this.first = held[0] as number;
      this.firstTs = held[1] as bigint;
      return;
    }
    const r = this.s.firstFrom.get(seq) as [bigint, bigint] | undefined;
    if (r !== undefined) {
      this.first = Number(r[0]);
      this.firstTs = r[1];
      return;
    }
    for (let j = 0; j < held.length; j += 8) {
      if ((held[j] as number) >= seq) {
        this.first = held[j] as number;
        this.firstTs = held[j + 1] as bigint;
        return;
      }
    }
    this.first = this.last + 1;
    this.firstTs = 0n;
  }

  /** Offset in rows of the held row of seq, or -1 (held rows ascend by sequence). */
  private heldRow(seq: number): number {
    const held = this.rows;
    let lo = 0;
    let hi = held.length / 8 - 1;
    if (hi < 0 || seq < (held[0] as number)) return -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = held[mid * 8] as number;
      if (s === seq) return mid * 8;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The first sequence >= seq with subject id sid, in the database or held (0 if none). */
  private nextOfSid(sid: number, seq: number): number {
    const held = this.rows;
    if (held.length === 0 || seq < (held[0] as number)) {
      const s = this.s.nextSeqSid.get(sid, seq) as number | undefined;
      if (s !== undefined) return s;
    }
    for (let j = 0; j < held.length; j += 8) if (held[j + 2] === sid && (held[j] as number) >= seq) return held[j] as number;
    return 0;
  }

  /** The last sequence <= seq with subject id sid, held or in the database (0 if none). */
  private prevOfSid(sid: number, seq: number): number {
    const held = this.rows;
    for (let j = held.length - 8; j >= 0; j -= 8) if (held[j + 2] === sid && (held[j] as number) <= seq) return held[j] as number;
    return (this.s.prevSeqSid.get(sid, seq) as number | undefined) ?? 0;
  }

  purge(): number {
    this.check();
    const n = this.msgs;
    this.cache?.forget(this);
    try {
      this.beginWrite();
      this.q.delAll.run();
      this.q.delAllSubjects.run();
    } catch (e) {
      this.writeFailed(e);
    }
    this.index.clear();
    if (this.blocks !== null) this.blocks.clear();
    this.msgs = 0;
    this.bytes = 0;
    this.first = this.last + 1;
    this.firstTs = 0n;
    this.stateDirty = true;
    if (n > 0) this.vacuumPending = true;
    this.walDebt += n * 64;
    return n;
  }

  compact(seq: number): number {
    this.check();
    if (seq === 0) return this.purge();
    if (seq > this.last) {
      const n = this.purge();
      this.first = seq;
      this.last = seq - 1;
      return n;
    }
    if (seq <= this.first || this.msgs === 0) return 0;
    return this.removeRange(this.first, seq - 1, null);
  }

  truncate(seq: number): void {
    this.check();
    if (seq === 0) {
      this.purge();
      this.first = 0;
      this.last = 0;
      this.lastTime = 0n;
      return;
    }
    if (seq >= this.last) return;
    if (this.msgs > 0 && seq >= this.first) this.removeRange(seq + 1, this.last, null);
    else if (this.msgs > 0) this.purge();
    try {
      this.beginWrite();
      const r = this.q.prevRow.get(seq) as [bigint, bigint] | undefined;
      this.lastTime = r === undefined ? 0n : r[1];
    } catch (e) {
      this.writeFailed(e);
    }
    this.last = seq;
    if (this.msgs === 0) {
      this.first = seq + 1;
      this.firstTs = 0n;
    }
    this.stateDirty = true;
  }

  purgeEx(filter: string, upToSeq: number, keep: number): number {
    this.check();
    if (upToSeq > 1 && keep > 0) throw new PurgeArgError();
    if (isAllFilter(filter)) {
      if (keep === 0 && upToSeq <= 1) return this.purge();
      if (upToSeq > 1) return this.compact(upToSeq);
      if (keep >= this.msgs) return 0;
      return this.compact(this.last - keep + 1);
    }
    if (this.msgs === 0) return 0;
    const m = this.index.match(filter);
    if (m.size === 0) return 0;
    const all = m.size === this.index.size;
    let hi = upToSeq > 1 ? upToSeq - 1 : this.last;
    try {
      if (keep > 0) {
        let total = 0;
        for (const e of m) total += e.msgs;
        if (keep >= total) return 0;
        const nth = total - keep - 1;
        if (all) hi = this.q.nth.get(nth) as number;
        else if (m.size === 1) hi = this.q.nthSid.get(first(m).sid, nth) as number;
        else hi = this.q.nthSids.get(JSON.stringify(sidsOf(m)), nth) as number;
      }
    } catch (e) {
      this.readError(e);
    }
    return this.removeRange(this.first, hi, all ? null : Array.from(m));
  }

  /**
   * Removes every message with seq in [lo, hi] (of the given subjects, or all), in bulk: one
   * aggregate query for the accounting, one DELETE, then per-subject first/last fix-ups.
   */
  private removeRange(lo: number, hi: number, entries: SubjectEntry[] | null): number {
    if (hi < lo || this.msgs === 0) return 0;
    this.cache?.forget(this);
    let removed = 0;
    let bytes = 0;
    const touched: SubjectEntry[] = [];
    try {
      this.beginWrite();
      const account = (e: SubjectEntry | undefined, sid: number, rows: number[][]): void => {
        if (e === undefined) throw new Error(`messages refer to unknown subject id ${sid}`);
        let c = 0;
        for (const [block, n, dsum, hsum] of rows) {
          c += n!;
          bytes += n! * (30 + e.slen) + dsum! + hsum!;
          this.blocks?.remove(block! * BLOCK_SIZE, n!);
        }
        if (c === 0) return;
        e.msgs -= c;
        removed += c;
        touched.push(e);
      };
      if (entries === null) {
        const bySid = new Map<number, number[][]>();
        for (const r of this.q.statsRange.all(lo, hi) as number[][]) {
          let l = bySid.get(r[0]!);
          if (l === undefined) bySid.set(r[0]!, (l = []));
          l.push(r.slice(1));
        }
        for (const [sid, rows] of bySid) account(this.index.bySidGet(sid), sid, rows);
        this.q.delRange.run(lo, hi);
      } else {
        for (const e of entries) {
          if (e.last < lo || e.first > hi) continue;
          account(e, e.sid, this.q.statsRangeSid.all(e.sid, lo, hi) as number[][]);
          this.q.delRangeSid.run(e.sid, lo, hi);
        }
      }
      this.msgs -= removed;
      this.bytes -= bytes;
      for (const e of touched) {
        if (e.msgs <= 0) {
          this.index.delete(e);
          this.q.delSubject.run(e.sid);
        } else {
          const mm = this.q.minMaxSid.get(e.sid) as [number, number];
          e.first = mm[0];
          e.last = mm[1];
        }
      }
      if (this.msgs === 0) {
        this.first = this.last + 1;
        this.firstTs = 0n;
      } else if (this.first >= lo && this.first <= hi) {
        this.setFirstFrom(this.first);
      }
    } catch (e) {
      this.writeFailed(e);
    }
    if (removed > 0) {
      this.walDebt += removed * 64;
      this.stateDirty = true;
      this.vacuumPending = true;
    }
    return removed;
  }

  expire(now: Nanos): ExpiredMsg[] {
    this.check();
    const out: ExpiredMsg[] = [];
    if (this.msgs === 0) return out;
    try {
      for (;;) {
        const seqs = this.q.expiredTtl.all(now) as number[];
        let n = 0;
        for (const seq of seqs) {
          const subject = this.removeOne(seq, false, true);
          if (subject !== null) {
            out.push({ seq, subject, marker: isMarkerHeader(this.removedHdr) });
            n++;
          }
        }
        if (seqs.length < CHUNK || n === 0) break;
      }
      const maxAge = this.lim.maxAgeNanos;
      if (maxAge > 0n) {
        const cutoff = now - maxAge;
        let from = this.first;
        scan: for (;;) {
          const rows = this.q.scanAge.all(from) as [bigint, bigint, bigint][];
          for (const [bseq, ts, ttl] of rows) {
            if (ts > cutoff) break scan;
            if (Number(ttl) === TTL_NEVER) continue;
            const seq = Number(bseq);
            const subject = this.removeOne(seq, false, true);
            if (subject !== null) out.push({ seq, subject, marker: isMarkerHeader(this.removedHdr) });
          }
          if (rows.length < CHUNK) break;
          from = Number(rows[rows.length - 1]![0]) + 1;
        }
      }
    } catch (e) {
      this.writeFailed(e);
    }
    return out;
  }

  nextExpiry(): Nanos | null {
    this.check();
    if (this.msgs === 0) return null;
    try {
      let best = (this.q.minExpires.get() as bigint | undefined) ?? null;
      const maxAge = this.lim.maxAgeNanos;
      if (maxAge > 0n) {
        let from = this.first;
        scan: for (;;) {
          const rows = this.q.scanAge.all(from) as [bigint, bigint, bigint][];
          for (const [, ts, ttl] of rows) {
            if (Number(ttl) === TTL_NEVER) continue;
            const t = ts + maxAge;
            if (best === null || t < best) best = t;
            break scan;
          }
          if (rows.length < CHUNK) break;
          from = Number(rows[rows.length - 1]![0]) + 1;
        }
      }
      return best;
    } catch (e) {
      return this.readError(e);
    }
  }

  setLimits(limits: Partial<StoreLimits>): void {
    this.check();
    this.lim = { ...this.lim, ...limits };
    const l = this.lim;
    this.limActive = l.maxMsgs > 0 || l.maxBytes > 0 || l.maxMsgsPerSubject > 0 || l.discardNew;
    if (l.maxMsgsPerSubject > 0) {
      for (const e of Array.from(this.index.values())) while (e.msgs > l.maxMsgsPerSubject) this.removeForLimit(e.first);
    }
    if (l.maxMsgs > 0) while (this.msgs > l.maxMsgs) this.removeForLimit(this.first);
    if (l.maxBytes > 0) while (this.bytes > l.maxBytes && this.msgs > 0) this.removeForLimit(this.first);
  }

  limits(): StoreLimits {
    return { ...this.lim };
  }

  onLimitRemoval(handler: LimitRemovalHandler | null): void {
    this.limitHandler = handler;
  }
}

function first<T>(it: Iterable<T>): T {
  for (const x of it) return x;
  throw new Error("empty");
}

function sidsOf(m: EntrySet): number[] {
  const out: number[] = [];
  for (const e of m) out.push(e.sid);
  return out;
}
