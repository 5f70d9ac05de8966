// Messages read by sequence (DIRECT.GET, STREAM.MSG.GET, a KV get of a hot key), kept so that the
// next read of the same message skips SQLite and its checksum check. One cache for every stream
// of a server, bounded in entries and bytes: two generations, the newer filled until a bound is
// reached, then it becomes the older one and the oldest is dropped whole; a hit in the older one
// moves the message forward. So at most twice the bounds are held, and no per-hit bookkeeping is
// needed beyond a Map lookup.
//
// A store must delete or forget what it removes (delete, forget) before anything can read it
// again: cached messages are the stored ones, never copies that could go stale on their own.
import type { StoredMsg } from "./store.js";

export interface MsgCacheLimits {
  /** Messages per generation. */
  entries: number;
  /** Header and payload bytes per generation. */
  bytes: number;
}

export const DEFAULT_MSG_CACHE: Readonly<MsgCacheLimits> = Object.freeze({ entries: 16_384, bytes: 16 * 1024 * 1024 });

type Gen = Map<object, Map<number, StoredMsg>>;

function sizeOf(m: StoredMsg): number {
  return m.data.length + (m.hdr === null ? 0 : m.hdr.length) + m.subject.length + 64;
}

export class MsgCache {
  private cur: Gen = new Map();
  private old: Gen = new Map();
  private curEntries = 0;
  private curBytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly limits: MsgCacheLimits = DEFAULT_MSG_CACHE) {}

  get(owner: object, seq: number): StoredMsg | undefined {
    const m = this.cur.get(owner)?.get(seq);
    if (m !== undefined) {
      this.hits++;
      return m;
    }
    const o = this.old.get(owner);
    const om = o?.get(seq);
    if (om === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    o!.delete(seq);
    this.put(owner, om);
    return om;
  }

  put(owner: object, m: StoredMsg): void {
    const size = sizeOf(m);
    // A message that would take a large part of a generation is not worth what it pushes out.
    if (size * 8 > this.limits.bytes) return;
    if (this.curEntries >= this.limits.entries || this.curBytes + size > this.limits.bytes) {
      this.old = this.cur;
      this.cur = new Map();
      this.curEntries = 0;
      this.curBytes = 0;
    }
    let mine = this.cur.get(owner);
    if (mine === undefined) {
      mine = new Map();
      this.cur.set(owner, mine);
    }
    if (mine.has(m.seq)) return;
    mine.set(m.seq, m);
    this.curEntries++;
    this.curBytes += size;
  }

  /** A message was removed. */
  delete(owner: object, seq: number): void {
    // The generation's totals keep counting it: they bound, they need not be exact.
    this.cur.get(owner)?.delete(seq);
    this.old.get(owner)?.delete(seq);
  }

  /** Everything of one owner (a range removal, a purge, the store closed). */
  forget(owner: object): void {
    this.cur.delete(owner);
    this.old.delete(owner);
  }

  /** Messages held now (for tests and monitoring). */
  size(): number {
    let n = 0;
    for (const g of [this.cur, this.old]) for (const m of g.values()) n += m.size;
    return n;
  }
}
