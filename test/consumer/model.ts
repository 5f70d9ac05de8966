// The model and harness of the consumer state machine's (ConsumerCore) model-based tests
// (model.test.ts), on a simulated clock: random sequences of publishes, deliveries (some taken back, as when no pull request can take them),
// acks, naks with and without delays, terms, +WPI, stale acks, message removals, clock advances
// and restarts are applied both to the core and to a naive model (deliveries inside or outside
// delivery passes, whose read-ahead must never show what the stream no longer holds), and after every step:
//  - the core agrees with the model (pending set and timestamps, delivery counts, ack floors,
//    what is delivered next and with which delivery count, max_deliver advisories, num_pending);
//  - the replicated state (the core's log commands applied to a fresh ConsumerStateCore, as the
//    store or a replica applies them) equals the core's own snapshot;
//  - a restart from that replicated state continues as the model says.
// A second property runs each sequence twice and requires identical traces: the core has no
// clock, randomness or other hidden input.
import assert from "node:assert/strict";
import fc from "fast-check";
import { ConsumerCore, msToNs, type CoreParams } from "../../jetstream/consumer/core.js";
import { StoreLog, type ConsumerLog } from "../../jetstream/consumer/log.js";
import { ConsumerStateCore } from "../../jetstream/store/consumer_state.js";
import { StoreManager } from "../../jetstream/store/manager.js";
import type { ConsumerState, StreamStore } from "../../jetstream/store/store.js";

export type Op =
  | { k: "pub"; sub: number }
  | { k: "deliver"; n: number }
  | { k: "undo" }
  | { k: "ack"; i: number }
  | { k: "nak"; i: number; delay: number | undefined }
  | { k: "term"; i: number }
  | { k: "wpi"; i: number }
  | { k: "tick"; ms: number }
  | { k: "remove"; i: number }
  | { k: "restart" }
  | { k: "flush" }
  | { k: "begin"; want: number }
  | { k: "end" };

const SUBJECTS = ["s.a", "s.b", "s.c.d"];

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.nat(SUBJECTS.length - 1).map((sub) => ({ k: "pub" as const, sub })) },
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 4 }).map((n) => ({ k: "deliver" as const, n })) },
  { weight: 1, arbitrary: fc.constant({ k: "undo" as const }) },
  { weight: 5, arbitrary: fc.nat(200).map((i) => ({ k: "ack" as const, i })) },
  { weight: 2, arbitrary: fc.record({ i: fc.nat(200), delay: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }) }).map((r) => ({ k: "nak" as const, ...r })) },
  { weight: 1, arbitrary: fc.nat(200).map((i) => ({ k: "term" as const, i })) },
  { weight: 1, arbitrary: fc.nat(200).map((i) => ({ k: "wpi" as const, i })) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 2500 }).map((ms) => ({ k: "tick" as const, ms })) },
  { weight: 1, arbitrary: fc.nat(200).map((i) => ({ k: "remove" as const, i })) },
  { weight: 1, arbitrary: fc.constant({ k: "restart" as const }) },
  { weight: 2, arbitrary: fc.constant({ k: "flush" as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).map((want) => ({ k: "begin" as const, want })) },
  { weight: 1, arbitrary: fc.constant({ k: "end" as const }) },
);

export const paramsArb: fc.Arbitrary<CoreParams> = fc
  .record({
    ackPolicy: fc.constantFrom("explicit" as const, "explicit" as const, "all" as const, "none" as const),
    backoff: fc.oneof(fc.constant<number[]>([]), fc.array(fc.integer({ min: 100, max: 3000 }), { minLength: 1, maxLength: 3 })),
    maxDeliver: fc.constantFrom(-1, 1, 2, 3, 5),
    maxAckPending: fc.constantFrom(0, 1, 3, 6),
    filters: fc.constantFrom<string[]>([], ["s.a"], ["s.a", "s.c.>"]),
  })
  .map((r) => ({
    ackPolicy: r.ackPolicy,
    ackWaitMs: r.backoff[0] ?? 1000,
    backoffMs: r.maxDeliver === -1 || r.backoff.length < r.maxDeliver ? r.backoff : [],
    maxDeliver: r.maxDeliver,
    maxAckPending: r.ackPolicy === "none" ? 0 : r.maxAckPending,
    filters: r.filters,
  }));

function matches(subject: string, filters: string[]): boolean {
  if (filters.length === 0) return true;
  return filters.some((f) => (f.endsWith(".>") ? subject.startsWith(f.slice(0, -1)) : subject === f));
}

