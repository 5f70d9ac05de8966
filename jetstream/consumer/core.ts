// The consumer state machine, as nats-server's consumer leader runs it: where delivery stands in
// the stream, what is pending acknowledgement, the redelivery queue, delivery counts, the ack
// floor, and the count of messages still to deliver. It reads the stream through a MsgSource,
// reports replicated changes through a ConsumerLog, and takes time as an argument (milliseconds
// since the epoch): no timers, no clock, no randomness, so a simulated clock can drive it.
//
// Every change to the replicated part of the state (delivered, ack floor, pending with their
// timestamps, redelivery counts) is sent to the log as a command carrying what it needs, time
// included; applying those commands to a ConsumerState (store/consumer_state.ts) yields exactly
// snapshot(). That is what a replica applies, so the single server is the one-replica case. The
// rest (redelivery queue, skip list, pending count) is derived and rebuilt after a restore.
//
// Sequences: `sseq` is the next stream sequence to consider, `dseq` the next consumer (delivery)
// sequence, as in nats-server; info reports both minus one.

import type { ConsumerState, Nanos, PendingEntry, StoredMsg, StreamStore } from "../store/store.js";
import { subjectMatches } from "../store/subject_match.js";
import type { AckPolicy, DeliverPolicy } from "./config.js";
import type { ConsumerLog } from "./log.js";

export type MsgSource = Pick<StreamStore, "loadMsg" | "loadNextMsg" | "loadNextMsgs" | "loadNextMsgMulti" | "numPending" | "subjectsState" | "filteredState" | "seqFromTime" | "state">;

export interface CoreParams {
  ackPolicy: AckPolicy;
  ackWaitMs: number;
  /** Redelivery delays by delivery count; empty = ackWaitMs for every delivery. */
  backoffMs: number[];
  /** -1 (or 0) = unlimited. */
  maxDeliver: number;
  /** <= 0 = unlimited. */
  maxAckPending: number;
  /** Empty = every subject. Never overlapping. */
  filters: string[];
}

export interface StartPosition {
  deliverPolicy: DeliverPolicy;
  optStartSeq: number;
  optStartTimeNs: Nanos | null;
}

export interface Pending {
  /** Consumer sequence of the first delivery (nats-server keeps the original on redelivery). */
  cseq: number;
  /** When the ack wait started (ms); moved by redelivery, +WPI and -NAK with a delay. */
  ts: number;
}

/** The nanosecond timestamp a command carries for a time in ms (microsecond precision). */
export function msToNs(ms: number): Nanos {
  return BigInt(Math.round(ms * 1000)) * 1000n;
}

export function nsToMs(ns: Nanos): number {
  return Number(ns / 1000n) / 1000;
}

/** Why next() returned null. */
export const enum Stall {
  None = 0,
  /** Nothing more to deliver now. */
  Eof = 1,
  /** max_ack_pending reached: deliveries resume as acks arrive. */
  MaxAckPending = 2,
}

/** Read-ahead bounds: messages and bytes per batch read from the store. */
const READ_AHEAD_MSGS = 256;
const READ_AHEAD_BYTES = 1024 * 1024;
const NO_MSGS: StoredMsg[] = [];

const enum Took {
  Nothing,
  Redelivery,
  Skip,
  New,
}

interface SkipList {
  /** Last sequence of each subject when the consumer started, ascending. */
  seqs: number[];
  idx: number;
  /** The stream's last sequence then: live delivery resumes after it. */
  resume: number;
  /** Entries removed from the stream while waiting (already taken out of the pending count). */
  gone: Set<number> | null;
}

