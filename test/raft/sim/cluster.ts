// The deterministic cluster simulator. One seed drives everything: N nodes running the real RaftCore,
// a lossy reordering network with partitions and one-way links, disks that lose unpersisted writes,
// tear writes and rot bits, crashes and restarts, per-node clock skew, membership changes and
// leadership transfers under a client workload of puts and ReadIndex gets. Invariants are checked
// after every step; after the fault phase the world heals and the cluster must make progress within a
// bounded number of ticks; finally the client history must be linearizable.
import { decodeMessage, encodeMessage } from "../../../raft/codec.js";
import { RaftCore, type RaftConfig } from "../../../raft/core.js";
import type { MemoryStorage } from "../../../raft/memory_storage.js";
import { type ConfState, EntryType, type Message, type NodeId, type Ready, Role } from "../../../raft/types.js";
import { InvariantChecker, InvariantViolation } from "./checker.js";
import { SimDisk } from "./disk.js";
import { EventHeap } from "./heap.js";
import { KvState, decodePut, encodePut } from "./kv.js";
import { checkLinearizable, type Operation } from "./linearizability.js";
import { type NetworkProfile, SimNetwork } from "./network.js";
import { Rng } from "./rng.js";

export type CoreFactory = (cfg: RaftConfig) => RaftCore;

export interface SimOptions {
  seed: number;
  /** Simulated time of the fault phase (a nominal tick is 10 time units); by default each seed draws its own. */
  faultTime?: number;
  /** Ticks allowed, after the world heals, for a leader to be elected and progress to reach every member. */
  livenessTicks?: number;
  coreFactory?: CoreFactory;
  /** A deliberately broken driver (mutant tests): "send-before-persist" sends a Ready's messages before its write is durable. */
  driverBug?: "send-before-persist";
  /** "critical" forces every seed into the critical-moments world (see the constructor). */
  world?: "mixed" | "critical";
  /** Keep this many trace lines (the last ones) for a failure report. */
  traceLines?: number;
}

export interface SimStats {
  events: number;
  messages: number;
  elections: number;
  crashes: number;
  tornWrites: number;
  rots: number;
  snapshotRots: number;
  snapshotRecoveries: number;
  recoveries: number;
  snapshotsSent: number;
  confChanges: number;
  transfers: number;
  partitions: number;
  oneWayCuts: number;
  heals: number;
  drops: number;
  duplicates: number;
  skews: number;
  leaderKills: number;
  writeCrashes: number;
  /** Quiesced followers woken because their leader's node fell silent. */
  wakes: number;
  quiesced: number;
  /** Histories the linearizability search gave up on (budget exhausted): neither proven nor refuted. */
  linUnknown: number;
  historyOps: number;
  ops: number;
  acked: number;
  checks: number;
  committed: number;
}

export interface SimResult {
  seed: number;
  ok: boolean;
  error?: string;
  trace: string[];
  stats: SimStats;
}

const TICK = 10;

interface SimNode {
  id: NodeId;
  disk: SimDisk;
  storage: MemoryStorage | null;
  core: RaftCore | null;
  alive: boolean;
  retired: boolean;
  started: boolean;
  incarnation: number;
  tickPeriod: number;
  writing: Ready | null;
  kv: KvState;
  /** ReadIndex requests this node has in flight for clients: context -> client. */
  reads: Map<string, Client>;
  /** This node's own tick count (its clock), and the tick at which it last heard from each node. */
  ticks: number;
  lastHeard: Map<NodeId, number>;
  quiesceSeen: boolean;
}

interface Pending {
  kind: "put" | "get";
  opId: number;
  node: NodeId;
  incarnation: number;
  key: string;
  value: number;
  index: number;
  term: number;
  readIndex: number;
  ctx: string;
  call: number;
  historyIdx: number;
}

interface Client {
  id: number;
  pending: Pending | null;
}

type Event =
  | { at: number; seq: number; kind: "tick"; node: NodeId; inc: number }
  | { at: number; seq: number; kind: "deliver"; msg: Message; fromInc: number; lostOnCrash: boolean }
  | { at: number; seq: number; kind: "persisted"; node: NodeId; inc: number }
  | { at: number; seq: number; kind: "client"; client: number }
  | { at: number; seq: number; kind: "timeout"; client: number; opId: number }
  | { at: number; seq: number; kind: "chaos" }
  | { at: number; seq: number; kind: "restart"; node: NodeId }
  | { at: number; seq: number; kind: "heal" }
  | { at: number; seq: number; kind: "probe" }
  | { at: number; seq: number; kind: "ping"; from: NodeId; to: NodeId }
  | { at: number; seq: number; kind: "kill"; node: NodeId; inc: number; write?: boolean };