/** The consumer as a list of rules, without any of the core's indexes or caches. */
class Model {
  sseq = 1;
  dseq = 1;
  adflr = 0;
  asflr = 0;
  pending = new Map<number, { cseq: number; ts: number }>();
  rdc = new Map<number, number>();
  rdq: number[] = [];
  advisories: number[] = [];

  constructor(
    readonly p: CoreParams,
    readonly msgs: Map<number, string>,
  ) {}

  ackWaitFor(n: number): number {
    const bo = this.p.backoffMs;
    return bo.length === 0 ? this.p.ackWaitMs : bo[Math.min(n, bo.length - 1)]!;
  }

  /** What next() should return: [sseq, dc], or null. Applies the skips it makes. */
  next(): [number, number] | null {
    while (this.rdq.length > 0) {
      const seq = this.rdq.shift()!;
      const dc = (this.rdc.get(seq) ?? 0) + 2;
      this.rdc.set(seq, dc - 1);
      if (this.p.maxDeliver > 0 && dc > this.p.maxDeliver) {
        if (dc === this.p.maxDeliver + 1) this.advisories.push(seq);
        this.pending.delete(seq);
        continue;
      }
      return [seq, dc];
    }
    if (this.p.maxAckPending > 0 && this.pending.size >= this.p.maxAckPending) return null;
    const last = Math.max(0, ...this.msgs.keys());
    for (let s = this.sseq; s <= last; s++) {
      const subj = this.msgs.get(s);
      if (subj !== undefined && matches(subj, this.p.filters)) return [s, 1];
    }
    return null;
  }

  /** next() returned [seq, dc] and it was sent. */
  commit(seq: number, dc: number, now: number): void {
    if (dc === 1) this.sseq = seq + 1;
    const dseq = this.dseq++;
    if (this.p.ackPolicy === "none") {
      this.adflr = dseq;
      this.asflr = seq;
      return;
    }
    const pe = this.pending.get(seq);
    if (pe) pe.ts = now;
    else this.pending.set(seq, { cseq: dseq, ts: now });
  }

  /** Puts a taken redelivery back (undo); new messages need nothing. */
  unTake(seq: number, dc: number): void {
    if (dc === 1) return;
    const n = this.rdc.get(seq)! - 1;
    if (n > 0) this.rdc.set(seq, n);
    else this.rdc.delete(seq);
    this.rdq.unshift(seq);
  }

  ack(seq: number, dseq: number): void {
    if (this.p.ackPolicy === "explicit") {
      const pe = this.pending.get(seq);
      if (!pe) return;
      this.pending.delete(seq);
      if (this.pending.size === 0) {
        this.adflr = this.dseq - 1;
        this.asflr = this.sseq - 1;
      } else if (pe.cseq === this.adflr + 1) {
        this.adflr = pe.cseq;
        this.asflr = seq;
        const above = [...this.pending.keys()].filter((k) => k > seq);
        if (above.length > 0) {
          const np = Math.min(...above);
          this.adflr = this.pending.get(np)!.cseq - 1;
          this.asflr = np - 1;
        }
      }
      this.rdc.delete(seq);
      this.rdq = this.rdq.filter((x) => x !== seq);
    } else if (this.p.ackPolicy === "all") {
      if (dseq <= this.adflr || seq <= this.asflr || dseq >= this.dseq || seq >= this.sseq) return;
      this.adflr = dseq;
      this.asflr = seq;
      for (const k of [...this.pending.keys()]) if (k <= seq) this.pending.delete(k);
      for (const k of [...this.rdc.keys()]) if (k <= seq) this.rdc.delete(k);
      this.rdq = this.rdq.filter((x) => x > seq);
    }
  }

  nak(seq: number, dseq: number, delay: number | undefined, now: number): void {
    if (this.p.ackPolicy === "none" || dseq <= this.adflr || dseq >= this.dseq) return;
    const pe = this.pending.get(seq);
    if (!pe) return;
    if (delay !== undefined) {
      this.rdq = this.rdq.filter((x) => x !== seq);
      pe.ts = now - this.p.ackWaitMs + delay;
    } else if (!this.rdq.includes(seq)) {
      this.rdq.push(seq);
    }
  }

  progress(seq: number, now: number): void {
    const pe = this.pending.get(seq);
    if (pe) pe.ts = now;
  }