export class ConsumerCore {
  sseq = 1;
  dseq = 1;
  /** Ack floor (consumer, stream). */
  adflr = 0;
  asflr = 0;
  readonly pending = new Map<number, Pending>();
  /** Stream sequence -> redeliveries so far. */
  readonly rdc = new Map<number, number>();
  /** Delivery count of the message next() returned. */
  dc = 1;
  stall: Stall = Stall.None;
  /** Called once when a message reaches max_deliver (stream seq, deliveries made). */
  onMaxDeliveries: ((sseq: number, deliveries: number) => void) | null = null;
  /** Called for acknowledged stream sequences [from, to] (interest and workqueue retention). */
  onAcked: ((from: number, to: number) => void) | null = null;
  /** Called once when settle() has a state snapshot to send (the edge calls it soon after). */
  onDirty: (() => void) | null = null;

  private rdq: number[] = [];
  private rdqHead = 0;
  private readonly rdqSet = new Set<number>();
  private lss: SkipList | null = null;
  private npc = 0;
  private npcValid = false;
  /** A change with no incremental command happened: settle() sends the whole state. */
  private dirty = false;

  // What the last next() took, so undo() can put it back.
  private took = Took.Nothing;
  private tookSeq = 0;
  private tookPrevSseq = 0;
  private tookCounted = false;

  /**
   * New messages read ahead within one delivery pass (beginPass/endPass): every message matching
   * the filter in [raFrom, raTo], in order. Any news of the stream drops it, so what it holds is
   * always what the store would answer now.
   */
  private ra: StoredMsg[] = NO_MSGS;
  private raIdx = 0;
  private raFrom = 0;
  private raTo = -1;
  /** How many new messages the current pass may take (1 = no read-ahead). */
  private raWant = 1;

  private p: CoreParams;
  private filter: string;
  private multi: boolean;

  constructor(
    params: CoreParams,
    readonly source: MsgSource,
    readonly log: ConsumerLog,
  ) {
    this.p = params;
    this.filter = params.filters.length === 1 ? params.filters[0]! : ">";
    this.multi = params.filters.length > 1;
  }

  get params(): CoreParams {
    return this.p;
  }

  /** Config changes allowed on update (ack wait, backoff, limits, filters). */
  setParams(params: CoreParams): void {
    const filtersChanged = params.filters.join("\n") !== this.p.filters.join("\n");
    this.p = params;
    this.filter = params.filters.length === 1 ? params.filters[0]! : ">";
    this.multi = params.filters.length > 1;
    if (filtersChanged) this.npcValid = false;
    this.dropReadAhead();
  }

  matches(subject: string): boolean {
    const fs = this.p.filters;
    if (fs.length === 0) return true;
    if (fs.length === 1) return subjectMatches(subject, fs[0]!);
    for (let i = 0; i < fs.length; i++) if (subjectMatches(subject, fs[i]!)) return true;
    return false;
  }

  get filtered(): boolean {
    return this.p.filters.length > 0;
  }

  // --- start and restore ----------------------------------------------------------------------

  /** selectStartingSeqNo: where a new consumer starts, from its deliver policy. */
  selectStart(pos: StartPosition): void {
    this.dropReadAhead();
    const st = this.source.state();
    let sseq: number;
    if (pos.optStartSeq > 0) {
      sseq = pos.optStartSeq;
    } else {
      switch (pos.deliverPolicy) {
        case "all":
          sseq = st.firstSeq;
          break;
        case "last":
          sseq = st.lastSeq;
          if (this.p.filters.length > 0) {
            let last = 0;
            for (const f of this.p.filters) last = Math.max(last, this.source.filteredState(1, f).last);
            sseq = last;
          }
          break;
        case "last_per_subject": {
          const seqs: number[] = [];
          for (const f of this.p.filters.length > 0 ? this.p.filters : [">"]) for (const ss of this.source.subjectsState(f).values()) seqs.push(ss.last);
          if (seqs.length > 0) {
            seqs.sort((a, b) => a - b);
            this.lss = { seqs, idx: 0, resume: st.lastSeq, gone: null };
            sseq = seqs[0]!;
          } else {
            sseq = st.lastSeq;
          }
          break;
        }
        case "by_start_time":
          sseq = pos.optStartTimeNs !== null ? this.source.seqFromTime(pos.optStartTimeNs) : st.firstSeq;
          break;
        default:
          sseq = st.lastSeq + 1;
      }
    }
    if (st.firstSeq === 0) sseq = 1;
    else if (sseq < st.firstSeq) sseq = st.firstSeq;
    else if (sseq > st.lastSeq) sseq = st.lastSeq + 1;
    this.sseq = sseq;
    this.dseq = 1;
    // nats-server reloads the stored state right after choosing the start, and the store's ack
    // floor is still zero then: that is what info shows and what retention checks see.
    this.adflr = 0;
    this.asflr = 0;
    this.npcValid = false;
    if (sseq > 0) this.log.starting(sseq - 1);
  }

