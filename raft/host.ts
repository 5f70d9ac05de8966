// RaftHost: the driver around many RaftCores of one process (one per stream and consumer later).
// It owns the only timer (one tick for all groups), turns steps, ticks and proposals into Readies once
// per event-loop turn, persists the Readies of all groups in one storage transaction (group commit,
// one fsync), then sends every message in one transport batch, applies committed entries and resolves
// the callers' promises. Idle groups quiesce (see RaftConfig.quiesce) and are not ticked at all: what
// a quiesced follower needs to notice its leader dying is one liveness ping per peer node per tick,
// whatever the number of groups.
import { RaftCore, type ProposeResult, type RaftStatus } from "./core.js";
import type { LogStore } from "./storage.js";
import { HOST_GROUP, type RaftEnvelope, type RaftReceiver, type Transport } from "./transport.js";
import { type ConfChange, CorruptionError, type Entry, type Message, MessageType, type NodeId, type Ready, Role, type SnapshotMeta, emptyMessage } from "./types.js";

export interface StateMachine {
  /** Applies a committed entry (normal entries, including the empty ones leaders append, and configuration entries). */
  apply(entry: Entry): void;
  /** Serialises the state as of the last applied entry (for compaction and for lagging followers). */
  snapshot(): Uint8Array;
  /**
   * Replaces the state with a snapshot's (on start-up, and when the leader sends one). After a damaged
   * log was cut back with no snapshot taken yet, meta.index is 0 and data empty: the initial state.
   */
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
  /** Default for groups: quiesce when idle (default true). */
  quiesce?: boolean;
  /** A quiesced follower wakes after this many ticks without hearing from its leader's node (default 10). */
  livenessTicks?: number;
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
  /** Quiesce when idle (default: the host's option). */
  quiesce?: boolean;
  /** Take a snapshot and compact the log every this many applied entries (0: never). Default 10000. */
  snapshotEvery?: number;
  /** Called when the group stops (its storage failed, or reported damage it could not recover from). */
  onFailure?: (err: Error) => void;
  /** Called when the storage found damage while serving and the group started over to catch up from the leader. */
  onCorruption?: (err: CorruptionError) => void;
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
  /** Replaced when the group starts over after its storage found damage (see recover()). */
  core: RaftCore;
  private readonly proposals = new Map<number, Waiter<{ index: number; term: number }> & { term: number }>();
  private readonly reads = new Map<string, Waiter<number> & { index: number }>();
  private readSeq = 0;
  private readonly readPrefix: string;
  private lastSnapshot: number;
  failed: Error | null = null;
  /** @internal the host's view of this group's quiescence: awake, a quiesced leader (pinging qPeers) or follower (of qLead). */
  qState: "awake" | "leader" | "follower" = "awake";
  qLead: NodeId = "";
  qPeers: NodeId[] = [];
  /** Called when this node's idea of the leader changes. */
  onLeaderChange: ((lead: NodeId, term: number) => void) | null = null;

  constructor(
    private readonly host: RaftHost,
    readonly opts: GroupOptions,
    private readonly random: () => number,
    private readonly logger: RaftHostOptions["logger"],
    private readonly quiesce: boolean,
  ) {
    const snap = opts.storage.snapshot();
    if (snap.meta.index > 0) opts.stateMachine.restore(snap.data, snap.meta);
    this.lastSnapshot = snap.meta.index;
    this.core = this.newCore(snap.meta.index);
    // Read contexts must not collide with those of an earlier incarnation still in flight.
    this.readPrefix = `${host.id}/${Math.floor(random() * 2 ** 48).toString(36)}/`;
  }

