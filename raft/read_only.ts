// ReadIndex bookkeeping on the leader: each request remembers the commit index at the time it was
// made and collects heartbeat acknowledgements; once a quorum acknowledged a heartbeat sent after the
// request, the leader knows it was still leader then, so reads at that index are linearizable.
import type { NodeId } from "./types.js";

export interface ReadRequest {
  index: number;
  from: NodeId;
  context: string;
  acks: Set<NodeId>;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadRequest>();
  private queue: string[] = [];

  constructor(private readonly maxPending = 4096) {}

  /** Returns false when the request is a duplicate or the queue is full (the caller retries). */
  add(index: number, from: NodeId, context: string): boolean {
    if (this.pending.has(context) || this.queue.length >= this.maxPending) return false;
    this.pending.set(context, { index, from, context, acks: new Set() });
    this.queue.push(context);
    return true;
  }

  recvAck(from: NodeId, context: string): Set<NodeId> | undefined {
    const rs = this.pending.get(context);
    if (!rs) return undefined;
    rs.acks.add(from);
    return rs.acks;
  }

  /** Releases `context` and every request queued before it: the same heartbeat round confirmed them. */
  advance(context: string): ReadRequest[] {
    const i = this.queue.indexOf(context);
    if (i < 0) return [];
    const done = this.queue.slice(0, i + 1);
    this.queue = this.queue.slice(i + 1);
    const out: ReadRequest[] = [];
    for (const c of done) {
      const rs = this.pending.get(c);
      if (rs) out.push(rs);
      this.pending.delete(c);
    }
    return out;
  }

  lastPendingContext(): string {
    return this.queue.length ? this.queue[this.queue.length - 1]! : "";
  }

  size(): number {
    return this.queue.length;
  }
}