  /** applyState: continue from a saved state (restart, or taking over a replicated consumer). */
  restore(s: ConsumerState): void {
    this.dropReadAhead();
    if (this.sseq <= s.delivered.streamSeq) this.sseq = s.delivered.streamSeq + 1;
    this.dseq = s.delivered.consumerSeq + 1;
    this.adflr = s.ackFloor.consumerSeq;
    this.asflr = s.ackFloor.streamSeq;
    this.pending.clear();
    for (const [seq, p] of s.pending) this.pending.set(seq, { cseq: p.consumerSeq, ts: nsToMs(p.ts) });
    this.rdc.clear();
    const last = this.source.state().lastSeq;
    for (const [seq, n] of s.redelivered) if (seq >= this.asflr && seq <= last) this.rdc.set(seq, n);
    this.lss = null;
    this.npcValid = false;
  }

  /** The replicated state, as a ConsumerStore holds it. */
  snapshot(): ConsumerState {
    const pending = new Map<number, PendingEntry>();
    for (const [seq, p] of this.pending) pending.set(seq, { consumerSeq: p.cseq, ts: msToNs(p.ts) });
    const redelivered = new Map<number, number>();
    for (const [seq, n] of this.rdc) if (this.pending.has(seq)) redelivered.set(seq, n);
    return {
      delivered: { consumerSeq: this.dseq - 1, streamSeq: this.sseq - 1 },
      ackFloor: { consumerSeq: this.adflr, streamSeq: this.asflr },
      pending,
      redelivered,
    };
  }

  // --- delivery -------------------------------------------------------------------------------

  /**
   * getNextMsg: the next message to deliver (redeliveries first), or null with `stall` saying
   * why. `dc` is its delivery count. Follow with commit() once sent, or undo() if it could not be.
   */
  next(): StoredMsg | null {
    this.stall = Stall.None;
    this.took = Took.Nothing;
    const p = this.p;
    let dropped = false;
    while (this.rdqHead < this.rdq.length) {
      const seq = this.rdq[this.rdqHead++]!;
      this.rdqSet.delete(seq);
      const prev = this.rdc.get(seq) ?? 0;
      const dc = prev + 2;
      this.rdc.set(seq, prev + 1);
      if (p.maxDeliver > 0 && dc > p.maxDeliver) {
        if (dc === p.maxDeliver + 1) this.onMaxDeliveries?.(seq, dc - 1);
        // Out of pending without moving the ack floor, as nats-server 2.9 does; the replicated
        // state must not bring it back after a restart.
        if (this.pending.delete(seq)) dropped = true;
        continue;
      }
      const m = this.source.loadMsg(seq);
      if (m === null) {
        // Gone from the stream (limits, purge, delete): nothing left to redeliver.
        this.rdc.delete(seq);
        this.dropPending(seq);
        continue;
      }
      this.compactRdq();
      if (dropped) this.markDirty();
      this.took = Took.Redelivery;
      this.tookSeq = seq;
      this.dc = dc;
      return m;
    }
    this.compactRdq();
    if (dropped) this.markDirty();
    if (p.maxAckPending > 0 && this.pending.size >= p.maxAckPending) {
      this.stall = Stall.MaxAckPending;
      return null;
    }
    const lss = this.lss;
    if (lss !== null) {
      while (lss.idx < lss.seqs.length) {
        const seq = lss.seqs[lss.idx++]!;
        const m = this.source.loadMsg(seq);
        if (m === null) {
          if (lss.gone === null || !lss.gone.has(seq)) this.npcValid = false;
          continue;
        }
        this.took = Took.Skip;
        this.tookSeq = seq;
        this.tookPrevSseq = this.sseq;
        if (seq >= this.sseq) this.sseq = seq + 1;
        this.tookCounted = this.npcValid;
        if (this.npcValid) this.npc--;
        this.dc = 1;
        return m;
      }
      if (this.sseq <= lss.resume) {
        this.sseq = lss.resume + 1;
        this.log.starting(lss.resume);
      }
      this.lss = null;
    }
    const m = this.multi ? this.source.loadNextMsgMulti(p.filters, this.sseq) : this.readNext();
    if (m === null) {
      this.stall = Stall.Eof;
      return null;
    }
    this.took = Took.New;
    this.tookPrevSseq = this.sseq;
    this.sseq = m.seq + 1;
    this.tookCounted = this.npcValid;
    if (this.npcValid) this.npc--;
    this.dc = 1;
    return m;
  }