export class Simulation {
  readonly seed: number;
  private readonly rng: Rng;
  private readonly netRng: Rng;
  private readonly diskRng: Rng;
  private readonly coreRng: Rng;
  private readonly net: SimNetwork;
  private readonly heap = new EventHeap<Event>();
  private seq = 0;
  now = 0;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly spares: NodeId[] = [];
  readonly checker = new InvariantChecker();
  private readonly factory: CoreFactory;
  private readonly driverBug: SimOptions["driverBug"];
  private readonly faultTime: number;
  private readonly livenessTicks: number;
  private readonly trace: string[] = [];
  private readonly traceLines: number;
  private readonly history: Operation[] = [];
  private readonly clients: Client[] = [];
  private hclock = 0;
  private nextOpId = 1;
  private readonly acked: { opId: number; index: number }[] = [];
  private readonly pendingRemovals: { id: NodeId; index: number; term: number }[] = [];
  /** A node whose disk rotted and that has not yet recovered: at most one at a time (the fault budget). */
  private damaged: NodeId | null = null;
  private healed = false;
  private livenessDone = false;
  /**
   * After the world heals: 1, progress must resume; 2, the idle cluster must quiesce (when enabled);
   * 3, with the leader then crashed for good, a new leader must emerge and make progress.
   */
  private phase: 1 | 2 | 3 = 1;
  private deadline = Infinity;
  private phaseStart = 0;
  private catchUpBound = false;
  private oldLeader: NodeId | null = null;
  private probe: { index: number; term: number; node: NodeId } | null = null;
  private readonly cfg: {
    electionTick: number;
    maxMsgBytes: number;
    maxInflight: number;
    preVote: boolean;
    checkQuorum: boolean;
    snapshotEvery: number;
    crashP: number;
    partitionP: number;
    rotP: number;
    confP: number;
    transferP: number;
    maxDiskDelay: number;
    /** Crash a node while a write is in flight (its messages, e.g. a vote or an acknowledgement, not yet sent). */
    writeCrashP: number;
    chaosEvery: number;
    /** Crash a leader soon after it is elected or commits: the critical moments of Raft's figure 8. */
    leaderKillP: number;
    quiesce: boolean;
  };
  readonly stats: SimStats = {
    events: 0,
    messages: 0,
    elections: 0,
    crashes: 0,
    tornWrites: 0,
    rots: 0,
    snapshotRots: 0,
    snapshotRecoveries: 0,
    recoveries: 0,
    snapshotsSent: 0,
    confChanges: 0,
    transfers: 0,
    partitions: 0,
    oneWayCuts: 0,
    heals: 0,
    drops: 0,
    duplicates: 0,
    skews: 0,
    leaderKills: 0,
    writeCrashes: 0,
    wakes: 0,
    quiesced: 0,
    linUnknown: 0,
    historyOps: 0,
    ops: 0,
    acked: 0,
    checks: 0,
    committed: 0,
  };

  constructor(opts: SimOptions) {
    this.seed = opts.seed;
    this.rng = new Rng(opts.seed);
    this.netRng = this.rng.fork();
    this.diskRng = this.rng.fork();
    this.coreRng = this.rng.fork();
    this.factory = opts.coreFactory ?? ((c) => new RaftCore(c));
    this.driverBug = opts.driverBug;
    this.livenessTicks = opts.livenessTicks ?? 400;
    this.traceLines = opts.traceLines ?? 60;
    const r = this.rng;
    // Every seed draws its own world: how hostile the network and disks are, and how the core is tuned.
    this.cfg = {
      electionTick: 10,
      maxMsgBytes: r.chance(0.3) ? 1 : r.chance(0.5) ? 64 : 1 << 20,
      maxInflight: r.pick([1, 2, 4, 64]),
      preVote: r.chance(0.8),
      checkQuorum: r.chance(0.8),
      snapshotEvery: r.pick([5, 10, 25, 1000]),
      crashP: r.pick([0.05, 0.15, 0.3]),
      partitionP: r.pick([0, 0.05, 0.15]),
      rotP: r.pick([0, 0.02, 0.05]),
      confP: r.pick([0, 0.05, 0.1]),
      transferP: r.pick([0, 0.03, 0.08]),
      maxDiskDelay: r.pick([0, 2, 6, 15]),
      writeCrashP: r.pick([0, 0.005, 0.02]),
      chaosEvery: r.int(20, 60),
      leaderKillP: r.pick([0, 0, 0.05, 0.2]),
      quiesce: r.chance(0.5),
    };
    const profile: NetworkProfile = {
      dropP: r.pick([0, 0.02, 0.1, 0.25]),
      dupP: r.pick([0, 0.02, 0.1]),
      minDelay: 1,
      maxDelay: r.pick([3, 10, 25]),
      longDelayP: r.pick([0, 0.01, 0.05]),
      longDelay: 300,
    };
    let voters = r.chance(0.7) ? 3 : 5;
    if (r.chance(0.25) || opts.world === "critical") {
      // The "critical moments" world: few other faults, but leaders die right after being elected or
      // committing, and appends carry one entry, so commits of single old-term entries by a new
      // leader (Raft's figure 8) happen often.
      Object.assign(this.cfg, { maxMsgBytes: 1, leaderKillP: r.pick([0.3, 0.6]), crashP: 0.05, partitionP: 0, rotP: 0, confP: 0, snapshotEvery: 1000 });
      Object.assign(profile, { dropP: 0, dupP: 0, longDelayP: 0 });
      voters = r.chance(0.5) ? 3 : 5;
    }
    this.net = new SimNetwork(this.netRng, profile);
    const initial: NodeId[] = [];
    for (let i = 1; i <= voters; i++) initial.push(`n${i}`);
    for (let i = voters + 1; i <= voters + 2; i++) this.spares.push(`n${i}`);
    const conf: ConfState = { voters: initial, learners: [] };
    for (const id of initial) this.startFresh(id, conf);
    this.faultTime = opts.faultTime ?? r.pick([2000, 3000, 5000, 10000]);
    const nClients = r.int(1, 4);
    for (let i = 0; i < nClients; i++) {
      this.clients.push({ id: i, pending: null });
      this.schedule(r.int(1, 50), { kind: "client", client: i });
    }
    this.schedule(this.cfg.chaosEvery, { kind: "chaos" });
    this.schedule(this.faultTime, { kind: "heal" });
    this.log(`world ${JSON.stringify({ ...this.cfg, net: profile, voters, faultTime: this.faultTime, clients: nClients })}`);
  }

