// A one-shot timer aimed at an absolute time (ms), re-aimed only when asked to fire earlier: the
// consumer's deadlines (ack wait, pull expiry, heartbeats, inactivity) move often and only the
// earliest matters.

export class Deadline {
  private t: NodeJS.Timeout | null = null;
  at = 0;

  constructor(private readonly fire: () => void) {}

  get armed(): boolean {
    return this.t !== null;
  }

  /** Fires at `at` or earlier if already aimed earlier. */
  armBy(at: number, now: number): void {
    if (this.t !== null && this.at <= at) return;
    this.set(at, now);
  }

  /** Fires at `at`, replacing any earlier aim. */
  set(at: number, now: number): void {
    if (this.t !== null) clearTimeout(this.t);
    this.at = at;
    const ms = Math.min(Math.max(0, Math.ceil(at - now)), 2 ** 31 - 1);
    this.t = setTimeout(this.run, ms);
    this.t.unref();
  }

  clear(): void {
    if (this.t !== null) clearTimeout(this.t);
    this.t = null;
  }

  private readonly run = (): void => {
    this.t = null;
    this.fire();
  };
}

const ORIGIN = performance.timeOrigin;

/** Milliseconds since the epoch, from the monotonic clock (it does not jump with the wall clock). */
export function clockMs(): number {
  return ORIGIN + performance.now();
}