  /**
   * A delivery pass starts that may take up to `want` new messages: next() reads them from the
   * store in batches. endPass() lets go of what was read and not taken.
   */
  beginPass(want: number): void {
    this.raWant = want;
  }

  endPass(): void {
    this.raWant = 1;
    this.dropReadAhead();
  }

  private dropReadAhead(): void {
    this.ra = NO_MSGS;
    this.raIdx = 0;
    this.raFrom = 0;
    this.raTo = -1;
  }

  /** The first new message at or after sseq, from the read-ahead when it covers sseq. */
  private readNext(): StoredMsg | null {
    const s = this.sseq;
    if (s >= this.raFrom && s <= this.raTo) {
      // undo() may have moved sseq back; either way the answer is the first entry at or after it.
      const ra = this.ra;
      let i = this.raIdx;
      while (i > 0 && ra[i - 1]!.seq >= s) i--;
      while (ra[i]!.seq < s) i++;
      this.raIdx = i + 1;
      return ra[i]!;
    }
    let want = this.raWant;
    const p = this.p;
    if (p.maxAckPending > 0) want = Math.min(want, p.maxAckPending - this.pending.size);
    if (want <= 1) {
      this.dropReadAhead();
      return this.source.loadNextMsg(this.filter, s);
    }
    const batch = this.source.loadNextMsgs(this.filter, s, Math.min(want, READ_AHEAD_MSGS), READ_AHEAD_BYTES);
    if (batch.length === 0) {
      this.dropReadAhead();
      return null;
    }
    this.ra = batch;
    this.raFrom = s;
    this.raTo = batch[batch.length - 1]!.seq;
    this.raIdx = 1;
    return batch[0]!;
  }

  /** Puts back what next() took (no pull request could take it, or delivery must wait). */
  undo(): void {
    switch (this.took) {
      case Took.Redelivery: {
        const n = this.rdc.get(this.tookSeq)! - 1;
        if (n > 0) this.rdc.set(this.tookSeq, n);
        else this.rdc.delete(this.tookSeq);
        this.rdq.splice(this.rdqHead, 0, this.tookSeq);
        this.rdqSet.add(this.tookSeq);
        break;
      }
      case Took.Skip:
        this.lss!.idx--;
        this.sseq = this.tookPrevSseq;
        if (this.tookCounted && this.npcValid) this.npc++;
        else this.npcValid = false;
        break;
      case Took.New:
        this.sseq = this.tookPrevSseq;
        if (this.tookCounted && this.npcValid) this.npc++;
        else this.npcValid = false;
        break;
    }
    this.took = Took.Nothing;
  }

