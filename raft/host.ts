// RaftHost: the driver around many RaftCores of one process (one per stream and consumer later).
// It owns the only timer (one tick for all groups), turns steps, ticks and proposals into Readies once
// per event-loop turn, persists the Readies of all groups in one storage transaction (group commit,
// one fsync), then sends every message in one transport batch, applies committed entries and resolves
// the callers' promises. Idle groups cost one counter increment per tick.
import { RaftCore, type ProposeResult, type RaftStatus } from "./core.js";
import type { LogStore } from "./storage.js";
import type { RaftEnvelope, RaftReceiver, Transport } from "./transport.js";
import { type ConfChange, CorruptionError, type Entry, type Message, type NodeId, type Ready, Role, type SnapshotMeta } from "./types.js";

export interface StateMachine {
  /** Applies a committed entry (normal entries, including the empty ones leaders append, and configuration entries). */
  apply(entry: Entry): void;
  /** Serialises the state as of the last applied entry (for compaction and for lagging followers). */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot's (on start-up, and when the leader sends one). */
  restore(data: Uint8Array, meta: SnapshotMeta): void;
}

export interface RaftHostOptions {
  /** This server's node id in every group it hosts. */
  id: NodeId;
  transport: Transport;
  /** Milliseconds per tick (default 50: elections after 0.5-1 s with electionTick 10). */
  tickMs?: number;
  random?: () => number;
  /** Runs the persistence of one turn's Readies atomically, e.g. `fn => store.transaction(fn)`. */
  transaction?: (fn: () => void) => void;
  logger?: (level: "info" | "warn" | "error", msg: string) => void;
}

export interface GroupOptions {
  group: string;
  storage: LogStore;
  stateMachine: StateMachine;
  electionTick?: number;
  heartbeatTick?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxMsgBytes?: number;
  maxInflightMsgs?: number;
  /** Take a snapshot and compact the log every this many applied entries (0: never). Default 10000. */
  snapshotEvery?: number;
  /** Called when the group stops because its storage reported corruption mid-flight. */
  onFailure?: (err: Error) => void;
}

export class RaftError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = "RaftError";
  }
}

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
  deadline: number;
}

export class RaftGroup {
  readonly core: RaftCore;
  private readonly proposals = new Map<number, Waiter<{ index: number; term: number }> & { term: number }>();
  private readonly reads = new Map<string, Waiter<number> & { index: number }>();
  private readSeq = 0;
  private readonly readPrefix: string;
  private lastSnapshot: number;
  failed: Error | null = null;
  /** Called when this node's idea of the leader changes. */
  onLeaderChange: ((lead: NodeId, term: number) => void) | null = null;

  constructor(
    private readonly host: RaftHost,
    readonly opts: GroupOptions,
    random: () => number,
    logger: RaftHostOptions["logger"],
  ) {
    const snap = opts.storage.snapshot();
    if (snap.meta.index > 0) opts.stateMachine.restore(snap.data, snap.meta);
    this.lastSnapshot = snap.meta.index;
    this.core = new RaftCore({
      id: host.id,
      storage: opts.storage,
      random,
      electionTick: opts.electionTick,
      heartbeatTick: opts.heartbeatTick,
      preVote: opts.preVote,
      checkQuorum: opts.checkQuorum,
      maxMsgBytes: opts.maxMsgBytes,
      maxInflightMsgs: opts.maxInflightMsgs,
      applied: snap.meta.index,
      logger: logger ? (level, msg) => logger(level, `raft[${opts.group}] ${msg}`) : undefined,
    });
    // Read contexts must not collide with those of an earlier incarnation still in flight.
    this.readPrefix = `${host.id}/${Math.floor(random() * 2 ** 48).toString(36)}/`;
  }

  get name(): string {
    return this.opts.group;
  }

  get isLeader(): boolean {
    return this.core.role === Role.Leader;
  }

  status(withProgress = false): RaftStatus {
    return this.core.status(withProgress);
  }

  /** Resolves with the entry's position once it is committed and applied here; rejects if it was not (or may not have been) committed. */
  propose(data: Uint8Array, timeoutMs = 5000): Promise<{ index: number; term: number }> {
    return this.track(this.core.propose(data), timeoutMs);
  }

