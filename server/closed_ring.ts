// The most recent closed connections, kept for /connz?state=closed. A fixed-size ring, so a storm
// of short-lived connections costs bounded memory.
/** A subscription as it was when its connection closed (/connz?state=closed&subs=detail). */
export interface ClosedSubscription {
  subject: string;
  queue: string | null;
  sid: string;
  msgs: number;
  max: number;
}

export interface ClosedConnection {
  cid: number;
  /** The transport: "tcp", "tls" or "websocket". */
  transport: string;
  ip: string;
  port: number;
  start: number;
  lastActivity: number;
  stop: number;
  reason: string;
  name: string;
  lang: string;
  version: string;
  user: string | undefined;
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  subs: ClosedSubscription[];
  rttMs: number;
}

export class ClosedConnections {
  private ring: (ClosedConnection | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array(capacity);
  }

  add(c: ClosedConnection): void {
    this.ring[this.next] = c;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** Oldest first. */
  list(): ClosedConnection[] {
    const out: ClosedConnection[] = [];
    const first = this.count < this.capacity ? 0 : this.next;
    for (let i = 0; i < this.count; i++) out.push(this.ring[(first + i) % this.capacity]!);
    return out;
  }
}
