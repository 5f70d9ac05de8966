// Consumer state bookkeeping shared by the memory and SQLite consumer stores. The rules for
// delivered/ack-floor/pending/redelivered are those nats-server's consumer leader keeps in memory
// (consumer.go trackPending, processAckMsg), so that applying a consumer's commands gives the
// state the leader has: a restart (or a replica taking over) sees what clients saw. Where
// nats-server's consumerFileStore differs, it loses acks: it overwrote a redelivered entry's
// consumer sequence, which could lift the floor over a pending message and then drop that
// message's ack. Persistence is delegated to a sink that writes each change as it happens, so the
// SQLite store never rewrites the whole pending set per turn.

import { InvalidConsumerStateError, NoAckPolicyError } from "./errors.js";
import type { AckPolicy, ConsumerState, Nanos, PendingEntry, SequencePair } from "./store.js";

export interface ConsumerSink {
  putPending(sseq: number, cseq: number, ts: Nanos): void;
  delPending(sseq: number): void;
  /** Deletes pending and redelivered entries with stream sequence <= sseq. */
  delUpTo(sseq: number): void;
  putRedelivered(sseq: number, count: number): void;
  delRedelivered(sseq: number): void;
  /** delivered or ackFloor changed. */
  headerChanged(): void;
  replaceAll(state: ConsumerState): void;
}

export function emptyConsumerState(): ConsumerState {
  return {
    delivered: { consumerSeq: 0, streamSeq: 0 },
    ackFloor: { consumerSeq: 0, streamSeq: 0 },
    pending: new Map(),
    redelivered: new Map(),
  };
}

export function copyConsumerState(s: ConsumerState): ConsumerState {
  const pending = new Map<number, PendingEntry>();
  for (const [k, v] of s.pending) pending.set(k, { consumerSeq: v.consumerSeq, ts: v.ts });
  return {
    delivered: { ...s.delivered },
    ackFloor: { ...s.ackFloor },
    pending,
    redelivered: new Map(s.redelivered),
  };
}

export class ConsumerStateCore {
  readonly delivered: SequencePair = { consumerSeq: 0, streamSeq: 0 };
  readonly ackFloor: SequencePair = { consumerSeq: 0, streamSeq: 0 };
  pending = new Map<number, PendingEntry>();
  redelivered = new Map<number, number>();

  constructor(
    public ackPolicy: AckPolicy,
    private readonly sink: ConsumerSink | null,
  ) {}

  /** Loads saved state without writing it back. */
  restore(s: ConsumerState): void {
    Object.assign(this.delivered, s.delivered);
    Object.assign(this.ackFloor, s.ackFloor);
    this.pending = s.pending;
    this.redelivered = s.redelivered;
  }

  snapshot(): ConsumerState {
    return copyConsumerState(this);
  }

  setStarting(sseq: number): void {
    this.delivered.streamSeq = sseq;
    this.sink?.headerChanged();
  }

  updateDelivered(dseq: number, sseq: number, dc: number, ts: Nanos): void {
    if (dc !== 1 && this.ackPolicy === "none") throw new NoAckPolicyError();
    const sink = this.sink;
    // A redelivery (or a +WPI, or a NAK with a delay) of a pending message: it keeps the consumer
    // sequence of its first delivery; only the time and count move. That sequence may be below
    // the ack floor under ack_policy all, so this comes before the replay check.
    const p = this.ackPolicy !== "none" && sseq <= this.delivered.streamSeq ? this.pending.get(sseq) : undefined;
    if (p !== undefined) {
      p.ts = ts;
      sink?.putPending(sseq, p.consumerSeq, ts);
      if (dseq > this.delivered.consumerSeq) this.delivered.consumerSeq = dseq;
      if (dc > 1) {
        this.redelivered.set(sseq, dc - 1);
        sink?.putRedelivered(sseq, dc - 1);
      }
      sink?.headerChanged();
      return;
    }
    // A replay of old Raft entries after a restart: already covered by the ack floor.
    if (dseq <= this.ackFloor.consumerSeq) return;
    if (this.ackPolicy !== "none") {
      if (sseq > this.delivered.streamSeq) {
        this.pending.set(sseq, { consumerSeq: dseq, ts });
        sink?.putPending(sseq, dseq, ts);
      }
      if (dseq > this.delivered.consumerSeq) this.delivered.consumerSeq = dseq;
      if (sseq > this.delivered.streamSeq) this.delivered.streamSeq = sseq;
      if (dc > 1) {
        this.redelivered.set(sseq, dc - 1);
        sink?.putRedelivered(sseq, dc - 1);
      }
    } else {
      this.delivered.consumerSeq = dseq;
      this.delivered.streamSeq = sseq;
      this.ackFloor.consumerSeq = dseq;
      this.ackFloor.streamSeq = sseq;
    }
    sink?.headerChanged();
  }

