// The pull requests waiting on a consumer (nats-server's waitQueue): first come, first served,
// and a request that still wants more goes to the back after each message, so concurrent pullers
// share the stream round-robin. Bounded by max_waiting. Time is an argument (ms).

export interface WaitingRequest {
  /** Where messages and status frames go. */
  reply: string;
  /** Messages still wanted. */
  n: number;
  /** Messages delivered so far. */
  d: number;
  /** Bytes still allowed (max_bytes); 0 = no byte limit. */
  b: number;
  /** Absolute expiry (ms); 0 = none. */
  expires: number;
  received: number;
  /** Heartbeat interval (ms); 0 = none. */
  hb: number;
  /** Next heartbeat due (ms). */
  hbt: number;
  noWait: boolean;
}

/** What the queue needs from its consumer to retire requests. */
export interface WaitingHost {
  /** Does anyone still listen on the request's reply subject? */
  hasInterest(reply: string): boolean;
  /** Sends a status frame (code, description, with or without the pending headers). */
  status(wr: WaitingRequest, code: number, description: string, withPending: boolean): void;
  heartbeat(reply: string): void;
}

export class WaitQueue {
  private reqs: WaitingRequest[] = [];
  private head = 0;
  /** When the last request arrived or a message was delivered (inactivity threshold of pull consumers). */
  last = 0;

  constructor(public max: number) {}

  get length(): number {
    return this.reqs.length - this.head;
  }

  isEmpty(): boolean {
    return this.head >= this.reqs.length;
  }

  isFull(): boolean {
    return this.length >= this.max;
  }

  add(wr: WaitingRequest): boolean {
    if (this.isFull()) return false;
    this.reqs.push(wr);
    this.last = wr.received;
    return true;
  }

  /** The request that gets the next message, or null. */
  peek(): WaitingRequest | null {
    return this.head < this.reqs.length ? this.reqs[this.head]! : null;
  }

  /** One message goes to the head request; it moves to the back if it wants more. */
  pop(): WaitingRequest | null {
    const wr = this.peek();
    if (wr === null) return null;
    wr.d++;
    wr.n--;
    if (wr.n <= 0) this.removeHead();
    else if (this.length > 1) {
      this.head++;
      this.reqs.push(wr);
      this.compact();
    }
    return wr;
  }

  removeHead(): void {
    if (this.head < this.reqs.length) this.head++;
    this.compact();
  }

  private compact(): void {
    if (this.head === this.reqs.length) {
      this.reqs = [];
      this.head = 0;
    } else if (this.head > 256 && this.head * 2 > this.reqs.length) {
      this.reqs = this.reqs.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * nextWaiting: the request for a message of `size` bytes, checking byte budgets, expiry and
   * interest on the way (those that fail are retired). Null when no request can take it.
   */
  next(size: number, now: number, host: WaitingHost): WaitingRequest | null {
    for (let wr = this.peek(); wr !== null; wr = this.peek()) {
      if (wr.b > 0) {
        if (size <= wr.b) {
          wr.b -= size;
          // Exactly used up: this message is its last.
          if (wr.b === 0) wr.n = 1;
        } else {
          host.status(wr, 409, "Message Size Exceeds MaxBytes", true);
          this.removeHead();
          continue;
        }
      }
      if ((wr.expires === 0 || now < wr.expires) && host.hasInterest(wr.reply)) return this.pop();
      this.removeHead();
    }
    return null;
  }

  /**
   * processWaiting: retires expired requests (408) and those whose requester went away, and sends
   * due heartbeats. With eos (the consumer has nothing more right now), no_wait requests that got
   * something are finished too. Returns the batch still wanted and when to look again (ms, 0 = never).
   */
  process(now: number, eos: boolean, host: WaitingHost): { batchPending: number; nextAt: number } {
    let batchPending = 0;
    let nextAt = 0;
    if (this.isEmpty()) return { batchPending, nextAt };
    const keep: WaitingRequest[] = [];
    for (let i = this.head; i < this.reqs.length; i++) {
      const wr = this.reqs[i]!;
      if ((eos && wr.noWait && wr.d > 0) || (wr.expires !== 0 && now >= wr.expires)) {
        host.status(wr, 408, "Request Timeout", true);
        continue;
      }
      if (!host.hasInterest(wr.reply)) continue;
      batchPending += wr.n;
      if (wr.hb > 0) {
        if (now >= wr.hbt) {
          host.heartbeat(wr.reply);
          wr.hbt = now + wr.hb;
        }
        if (nextAt === 0 || wr.hbt < nextAt) nextAt = wr.hbt;
      }
      if (wr.expires !== 0 && (nextAt === 0 || wr.expires < nextAt)) nextAt = wr.expires;
      keep.push(wr);
    }
    this.reqs = keep;
    this.head = 0;
    return { batchPending, nextAt };
  }

  /** Messages the waiting requests still want in all, counted up to cap. */
  wanted(cap: number): number {
    let n = 0;
    for (let i = this.head; i < this.reqs.length && n < cap; i++) n += this.reqs[i]!.n;
    return Math.min(n, cap);
  }

  /** Takes every request out (consumer deleted, server shutting down). */
  drain(): WaitingRequest[] {
    const out = this.reqs.slice(this.head);
    this.reqs = [];
    this.head = 0;
    return out;
  }

  /** Any request whose requester still listens? */
  anyInterest(host: WaitingHost): boolean {
    for (let i = this.head; i < this.reqs.length; i++) if (host.hasInterest(this.reqs[i]!.reply)) return true;
    return false;
  }
}
