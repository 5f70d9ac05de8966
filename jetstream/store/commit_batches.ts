// Replies that may go out only once a write is durable (PubAcks, replies to consumer acks),
// gathered so that one afterCommit callback answers a whole commit's worth: a reply joins the
// batch of the commit that makes its write durable, never an earlier one still in flight.
import type { CommitCallback } from "./store.js";

export interface Durable {
  afterCommit(cb: CommitCallback): void;
  commitTarget(): number;
}

export class CommitBatches<T> {
  private items: T[] | null = null;
  private target = 0;

  /** done gets each batch once its commit is durable (err: it failed). */
  constructor(private readonly done: (items: T[], err: Error | null) => void) {}

  /** The batch covering every write `store` has taken so far, to push replies into. */
  current(store: Durable): T[] {
    const target = store.commitTarget();
    if (this.items !== null && this.target === target) return this.items;
    const mine: T[] = [];
    this.items = mine;
    this.target = target;
    store.afterCommit((err) => {
      if (this.items === mine) this.items = null;
      this.done(mine, err);
    });
    return mine;
  }
}