  updateAcks(dseq: number, sseq: number): boolean {
    if (this.ackPolicy === "none") throw new NoAckPolicyError();
    const sink = this.sink;

    if (this.ackPolicy === "all") {
      // Everything delivered up to it, whether or not it is still pending itself.
      if (dseq <= this.ackFloor.consumerSeq || sseq <= this.ackFloor.streamSeq) return false;
      if (dseq > this.delivered.consumerSeq || sseq > this.delivered.streamSeq) return false;
      this.ackFloor.consumerSeq = dseq;
      this.ackFloor.streamSeq = sseq;
      for (const k of this.pending.keys()) if (k <= sseq) this.pending.delete(k);
      for (const k of this.redelivered.keys()) if (k <= sseq) this.redelivered.delete(k);
      sink?.delUpTo(sseq);
      sink?.headerChanged();
      return true;
    }

    const p = this.pending.get(sseq);
    if (p === undefined) return false;
    if (dseq <= this.ackFloor.consumerSeq) return false;
    this.pending.delete(sseq);
    sink?.delPending(sseq);
    dseq = p.consumerSeq; // the floor moves by the original delivery sequence
    if (this.redelivered.delete(sseq)) sink?.delRedelivered(sseq);

    if (this.pending.size === 0) {
      this.ackFloor.consumerSeq = this.delivered.consumerSeq;
      this.ackFloor.streamSeq = this.delivered.streamSeq;
    } else if (dseq === this.ackFloor.consumerSeq + 1) {
      // Up to just below the next pending message.
      this.ackFloor.consumerSeq = dseq;
      this.ackFloor.streamSeq = sseq;
      const ss = this.firstPendingAfter(sseq);
      if (ss !== 0) {
        const np = this.pending.get(ss)!;
        if (np.consumerSeq > 0) {
          this.ackFloor.consumerSeq = np.consumerSeq - 1;
          this.ackFloor.streamSeq = ss - 1;
        }
      }
    }
    sink?.headerChanged();
    return true;
  }

  /** The smallest pending stream sequence above seq (0 if none), without walking a long gap. */
  private firstPendingAfter(seq: number): number {
    const gap = this.delivered.streamSeq - seq;
    if (gap <= this.pending.size) {
      for (let ss = seq + 1; ss <= this.delivered.streamSeq; ss++) if (this.pending.has(ss)) return ss;
      return 0;
    }
    let best = 0;
    for (const k of this.pending.keys()) if (k > seq && (best === 0 || k < best)) best = k;
    return best;
  }

  update(s: ConsumerState): void {
    if (s.ackFloor.consumerSeq > s.delivered.consumerSeq) throw new InvalidConsumerStateError("bad ack floor for consumer");
    if (s.ackFloor.streamSeq > s.delivered.streamSeq) throw new InvalidConsumerStateError("bad ack floor for stream");
    for (const seq of s.pending.keys()) {
      if (seq <= s.ackFloor.streamSeq || seq > s.delivered.streamSeq) {
        throw new InvalidConsumerStateError(`bad pending entry, sequence [${seq}] out of range`);
      }
    }
    if (s.delivered.consumerSeq < this.delivered.consumerSeq) throw new InvalidConsumerStateError("old update ignored");
    const c = copyConsumerState(s);
    this.restore(c);
    this.sink?.replaceAll(c);
  }
}