  // ---------------------------------------------------------------- plumbing

  private schedule(delay: number, ev: Record<string, unknown> & { kind: Event["kind"] }): void {
    this.heap.push({ ...ev, at: this.now + delay, seq: this.seq++ } as Event);
  }

  private log(s: string): void {
    this.trace.push(`t=${this.now} ${s}`);
    if (this.trace.length > this.traceLines * 2) this.trace.splice(0, this.trace.length - this.traceLines);
  }

  private describe(m: Message): string {
    const base = `${MessageNames[m.type]} ${m.from}->${m.to} t${m.term}`;
    switch (m.type) {
      case 1:
        return `${base} prev=${m.index}/${m.logTerm} n=${m.entries.length} commit=${m.commit}`;
      case 2:
        return `${base} idx=${m.index}${m.reject ? ` reject hint=${m.rejectHint}/${m.logTerm}` : ""}`;
      case 3:
      case 5:
        return `${base} last=${m.index}/${m.logTerm}${m.context ? " (transfer)" : ""}`;
      case 4:
      case 6:
        return `${base}${m.reject ? " rejected" : " granted"}`;
      case 9:
        return `${base} snap=${m.snapshot?.meta.index}/${m.snapshot?.meta.term}`;
      default:
        return base;
    }
  }

  private newCore(id: NodeId, storage: MemoryStorage, applied: number): RaftCore {
    return this.factory({
      id,
      storage,
      random: () => this.coreRng.next(),
      electionTick: this.cfg.electionTick,
      heartbeatTick: 1,
      preVote: this.cfg.preVote,
      checkQuorum: this.cfg.checkQuorum,
      maxMsgBytes: this.cfg.maxMsgBytes,
      maxInflightMsgs: this.cfg.maxInflight,
      quiesce: this.cfg.quiesce,
      applied,
    });
  }

  private startFresh(id: NodeId, conf: ConfState): void {
    const disk = new SimDisk(conf);
    const n: SimNode = {
      id,
      disk,
      storage: null,
      core: null,
      alive: false,
      retired: false,
      started: true,
      incarnation: 0,
      tickPeriod: TICK,
      writing: null,
      kv: new KvState(),
      reads: new Map(),
      ticks: 0,
      lastHeard: new Map(),
      quiesceSeen: false,
    };
    this.nodes.set(id, n);
    this.boot(n);
  }

  private boot(n: SimNode): void {
    const { storage, corruptAt, snapshotDamaged } = n.disk.load();
    n.storage = storage;
    const snap = storage.snapshot();
    n.kv = KvState.deserialize(snap.data);
    n.core = this.newCore(n.id, storage, snap.meta.index);
    n.alive = true;
    n.writing = null;
    n.reads.clear();
    n.incarnation++;
    if (corruptAt) {
      this.stats.recoveries++;
      if (snapshotDamaged) this.stats.snapshotRecoveries++;
      this.log(`${n.id} restarted: damaged ${snapshotDamaged ? "snapshot" : "entry"} ${corruptAt} found, recovering until ${storage.recoveryWatermark()}`);
    }
    this.checker.restarted(n.id, n.core, snap.meta.index, n.kv.digest);
    this.schedule(this.rng.int(1, n.tickPeriod), { kind: "tick", node: n.id, inc: n.incarnation });
    this.afterStep(n);
  }

