// A deliberately naive model of a stream store: every query is a linear pass over a sorted list.
// It is the executable form of the semantics the stores must have (nats-server's, see store.ts),
// written without any of the stores' indexes so that a bug in one is not a bug in both.

import { isMarkerHeader, type ExpiredMsg, type RemovedMsg, type SimpleState, type StoreLimits, type StreamState } from "../../jetstream/store/store.js";

export interface ModelMsg {
  seq: number;
  ts: bigint;
  subject: string;
  hdr: Buffer | null;
  data: Buffer;
  ttl: number;
}

export type SizeFn = (subjectBytes: number, hdrLen: number, dataLen: number) => number;

const NS = 1_000_000_000n;

export function matches(subject: string, filter: string): boolean {
  if (filter === "" || filter === ">") return true;
  const s = subject.split(".");
  const f = filter.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">" && i === f.length - 1) return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== "*" && f[i] !== s[i]) return false;
  }
  return s.length === f.length;
}

export class StoreModel {
  msgs: ModelMsg[] = [];
  first = 0;
  firstTs = 0n;
  last = 0;
  lastTs = 0n;
  limits: StoreLimits = { maxMsgs: 0, maxBytes: 0, maxMsgsPerSubject: 0, maxAgeNanos: 0n, discardNew: false, discardNewPerSubject: false };
  /** (seq, subject) of every removal done to honour limits, in order. */
  limitRemovals: RemovedMsg[] = [];

  constructor(private readonly size: SizeFn) {}

  private msgSize(m: ModelMsg): number {
    return this.size(Buffer.byteLength(m.subject), m.hdr ? m.hdr.length : 0, m.data.length);
  }

  get bytes(): number {
    return this.msgs.reduce((a, m) => a + this.msgSize(m), 0);
  }

  get(seq: number): ModelMsg | undefined {
    return this.msgs.find((m) => m.seq === seq);
  }

  /** After removals: first is the smallest stored seq, or last + 1 when empty. */
  private fixFirst(): void {
    if (this.msgs.length === 0) {
      this.first = this.last + 1;
      this.firstTs = 0n;
    } else {
      this.first = this.msgs[0]!.seq;
      this.firstTs = this.msgs[0]!.ts;
    }
  }

  private removeWhere(pred: (m: ModelMsg) => boolean): ModelMsg[] {
    const gone = this.msgs.filter(pred);
    if (gone.length > 0) {
      this.msgs = this.msgs.filter((m) => !pred(m));
      this.fixFirst();
    }
    return gone;
  }

  subjectCount(subject: string): number {
    return this.msgs.filter((m) => m.subject === subject).length;
  }

  /** Returns the error kind a store must throw, or null when stored. */
  store(m: ModelMsg, skipDnp = false): "msgs" | "bytes" | "msgs_per_subject" | null {
    const l = this.limits;
    if (l.discardNew) {
      let atLimit = false;
      let firstOfSubject: ModelMsg | undefined;
      const cnt = this.subjectCount(m.subject);
      if (l.maxMsgsPerSubject > 0 && cnt > 0 && cnt >= l.maxMsgsPerSubject) {
        if (l.discardNewPerSubject && !skipDnp) return "msgs_per_subject";
        atLimit = true;
        firstOfSubject = this.msgs.find((x) => x.subject === m.subject);
      }
      const len = (m.hdr ? m.hdr.length : 0) + m.data.length;
      if (l.maxMsgs > 0 && this.msgs.length >= l.maxMsgs && !atLimit) return "msgs";
      if (l.maxBytes > 0 && this.bytes + len >= l.maxBytes) {
        if (!atLimit || this.msgSize(firstOfSubject!) <= len) return "bytes";
      }
    }
    if (this.msgs.length === 0) {
      this.first = m.seq;
      this.firstTs = m.ts;
    }
    this.msgs.push(m);
    this.last = m.seq;
    this.lastTs = m.ts;
    this.enforce(m.subject);
    return null;
  }

  private removeForLimit(seq: number): void {
    const gone = this.removeWhere((x) => x.seq === seq);
    for (const g of gone) this.limitRemovals.push({ seq: g.seq, subject: g.subject });
  }

  private enforce(subject: string | null): void {
    const l = this.limits;
    if (l.maxMsgsPerSubject > 0) {
      const subjects = subject === null ? [...new Set(this.msgs.map((m) => m.subject))] : [subject];
      for (const s of subjects) {
        while (this.subjectCount(s) > l.maxMsgsPerSubject) this.removeForLimit(this.msgs.find((m) => m.subject === s)!.seq);
      }
    }
    if (l.maxMsgs > 0) while (this.msgs.length > l.maxMsgs) this.removeForLimit(this.msgs[0]!.seq);
    if (l.maxBytes > 0) while (this.bytes > l.maxBytes && this.msgs.length > 0) this.removeForLimit(this.msgs[0]!.seq);
  }

  setLimits(l: Partial<StoreLimits>): void {
    this.limits = { ...this.limits, ...l };
    this.enforce(null);
  }

  skip(seq: number, count: number, ts: bigint): void {
    if (count < 1) return;
    this.last = seq + count - 1;
    this.lastTs = ts;
    // nats-server's SkipMsg stamps an empty stream's first time with the skip's time.
    if (this.msgs.length === 0) {
      this.first = this.last + 1;
      this.firstTs = ts;
    }
  }