  proposeConfChange(cc: ConfChange, timeoutMs = 5000): Promise<{ index: number; term: number }> {
    return this.track(this.core.proposeConfChange(cc), timeoutMs);
  }

  /** Resolves once a linearizable read of the local state machine is possible (it has applied the read index). */
  readIndex(timeoutMs = 5000): Promise<number> {
    if (this.failed) return Promise.reject(this.failed);
    const ctx = this.readPrefix + (this.readSeq++).toString(36);
    if (!this.core.readIndex(ctx)) return Promise.reject(new RaftError("no leader known", "no-leader"));
    this.host.markDirty(this);
    return new Promise((resolve, reject) => {
      this.reads.set(ctx, { resolve, reject, deadline: Date.now() + timeoutMs, index: 0 });
    });
  }

  transferLeadership(to: NodeId): boolean {
    const ok = this.core.transferLeadership(to);
    this.host.markDirty(this);
    return ok;
  }

  campaign(): void {
    this.core.campaign();
    this.host.markDirty(this);
  }

  private track(res: ProposeResult, timeoutMs: number): Promise<{ index: number; term: number }> {
    if (this.failed) return Promise.reject(this.failed);
    if (!res.ok) return Promise.reject(new RaftError(`proposal refused: ${res.reason}${res.detail ? ` (${res.detail})` : ""}`, res.reason));
    this.host.markDirty(this);
    // An earlier proposal at this index (of an older term) was overwritten, or this index could not be reused.
    const old = this.proposals.get(res.index);
    if (old) old.reject(new RaftError("proposal lost: its entry was overwritten", "dropped"));
    return new Promise((resolve, reject) => {
      this.proposals.set(res.index, { resolve, reject, deadline: Date.now() + timeoutMs, term: res.term });
    });
  }

  /** @internal after persistence and sending: apply, answer waiters, compact. */
  finish(rd: Ready): void {
    const sm = this.opts.stateMachine;
    if (rd.softState) this.onLeaderChange?.(rd.softState.lead, this.core.term);
    if (rd.snapshot) {
      sm.restore(rd.snapshot.data, rd.snapshot.meta);
      this.lastSnapshot = rd.snapshot.meta.index;
      for (const [idx, w] of this.proposals) {
        if (idx > rd.snapshot.meta.index) continue;
        this.proposals.delete(idx);
        w.reject(new RaftError("outcome unknown: superseded by a snapshot", "unknown"));
      }
    }
    for (const e of rd.committedEntries) {
      sm.apply(e);
      const w = this.proposals.get(e.index);
      if (w) {
        this.proposals.delete(e.index);
        if (w.term === e.term) w.resolve({ index: e.index, term: e.term });
        else w.reject(new RaftError("proposal lost: another leader's entry was committed at its index", "dropped"));
      }
    }
    for (const rs of rd.readStates) {
      const r = this.reads.get(rs.context);
      if (r) r.index = rs.index;
    }
    if (rd.softState && !rd.softState.recovering) {
      this.opts.storage.clearRecoveryWatermark();
    }
    this.core.advance(rd);
    const applied = this.core.log.applied;
    if (this.reads.size) {
      for (const [ctx, r] of this.reads) {
        if (r.index && applied >= r.index) {
          this.reads.delete(ctx);
          r.resolve(r.index);
        }
      }
    }
    const every = this.opts.snapshotEvery ?? 10000;
    if (every > 0 && applied - this.lastSnapshot >= every) {
      this.opts.storage.createSnapshot(applied, this.core.confStateAt(applied), sm.snapshot());
      this.opts.storage.compact(applied);
      this.lastSnapshot = applied;
    }
  }

  /** @internal on every tick: time out waiters. */
  expire(now: number): void {
    for (const [idx, w] of this.proposals) {
      if (w.deadline > now) continue;
      this.proposals.delete(idx);
      w.reject(new RaftError("proposal timed out: outcome unknown", "timeout"));
    }
    for (const [ctx, r] of this.reads) {
      if (r.deadline > now) continue;
      this.reads.delete(ctx);
      r.reject(new RaftError("read timed out", "timeout"));
    }
  }

  /** @internal the group stopped (removed or failed): fail every waiter. */
  fail(err: Error): void {
    this.failed = err;
    for (const w of this.proposals.values()) w.reject(err);
    for (const r of this.reads.values()) r.reject(err);
    this.proposals.clear();
    this.reads.clear();
  }