  checkPending(now: number, firstSeq: number): void {
    const expired: number[] = [];
    for (const [seq, pe] of [...this.pending]) {
      if (seq < firstSeq) {
        this.pending.delete(seq);
        this.rdc.delete(seq);
        this.rdq = this.rdq.filter((x) => x !== seq);
        continue;
      }
      if (this.rdq.includes(seq)) continue;
      if (pe.ts + this.ackWaitFor(this.rdc.get(seq) ?? 0) <= now) expired.push(seq);
    }
    this.rdq.push(...expired.sort((a, b) => a - b));
  }

  /** A message left the stream: a pending delivery of it is done. */
  removed(seq: number): void {
    if (this.pending.has(seq)) {
      this.rdc.delete(seq);
      this.rdq = this.rdq.filter((x) => x !== seq);
      if (this.p.ackPolicy === "explicit") this.ack(seq, this.pending.get(seq)!.cseq);
      else this.pending.delete(seq);
    }
    this.rdq = this.rdq.filter((x) => x !== seq);
  }

  /** After a restart only the replicated state is left. */
  restarted(): void {
    this.rdq = [];
    for (const k of [...this.rdc.keys()]) if (!this.pending.has(k)) this.rdc.delete(k);
  }

  numPending(): number {
    let n = 0;
    for (const [seq, subj] of this.msgs) if (seq >= this.sseq && matches(subj, this.p.filters)) n++;
    return n;
  }
}

/** Applies the core's commands to a plain state machine, as a store or replica would. */
class Replica implements ConsumerLog {
  readonly state: ConsumerStateCore;
  readonly trace: string[] = [];

  constructor(ackPolicy: CoreParams["ackPolicy"]) {
    this.state = new ConsumerStateCore(ackPolicy, null);
  }

  delivered(dseq: number, sseq: number, dc: number, tsMs: number): void {
    this.trace.push(`D ${dseq} ${sseq} ${dc} ${tsMs}`);
    this.state.updateDelivered(dseq, sseq, dc, msToNs(tsMs));
  }

  acked(dseq: number, sseq: number): void {
    this.trace.push(`A ${dseq} ${sseq}`);
    this.state.updateAcks(dseq, sseq);
  }

  starting(sseq: number): void {
    this.trace.push(`S ${sseq}`);
    this.state.setStarting(sseq);
  }

  replace(s: ConsumerState): void {
    this.trace.push(`R ${s.delivered.consumerSeq}`);
    this.state.update(s);
  }

  flush(): void {}
}

/** Sends every command to two logs. */
class Tee implements ConsumerLog {
  constructor(
    readonly a: ConsumerLog,
    readonly b: ConsumerLog,
  ) {}

  delivered(dseq: number, sseq: number, dc: number, tsMs: number): void {
    this.a.delivered(dseq, sseq, dc, tsMs);
    this.b.delivered(dseq, sseq, dc, tsMs);
  }

  acked(dseq: number, sseq: number): void {
    this.a.acked(dseq, sseq);
    this.b.acked(dseq, sseq);
  }

  starting(sseq: number): void {
    this.a.starting(sseq);
    this.b.starting(sseq);
  }

  replace(s: ConsumerState): void {
    this.a.replace(s);
    this.b.replace(s);
  }

  flush(): void {
    this.a.flush();
    this.b.flush();
  }
}

interface Delivery {
  seq: number;
  dseq: number;
  dc: number;
}