  /** The message next() returned was sent at `now`: record the delivery. Returns its consumer sequence. */
  commit(sseq: number, dc: number, now: number): number {
    this.took = Took.Nothing;
    const dseq = this.dseq++;
    if (this.p.ackPolicy !== "none") {
      const pe = this.pending.get(sseq);
      if (pe !== undefined) pe.ts = now;
      else this.pending.set(sseq, { cseq: dseq, ts: now });
    } else {
      this.adflr = dseq;
      this.asflr = sseq;
    }
    this.log.delivered(dseq, sseq, dc, now);
    return dseq;
  }

  /** How long a delivery with this many prior redeliveries waits for its ack (ms). */
  ackWaitFor(redeliveries: number): number {
    const bo = this.p.backoffMs;
    if (bo.length === 0) return this.p.ackWaitMs;
    return bo[Math.min(redeliveries, bo.length - 1)]!;
  }

  // --- acknowledgements -----------------------------------------------------------------------

  /**
   * processAckMsg for +ACK, +NXT and +TERM. Returns true when the consumer was at max_ack_pending
   * before (deliveries can resume).
   */
  ack(sseq: number, dseq: number): boolean {
    const p = this.p;
    let wasFull = false;
    if (p.ackPolicy === "explicit") {
      const pe = this.pending.get(sseq);
      // Not pending (acked before, past max_deliver, gone): nothing to record. nats-server
      // would still move its in-memory floor here, but not its stored one.
      if (pe === undefined) return false;
      if (p.maxAckPending > 0 && this.pending.size >= p.maxAckPending) wasFull = true;
      this.pending.delete(sseq);
      dseq = pe.cseq;
      if (this.pending.size === 0) {
        this.adflr = this.dseq - 1;
        this.asflr = this.sseq - 1;
      } else if (dseq === this.adflr + 1) {
        this.adflr = dseq;
        this.asflr = sseq;
        const np = this.firstPendingAfter(sseq);
        if (np !== 0) {
          const q = this.pending.get(np)!;
          if (q.cseq > 0) {
            this.adflr = q.cseq - 1;
            this.asflr = np - 1;
          }
        }
      }
      this.rdc.delete(sseq);
      this.removeFromRdq(sseq);
      this.log.acked(dseq, sseq);
      this.onAcked?.(sseq, sseq);
      return wasFull;
    }
    if (p.ackPolicy === "all") {
      if (dseq <= this.adflr || sseq <= this.asflr) return false;
      // Only what was delivered can be acknowledged.
      if (dseq >= this.dseq || sseq >= this.sseq) return false;
      if (p.maxAckPending > 0 && this.pending.size >= p.maxAckPending) wasFull = true;
      const from = this.asflr + 1;
      this.adflr = dseq;
      this.asflr = sseq;
      this.dropUpTo(sseq, from);
      this.log.acked(dseq, sseq);
      this.onAcked?.(from, sseq);
      return wasFull;
    }
    return false;
  }

  /** The smallest pending stream sequence above seq (0 if none), without scanning a long gap. */
  private firstPendingAfter(seq: number): number {
    const gap = this.sseq - seq - 1;
    if (gap <= this.pending.size) {
      for (let ss = seq + 1; ss < this.sseq; ss++) if (this.pending.has(ss)) return ss;
      return 0;
    }
    let best = 0;
    for (const k of this.pending.keys()) if (k > seq && (best === 0 || k < best)) best = k;
    return best;
  }

  /** Removes pending, redelivery counts and queued redeliveries in [from, upTo]. */
  private dropUpTo(upTo: number, from: number): void {
    if (upTo - from + 1 <= this.pending.size + this.rdc.size) {
      for (let s = upTo; s >= from; s--) {
        this.pending.delete(s);
        this.rdc.delete(s);
        this.removeFromRdq(s);
      }
      return;
    }
    for (const k of [...this.pending.keys()]) if (k <= upTo) this.pending.delete(k);
    for (const k of [...this.rdc.keys()]) if (k <= upTo) this.rdc.delete(k);
    for (const k of [...this.rdqSet]) if (k <= upTo) this.removeFromRdq(k);
  }

