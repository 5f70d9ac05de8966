// The main-thread side of the checkpoint thread (checkpoint_worker.ts). A checkpoint copies up
// to a WAL's worth of pages and fsyncs the database file: tens of milliseconds or more on a busy
// disk. Done inline (SQLite's auto-checkpoint) it stalls every connection's publishes and acks;
// here it runs beside the event loop. One thread serves every stream of a store manager.

import { Worker } from "node:worker_threads";
import type { CheckpointReply, CheckpointRequest } from "./checkpoint_worker.js";

export interface CheckpointResult {
  busy: boolean;
  log: number;
  checkpointed: number;
}

export type CheckpointDone = (err: Error | null, r: CheckpointResult | null) => void;

/** A checkpoint in flight. */
export class CheckpointTicket {
  readonly flag: Int32Array;
  constructor(readonly done: SharedArrayBuffer) {
    this.flag = new Int32Array(done);
  }

  get finished(): boolean {
    return Atomics.load(this.flag, 0) === 1;
  }

  /** Blocks until the thread has closed its connection (or the timeout passed); returns whether it did. */
  waitClosed(timeoutMs: number): boolean {
    if (this.finished) return true;
    return Atomics.wait(this.flag, 0, 0, timeoutMs) !== "timed-out" || this.finished;
  }
}

export class Checkpointer {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, CheckpointDone>();
  private closed = false;

  request(path: string, done: CheckpointDone): CheckpointTicket | null {
    if (this.closed) return null;
    const w = this.start();
    const id = this.nextId++;
    const ticket = new CheckpointTicket(new SharedArrayBuffer(4));
    this.pending.set(id, done);
    const req: CheckpointRequest = { id, path, done: ticket.done };
    w.postMessage(req);
    // Only a pending checkpoint keeps the thread referenced: an idle one never holds the process.
    w.ref();
    return ticket;
  }

  private start(): Worker {
    if (this.worker !== null) return this.worker;
    const w = new Worker(new URL("./checkpoint_worker.js", import.meta.url));
    w.on("message", (r: CheckpointReply) => {
      const cb = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (this.pending.size === 0) w.unref();
      if (cb === undefined) return;
      if (r.error !== undefined) {
        const e = new Error(r.error) as Error & { code?: string };
        e.code = r.code;
        cb(e, null);
      } else cb(null, { busy: !!r.busy, log: r.log ?? -1, checkpointed: r.checkpointed ?? -1 });
    });
    w.on("error", (e) => this.failAll(e));
    w.on("exit", () => {
      this.worker = null;
      this.failAll(new Error("checkpoint thread exited"));
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private failAll(e: Error): void {
    const cbs = [...this.pending.values()];
    this.pending.clear();
    for (const cb of cbs) cb(e, null);
  }

  /** Stops the thread. Stores wait for their own checkpoints (CheckpointTicket) before closing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w !== null) void w.terminate();
  }
}
