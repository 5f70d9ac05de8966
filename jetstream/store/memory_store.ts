// The memory StreamStore (storage: memory): same contract as the SQLite store, nothing persisted.
// Its commit is a no-op but its durability callbacks still run through the group commit, so the
// stream layer sees the same turn-batched acknowledgement behaviour for both kinds.
//
// Messages live in a Map keyed by seq; since sequences only grow, the Map's insertion order is
// sequence order, which the in-order scans (compact, max_age) rely on.

import { ConsumerHandle, type ConsumerOwner } from "./consumer_handle.js";
import { ConsumerStateCore } from "./consumer_state.js";
import {
  ConsumerExistsError,
  DiscardNewError,
  InvalidArgumentError,
  PurgeArgError,
  SequenceMismatchError,
  StoreClosedError,
} from "./errors.js";
import { runCallbacks, type Committable, type GroupCommit } from "./group_commit.js";
import { memStoreMsgSize, subjectBytes } from "./msg_size.js";
import { BLOCK_SIZE, blockOf, SeqBlocks } from "./seq_blocks.js";
import { SeqList } from "./seq_list.js";
import {
  asBuffer,
  loadNextMsgsOneByOne,
  NO_LIMITS,
  isMarkerHeader,
  StoreFlags,
  TTL_NEVER,
  type AckPolicy,
  type CommitCallback,
  type ExpiredMsg,
  type ConsumerStore,
  type LimitRemovalHandler,
  type Nanos,
  type RemovedMsg,
  type SimpleState,
  type StateOptions,
  type StoredMsg,
  type StoreLimits,
  type StreamState,
  type StreamStore,
} from "./store.js";
import { SubjectEntry, SubjectIndex } from "./subject_index.js";
import { isAllFilter } from "./subject_match.js";
import { TtlHeap } from "./ttl_heap.js";

const NS_PER_SEC = 1_000_000_000n;

/**
 * The bytes as a Buffer to keep: the caller's own, unless they are a small part of a larger
 * buffer than Node's allocation pool (a batch read, say), which keeping them would keep alive
 * whole; those are copied.
 */
function keepable(u: Uint8Array): Buffer {
  const whole = u.buffer.byteLength;
  if (whole > Buffer.poolSize && u.byteLength * 2 < whole) return Buffer.from(u);
  return asBuffer(u);
}

class MemMsg {
  constructor(
    readonly e: SubjectEntry,
    readonly ts: bigint,
    readonly hdr: Buffer | null,
    readonly data: Buffer,
    readonly ttl: number,
  ) {}
}

export class MemoryStreamStore implements StreamStore, Committable, ConsumerOwner {
  readonly storage = "memory" as const;
  readonly afterCrash = false;
  readonly path = null;

  private first = 0;
  private firstTs = 0n;
  private last = 0;
  private lastTime = 0n;
  private bytes = 0;
  private readonly msgs = new Map<number, MemMsg>();
  private readonly index = new SubjectIndex();
  private readonly blocks = new SeqBlocks();
  private readonly ttls = new TtlHeap();
  private lim: StoreLimits = { ...NO_LIMITS };
  private limActive = false;
  private limitHandler: LimitRemovalHandler | null = null;

  private queued = false;
  private cbs: CommitCallback[] = [];
  /** Commit passes so far (commitTarget). */
  private passes = 0;
  private isClosed = false;

  private configJson: string | null = null;
  private readonly meta = new Map<string, string>();
  private readonly consumers = new Map<string, ConsumerHandle>();

  constructor(
    readonly account: string,
    readonly name: string,
    private readonly gc: GroupCommit,
  ) {}