  /**
   * processNak. delayMs undefined = redeliver as soon as possible. Returns false when the NAK does
   * not apply (out of range, not pending, no acks on this consumer).
   */
  nak(sseq: number, dseq: number, delayMs: number | undefined, now: number): boolean {
    if (this.p.ackPolicy === "none") return false;
    if (dseq <= this.adflr || dseq >= this.dseq) return false;
    const pe = this.pending.get(sseq);
    if (pe === undefined) return false;
    if (delayMs !== undefined) {
      this.removeFromRdq(sseq);
      // The ack wait restarts so that it runs out `delay` from now.
      pe.ts = now - this.p.ackWaitMs + delayMs;
      this.log.delivered(pe.cseq, sseq, (this.rdc.get(sseq) ?? 0) + 1, pe.ts);
      return true;
    }
    if (!this.rdqSet.has(sseq)) this.addToRdq(sseq);
    return true;
  }

  /** +WPI: the ack wait starts again. */
  progress(sseq: number, now: number): boolean {
    const pe = this.pending.get(sseq);
    if (pe === undefined) return false;
    pe.ts = now;
    this.log.delivered(pe.cseq, sseq, (this.rdc.get(sseq) ?? 0) + 1, now);
    return true;
  }

  /** The deadline of a pending message (ms), given its redelivery count. */
  deadlineOf(seq: number, pe: Pending): number {
    return pe.ts + this.ackWaitFor(this.rdc.get(seq) ?? 0);
  }

  /**
   * checkPending: queues for redelivery what ran out of ack wait at `now`. Returns when to look
   * again (ms), or null when nothing is waiting for an ack.
   */
  checkPending(now: number): number | null {
    if (this.pending.size === 0) return null;
    const fseq = this.source.state().firstSeq;
    let expired: number[] | null = null;
    let next: number | null = null;
    let removed = false;
    for (const [seq, pe] of this.pending) {
      if (seq < fseq) {
        this.pending.delete(seq);
        this.rdc.delete(seq);
        this.removeFromRdq(seq);
        removed = true;
        continue;
      }
      if (this.rdqSet.has(seq)) continue;
      const at = this.deadlineOf(seq, pe);
      if (at <= now) (expired ??= []).push(seq);
      else if (next === null || at < next) next = at;
    }
    if (expired !== null) {
      // In stream order; their timestamps move when they are redelivered (a replicated change).
      expired.sort((a, b) => a - b);
      for (const seq of expired) this.addToRdq(seq);
    }
    if (removed) this.markDirty();
    return next;
  }

  /**
   * Changes without an incremental command (pending entries dropped without an ack) are sent as
   * one full state, once per batch of them.
   */
  settle(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.log.replace(this.snapshot());
  }

  private markDirty(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.onDirty?.();
  }

  hasRedeliveries(): boolean {
    return this.rdqHead < this.rdq.length;
  }

  get redeliveryCount(): number {
    return this.rdq.length - this.rdqHead;
  }

  private addToRdq(seq: number): void {
    this.rdq.push(seq);
    this.rdqSet.add(seq);
  }

  private removeFromRdq(seq: number): void {
    if (!this.rdqSet.delete(seq)) return;
    const i = this.rdq.indexOf(seq, this.rdqHead);
    if (i >= 0) this.rdq.splice(i, 1);
  }

  private compactRdq(): void {
    if (this.rdqHead === 0) return;
    if (this.rdqHead >= this.rdq.length) {
      this.rdq = [];
      this.rdqHead = 0;
    } else if (this.rdqHead > 1024) {
      this.rdq = this.rdq.slice(this.rdqHead);
      this.rdqHead = 0;
    }
  }

  /** A pending message left the stream: it will never be acked, so stop tracking it (as a TERM). */
  private dropPending(seq: number): void {
    const pe = this.pending.get(seq);
    if (pe === undefined) return;
    this.rdc.delete(seq);
    this.removeFromRdq(seq);
    if (this.p.ackPolicy !== "explicit") {
      this.pending.delete(seq);
      this.markDirty();
      return;
    }
    const cb = this.onAcked;
    // Already gone from the stream: nothing for retention to remove.
    this.onAcked = null;
    try {
      this.ack(seq, pe.cseq);
    } finally {
      this.onAcked = cb;
    }
  }

