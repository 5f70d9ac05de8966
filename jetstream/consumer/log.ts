// The changes a consumer makes to its replicated state, as commands. They are nats-server's
// consumer Raft operations (updateDelivered, updateAcks, updateSkip, a full state snapshot) and
// carry everything they need, time included, so applying them is deterministic. On a single
// server they go to the stream's ConsumerStore, inside the stream's group commit; a replicated
// consumer would propose the same commands to its Raft group instead.

import type { ConsumerState, ConsumerStore } from "../store/store.js";
import { msToNs } from "./core.js";

export interface ConsumerLog {
  /** A message was delivered (dc = delivery count) at tsMs. Also used to move a pending deadline. */
  delivered(dseq: number, sseq: number, dc: number, tsMs: number): void;
  /** A delivery was acknowledged (explicit: one message; all: everything up to it). */
  acked(dseq: number, sseq: number): void;
  /** The stream sequence delivery starts after (deliver policies, before any delivery). */
  starting(sseq: number): void;
  /** Replaces the whole state (purges, cleanups). */
  replace(state: ConsumerState): void;
  /** Makes everything logged so far part of the store's next commit. */
  flush(): void;
}

/** Consumers that are not persisted (memory storage, mem_storage): nothing to apply. */
export const NULL_LOG: ConsumerLog = {
  delivered() {},
  acked() {},
  starting() {},
  replace() {},
  flush() {},
};

/** Where a StoreLog takes a full state from when that is cheaper than replaying commands. */
export interface StateSource {
  snapshot(): ConsumerState;
  readonly pending: { readonly size: number };
  readonly rdc: { readonly size: number };
}

const DELIVERED = 0;
const ACKED = 1;
const STARTING = 2;

/**
 * R1: the commands go to the ConsumerStore, written behind. Nothing a client was promised waits
 * on them except acks that asked for a reply, and those flush first (as do API responses and
 * shutdown); otherwise the buffer is flushed every so often by the consumer. A flush writes either
 * the commands in order or, when there are more commands than state, the whole state: a message
 * delivered and acked between two flushes then costs the store nothing. A crash loses at most the
 * unflushed tail, consistently (delivered, floor and pending are written together): those
 * messages are delivered again, which at-least-once allows. A failed write is reported, never
 * thrown into delivery.
 */
export class StoreLog implements ConsumerLog {
  /** Commands, five numbers each (kind, a, b, c, time), in a buffer that only grows. */
  private cmds = new Float64Array(5 * 256);
  private n = 0;
  /** A full state is due (replace was called); commands after it are in cmds. */
  private full: ConsumerState | null = null;
  source: StateSource | null = null;
  /** Called when the buffer stops being empty (the owner arms its flush timer). */
  onBuffered: (() => void) | null = null;

  constructor(
    readonly store: ConsumerStore,
    private readonly onError: (e: unknown) => void,
  ) {}

  get buffered(): number {
    return this.n + (this.full !== null ? 1 : 0);
  }

  private push(kind: number, a: number, b: number, c: number, t: number): void {
    const n = this.n;
    if (n === 0 && this.full === null) this.onBuffered?.();
    let buf = this.cmds;
    const at = n * 5;
    if (at + 5 > buf.length) {
      const next = new Float64Array(buf.length * 2);
      next.set(buf);
      this.cmds = buf = next;
    }
    buf[at] = kind;
    buf[at + 1] = a;
    buf[at + 2] = b;
    buf[at + 3] = c;
    buf[at + 4] = t;
    this.n = n + 1;
  }

  delivered(dseq: number, sseq: number, dc: number, tsMs: number): void {
    this.push(DELIVERED, dseq, sseq, dc, tsMs);
  }

  acked(dseq: number, sseq: number): void {
    this.push(ACKED, dseq, sseq, 0, 0);
  }

  starting(sseq: number): void {
    this.push(STARTING, sseq, 0, 0, 0);
  }

  replace(state: ConsumerState): void {
    if (this.n === 0 && this.full === null) this.onBuffered?.();
    this.n = 0;
    this.full = state;
  }

  flush(): void {
    const n = this.n;
    if (n === 0 && this.full === null) return;
    const src = this.source;
    const store = this.store;
    try {
      if (src !== null && (this.full !== null || n > src.pending.size + src.rdc.size + 16)) {
        store.update(src.snapshot());
      } else {
        if (this.full !== null) store.update(this.full);
        const b = this.cmds;
        for (let i = 0; i < n * 5; i += 5) {
          const k = b[i]!;
          if (k === DELIVERED) store.updateDelivered(b[i + 1]!, b[i + 2]!, b[i + 3]!, msToNs(b[i + 4]!));
          else if (k === ACKED) store.updateAcks(b[i + 1]!, b[i + 2]!);
          else store.setStarting(b[i + 1]!);
        }
      }
    } catch (e) {
      this.onError(e);
    } finally {
      this.n = 0;
      this.full = null;
    }
  }

  /** The consumer is gone: nothing more to write. */
  discard(): void {
    this.n = 0;
    this.full = null;
  }
}