  private newCore(applied: number): RaftCore {
    const { opts, logger } = this;
    return new RaftCore({
      id: this.host.id,
      storage: opts.storage,
      random: this.random,
      electionTick: opts.electionTick,
      heartbeatTick: opts.heartbeatTick,
      preVote: opts.preVote,
      checkQuorum: opts.checkQuorum,
      maxMsgBytes: opts.maxMsgBytes,
      maxInflightMsgs: opts.maxInflightMsgs,
      quiesce: opts.quiesce ?? this.quiesce,
      applied,
      logger: logger ? (level, msg) => logger(level, `raft[${opts.group}] ${msg}`) : undefined,
    });
  }

  /**
   * @internal The storage found a damaged entry while serving. A storage that can verify itself cuts
   * its log back to before the damage (as on open); the group then starts over from its snapshot, as a
   * node that recovers: it neither votes nor campaigns until a leader has brought its log back past
   * what it held. Every caller waiting on the group is failed (outcomes unknown). Returns false when
   * that is not possible (the storage cannot, or found nothing): the group then stops.
   */
  recover(err: CorruptionError): boolean {
    const st = this.opts.storage;
    if (!st.recover) return false;
    for (const w of this.proposals.values()) w.reject(err);
    for (const r of this.reads.values()) r.reject(err);
    this.proposals.clear();
    this.reads.clear();
    if (st.recover() === 0) return false;
    const snap = st.snapshot();
    // The state machine goes back to the snapshot (the empty state before any) and re-applies from there.
    this.opts.stateMachine.restore(snap.data, snap.meta);
    this.lastSnapshot = snap.meta.index;
    this.core = this.newCore(snap.meta.index);
    return true;
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
  /** Groups that tick: all but the quiesced ones without waiters. */
  private readonly active = new Set<RaftGroup>();
  /** Quiesced follower groups by the node they wait on, and how many quiesced groups led here each peer is in. */
  private readonly sleepers = new Map<NodeId, Set<RaftGroup>>();
  private readonly pingTargets = new Map<NodeId, number>();
  /** The tick at which each peer node was last heard from (any message of any group, or a ping). */
  private readonly lastHeard = new Map<NodeId, number>();
  private readonly quiesce: boolean;
  private readonly livenessTicks: number;
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
    this.quiesce = opts.quiesce ?? true;
    this.livenessTicks = opts.livenessTicks ?? 10;
  }

  /** Groups that are ticked (not quiesced, or with callers waiting): for monitoring and tests. */
  get activeGroups(): number {
    return this.active.size;
  }

  addGroup(opts: GroupOptions): RaftGroup {
    if (opts.group === HOST_GROUP) throw new Error("a raft group needs a name");
    if (this.groups.has(opts.group)) throw new Error(`raft group ${opts.group} already exists`);
    const g = new RaftGroup(this, opts, this.random, this.logger, this.quiesce);
    this.groups.set(opts.group, g);
    this.active.add(g);
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
    this.handOff(g);
    g.fail(new RaftError(`raft group ${name} removed`, "removed"));
    this.note(g);
  }