  remove(seq: number): boolean {
    return this.removeWhere((m) => m.seq === seq).length > 0;
  }

  purge(): number {
    const n = this.msgs.length;
    this.msgs = [];
    this.fixFirst();
    return n;
  }

  compact(seq: number): number {
    if (seq === 0) return this.purge();
    if (seq > this.last) {
      const n = this.purge();
      this.first = seq;
      this.last = seq - 1;
      return n;
    }
    return this.removeWhere((m) => m.seq < seq).length;
  }

  truncate(seq: number): void {
    if (seq === 0) {
      this.msgs = [];
      this.first = 0;
      this.firstTs = 0n;
      this.last = 0;
      this.lastTs = 0n;
      return;
    }
    if (seq >= this.last) return;
    this.msgs = this.msgs.filter((m) => m.seq <= seq);
    const below = this.msgs[this.msgs.length - 1];
    this.lastTs = below ? below.ts : 0n;
    this.last = seq;
    this.fixFirst();
  }

  /** null means PurgeArgError. */
  purgeEx(filter: string, upTo: number, keep: number): number | null {
    if (upTo > 1 && keep > 0) return null;
    if (filter === "" || filter === ">") {
      if (keep === 0 && upTo <= 1) return this.purge();
      if (upTo > 1) return this.compact(upTo);
      if (keep >= this.msgs.length) return 0;
      // nats-server keeps the last `keep` sequences, not messages, when unfiltered.
      return this.compact(this.last - keep + 1);
    }
    let victims = this.msgs.filter((m) => matches(m.subject, filter) && (upTo <= 1 || m.seq < upTo));
    if (keep > 0) {
      if (keep >= victims.length) return 0;
      victims = victims.slice(0, victims.length - keep);
    }
    const set = new Set(victims.map((m) => m.seq));
    return this.removeWhere((m) => set.has(m.seq)).length;
  }

  expire(now: bigint): ExpiredMsg[] {
    const maxAge = this.limits.maxAgeNanos;
    const gone = this.removeWhere(
      (m) => (m.ttl > 0 && m.ts + BigInt(m.ttl) * NS <= now) || (maxAge > 0n && m.ttl !== -1 && m.ts <= now - maxAge),
    );
    return gone.map((m) => ({ seq: m.seq, subject: m.subject, marker: isMarkerHeader(m.hdr) }));
  }

  nextExpiry(): bigint | null {
    let best: bigint | null = null;
    for (const m of this.msgs) {
      if (m.ttl > 0) {
        const d = m.ts + BigInt(m.ttl) * NS;
        if (best === null || d < best) best = d;
      }
    }
    const maxAge = this.limits.maxAgeNanos;
    if (maxAge > 0n) {
      const m = this.msgs.find((x) => x.ttl !== -1);
      if (m !== undefined && (best === null || m.ts + maxAge < best)) best = m.ts + maxAge;
    }
    return best;
  }

  state(): StreamState {
    const deleted: number[] = [];
    if (this.msgs.length > 0) {
      const have = new Set(this.msgs.map((m) => m.seq));
      for (let s = this.first; s <= this.last; s++) if (!have.has(s)) deleted.push(s);
    }
    return {
      msgs: this.msgs.length,
      bytes: this.bytes,
      firstSeq: this.first,
      firstTs: this.firstTs,
      lastSeq: this.last,
      lastTs: this.lastTs,
      numDeleted: deleted.length,
      numSubjects: new Set(this.msgs.map((m) => m.subject)).size,
      deleted,
    };
  }

  subjectsState(filter: string): Map<string, SimpleState> {
    const out = new Map<string, SimpleState>();
    for (const m of this.msgs) {
      if (!matches(m.subject, filter)) continue;
      const s = out.get(m.subject);
      if (s === undefined) out.set(m.subject, { msgs: 1, first: m.seq, last: m.seq });
      else {
        s.msgs++;
        s.last = m.seq;
      }
    }
    return out;
  }

  filteredState(start: number, filter: string): SimpleState {
    const sel = this.msgs.filter((m) => m.seq >= start && matches(m.subject, filter));
    if (sel.length === 0) return { msgs: 0, first: 0, last: 0 };
    return { msgs: sel.length, first: sel[0]!.seq, last: sel[sel.length - 1]!.seq };
  }

  numPending(start: number, filter: string, lastPerSubject: boolean): number {
    if (!lastPerSubject) return this.filteredState(start, filter).msgs;
    let n = 0;
    for (const s of this.subjectsState(filter).values()) if (s.last >= start) n++;
    return n;
  }

  loadNext(filters: readonly string[], start: number): ModelMsg | null {
    return this.msgs.find((m) => m.seq >= start && filters.some((f) => matches(m.subject, f))) ?? null;
  }

  loadNextWithHeaders(start: number): ModelMsg | null {
    return this.msgs.find((m) => m.seq >= start && m.hdr !== null) ?? null;
  }

  loadLast(filter: string): ModelMsg | null {
    const sel = this.msgs.filter((m) => matches(m.subject, filter));
    return sel[sel.length - 1] ?? null;
  }

  loadPrev(start: number, filter: string): ModelMsg | null {
    const sel = this.msgs.filter((m) => m.seq <= start && matches(m.subject, filter));
    return sel[sel.length - 1] ?? null;
  }

  seqFromTime(ts: bigint): number {
    const m = this.msgs.find((x) => x.ts >= ts);
    return m ? m.seq : this.last + 1;
  }
}
