// The ConsumerStore handed to the consumer layer; the same class serves both storage kinds, the
// difference (whether and how changes are persisted) lives in the owner hooks and the core's sink.

import { ConsumerStateCore } from "./consumer_state.js";
import { StoreClosedError } from "./errors.js";
import type { AckPolicy, CommitCallback, ConsumerState, ConsumerStore, Nanos, StreamStore } from "./store.js";

export interface ConsumerOwner {
  readonly stream: StreamStore;
  /** Throws if the stream store cannot be written; opens the group-commit transaction. */
  beginWrite(): void;
  saveConsumerConfig(handle: ConsumerHandle, json: string, ackPolicy: AckPolicy): void;
  /** A write through the sink failed: rethrows our own errors, fails the store on anything else. */
  writeFailed(e: unknown): never;
}

export class ConsumerHandle implements ConsumerStore {
  deleted = false;

  constructor(
    readonly name: string,
    private cfg: string,
    readonly core: ConsumerStateCore,
    private readonly owner: ConsumerOwner,
    /** SQLite row id; 0 for memory. */
    readonly cid: number,
  ) {}

  get stream(): StreamStore {
    return this.owner.stream;
  }

  private write(): void {
    if (this.deleted) throw new StoreClosedError(`${this.owner.stream.name}/${this.name}`);
    this.owner.beginWrite();
  }

  config(): string {
    return this.cfg;
  }

  ackPolicy(): AckPolicy {
    return this.core.ackPolicy;
  }

  updateConfig(configJson: string, ackPolicy?: AckPolicy): void {
    this.write();
    const ap = ackPolicy ?? this.core.ackPolicy;
    this.owner.saveConsumerConfig(this, configJson, ap);
    this.cfg = configJson;
    this.core.ackPolicy = ap;
  }

  setStarting(streamSeq: number): void {
    this.write();
    try {
      this.core.setStarting(streamSeq);
    } catch (e) {
      this.owner.writeFailed(e);
    }
  }

  updateDelivered(consumerSeq: number, streamSeq: number, dc: number, ts: Nanos): void {
    this.write();
    try {
      this.core.updateDelivered(consumerSeq, streamSeq, dc, ts);
    } catch (e) {
      this.owner.writeFailed(e);
    }
  }

  updateAcks(consumerSeq: number, streamSeq: number): boolean {
    this.write();
    try {
      return this.core.updateAcks(consumerSeq, streamSeq);
    } catch (e) {
      return this.owner.writeFailed(e);
    }
  }

  update(state: ConsumerState): void {
    this.write();
    try {
      this.core.update(state);
    } catch (e) {
      this.owner.writeFailed(e);
    }
  }

  state(): ConsumerState {
    return this.core.snapshot();
  }

  delete(): void {
    if (!this.deleted) this.owner.stream.deleteConsumer(this.name);
  }

  afterCommit(cb: CommitCallback): void {
    this.owner.stream.afterCommit(cb);
  }

  commitTarget(): number {
    return this.owner.stream.commitTarget();
  }

  flush(): Promise<void> {
    return this.owner.stream.flush();
  }
}