  /**
   * A leader that stops here (its group removed or failed) hands leadership to an up-to-date voter at
   * once: otherwise members of a quiesced group would wait on a node that keeps pinging for its other
   * groups, and never notice.
   */
  private handOff(g: RaftGroup): void {
    const c = g.core;
    if (c.role !== Role.Leader || g.failed) return;
    const last = c.log.lastIndex();
    let to: NodeId | null = null;
    for (const [id, pr] of c.tracker.progress) {
      if (id === this.id || pr.isLearner) continue;
      if (to === null || pr.match === last) to = id;
      if (pr.match === last) break;
    }
    if (to === null) return;
    this.transport.send([{ group: g.name, message: emptyMessage(MessageType.TimeoutNow, this.id, to, c.term) }]);
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

  /** Ticks every active group once and watches the leaders of quiesced ones (the timer calls this; tests may call it directly). */
  tick(): void {
    this.ticks++;
    const now = Date.now();
    for (const g of this.active) {
      g.core.tick();
      if (g.hasWaiters()) g.expire(now);
      if (g.core.hasReady()) this.dirty.add(g);
      this.note(g);
    }
    for (const [lead, groups] of this.sleepers) {
      if (this.ticks - (this.lastHeard.get(lead) ?? 0) <= this.livenessTicks) continue;
      // The leader's node fell silent: every group waiting on it wakes and runs its election timer again.
      this.logger?.("info", `raft: no word from ${lead} for ${this.livenessTicks} ticks; waking ${groups.size} quiesced groups`);
      for (const g of [...groups]) {
        g.core.unquiesce();
        this.note(g);
      }
    }
    if (this.pingTargets.size) {
      const pings: RaftEnvelope[] = [];
      for (const peer of this.pingTargets.keys()) pings.push({ group: HOST_GROUP, message: emptyMessage(MessageType.Heartbeat, this.id, peer, 0) });
      this.transport.send(pings);
    }
    this.schedule();
  }

  deliver(group: string, message: Message): void {
    this.lastHeard.set(message.from, this.ticks);
    if (group === HOST_GROUP) return;
    const g = this.groups.get(group);
    if (!g || g.failed) return;
    this.guard(g, () => g.core.step(message));
    this.markDirty(g);
  }

  /** @internal keeps the quiescence indexes in step with the group's core. */
  note(g: RaftGroup): void {
    const c = g.core;
    const removed = g.failed !== null || this.groups.get(g.name) !== g;
    const state = removed || !c.quiesced ? "awake" : c.role === Role.Leader ? "leader" : "follower";
    if (state !== g.qState || (state === "follower" && g.qLead !== c.lead)) {
      if (g.qState === "leader") {
        for (const p of g.qPeers) {
          const n = this.pingTargets.get(p)! - 1;
          if (n > 0) this.pingTargets.set(p, n);
          else this.pingTargets.delete(p);
        }
        g.qPeers = [];
      } else if (g.qState === "follower") {
        const set = this.sleepers.get(g.qLead);
        set?.delete(g);
        if (set?.size === 0) this.sleepers.delete(g.qLead);
      }
      if (state === "leader") {
        const conf = c.currentConf();
        g.qPeers = [...conf.voters, ...conf.learners].filter((p) => p !== this.id);
        for (const p of g.qPeers) this.pingTargets.set(p, (this.pingTargets.get(p) ?? 0) + 1);
      } else if (state === "follower") {
        g.qLead = c.lead;
        let set = this.sleepers.get(c.lead);
        if (!set) this.sleepers.set(c.lead, (set = new Set()));
        set.add(g);
        if (!this.lastHeard.has(c.lead)) this.lastHeard.set(c.lead, this.ticks);
      }
      g.qState = state;
    }
    if (removed || (state !== "awake" && !g.hasWaiters())) this.active.delete(g);
    else this.active.add(g);
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
        this.note(g);
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
        this.note(g);
      }
    }
    this.schedule();
  }

  /**
   * A storage that finds corruption while serving the core affects only its group: the group starts
   * over (RaftGroup.recover) or, failing that, stops.
   */
  private guard<T>(g: RaftGroup, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e0) {
      let e = e0;
      // A leader that cannot go on serving hands over before it starts over or stops.
      this.handOff(g);
      if (e instanceof CorruptionError) {
        try {
          if (g.recover(e)) {
            this.logger?.("warn", `raft[${g.name}] ${e.message}: log cut back, catching up from the leader`);
            g.opts.onCorruption?.(e);
            this.dirty.add(g);
            this.note(g);
            this.schedule();
            return undefined;
          }
        } catch (e2) {
          e = e2;
        }
      }
      const err = e instanceof Error ? e : new Error(String(e));
      this.logger?.("error", `raft[${g.name}] stopped: ${err.message}`);
      g.fail(err);
      if (!(e instanceof CorruptionError)) this.logger?.("error", err.stack ?? "");
      g.opts.onFailure?.(err);
      return undefined;
    }
  }
}
