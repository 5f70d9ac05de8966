// Fast producers and the connections they fill. A publisher that fills a subscriber's outbound
// past half of max_pending is paused (its reads and parser stop after the current message) until
// that subscriber has written its backlog down, or for at most a stall time that grows with how far
// over half the backlog is. nats-server blocks the producer's read loop the same way; without it a
// publisher on loopback outruns any subscriber and the subscriber is closed as a slow consumer.

export const STALL_MIN_MS = 100;
export const STALL_MAX_MS = 1000;

/** How long a producer waits for a consumer with `pending` of `maxPending` bytes queued. */
export function stallMs(pending: number, maxPending: number): number {
  if (pending >= maxPending) return STALL_MAX_MS;
  const half = maxPending / 2;
  if (pending <= half) return STALL_MIN_MS;
  // 100 ms more for every tenth of the upper half that is filled.
  const steps = Math.floor((pending - half) / (half / 10));
  return Math.min(STALL_MAX_MS, STALL_MIN_MS * (1 + steps));
}

/** What a connection needs to pause and resume reading. */
export interface Stallable {
  readonly closed: boolean;
  /** The wait this connection is in as a producer, or null. */
  stalled: StallWait | null;
  pauseInput(): void;
  resumeInput(): void;
}

export interface StallWait {
  timer: NodeJS.Timeout;
  gate: StallGate;
}

/**
 * The producers waiting on one consumer. A producer waits on one consumer at a time; a release
 * or its timer resumes it, and its next message to a still-full consumer pauses it again.
 */
export class StallGate {
  private waiting: Set<Stallable> | null = null;

  /** Pauses `producer` until release() or `ms` have passed. */
  hold(producer: Stallable, ms: number): void {
    if (producer.closed || producer.stalled !== null) return;
    producer.pauseInput();
    (this.waiting ??= new Set()).add(producer);
    producer.stalled = { timer: setTimeout(() => endStall(producer, true), ms), gate: this };
  }

  /** Resumes every producer waiting here. */
  release(): void {
    const w = this.waiting;
    if (w === null || w.size === 0) return;
    this.waiting = null;
    for (const p of w) endStall(p, true);
  }

  forget(producer: Stallable): void {
    this.waiting?.delete(producer);
  }
}

/** Ends a producer's wait; resumes its input unless it closed (or `resume` is false). */
export function endStall(producer: Stallable, resume: boolean): void {
  const s = producer.stalled;
  if (s === null) return;
  clearTimeout(s.timer);
  producer.stalled = null;
  s.gate.forget(producer);
  if (resume && !producer.closed) producer.resumeInput();
}