  // --- the stream changed ---------------------------------------------------------------------

  /** A message was stored. Returns true when this consumer would deliver it. */
  onStreamMessage(seq: number, subject: string): boolean {
    this.dropReadAhead();
    if (!this.matches(subject) || seq < this.sseq) return false;
    if (this.npcValid) this.npc++;
    return true;
  }

  /** A message was removed; subject is null when the stream did not say which. */
  onStreamRemoved(seq: number, subject: string | null): void {
    this.dropReadAhead();
    this.dropPending(seq);
    this.removeFromRdq(seq);
    if (!this.npcValid) return;
    const lss = this.lss;
    if (lss !== null && seq <= lss.resume) {
      if (binaryHas(lss.seqs, lss.idx, seq)) {
        (lss.gone ??= new Set()).add(seq);
        this.npc--;
      }
      return;
    }
    if (seq < this.sseq) return;
    if (subject === null) this.npcValid = false;
    else if (this.matches(subject)) this.npc--;
  }

  /** The stream was purged (entirely or in part): forget what is gone. */
  onStreamPurged(): void {
    this.dropReadAhead();
    const fseq = this.source.state().firstSeq;
    if (this.sseq < fseq) this.sseq = fseq;
    for (const seq of [...this.pending.keys()]) {
      if (seq < fseq || this.source.loadMsg(seq) === null) {
        this.pending.delete(seq);
        this.rdc.delete(seq);
        this.removeFromRdq(seq);
      }
    }
    for (const seq of [...this.rdqSet]) if (seq < fseq) this.removeFromRdq(seq);
    if (this.asflr < fseq - 1) {
      this.asflr = fseq - 1;
      let floor = this.dseq - 1;
      for (const pe of this.pending.values()) if (pe.cseq - 1 < floor) floor = pe.cseq - 1;
      if (floor > this.adflr) this.adflr = floor;
    }
    if (this.pending.size === 0) {
      this.adflr = this.dseq - 1;
      if (this.sseq - 1 > this.asflr) this.asflr = this.sseq - 1;
    }
    this.npcValid = false;
    this.dirty = false;
    this.log.replace(this.snapshot());
  }

  /** Something the consumer was not told about changed the stream: recount on next use. */
  invalidatePending(): void {
    this.dropReadAhead();
    this.npcValid = false;
  }

  // --- counts ---------------------------------------------------------------------------------

  /** Messages left to deliver (not counting redeliveries): the ack reply's pending token. */
  numPending(): number {
    if (this.npcValid) return this.npc;
    let n = 0;
    const lss = this.lss;
    let from = this.sseq;
    if (lss !== null) {
      for (let i = lss.idx; i < lss.seqs.length; i++) {
        const seq = lss.seqs[i]!;
        if ((lss.gone === null || !lss.gone.has(seq)) && this.source.loadMsg(seq) !== null) n++;
      }
      if (from <= lss.resume) from = lss.resume + 1;
    }
    const fs = this.p.filters;
    if (fs.length === 0) n += this.source.numPending(from, ">", false);
    else for (const f of fs) n += this.source.numPending(from, f, false);
    this.npc = n;
    this.npcValid = true;
    return n;
  }

  /** Interest retention: does this consumer still need the message? (nats-server needAck) */
  needAck(sseq: number, subject: string | null): boolean {
    if (subject !== null && !this.matches(subject)) return false;
    if (this.p.ackPolicy === "explicit") {
      if (sseq <= this.asflr) return false;
      return sseq >= this.sseq || this.pending.has(sseq);
    }
    return sseq > this.asflr;
  }
}

function binaryHas(a: number[], from: number, v: number): boolean {
  let lo = from;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = a[mid]!;
    if (x === v) return true;
    if (x < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
