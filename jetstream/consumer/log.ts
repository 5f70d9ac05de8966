// The changes a consumer makes to its replicated state, as commands. They are nats-server's
// consumer Raft operations (updateDelivered, updateAcks, updateSkip, a full state snapshot) and
// carry everything they need, time included, so applying them is deterministic. On a single
// server they are applied straight to the stream's ConsumerStore, inside the stream's group
// commit; a replicated consumer would propose the same commands to its Raft group instead.

import type { ConsumerState, ConsumerStore, Nanos } from "../store/store.js";

export interface ConsumerLog {
  /** A message was delivered (dc = delivery count) at ts. Also used to move a pending deadline. */
  delivered(dseq: number, sseq: number, dc: number, ts: Nanos): void;
  /** A delivery was acknowledged (explicit: one message; all: everything up to it). */
  acked(dseq: number, sseq: number): void;
  /** The stream sequence delivery starts after (deliver policies, before any delivery). */
  starting(sseq: number): void;
  /** Replaces the whole state (purges, cleanups). */
  replace(state: ConsumerState): void;
}

/** Consumers that are not persisted (memory storage, mem_storage): nothing to apply. */
export const NULL_LOG: ConsumerLog = {
  delivered() {},
  acked() {},
  starting() {},
  replace() {},
};

/** R1: each command goes to the ConsumerStore; a failed write is reported, never thrown into delivery. */
export class StoreLog implements ConsumerLog {
  constructor(
    readonly store: ConsumerStore,
    private readonly onError: (e: unknown) => void,
  ) {}

  delivered(dseq: number, sseq: number, dc: number, ts: Nanos): void {
    try {
      this.store.updateDelivered(dseq, sseq, dc, ts);
    } catch (e) {
      this.onError(e);
    }
  }

  acked(dseq: number, sseq: number): void {
    try {
      this.store.updateAcks(dseq, sseq);
    } catch (e) {
      this.onError(e);
    }
  }

  starting(sseq: number): void {
    try {
      this.store.setStarting(sseq);
    } catch (e) {
      this.onError(e);
    }
  }

  replace(state: ConsumerState): void {
    try {
      this.store.update(state);
    } catch (e) {
      this.onError(e);
    }
  }
}
