// Group commit: every store written during one event-loop turn keeps a single open transaction,
// and one scheduled pass at the end of the turn (setImmediate, or a short window) commits them
// all, then runs the durability callbacks. With synchronous=FULL each commit is one fsync per
// written stream, no matter how many messages the turn carried; the longer a commit takes, the
// more messages the next turn brings, so the batch size adapts to the disk by itself.

export interface Committable {
  /** Commits the open transaction if there is one. Must not throw: it keeps its own outcome. */
  commitPending(): void;
  /** Runs the callbacks waiting on the commit just done. */
  notifyCommitted(): void;
}

export class GroupCommit {
  private queue: Committable[] = [];
  private scheduled = false;

  /** windowMs 0 commits at the end of the current turn; > 0 waits that long to gather more. */
  constructor(private readonly windowMs = 0) {}

  /** Called once per round by a store that has a transaction or callbacks pending. */
  enqueue(c: Committable): void {
    this.queue.push(c);
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.windowMs > 0) setTimeout(this.run, this.windowMs);
    else setImmediate(this.run);
  }

  /** Commits and notifies now (close, shutdown). */
  runNow(): void {
    this.run();
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const q = this.queue;
    if (q.length === 0) return;
    this.queue = [];
    for (let i = 0; i < q.length; i++) q[i]!.commitPending();
    let first: unknown = undefined;
    for (let i = 0; i < q.length; i++) {
      try {
        q[i]!.notifyCommitted();
      } catch (e) {
        // Every store's waiters must hear about their commit even if one callback throws.
        if (first === undefined) first = e;
      }
    }
    if (first !== undefined) throw first;
  };
}

/** Runs callbacks, all of them even if some throw; rethrows the first failure afterwards. */
export function runCallbacks(cbs: ((err: Error | null) => void)[], err: Error | null): void {
  let first: unknown = undefined;
  for (let i = 0; i < cbs.length; i++) {
    try {
      cbs[i]!(err);
    } catch (e) {
      if (first === undefined) first = e;
    }
  }
  if (first !== undefined) throw first;
}
