// What the leader knows about one follower's log, and the flow control that follows from it:
// Probe (one append per heartbeat until a match is found), Replicate (pipelined appends, bounded by
// Inflights), Snapshot (waiting for a snapshot to be installed).
export enum ProgressState {
  Probe = "probe",
  Replicate = "replicate",
  Snapshot = "snapshot",
}

/**
 * A bounded ring of the last index of each append in flight; pipelining stops when it is full. The
 * buffer grows on demand (an idle follower's costs nothing), up to `size`.
 */
export class Inflights {
  private buf: number[] = [];
  private start = 0;
  count = 0;

  constructor(readonly size: number) {}

  add(last: number): void {
    if (this.count === this.buf.length && this.buf.length < this.size) this.grow();
    this.buf[(this.start + this.count) % this.buf.length] = last;
    this.count++;
  }

  private grow(): void {
    const n = Math.min(this.size, Math.max(4, this.buf.length * 2));
    const next = new Array<number>(n);
    for (let i = 0; i < this.count; i++) next[i] = this.buf[(this.start + i) % this.buf.length]!;
    this.buf = next;
    this.start = 0;
  }

  /** Frees every append whose last index is <= `to` (acknowledged). */
  freeLE(to: number): void {
    while (this.count > 0 && this.buf[this.start]! <= to) {
      this.start = (this.start + 1) % this.buf.length;
      this.count--;
    }
  }

  freeFirstOne(): void {
    if (this.count === 0) return;
    this.start = (this.start + 1) % this.buf.length;
    this.count--;
  }

  full(): boolean {
    return this.count >= this.size;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state = ProgressState.Probe;
  pendingSnapshot = 0;
  /** CheckQuorum rounds spent in Snapshot state; the snapshot is presumed lost after one full round. */
  snapshotRounds = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** In Probe: an append is outstanding, send no more until a response or heartbeat. */
  probeSent = false;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(next: number, maxInflight: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotRounds = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(index: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = index;
  }

  /** An acknowledgement of everything up to n. Returns whether match advanced. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < n + 1) this.next = n + 1;
    return updated;
  }

  /** Records an append of entries ending at `last` (count entries) just sent. */
  sentEntries(count: number, last: number): void {
    if (this.state === ProgressState.Replicate) {
      if (count > 0) {
        this.next = last + 1;
        this.inflights.add(last);
      }
    } else if (this.state === ProgressState.Probe) {
      this.probeSent = true;
    }
  }

  /**
   * A rejection of an append whose preceding index was `rejected`; `matchHint` is the follower's best
   * guess of where the logs may match. Returns false for stale rejections (already superseded).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      default:
        return true;
    }
  }
}