/** Runs one sequence; returns the trace of what the core did (for the determinism property). */
export function run(p: CoreParams, ops: Op[], check: boolean): string[] {
  const mgr = StoreManager.open(null);
  const store: StreamStore = mgr.createStream("A", "S", "memory");
  const msgs = new Map<number, string>();
  const model = new Model(p, msgs);
  const replica = new Replica(p.ackPolicy);
  // The store log writes behind: its store matches the core after each flush.
  const cstore = store.createConsumer("C", "{}", p.ackPolicy);
  const slog = new StoreLog(cstore, (e) => {
    throw e;
  });
  const log = new Tee(replica, slog);
  const advisories: number[] = [];
  const trace: string[] = [];
  let core = new ConsumerCore(p, store, log);
  const wire = (c: ConsumerCore) => {
    c.onMaxDeliveries = (seq) => advisories.push(seq);
    slog.source = c;
    return c;
  };
  wire(core);
  core.selectStart({ deliverPolicy: "all", optStartSeq: 0, optStartTimeNs: null });
  let now = 1_700_000_000_000.25;
  const deliveries: Delivery[] = [];
  const eq = (what: string) => {
    if (!check) return;
    core.settle();
    const snap = core.snapshot();
    assert.deepEqual(replica.state.snapshot(), snap, `${what}: the replicated state differs from the core's`);
    assert.deepEqual(
      [...core.pending].sort((a, b) => a[0] - b[0]),
      [...model.pending].sort((a, b) => a[0] - b[0]),
      `${what}: pending`,
    );
    assert.deepEqual([...core.rdc].sort((a, b) => a[0] - b[0]), [...model.rdc].sort((a, b) => a[0] - b[0]), `${what}: delivery counts`);
    assert.deepEqual([core.dseq, core.sseq, core.adflr, core.asflr], [model.dseq, model.sseq, model.adflr, model.asflr], `${what}: sequences and ack floor`);
    assert.equal(core.numPending(), model.numPending(), `${what}: num_pending`);
    assert.equal(core.redeliveryCount, model.rdq.length, `${what}: redelivery queue`);
    assert.deepEqual(advisories, model.advisories, `${what}: max_deliver advisories`);
  };
  for (const [step, op] of ops.entries()) {
    const what = `step ${step} ${JSON.stringify(op)}`;
    switch (op.k) {
      case "pub": {
        const seq = store.state().lastSeq + 1;
        store.storeMsg(seq, BigInt(Math.round(now * 1e6)), SUBJECTS[op.sub]!, null, Buffer.from("x"));
        msgs.set(seq, SUBJECTS[op.sub]!);
        core.onStreamMessage(seq, SUBJECTS[op.sub]!);
        break;
      }
      case "deliver":
        for (let i = 0; i < op.n; i++) {
          const m = core.next();
          const want = model.next();
          if (check) assert.deepEqual(m === null ? null : [m.seq, core.dc], want, `${what}: next()`);
          if (m === null) break;
          const dc = core.dc;
          const dseq = core.commit(m.seq, dc, now);
          model.commit(m.seq, dc, now);
          deliveries.push({ seq: m.seq, dseq, dc });
          trace.push(`deliver ${m.seq} ${dseq} ${dc}`);
        }
        break;
      case "undo": {
        const m = core.next();
        const want = model.next();
        if (check) assert.deepEqual(m === null ? null : [m.seq, core.dc], want, `${what}: next()`);
        if (m !== null) {
          core.undo();
          model.unTake(m.seq, want![1]);
        }
        break;
      }
      case "ack":
      case "term": {
        const d = deliveries[op.i % Math.max(1, deliveries.length)];
        if (!d) break;
        core.ack(d.seq, d.dseq);
        model.ack(d.seq, d.dseq);
        break;
      }
      case "nak": {
        const d = deliveries[op.i % Math.max(1, deliveries.length)];
        if (!d) break;
        core.nak(d.seq, d.dseq, op.delay, now);
        model.nak(d.seq, d.dseq, op.delay, now);
        break;
      }
      case "wpi": {
        const d = deliveries[op.i % Math.max(1, deliveries.length)];
        if (!d) break;
        core.progress(d.seq, now);
        model.progress(d.seq, now);
        break;
      }
      case "tick":
        now += op.ms;
        core.checkPending(now);
        model.checkPending(now, store.state().firstSeq);
        break;
      case "remove": {
        const seqs = [...msgs.keys()];
        if (seqs.length === 0) break;
        const seq = seqs[op.i % seqs.length]!;
        const subj = msgs.get(seq)!;
        assert.ok(store.removeMsg(seq));
        msgs.delete(seq);
        core.onStreamRemoved(seq, subj);
        model.removed(seq);
        break;
      }
      case "flush":
        core.settle();
        slog.flush();
        if (check) assert.deepEqual(cstore.state(), core.snapshot(), `${what}: the store written behind differs from the core`);
        break;
      case "begin":
        core.beginPass(op.want);
        break;
      case "end":
        core.endPass();
        break;
      case "restart": {
        core.settle();
        slog.flush();
        const saved = replica.state.snapshot();
        if (check) assert.deepEqual(cstore.state(), saved, `${what}: the store written behind differs from the replica`);
        core = wire(new ConsumerCore(p, store, log));
        core.restore(saved);
        model.restarted();
        break;
      }
    }
    eq(what);
  }
  return [...trace, ...replica.trace, `advisories ${advisories.join(",")}`];
}

