// In-memory per-subject state (count, first and last sequence), maintained incrementally on every
// store and removal. It answers per-subject limits, Nats-Expected-Last-Subject-Sequence, KV gets
// and filtered counts without touching message bodies. nats-server keeps the same (psim/fss).
//
// Wildcard filters are resolved to their matching subjects once and the result is kept up to
// date as subjects come and go, because consumers ask with the same filter on every delivery.

import type { SeqList } from "./seq_list.js";
import { hasWildcard, isAllFilter, subjectMatches } from "./subject_match.js";

export class SubjectEntry {
  msgs = 0;
  first = 0;
  last = 0;
  /** Memory store only: this subject's sequences. */
  seqs: SeqList | null = null;
  constructor(
    readonly subject: string,
    /** SQLite store: the row id in the subjects table. */
    readonly sid: number,
    /** UTF-8 length of the subject, for size accounting. */
    readonly slen: number,
  ) {}
}

const MAX_CACHED_FILTERS = 64;

export interface EntrySet {
  readonly size: number;
  has(e: SubjectEntry): boolean;
  [Symbol.iterator](): Iterator<SubjectEntry>;
}

export class SubjectIndex {
  private readonly bySubject = new Map<string, SubjectEntry>();
  private readonly bySid = new Map<number, SubjectEntry>();
  private readonly cache = new Map<string, Set<SubjectEntry>>();
  private readonly all: EntrySet;

  constructor() {
    const map = this.bySubject;
    this.all = {
      get size() {
        return map.size;
      },
      has: (e) => map.get(e.subject) === e,
      [Symbol.iterator]: () => map.values(),
    };
  }

  get size(): number {
    return this.bySubject.size;
  }

  get(subject: string): SubjectEntry | undefined {
    return this.bySubject.get(subject);
  }

  bySidGet(sid: number): SubjectEntry | undefined {
    return this.bySid.get(sid);
  }

  add(e: SubjectEntry): void {
    this.bySubject.set(e.subject, e);
    if (e.sid !== 0) this.bySid.set(e.sid, e);
    for (const [filter, set] of this.cache) if (subjectMatches(e.subject, filter)) set.add(e);
  }

  delete(e: SubjectEntry): void {
    this.bySubject.delete(e.subject);
    if (e.sid !== 0) this.bySid.delete(e.sid);
    for (const set of this.cache.values()) set.delete(e);
  }

  clear(): void {
    this.bySubject.clear();
    this.bySid.clear();
    this.cache.clear();
  }

  values(): IterableIterator<SubjectEntry> {
    return this.bySubject.values();
  }

  /**
   * Entries whose subject matches filter. The returned collection is owned by the index: do not
   * mutate it, and do not hold it across writes.
   */
  match(filter: string): EntrySet {
    if (isAllFilter(filter)) return this.all;
    if (!hasWildcard(filter)) {
      const e = this.bySubject.get(filter);
      return e ? new Set([e]) : EMPTY;
    }
    let set = this.cache.get(filter);
    if (set === undefined) {
      set = new Set();
      for (const e of this.bySubject.values()) if (subjectMatches(e.subject, filter)) set.add(e);
      if (this.cache.size >= MAX_CACHED_FILTERS) this.cache.clear();
      this.cache.set(filter, set);
    }
    return set;
  }

  /** Whether filter selects every subject currently stored (so subject checks can be skipped). */
  matchesAll(filter: string): boolean {
    if (isAllFilter(filter)) return true;
    if (!hasWildcard(filter)) return this.bySubject.size === 1 && this.bySubject.has(filter);
    return this.match(filter).size === this.bySubject.size;
  }
}

const EMPTY: ReadonlySet<SubjectEntry> = new Set();