  private live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive);
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.alive && n.core!.role === Role.Leader && (!best || n.core!.term > best.core!.term)) best = n;
    }
    return best;
  }

  // ---------------------------------------------------------------- the node loop: Ready -> persist -> send -> apply -> advance

  private pump(n: SimNode): void {
    while (n.alive && !n.writing && n.core!.hasReady()) {
      const core = n.core!;
      const rd = core.ready();
      if (rd.entries.length) this.checker.persisting(n.id, rd.entries, core.log.term(rd.entries[0]!.index - 1), (i) => n.storage!.term(i));
      if (rd.softState?.role === Role.Leader) {
        this.stats.elections++;
        this.log(`${n.id} leads term ${core.term}`);
        this.maybeKillLeader(n);
      } else if (core.role === Role.Leader && rd.committedEntries.length && this.diskRng.chance(0.5)) {
        this.maybeKillLeader(n);
      }
      n.writing = rd;
      if (this.driverBug === "send-before-persist") for (const m of rd.messages) this.send(m);
      const d = this.cfg.maxDiskDelay ? this.diskRng.int(0, this.cfg.maxDiskDelay) : 0;
      if (d > 0) {
        this.schedule(d, { kind: "persisted", node: n.id, inc: n.incarnation });
        if (!this.healed && this.diskRng.chance(this.cfg.writeCrashP)) {
          this.schedule(this.diskRng.int(0, d - 1), { kind: "kill", node: n.id, inc: n.incarnation, write: true });
        }
        return;
      }
      this.completeWrite(n);
    }
  }

  private completeWrite(n: SimNode): void {
    const rd = n.writing!;
    const core = n.core!;
    n.disk.write(rd.hardState, rd.entries, rd.snapshot);
    n.storage!.save(rd.hardState, rd.entries, rd.snapshot);
    if (this.driverBug !== "send-before-persist") for (const m of rd.messages) this.send(m);
    if (rd.snapshot) {
      n.kv = KvState.deserialize(rd.snapshot.data);
      this.checker.installedSnapshot(n.id, rd.snapshot, n.kv.digest);
      this.log(`${n.id} installed snapshot ${rd.snapshot.meta.index}/${rd.snapshot.meta.term}`);
    }
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.Normal) {
        const op = decodePut(e.data);
        if (op) n.kv.apply(op);
      }
      this.checker.applied(n.id, e, n.kv.digest);
      this.onApplied(n, e.index, e.term, e.data);
    }
    for (const rs of rd.readStates) {
      const c = n.reads.get(rs.context);
      n.reads.delete(rs.context);
      if (c?.pending && c.pending.ctx === rs.context) c.pending.readIndex = rs.index;
    }
    if (rd.softState && !rd.softState.recovering && n.storage!.recoveryWatermark()) {
      n.disk.clearWatermark();
      n.storage!.clearRecoveryWatermark();
      this.log(`${n.id} recovered from its damaged log`);
      if (this.damaged === n.id) this.damaged = null;
    }
    core.advance(rd);
    n.writing = null;
    this.completeReads(n);
    // Log compaction driven by the state machine.
    const applied = core.log.applied;
    const snapIdx = n.storage!.snapshot().meta.index;
    if (applied - snapIdx >= this.cfg.snapshotEvery) {
      const snap = n.storage!.createSnapshot(applied, core.confStateAt(applied), n.kv.serialize());
      n.storage!.compact(applied);
      n.disk.snapshotAndCompact(snap, applied);
    }
  }

  /**
   * What a driver does for quiesced groups (RaftHost does it once per node pair): a quiesced leader's
   * node pings the members every tick; a quiesced follower that has not heard from its leader's node
   * for an election timeout wakes up, so a leader that died while the group was idle is replaced.
   */
  private watchLeader(n: SimNode): void {
    const core = n.core!;
    if (!core.quiesced) return;
    if (core.role === Role.Leader) {
      for (const id of core.tracker.progress.keys()) {
        if (id === n.id || this.net.blocked(n.id, id)) continue;
        for (const d of this.net.delays()) this.schedule(d, { kind: "ping", from: n.id, to: id });
      }
      return;
    }
    const heard = n.lastHeard.get(core.lead);
    if (heard === undefined || n.ticks - heard > this.cfg.electionTick) {
      this.stats.wakes++;
      this.log(`${n.id} has not heard from its leader ${core.lead} for a while: wakes`);
      core.unquiesce();
    }
  }

  private send(m: Message): void {
    this.stats.messages++;
    if (m.type === 9) this.stats.snapshotsSent++;
    const to = this.nodes.get(m.to);
    if (!to || this.net.blocked(m.from, m.to)) return;
    const fromInc = this.nodes.get(m.from)!.incarnation;
    const delays = this.net.delays();
    if (delays.length === 0) this.stats.drops++;
    if (delays.length === 2) this.stats.duplicates++;
    for (const d of delays) {
      // Some messages take the codec's path, so its encoding is exercised by every run.
      const wire = this.netRng.chance(0.05) ? decodeMessage(encodeMessage(m)) : m;
      // A crash usually takes the sender's unsent socket buffers with it.
      this.schedule(d, { kind: "deliver", msg: wire, fromInc, lostOnCrash: this.netRng.chance(0.7) });
    }
  }

  private afterStep(n: SimNode): void {
    this.pump(n);
    if (n.alive && n.core!.quiesced !== n.quiesceSeen) {
      n.quiesceSeen = n.core!.quiesced;
      if (n.quiesceSeen && n.core!.role === Role.Leader) {
        this.stats.quiesced++;
        this.log(`${n.id} quiesces (group idle)`);
      }
    }
    if (n.alive) this.checker.afterStep(n.id, n.core!);
    this.retireRemoved();
  }

  // ---------------------------------------------------------------- events

  run(): SimResult {
    try {
      for (;;) {
        const ev = this.heap.pop();
        if (!ev) throw new InvariantViolation("event queue ran dry");
        this.now = ev.at;
        this.stats.events++;
        this.handle(ev);
        if (this.livenessDone) break;
        if (this.now > this.deadline) {
          const what = [
            "",
            this.catchUpBound ? "members did not catch up within the bound (400 ticks + 5 per entry behind)" : `no progress within ${this.livenessTicks} ticks after the world healed`,
            "the idle cluster did not settle (every member holding all of the leader's log, and quiesced when enabled)",
            `no new leader and progress within ${this.livenessTicks} ticks after the leader ${this.oldLeader} of an idle cluster crashed`,
          ][this.phase];
          throw new InvariantViolation(`liveness: ${what} (${this.livenessReport()})`);
        }
      }
      this.finalChecks();
      this.stats.checks = this.checker.checks;
      this.stats.committed = this.checker.maxCommitted;
      return { seed: this.seed, ok: true, trace: [], stats: this.stats };
    } catch (e) {
      this.stats.checks = this.checker.checks;
      const msg = e instanceof Error ? (e instanceof InvariantViolation ? e.message : `${e.message}\n${e.stack}`) : String(e);
      return { seed: this.seed, ok: false, error: msg, trace: this.trace.slice(-this.traceLines), stats: this.stats };
    }
  }

  private handle(ev: Event): void {
    switch (ev.kind) {
      case "tick": {
        const n = this.nodes.get(ev.node)!;
        if (!n.alive || n.incarnation !== ev.inc) return;
        n.ticks++;
        this.watchLeader(n);
        n.core!.tick();
        this.afterStep(n);
        this.schedule(n.tickPeriod, { kind: "tick", node: n.id, inc: n.incarnation });
        return;
      }
      case "deliver": {
        const n = this.nodes.get(ev.msg.to);
        if (!n || !n.alive) return;
        if (this.net.blocked(ev.msg.from, ev.msg.to)) return;
        if (ev.lostOnCrash && this.nodes.get(ev.msg.from)!.incarnation !== ev.fromInc) return;
        n.lastHeard.set(ev.msg.from, n.ticks);
        this.log(this.describe(ev.msg));
        n.core!.step(ev.msg);
        this.afterStep(n);
        return;
      }
      case "persisted": {
        const n = this.nodes.get(ev.node)!;
        if (!n.alive || n.incarnation !== ev.inc || !n.writing) return;
        this.completeWrite(n);
        this.afterStep(n);
        return;
      }
      case "client":
        this.clientStep(this.clients[ev.client]!);
        return;
      case "timeout": {
        const c = this.clients[ev.client]!;
        if (c.pending?.opId === ev.opId) this.abandon(c, "timeout");
        return;
      }
      case "chaos":
        if (this.healed) return;
        this.chaos();
        this.schedule(this.cfg.chaosEvery, { kind: "chaos" });
        return;
      case "restart": {
        const n = this.nodes.get(ev.node)!;
        if (n.alive || n.retired) return;
        this.log(`${n.id} restarts`);
        this.boot(n);
        return;
      }
      case "heal":
        this.heal();
        return;
      case "probe":
        this.livenessProbe();
        return;
      case "ping": {
        const n = this.nodes.get(ev.to);
        if (n && n.alive && !this.net.blocked(ev.from, ev.to)) n.lastHeard.set(ev.from, n.ticks);
        return;
      }
      case "kill": {
        const n = this.nodes.get(ev.node)!;
        if (!n.alive || n.incarnation !== ev.inc || this.healed) return;
        if (ev.write) this.stats.writeCrashes++;
        else this.stats.leaderKills++;
        this.crash(n, ev.write ? " (during a write)" : " (leader killer)");
        this.schedule(this.rng.chance(0.5) ? this.rng.int(1, 30) : this.rng.int(50, 600), { kind: "restart", node: n.id });
        return;
      }
    }
  }

  // ---------------------------------------------------------------- faults

  private crash(n: SimNode, why: string): void {
    if (!n.alive) return;
    this.stats.crashes++;
    let torn = "";
    if (n.writing) {
      const rd = n.writing;
      if (this.diskRng.chance(0.5)) {
        this.stats.tornWrites++;
        torn = ` (${n.disk.tornWrite(this.diskRng, rd.hardState, rd.entries, rd.snapshot)})`;
      } else {
        torn = " (in-flight write lost)";
      }
    }
    n.alive = false;
    n.core = null;
    n.storage = null;
    n.writing = null;
    n.incarnation++;
    this.log(`${n.id} crashes${why}${torn}`);
    for (const c of this.clients) if (c.pending && c.pending.node === n.id) this.abandon(c, "crash");
  }

  private chaos(): void {
    const r = this.rng;
    const cfg = this.cfg;
    const live = this.live();
    const members = [...this.nodes.values()].filter((n) => !n.retired);
    if (r.chance(cfg.crashP) && live.length) {
      const n = r.pick(live);
      this.crash(n, "");
      const down = r.chance(0.5) ? r.int(1, 30) : r.int(50, 1500);
      this.schedule(down, { kind: "restart", node: n.id });
    }
    if (r.chance(cfg.partitionP) && members.length > 1) {
      this.stats.partitions++;
      if (r.chance(0.7)) {
        const ids = members.map((m) => m.id);
        const a = ids.filter(() => r.chance(0.5));
        const b = ids.filter((x) => !a.includes(x));
        this.net.partition(a, b);
        this.log(`partition [${a.join(",")}] | [${b.join(",")}]`);
      } else {
        const a = r.pick(members).id;
        const b = r.pick(members).id;
        if (a !== b) {
          this.stats.oneWayCuts++;
          this.net.cutLink(a, b);
          this.log(`one-way link cut ${a}->${b}`);
        }
      }
    }
    if (this.net.cutCount() && r.chance(0.2)) {
      this.stats.heals++;
      if (r.chance(0.5)) {
        this.net.healAll();
        this.log("network heals");
      } else {
        const l = this.net.healRandom();
        this.log(`link ${l} heals`);
      }
    }
    if (r.chance(0.05) && live.length) {
      const n = r.pick(live);
      n.tickPeriod = r.int(6, 16);
      this.stats.skews++;
      this.log(`${n.id} clock now ticks every ${n.tickPeriod}`);
    }
    if (r.chance(cfg.rotP) && this.damaged === null) {
      const n = r.pick(members);
      const snap = r.chance(0.25);
      const idx = snap ? n.disk.rotSnapshot(this.diskRng) : n.disk.rot(this.diskRng);
      if (idx) {
        this.stats.rots++;
        if (snap) this.stats.snapshotRots++;
        this.damaged = n.id;
        this.log(`${n.id} disk rots ${snap ? "the snapshot at" : "entry"} ${idx}`);
        if (n.alive && r.chance(0.7)) {
          this.crash(n, " (to find the rot)");
          this.schedule(r.int(1, 50), { kind: "restart", node: n.id });
        }
      }
    }
    if (r.chance(cfg.confP)) this.membershipChange();
    if (r.chance(cfg.transferP)) {
      const l = this.leader();
      if (l) {
        const others = l.core!.tracker.voters.filter((v) => v !== l.id);
        if (others.length) {
          const to = r.pick(others);
          if (l.core!.transferLeadership(to)) {
            this.stats.transfers++;
            this.log(`${l.id} transfers leadership to ${to}`);
            this.afterStep(l);
          }
        }
      }
    }
    // A damaged node that is not crashed keeps its rot latent; make sure it is eventually found.
    if (this.damaged && r.chance(0.1)) {
      const n = this.nodes.get(this.damaged)!;
      if (n.alive && !n.core!.status().recovering) {
        this.crash(n, " (to find the rot)");
        this.schedule(r.int(1, 50), { kind: "restart", node: n.id });
      }
    }
  }

  private maybeKillLeader(n: SimNode): void {
    if (this.healed || !this.rng.chance(this.cfg.leaderKillP)) return;
    this.schedule(this.rng.chance(0.5) ? 0 : this.rng.int(1, 15), { kind: "kill", node: n.id, inc: n.incarnation });
  }

  private membershipChange(): void {
    const l = this.leader();
    if (!l) return;
    const core = l.core!;
    const conf = core.currentConf();
    const r = this.rng;
    const choice = r.int(0, 3);
    if (choice === 0 && this.spares.length) {
      const id = this.spares[0]!;
      const res = core.proposeConfChange({ type: "addLearner", nodeId: id });
      this.log(`${l.id} proposes addLearner ${id}: ${res.ok ? `index ${res.index}` : res.reason}`);
      if (res.ok) {
        this.stats.confChanges++;
        this.spares.shift();
        this.startFresh(id, { voters: [], learners: [] });
      }
    } else if (choice === 1 && conf.learners.length) {
      const id = r.pick(conf.learners);
      const res = core.proposeConfChange({ type: "addVoter", nodeId: id });
      this.log(`${l.id} proposes addVoter ${id}: ${res.ok ? `index ${res.index}` : `${res.reason} ${res.detail ?? ""}`}`);
      if (res.ok) this.stats.confChanges++;
    } else if (choice === 2 && conf.voters.length > 3) {
      const id = r.pick(conf.voters);
      const res = core.proposeConfChange({ type: "removeNode", nodeId: id });
      this.log(`${l.id} proposes removeNode ${id}: ${res.ok ? `index ${res.index}` : res.reason}`);
      if (res.ok) {
        this.stats.confChanges++;
        this.pendingRemovals.push({ id, index: res.index, term: res.term });
      }
    } else if (choice === 3 && conf.voters.length > 3 && r.chance(0.5)) {
      // Demotion: a voter (perhaps the leader itself) becomes a learner.
      const id = r.pick(conf.voters);
      const res = core.proposeConfChange({ type: "addLearner", nodeId: id });
      this.log(`${l.id} proposes to demote ${id} to learner: ${res.ok ? `index ${res.index}` : res.reason}`);
      if (res.ok) this.stats.confChanges++;
    } else if (choice === 3 && conf.learners.length) {
      const id = r.pick(conf.learners);
      const res = core.proposeConfChange({ type: "removeNode", nodeId: id });
      this.log(`${l.id} proposes removeNode ${id} (a learner): ${res.ok ? `index ${res.index}` : res.reason}`);
      if (res.ok) {
        this.stats.confChanges++;
        this.pendingRemovals.push({ id, index: res.index, term: res.term });
      }
    }
    this.afterStep(l);
  }

  /** A node whose removal committed leaves for good (ids are never reused). */
  private retireRemoved(): void {
    for (let i = 0; i < this.pendingRemovals.length; i++) {
      const p = this.pendingRemovals[i]!;
      const ct = this.checker.committedTerm[p.index];
      if (!ct) continue;
      this.pendingRemovals.splice(i--, 1);
      if (ct !== p.term) continue;
      const n = this.nodes.get(p.id)!;
      // Retire only if no later configuration re-added it (it cannot be, ids are fresh, but be exact).
      this.crash(n, " (removed from the configuration)");
      n.retired = true;
      if (this.damaged === n.id) this.damaged = null;
    }
  }

  private heal(): void {
    this.healed = true;
    this.net.healAll();
    this.net.profile = { ...this.net.profile, dropP: 0, dupP: 0, longDelayP: 0 };
    this.log("faults stop: network heals, crashed nodes restart");
    for (const n of this.nodes.values()) {
      if (!n.alive && !n.retired && n.started) this.boot(n);
    }
    this.schedule(TICK, { kind: "probe" });
    this.deadline = this.now + this.livenessTicks * TICK;
  }

  // ---------------------------------------------------------------- liveness

  private livenessReport(): string {
    const parts: string[] = [];
    for (const n of this.nodes.values()) {
      if (!n.alive) {
        parts.push(`${n.id}:${n.retired ? "retired" : "down"}`);
        continue;
      }
      const s = n.core!.status();
      parts.push(`${n.id}:${s.role[0]}${s.recovering ? "R" : ""}${s.quiesced ? "Q" : ""} t${s.term} c${s.commit} a${s.applied} l${s.lastIndex} [${s.conf.voters}|${s.conf.learners}]`);
    }
    return `${parts.join(" ")}; probe ${this.probe ? `${this.probe.index}/${this.probe.term}` : "none"}`;
  }

  private livenessProbe(): void {
    this.schedule(TICK, { kind: "probe" });
    if (this.phase === 2) return this.idlePhase();
    const l = this.leader();
    if (!l) return;
    const core = l.core!;
    if (this.probe && this.checker.committedTerm[this.probe.index] && this.checker.committedTerm[this.probe.index] !== this.probe.term) this.probe = null;
    if (this.probe && this.probe.term !== core.term) this.probe = null;
    if (!this.probe) {
      const res = core.propose(encodePut({ opId: this.nextOpId++, key: "probe", value: 0 }));
      if (res.ok) this.probe = { index: res.index, term: res.term, node: l.id };
      this.afterStep(l);
      return;
    }
    const conf = core.currentConf();
    if (!this.catchUpBound && this.checker.committedTerm[this.probe.index] === this.probe.term) {
      // Progress resumed. Members far behind then need time in proportion to what they lack (with
      // one-entry appends and one in flight, a round trip per entry): the bound grows by 5 ticks per entry.
      this.catchUpBound = true;
      this.deadline = this.now + (this.livenessTicks + 5 * this.lag(l)) * TICK;
    }
    for (const id of [...conf.voters, ...conf.learners]) {
      const n = this.nodes.get(id);
      if (n?.retired) continue;
      if (!n || !n.alive) return;
      const s = n.core!.status();
      if (s.recovering || s.applied < this.probe.index) {
        // A recovering node needs the log to reach its watermark: keep it growing.
        if (s.recovering && core.log.lastIndex() - core.log.committed < 8) {
          core.propose(encodePut({ opId: this.nextOpId++, key: "probe", value: 0 }));
          this.afterStep(l);
        }
        return;
      }
    }
    if (this.phase === 3 || l.core!.tracker.voters.length < 3) {
      this.livenessDone = true;
      return;
    }
    this.phase = 2;
    this.probe = null;
    this.phaseStart = this.now;
    this.deadline = this.now + (this.livenessTicks + 5 * this.lag(l)) * TICK;
  }

  /** How many entries the member furthest behind the leader `l` lacks (a recovering one: up to its watermark). */
  private lag(l: SimNode): number {
    const core = l.core!;
    const conf = core.currentConf();
    let lag = 0;
    for (const id of [...conf.voters, ...conf.learners]) {
      const n = this.nodes.get(id);
      if (!n?.alive) continue;
      const target = Math.max(core.log.lastIndex(), n.storage!.recoveryWatermark());
      lag = Math.max(lag, target - n.core!.log.applied);
    }
    return lag;
  }

  /** Phase 2: the cluster is idle; once it has quiesced (or idled a while, without quiescence) its leader crashes for good. */
  private idlePhase(): void {
    const l = this.leader();
    if (!l) return;
    // Members still catching up (with one-entry appends over a slow network, that takes a while)
    // cannot quiesce yet; the leader dies only once they hold everything it has.
    const conf = l.core!.currentConf();
    const last = l.core!.log.lastIndex();
    for (const id of [...conf.voters, ...conf.learners]) {
      const n = this.nodes.get(id)!;
      if (n.alive && (n.core!.log.applied < last || (this.cfg.quiesce && !n.core!.quiesced))) return;
    }
    if (this.now < this.phaseStart + 30 * TICK) return;
    this.phase = 3;
    this.catchUpBound = false;
    this.oldLeader = l.id;
    this.crash(l, " for good (the idle cluster's leader)");
    l.retired = true;
    this.deadline = this.now + this.livenessTicks * TICK;
  }

  private finalChecks(): void {
    for (const a of this.acked) {
      const at = this.checker.opIndex.get(a.opId);
      if (at !== a.index) throw new InvariantViolation(`acknowledged proposal ${a.opId} (index ${a.index}) is at ${at ?? "nowhere"} in the committed log`);
    }
    const l = this.leader()!;
    const conf = l.core!.currentConf();
    for (const id of [...conf.voters, ...conf.learners]) {
      const applied = this.checker.appliedIndex(id);
      for (const a of this.acked) {
        if (a.index > applied) throw new InvariantViolation(`${id} has applied ${applied}, short of acknowledged proposal at ${a.index}`);
      }
    }
    const lin = checkLinearizable(this.history);
    this.stats.historyOps = this.history.length;
    if (lin.unknown) this.stats.linUnknown++;
    if (!lin.ok) {
      const ops = this.history.filter((o) => o.key === lin.key).sort((x, y) => x.call - y.call);
      const show = ops.slice(-30).map((o) => `c${o.clientId} ${o.kind} ${o.value ?? "-"} [${o.call},${o.ret === Infinity ? "?" : o.ret}]`);
      throw new InvariantViolation(`linearizability: history of key ${lin.key} has no linearization; its ${ops.length > 30 ? "last 30 " : ""}operations (client, op, value, [call,return]): ${show.join("; ")}`);
    }
  }

  // ---------------------------------------------------------------- clients

  private clientStep(c: Client): void {
    if (this.healed || c.pending) return;
    const r = this.rng;
    const live = this.live();
    const think = () => this.schedule(r.int(1, 30), { kind: "client", client: c.id });
    if (!live.length) return think();
    const leaders = live.filter((n) => n.core!.role === Role.Leader);
    const n = leaders.length && r.chance(0.8) ? r.pick(leaders) : r.pick(live);
    const key = `k${r.int(0, 2)}`;
    const opId = this.nextOpId++;
    const p: Pending = {
      kind: "put",
      opId,
      node: n.id,
      incarnation: n.incarnation,
      key,
      value: opId,
      index: 0,
      term: 0,
      readIndex: 0,
      ctx: "",
      call: 0,
      historyIdx: -1,
    };
    if (r.chance(0.5)) {
      const res = n.core!.propose(encodePut({ opId, key, value: opId }));
      this.log(`client ${c.id} put ${key}=${opId} via ${n.id}: ${res.ok ? `index ${res.index}/${res.term}` : res.reason}`);
      if (!res.ok) return think();
      p.index = res.index;
      p.term = res.term;
      p.call = ++this.hclock;
      this.history.push({ clientId: c.id, kind: "put", key, value: opId, call: p.call, ret: Infinity });
      p.historyIdx = this.history.length - 1;
    } else {
      p.kind = "get";
      p.ctx = `r${opId}`;
      p.call = ++this.hclock;
      const ok = n.core!.readIndex(p.ctx);
      this.log(`client ${c.id} get ${key} via ${n.id}${ok ? "" : ": no leader"}`);
      if (!ok) return think();
      n.reads.set(p.ctx, c);
    }
    this.stats.ops++;
    c.pending = p;
    this.schedule(r.int(100, 400), { kind: "timeout", client: c.id, opId });
    this.afterStep(n);
  }

  private abandon(c: Client, why: string): void {
    // An abandoned put stays in the history with an unknown outcome (it may still commit);
    // an abandoned get simply never happened as far as the history is concerned.
    void why;
    const p = c.pending!;
    if (p.kind === "get") this.nodes.get(p.node)?.reads.delete(p.ctx);
    c.pending = null;
    this.schedule(this.rng.int(1, 30), { kind: "client", client: c.id });
  }

  private onApplied(n: SimNode, index: number, term: number, data: Uint8Array): void {
    for (const c of this.clients) {
      const p = c.pending;
      if (!p || p.kind !== "put" || p.node !== n.id || p.index !== index || p.incarnation !== n.incarnation) continue;
      if (p.term === term) {
        const op = decodePut(data);
        if (!op || op.opId !== p.opId) throw new InvariantViolation(`${n.id} applied a different proposal at ${index}/${term} than the one proposed`);
        this.history[p.historyIdx]!.ret = ++this.hclock;
        this.acked.push({ opId: p.opId, index });
        this.stats.acked++;
        c.pending = null;
        this.schedule(this.rng.int(1, 30), { kind: "client", client: c.id });
      } else {
        this.abandon(c, "overwritten");
      }
    }
  }

  private completeReads(n: SimNode): void {
    const applied = n.core!.log.applied;
    for (const c of this.clients) {
      const p = c.pending;
      if (!p || p.kind !== "get" || p.node !== n.id || p.incarnation !== n.incarnation || !p.readIndex || applied < p.readIndex) continue;
      this.history.push({ clientId: c.id, kind: "get", key: p.key, value: n.kv.get(p.key), call: p.call, ret: ++this.hclock });
      c.pending = null;
      this.schedule(this.rng.int(1, 30), { kind: "client", client: c.id });
    }
  }
}

const MessageNames: Record<number, string> = {
  1: "App",
  2: "AppResp",
  3: "Vote",
  4: "VoteResp",
  5: "PreVote",
  6: "PreVoteResp",
  7: "Heartbeat",
  8: "HeartbeatResp",
  9: "Snap",
  10: "TimeoutNow",
  11: "ReadIndex",
  12: "ReadIndexResp",
  13: "Quiesce",
  14: "QuiesceResp",
};

export function runSimulation(opts: SimOptions): SimResult {
  return new Simulation(opts).run();
}