  get stream(): StreamStore {
    return this;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  // ---- durability ---------------------------------------------------------------------------

  beginWrite(): void {
    this.check();
  }

  writeFailed(e: unknown): never {
    throw e;
  }

  commitPending(): void {}

  notifyCommitted(): void {
    this.queued = false;
    this.passes++;
    const cbs = this.cbs;
    if (cbs.length === 0) return;
    this.cbs = [];
    runCallbacks(cbs, null);
  }

  /** Memory writes need no commit: callbacks run at the end of the pass they were registered in. */
  commitTarget(): number {
    return this.passes;
  }

  afterCommit(cb: CommitCallback): void {
    this.cbs.push(cb);
    if (!this.queued) {
      this.queued = true;
      this.gc.enqueue(this);
    }
  }

  flush(): Promise<void> {
    return new Promise((resolve, reject) => this.afterCommit((err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const h of this.consumers.values()) h.deleted = true;
    this.notifyCommitted();
  }

  private check(): void {
    if (this.isClosed) throw new StoreClosedError(this.name);
  }

  // ---- writes -------------------------------------------------------------------------------

  storeMsg(seq: number, ts: Nanos, subject: string, hdr: Uint8Array | null, data: Uint8Array, ttl = 0, flags = 0): void {
    this.check();
    if (seq !== this.last + 1) throw new SequenceMismatchError(this.last + 1, seq);
    if (subject.length === 0) throw new InvalidArgumentError("empty subject");
    const hlen = hdr === null ? 0 : hdr.byteLength;
    const dlen = data.byteLength;
    let e = this.index.get(subject);
    if (this.limActive && this.lim.discardNew) this.checkDiscardNew(e, hlen, dlen, flags);
    if (e === undefined) {
      e = new SubjectEntry(subject, 0, subjectBytes(subject));
      e.seqs = new SeqList();
      this.index.add(e);
    }
    // Kept as given, not copied: the caller hands its buffers over (StreamStore.storeMsg).
    const m = new MemMsg(e, ts, hlen > 0 ? keepable(hdr!) : null, keepable(data), ttl);
    this.msgs.set(seq, m);
    if (this.msgs.size === 1) {
      this.first = seq;
      this.firstTs = ts;
    }
    this.bytes += memStoreMsgSize(e.slen, hlen, dlen);
    this.last = seq;
    this.lastTime = ts;
    if (e.msgs === 0) e.first = seq;
    e.msgs++;
    e.last = seq;
    e.seqs!.push(seq);
    this.blocks.add(seq);
    if (ttl > 0) this.ttls.push(ts + BigInt(ttl) * NS_PER_SEC, seq);
    if (this.limActive) this.enforceAfterStore(e);
  }

  private checkDiscardNew(e: SubjectEntry | undefined, hlen: number, dlen: number, flags: number): void {
    const lim = this.lim;
    let atSubjectLimit = false;
    let fseq = 0;
    if (lim.maxMsgsPerSubject > 0 && e !== undefined && e.msgs >= lim.maxMsgsPerSubject) {
      if (lim.discardNewPerSubject && (flags & StoreFlags.SkipDiscardNewPerSubject) === 0) throw new DiscardNewError("msgs_per_subject");
      atSubjectLimit = true;
      fseq = e.first;
    }
    if (lim.maxMsgs > 0 && this.msgs.size >= lim.maxMsgs && !atSubjectLimit) throw new DiscardNewError("msgs");
    if (lim.maxBytes > 0 && this.bytes + dlen + hlen >= lim.maxBytes) {
      if (!atSubjectLimit || this.sizeOf(fseq) <= dlen + hlen) throw new DiscardNewError("bytes");
    }
  }

  private sizeOf(seq: number): number {
    const m = this.msgs.get(seq);
    return m === undefined ? 0 : memStoreMsgSize(m.e.slen, m.hdr === null ? 0 : m.hdr.length, m.data.length);
  }

  private enforceAfterStore(e: SubjectEntry): void {
    const lim = this.lim;
    if (lim.maxMsgsPerSubject > 0) while (e.msgs > lim.maxMsgsPerSubject) this.removeForLimit(e.first);
    if (lim.maxMsgs > 0) while (this.msgs.size > lim.maxMsgs) this.removeForLimit(this.first);
    if (lim.maxBytes > 0) while (this.bytes > lim.maxBytes && this.msgs.size > 0) this.removeForLimit(this.first);
  }

  private removeForLimit(seq: number): void {
    const subject = this.removeOne(seq);
    if (subject !== null && this.limitHandler !== null) this.limitHandler(seq, subject);
  }

  skipMsgs(seq: number, count: number, ts: Nanos): void {
    this.check();
    if (seq !== this.last + 1) throw new SequenceMismatchError(this.last + 1, seq);
    if (count < 1) return;
    this.last = seq + count - 1;
    this.lastTime = ts;
    // As nats-server's SkipMsg: an empty stream's first time is the skip's time.
    if (this.msgs.size === 0) {
      this.first = this.last + 1;
      this.firstTs = ts;
    }
  }

  removeMsg(seq: number): boolean {
    this.check();
    return this.removeOne(seq) !== null;
  }

  /**
   * In memory, erasing is removing, as in nats-server's memory store (which swaps in new random
   * bytes and leaves the old ones to the collector): the buffers were handed over by the stream
   * and may be shared (a source and its origin keep the same bytes), so they are never written to.
   */
  eraseMsg(seq: number): boolean {
    this.check();
    return this.removeOne(seq) !== null;
  }

  private removeOne(seq: number): string | null {
    const m = this.msgs.get(seq);
    if (m === undefined) return null;
    this.msgs.delete(seq);
    const e = m.e;
    this.bytes -= memStoreMsgSize(e.slen, m.hdr === null ? 0 : m.hdr.length, m.data.length);
    this.blocks.remove(seq);
    e.seqs!.remove(seq);
    e.msgs--;
    if (e.msgs === 0) {
      this.index.delete(e);
    } else {
      e.first = e.seqs!.first();
      e.last = e.seqs!.last();
    }
    if (this.msgs.size === 0) {
      this.first = this.last + 1;
      this.firstTs = 0n;
    } else if (seq === this.first) {
      this.first = this.nextExisting(seq + 1);
      this.firstTs = this.msgs.get(this.first)!.ts;
    }
    return e.subject;
  }

  purge(): number {
    this.check();
    const n = this.msgs.size;
    this.msgs.clear();
    this.index.clear();
    this.blocks.clear();
    this.ttls.clear();
    this.bytes = 0;
    this.first = this.last + 1;
    this.firstTs = 0n;
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
    let n = 0;
    for (const s of this.msgs.keys()) {
      if (s >= seq) break;
      this.removeOne(s);
      n++;
    }
    return n;
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
    for (let s = this.prevExisting(this.last); s > seq; s = this.prevExisting(s - 1)) this.removeOne(s);
    const p = this.prevExisting(seq);
    this.lastTime = p === 0 ? 0n : this.msgs.get(p)!.ts;
    this.last = seq;
    if (this.msgs.size === 0) {
      this.first = seq + 1;
      this.firstTs = 0n;
    }
  }

  purgeEx(filter: string, upToSeq: number, keep: number): number {
    this.check();
    if (upToSeq > 1 && keep > 0) throw new PurgeArgError();
    if (isAllFilter(filter)) {
      if (keep === 0 && upToSeq <= 1) return this.purge();
      if (upToSeq > 1) return this.compact(upToSeq);
      if (keep >= this.msgs.size) return 0;
      return this.compact(this.last - keep + 1);
    }
    const seqs: number[] = [];
    const hi = upToSeq > 1 ? upToSeq - 1 : this.last;
    for (const e of this.index.match(filter)) {
      const l = e.seqs!;
      for (let i = 0; i < l.size; i++) {
        const s = l.at(i);
        if (s > hi) break;
        seqs.push(s);
      }
    }
    let n = seqs.length;
    if (keep > 0) {
      if (keep >= n) return 0;
      n -= keep;
      seqs.sort((a, b) => a - b);
    }
    for (let i = 0; i < n; i++) this.removeOne(seqs[i]!);
    return n;
  }

  expire(now: Nanos): ExpiredMsg[] {
    this.check();
    const out: ExpiredMsg[] = [];
    const h = this.ttls;
    for (let d = h.peekDeadline(); d !== null && d <= now; d = h.peekDeadline()) {
      const seq = h.peekSeq();
      h.pop();
      const m = this.msgs.get(seq);
      // A heap entry outlives its message when the message was removed some other way.
      if (m === undefined || m.ttl <= 0 || m.ts + BigInt(m.ttl) * NS_PER_SEC !== d) continue;
      out.push({ seq, subject: this.removeOne(seq)!, marker: isMarkerHeader(m.hdr) });
    }
    const maxAge = this.lim.maxAgeNanos;
    if (maxAge > 0n) {
      const cutoff = now - maxAge;
      for (const [seq, m] of this.msgs) {
        if (m.ts > cutoff) break;
        if (m.ttl === TTL_NEVER) continue;
        out.push({ seq, subject: this.removeOne(seq)!, marker: isMarkerHeader(m.hdr) });
      }
    }
    return out;
  }

  nextExpiry(): Nanos | null {
    this.check();
    const h = this.ttls;
    // Drop stale tops so the answer is a real deadline.
    for (let d = h.peekDeadline(); d !== null; d = h.peekDeadline()) {
      const m = this.msgs.get(h.peekSeq());
      if (m !== undefined && m.ttl > 0 && m.ts + BigInt(m.ttl) * NS_PER_SEC === d) break;
      h.pop();
    }
    let best = h.peekDeadline();
    const maxAge = this.lim.maxAgeNanos;
    if (maxAge > 0n) {
      for (const m of this.msgs.values()) {
        if (m.ttl === TTL_NEVER) continue;
        const t = m.ts + maxAge;
        if (best === null || t < best) best = t;
        break;
      }
    }
    return best;
  }

  setLimits(limits: Partial<StoreLimits>): void {
    this.check();
    this.lim = { ...this.lim, ...limits };
    const l = this.lim;
    this.limActive = l.maxMsgs > 0 || l.maxBytes > 0 || l.maxMsgsPerSubject > 0 || l.discardNew;
    if (l.maxMsgsPerSubject > 0) {
      for (const e of Array.from(this.index.values())) while (e.msgs > l.maxMsgsPerSubject) this.removeForLimit(e.first);
    }
    if (l.maxMsgs > 0) while (this.msgs.size > l.maxMsgs) this.removeForLimit(this.first);
    if (l.maxBytes > 0) while (this.bytes > l.maxBytes && this.msgs.size > 0) this.removeForLimit(this.first);
  }

  limits(): StoreLimits {
    return { ...this.lim };
  }

  onLimitRemoval(handler: LimitRemovalHandler | null): void {
    this.limitHandler = handler;
  }

  // ---- reads --------------------------------------------------------------------------------

  /** Smallest seq >= from holding a message, or 0; skips empty blocks. */
  private nextExisting(from: number): number {
    let s = Math.max(from, this.first);
    while (s <= this.last) {
      const b = blockOf(s);
      if (this.blocks.count(b) === 0) {
        const nb = this.blocks.nextNonEmpty(b + 1);
        if (nb < 0) return 0;
        s = nb * BLOCK_SIZE;
        continue;
      }
      const end = Math.min(b * BLOCK_SIZE + BLOCK_SIZE - 1, this.last);
      for (; s <= end; s++) if (this.msgs.has(s)) return s;
    }
    return 0;
  }

  /** Largest seq <= from holding a message, or 0. */
  private prevExisting(from: number): number {
    let s = Math.min(from, this.last);
    while (s >= this.first && s > 0) {
      const b = blockOf(s);
      if (this.blocks.count(b) === 0) {
        const pb = this.blocks.prevNonEmpty(b - 1);
        if (pb < 0) return 0;
        s = pb * BLOCK_SIZE + BLOCK_SIZE - 1;
        continue;
      }
      const start = Math.max(b * BLOCK_SIZE, this.first);
      for (; s >= start; s--) if (this.msgs.has(s)) return s;
    }
    return 0;
  }

  private toStored(seq: number, m: MemMsg): StoredMsg {
    return { seq, ts: m.ts, subject: m.e.subject, hdr: m.hdr, data: m.data, ttl: m.ttl };
  }

  loadMsg(seq: number): StoredMsg | null {
    this.check();
    const m = this.msgs.get(seq);
    return m === undefined ? null : this.toStored(seq, m);
  }

  loadNextMsg(filter: string, start: number): StoredMsg | null {
    this.check();
    const seq = this.nextMatchSeq(filter, start);
    return seq === 0 ? null : this.toStored(seq, this.msgs.get(seq)!);
  }

  loadNextMsgs(filter: string, start: number, max: number, maxBytes: number): StoredMsg[] {
    this.check();
    return loadNextMsgsOneByOne(this, filter, start, max, maxBytes);
  }

  loadNextWithHeaders(start: number): StoredMsg | null {
    this.check();
    for (let seq = this.nextExisting(start); seq !== 0; seq = this.nextExisting(seq + 1)) {
      const m = this.msgs.get(seq)!;
      if (m.hdr !== null) return this.toStored(seq, m);
    }
    return null;
  }

  loadNextMsgMulti(filters: readonly string[], start: number): StoredMsg | null {
    this.check();
    let best = 0;
    for (const f of filters) {
      const s = this.nextMatchSeq(f, start);
      if (s !== 0 && (best === 0 || s < best)) best = s;
    }
    return best === 0 ? null : this.toStored(best, this.msgs.get(best)!);
  }

  private nextMatchSeq(filter: string, start: number): number {
    if (start < this.first) start = this.first;
    if (start > this.last || this.msgs.size === 0) return 0;
    const m = this.index.match(filter);
    if (m.size === this.index.size) return this.nextExisting(start);
    let best = 0;
    for (const e of m) {
      if (e.last < start) continue;
      const c = e.first >= start ? e.first : e.seqs!.nextFrom(start);
      if (c !== 0 && (best === 0 || c < best)) best = c;
    }
    return best;
  }

  loadLastMsg(filter: string): StoredMsg | null {
    this.check();
    if (this.msgs.size === 0) return null;
    let best = 0;
    if (isAllFilter(filter)) best = this.prevExisting(this.last);
    else for (const e of this.index.match(filter)) if (e.last > best) best = e.last;
    return best === 0 ? null : this.toStored(best, this.msgs.get(best)!);
  }

  loadPrevMsg(start: number, filter = ">"): StoredMsg | null {
    this.check();
    if (start > this.last) start = this.last;
    if (start < this.first || this.msgs.size === 0) return null;
    let best = 0;
    if (isAllFilter(filter)) best = this.prevExisting(start);
    else {
      for (const e of this.index.match(filter)) {
        if (e.first > start) continue;
        const c = e.last <= start ? e.last : e.seqs!.prevFrom(start);
        if (c > best) best = c;
      }
    }
    return best === 0 ? null : this.toStored(best, this.msgs.get(best)!);
  }

  seqFromTime(ts: Nanos): number {
    this.check();
    if (this.msgs.size === 0) return this.last + 1;
    let lo = this.first;
    let hi = this.last + 1;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const s = this.nextExisting(mid);
      if (s === 0 || this.msgs.get(s)!.ts >= ts) hi = mid;
      else lo = s + 1;
    }
    const s = this.nextExisting(lo);
    return s === 0 ? this.last + 1 : s;
  }

  lastSeq(): number {
    return this.last;
  }

  lastTs(): Nanos {
    return this.lastTime;
  }

  state(opts?: StateOptions): StreamState {
    this.check();
    const msgs = this.msgs.size;
    const numDeleted = msgs > 0 ? this.last - this.first + 1 - msgs : 0;
    const st: StreamState = {
      msgs,
      bytes: this.bytes,
      firstSeq: this.first,
      firstTs: this.firstTs,
      lastSeq: this.last,
      lastTs: this.lastTime,
      numDeleted,
      numSubjects: this.index.size,
    };
    if (opts?.deleted) {
      const out: number[] = [];
      if (numDeleted > 0) {
        const lastB = blockOf(this.last);
        for (let b = blockOf(this.first); b <= lastB; b++) {
          const lo = Math.max(b * BLOCK_SIZE, this.first);
          const hi = Math.min(b * BLOCK_SIZE + BLOCK_SIZE - 1, this.last);
          if (this.blocks.count(b) === hi - lo + 1) continue;
          for (let s = lo; s <= hi; s++) if (!this.msgs.has(s)) out.push(s);
        }
      }
      st.deleted = out;
    }
    return st;
  }

  subjectState(subject: string): SimpleState | null {
    this.check();
    const e = this.index.get(subject);
    return e === undefined ? null : { msgs: e.msgs, first: e.first, last: e.last };
  }

  subjectsState(filter: string): Map<string, SimpleState> {
    this.check();
    const out = new Map<string, SimpleState>();
    for (const e of this.index.match(filter)) out.set(e.subject, { msgs: e.msgs, first: e.first, last: e.last });
    return out;
  }

  filteredState(start: number, filter: string): SimpleState {
    this.check();
    if (start < this.first) start = this.first;
    if (start > this.last || this.msgs.size === 0) return { msgs: 0, first: 0, last: 0 };
    const m = this.index.match(filter);
    if (m.size === this.index.size) {
      const n = this.countFrom(start);
      if (n === 0) return { msgs: 0, first: 0, last: 0 };
      return { msgs: n, first: this.nextExisting(start), last: this.prevExisting(this.last) };
    }
    const ss: SimpleState = { msgs: 0, first: 0, last: 0 };
    for (const e of m) {
      if (e.last < start) continue;
      const f = e.first >= start ? e.first : e.seqs!.nextFrom(start);
      ss.msgs += e.first >= start ? e.msgs : e.seqs!.countFrom(start);
      if (ss.first === 0 || f < ss.first) ss.first = f;
      if (e.last > ss.last) ss.last = e.last;
    }
    return ss;
  }

  numPending(start: number, filter: string, lastPerSubject: boolean): number {
    this.check();
    if (start < this.first) start = this.first;
    if (start > this.last || this.msgs.size === 0) return 0;
    const m = this.index.match(filter);
    let n = 0;
    if (lastPerSubject) {
      for (const e of m) if (e.last >= start) n++;
      return n;
    }
    if (m.size === this.index.size) return this.countFrom(start);
    for (const e of m) {
      if (e.last < start) continue;
      n += e.first >= start ? e.msgs : e.seqs!.countFrom(start);
    }
    return n;
  }

  private countFrom(start: number): number {
    if (start <= this.first) return this.msgs.size;
    const b = blockOf(start);
    let inBlock = 0;
    const end = Math.min(b * BLOCK_SIZE + BLOCK_SIZE - 1, this.last);
    for (let s = start; s <= end; s++) if (this.msgs.has(s)) inBlock++;
    return inBlock + this.blocks.sumAfter(b);
  }

  msgSize(subject: string, hdrLen: number, dataLen: number): number {
    return memStoreMsgSize(subjectBytes(subject), hdrLen, dataLen);
  }

  // ---- metadata -----------------------------------------------------------------------------

  saveConfig(json: string): void {
    this.check();
    this.configJson = json;
  }

  config(): string | null {
    this.check();
    return this.configJson;
  }

  setMeta(key: string, value: string | null): void {
    this.check();
    if (value === null) this.meta.delete(key);
    else this.meta.set(key, value);
  }

  getMeta(key: string): string | null {
    this.check();
    return this.meta.get(key) ?? null;
  }

  // ---- consumers ----------------------------------------------------------------------------

  createConsumer(name: string, configJson: string, ackPolicy: AckPolicy): ConsumerStore {
    this.check();
    if (this.consumers.has(name)) throw new ConsumerExistsError(this.name, name);
    const h = new ConsumerHandle(name, configJson, new ConsumerStateCore(ackPolicy, null), this, 0);
    this.consumers.set(name, h);
    return h;
  }

  consumer(name: string): ConsumerStore | null {
    this.check();
    return this.consumers.get(name) ?? null;
  }

  saveConsumerConfig(): void {}

  consumerNames(): string[] {
    this.check();
    return Array.from(this.consumers.keys()).sort();
  }

  deleteConsumer(name: string): boolean {
    this.check();
    const h = this.consumers.get(name);
    if (h === undefined) return false;
    h.deleted = true;
    this.consumers.delete(name);
    return true;
  }
}
