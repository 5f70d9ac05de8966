// The Nats-Msg-Id de-duplication window. Entries expire by the timestamps of the messages that
// made them (never the wall clock), so replaying the same commands gives the same answers.

import type { Nanos } from "../util/time.js";

interface Entry {
  id: string;
  seq: number;
  ts: Nanos;
}

export class DedupWindow {
  private readonly byId = new Map<string, Entry>();
  // Insertion order is timestamp order (a stream's timestamps only grow).
  private readonly fifo: Entry[] = [];
  private head = 0;

  constructor(public windowNs: Nanos) {}

  get size(): number {
    return this.byId.size;
  }

  /** The sequence an id was stored at, if that is still within the window at `now`. */
  lookup(id: string, now: Nanos): number | undefined {
    this.expire(now);
    return this.byId.get(id)?.seq;
  }

  add(id: string, seq: number, ts: Nanos): void {
    const e = { id, seq, ts };
    this.byId.set(id, e);
    this.fifo.push(e);
  }

  expire(now: Nanos): void {
    const cutoff = now - this.windowNs;
    const fifo = this.fifo;
    while (this.head < fifo.length && fifo[this.head]!.ts <= cutoff) {
      const e = fifo[this.head++]!;
      // A later message may have reused the id; only drop the entry this one made.
      if (this.byId.get(e.id) === e) this.byId.delete(e.id);
    }
    if (this.head > 1024 && this.head * 2 > fifo.length) {
      fifo.splice(0, this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.byId.clear();
    this.fifo.length = 0;
    this.head = 0;
  }
}