  /** @internal */
  hasWaiters(): boolean {
    return this.proposals.size > 0 || this.reads.size > 0;
  }
}

export class RaftHost implements RaftReceiver {
  readonly id: NodeId;
  private readonly transport: Transport;
  private readonly tickMs: number;
  private readonly random: () => number;
  private readonly transaction: (fn: () => void) => void;
  private readonly logger: RaftHostOptions["logger"];
  private readonly groups = new Map<string, RaftGroup>();
  private readonly dirty = new Set<RaftGroup>();
  private timer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private ticks = 0;
  /** Turns and Readies processed, for benchmarks and monitoring. */
  readonly counters = { turns: 0, readies: 0, persistBatches: 0 };

  constructor(opts: RaftHostOptions) {
    this.id = opts.id;
    this.transport = opts.transport;
    this.tickMs = opts.tickMs ?? 50;
    this.random = opts.random ?? Math.random;
    this.transaction = opts.transaction ?? ((fn) => fn());
    this.logger = opts.logger;
  }

  addGroup(opts: GroupOptions): RaftGroup {
    if (this.groups.has(opts.group)) throw new Error(`raft group ${opts.group} already exists`);
    const g = new RaftGroup(this, opts, this.random, this.logger);
    this.groups.set(opts.group, g);
    this.markDirty(g);
    return g;
  }

  group(name: string): RaftGroup | undefined {
    return this.groups.get(name);
  }

  removeGroup(name: string): void {
    const g = this.groups.get(name);
    if (!g) return;
    this.groups.delete(name);
    this.dirty.delete(g);
    g.fail(new RaftError(`raft group ${name} removed`, "removed"));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Ticks every group once (the timer calls this; tests may call it directly). */
  tick(): void {
    this.ticks++;
    const now = Date.now();
    for (const g of this.groups.values()) {
      if (g.failed) continue;
      g.core.tick();
      if (g.hasWaiters()) g.expire(now);
      if (g.core.hasReady()) this.dirty.add(g);
    }
    this.schedule();
  }

  deliver(group: string, message: Message): void {
    const g = this.groups.get(group);
    if (!g || g.failed) return;
    this.guard(g, () => g.core.step(message));
    this.markDirty(g);
  }

  /** @internal */
  markDirty(g: RaftGroup): void {
    this.dirty.add(g);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.dirty.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.process();
    });
  }

  /** Runs every dirty group's Readies to completion (bounded rounds), persisting each round in one transaction. */
  process(): void {
    this.counters.turns++;
    for (let round = 0; round < 8 && this.dirty.size; round++) {
      const batch: { g: RaftGroup; rd: Ready }[] = [];
      for (const g of this.dirty) {
        if (!g.failed && g.core.hasReady()) {
          const rd = this.guard(g, () => g.core.ready());
          if (rd) batch.push({ g, rd });
        }
      }
      this.dirty.clear();
      if (batch.length === 0) break;
      this.counters.readies += batch.length;
      const needsPersist = batch.some(({ rd }) => rd.entries.length || rd.hardState || rd.snapshot);
      if (needsPersist) {
        this.counters.persistBatches++;
        try {
          this.transaction(() => {
            for (const { g, rd } of batch) g.opts.storage.save(rd.hardState, rd.entries, rd.snapshot);
          });
        } catch (e) {
          // Nothing of this round may leave the process: its messages and acknowledgements depend on it.
          for (const { g } of batch) this.guard(g, () => {
            throw e;
          });
          continue;
        }
      }
      const out: RaftEnvelope[] = [];
      for (const { g, rd } of batch) for (const m of rd.messages) out.push({ group: g.name, message: m });
      if (out.length) this.transport.send(out);
      for (const { g, rd } of batch) {
        this.guard(g, () => g.finish(rd));
        if (!g.failed && g.core.hasReady()) this.dirty.add(g);
      }
    }
    this.schedule();
  }

  /** A storage that finds corruption while serving the core fails only its group. */
  private guard<T>(g: RaftGroup, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.logger?.("error", `raft[${g.name}] stopped: ${err.message}`);
      g.fail(err);
      if (!(e instanceof CorruptionError)) this.logger?.("error", err.stack ?? "");
      g.opts.onFailure?.(err);
      return undefined;
    }
  }
}
