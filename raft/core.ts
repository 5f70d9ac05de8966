// RaftCore: the pure, synchronous Raft state machine (the shape of etcd-raft's raft + RawNode).
// Inputs: step(message), tick(), propose(), proposeConfChange(), readIndex(), transferLeadership().
// Output: ready() batches that the caller persists, sends and applies, then acknowledges with advance().
// No clock, timer, randomness source or I/O lives in here: time is tick(), randomness is config.random.
import { ConfHistory, applyConfChange, cloneConf, encodeConfEntry } from "./conf.js";
import { RaftLog } from "./log.js";
import { ProgressState } from "./progress.js";
import { ReadOnly } from "./read_only.js";
import type { Storage } from "./storage.js";
import { ProgressTracker } from "./tracker.js";
import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  NONE,
  type NodeId,
  type ReadState,
  type Ready,
  Role,
  type SoftState,
  emptyMessage,
} from "./types.js";

export interface RaftConfig {
  id: NodeId;
  storage: Storage;
  /** Uniform random number in [0, 1): the only source of randomness (randomized election timeouts). */
  random: () => number;
  /** Ticks without hearing from a leader before campaigning (randomized in [electionTick, 2*electionTick)). */
  electionTick?: number;
  heartbeatTick?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /** Upper bound on the data bytes of one append message (at least one entry is always sent). */
  maxMsgBytes?: number;
  /** Appends in flight to one follower before pipelining pauses. */
  maxInflightMsgs?: number;
  /** Upper bound on the data bytes of committed entries handed out by one Ready. */
  maxApplyBytes?: number;
  /** Proposals are refused while this many entries are uncommitted (bounded memory). */
  maxUncommittedEntries?: number;
  /**
   * Idle groups quiesce: once everything is committed and every member has it, the leader sends
   * Quiesce heartbeats instead of heartbeats; members that hold everything stop their election timers
   * and say so, and once all have, the leader stops too. An idle group then costs no ticks and no
   * messages. Anything new (a proposal, a read, a campaign, a higher term, new entries) wakes it;
   * duplicated or late messages that carry nothing new do not. A quiesced follower cannot notice its
   * leader dying by itself: the driver must watch the leader's node (one liveness signal per pair of
   * nodes, not per group) and call unquiesce() when it stops hearing from it. Use with PreVote: a
   * member that wakes alone then asks before it disrupts.
   */
  quiesce?: boolean;
  /** Index the state machine has already applied (on restart: the snapshot's index, or more if it persists its state). */
  applied?: number;
  logger?: (level: "info" | "warn", msg: string) => void;
}

export type ProposeResult =
  | { ok: true; index: number; term: number }
  | { ok: false; reason: "not-leader" | "transferring" | "too-many-uncommitted" | "conf-change-pending" | "not-ready" | "invalid"; detail?: string };

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
}

export interface RaftStatus {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  applied: number;
  lastIndex: number;
  role: Role;
  lead: NodeId;
  leadTransferee: NodeId;
  recovering: boolean;
  quiesced: boolean;
  conf: ConfState;
  progress: Map<NodeId, ProgressStatus> | null;
}

const TRANSFER = "transfer";

export class RaftCore {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role = Role.Follower;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  protected readOnly = new ReadOnly();

  protected readonly electionTimeout: number;
  protected readonly heartbeatTimeout: number;
  protected readonly preVote: boolean;
  protected readonly checkQuorum: boolean;
  protected readonly maxMsgBytes: number;
  protected readonly maxApplyBytes: number;
  protected readonly maxUncommitted: number;
  protected readonly quiesceEnabled: boolean;
  /** The group is idle: tick() does nothing (see RaftConfig.quiesce). */
  quiesced = false;
  /** Leader: sending Quiesce heartbeats in attempt quiesceEpoch; quiesceAcks are the members that quiesced in it. */
  private quiescing = false;
  private quiesceEpoch = 0;
  private readonly quiesceAcks = new Set<NodeId>();
  private readonly random: () => number;
  private readonly logger: ((level: "info" | "warn", msg: string) => void) | undefined;

  protected electionElapsed = 0;
  protected heartbeatElapsed = 0;
  protected randomizedElectionTimeout = 0;
  leadTransferee: NodeId = NONE;
  /** Index of the latest configuration entry appended while leader; a new change waits until it commits. */
  protected pendingConfIndex = 0;
  /** See InitialState.recoveryWatermark. */
  protected recoveryWatermark: number;

  private readonly confs: ConfHistory;

  protected msgs: Message[] = [];
  protected readStates: ReadState[] = [];
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  private pendingReads: { from: NodeId; context: string }[] = [];
  /** Proposals appended since the last Ready: followers get them in one batched append. */
  private appendPending = false;
  /** The commit index advanced since the last Ready: followers with nothing else to receive get an empty append. */
  private commitPending = false;

  private prevHard: HardState;
  private prevSoft: SoftState;
  private outstanding: Ready | null = null;

  constructor(cfg: RaftConfig) {
    this.id = cfg.id;
    this.electionTimeout = cfg.electionTick ?? 10;
    this.heartbeatTimeout = cfg.heartbeatTick ?? 1;
    if (this.heartbeatTimeout >= this.electionTimeout) throw new Error("heartbeatTick must be less than electionTick");
    this.preVote = cfg.preVote ?? true;
    this.checkQuorum = cfg.checkQuorum ?? true;
    this.maxMsgBytes = cfg.maxMsgBytes ?? 1 << 20;
    this.maxApplyBytes = cfg.maxApplyBytes ?? 16 << 20;
    this.maxUncommitted = cfg.maxUncommittedEntries ?? 1 << 16;
    this.quiesceEnabled = cfg.quiesce ?? false;
    this.random = cfg.random;
    this.logger = cfg.logger;
    this.tracker = new ProgressTracker(cfg.maxInflightMsgs ?? 256);

    const st = cfg.storage.initialState();
    this.log = new RaftLog(cfg.storage, cfg.applied ?? 0);
    const hs = st.hardState;
    this.term = hs.term;
    this.vote = hs.vote;
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new Error(`hard state commit ${hs.commit} out of range [${this.log.committed}, ${this.log.lastIndex()}]`);
    }
    this.log.commitTo(hs.commit);
    if (this.log.applied > this.log.committed) throw new Error(`applied ${this.log.applied} beyond commit ${this.log.committed}`);

    const snap = cfg.storage.snapshot();
    this.confs = new ConfHistory(snap.meta.index, st.conf);
    this.scanConfEntries(this.log.firstIndex(), this.log.lastIndex());
    this.tracker.setConf(this.currentConf(), this.log.lastIndex() + 1);

    this.recoveryWatermark = st.recoveryWatermark > this.log.lastIndex() ? st.recoveryWatermark : 0;
    if (this.recoveryWatermark) {
      this.logger?.("warn", `${this.id}: log damaged; will not vote or campaign until it again reaches index ${this.recoveryWatermark}`);
    }
    this.becomeFollower(this.term, NONE);
    this.prevHard = this.hardState();
    this.prevSoft = this.softState();
  }

  // ---------------------------------------------------------------- public API

  tick(): void {
    if (this.quiesced) return;
    if (this.role === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  /** Starts an election now (as if the election timeout elapsed). */
  campaign(): void {
    this.wake();
    this.hup(false);
  }

  /**
   * Wakes a quiesced group. The driver calls this on a follower when it stops hearing from the
   * leader's node: its lease on that leader has run out (it grants votes again), and it campaigns
   * within one election timeout unless it hears from a leader.
   */
  unquiesce(): void {
    if (!this.quiesced) return;
    this.wake();
    if (this.role !== Role.Leader) this.electionElapsed = Math.max(this.electionElapsed, this.electionTimeout);
  }

  private wake(): void {
    this.quiesced = false;
    this.quiescing = false;
  }

  propose(data: Uint8Array): ProposeResult {
    this.wake();
    const refused = this.refuseProposal();
    if (refused) return refused;
    const e = this.appendEntry(EntryType.Normal, data);
    return { ok: true, index: e.index, term: e.term };
  }

  /**
   * Proposes a single-server membership change. Refused while another change is uncommitted and until
   * this leader has committed an entry of its own term (the fix to single-server changes in Ongaro's
   * errata), and, when promoting a learner, until it has caught up to the commit index.
   */
  proposeConfChange(cc: ConfChange): ProposeResult {
    this.wake();
    const refused = this.refuseProposal();
    if (refused) return refused;
    if (this.pendingConfIndex > this.log.committed) return { ok: false, reason: "conf-change-pending" };
    if (this.log.term(this.log.committed) !== this.term) return { ok: false, reason: "not-ready", detail: "no entry of this term committed yet" };
    const conf = applyConfChange(this.currentConf(), cc);
    if (typeof conf === "string") return { ok: false, reason: "invalid", detail: conf };
    if (cc.type === "addVoter") {
      const pr = this.tracker.progress.get(cc.nodeId);
      if (pr && pr.isLearner && pr.match < this.log.committed) return { ok: false, reason: "not-ready", detail: "learner has not caught up" };
    }
    const e = this.appendEntry(EntryType.ConfChange, encodeConfEntry({ change: cc, conf }));
    this.pendingConfIndex = e.index;
    return { ok: true, index: e.index, term: e.term };
  }

  /**
   * Requests a linearizable read. A ReadState with this context appears in a later Ready once the
   * leader has confirmed its leadership; returns false when no leader is known (retry later).
   */
  readIndex(context: string): boolean {
    this.wake();
    if (this.role === Role.Leader) return this.leaderReadIndex(this.id, context);
    if (this.lead === NONE) return false;
    const m = emptyMessage(MessageType.ReadIndex, this.id, this.lead, 0);
    m.context = context;
    this.msgs.push(m);
    return true;
  }

  /** Hands leadership to `to` once it has caught up (for stepdown). Proposals are refused meanwhile. */
  transferLeadership(to: NodeId): boolean {
    this.wake();
    if (this.role !== Role.Leader || to === this.id) return false;
    const pr = this.tracker.progress.get(to);
    if (!pr || pr.isLearner) return false;
    if (this.leadTransferee === to) return true;
    this.leadTransferee = to;
    // The transfer must finish within one election timeout or it is abandoned.
    this.electionElapsed = 0;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.maybeSendAppend(to, true);
    return true;
  }

  /** The transport could not reach `id`: stop optimistic pipelining to it. */
  reportUnreachable(id: NodeId): void {
    const pr = this.tracker.progress.get(id);
    if (this.role === Role.Leader && pr && pr.state === ProgressState.Replicate) pr.becomeProbe();
  }

  /** The result of sending a snapshot to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    const pr = this.tracker.progress.get(id);
    if (this.role !== Role.Leader || !pr || pr.state !== ProgressState.Snapshot) return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the follower's response (or the next heartbeat) before probing again.
    pr.probeSent = true;
  }

  step(m: Message): void {
    if ((this.quiesced || this.quiescing) && !this.isIdleNoise(m)) this.wake();
    if (m.term === 0) {
      // Only forwarded ReadIndex requests travel without a term.
      if (m.type === MessageType.ReadIndex) this.stepByRole(m);
      return;
    }
    if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = m.context === TRANSFER;
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        // A node that heard from a leader recently ignores campaigns: a partitioned or removed node
        // coming back must not disrupt a healthy leader.
        if (!force && inLease) return;
      }
      if (m.type === MessageType.PreVote) {
        // A pre-vote never changes our term.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // A granted pre-vote carries the future term; we bump our term only when we win the pre-vote.
      } else if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Quiesce || m.type === MessageType.Snap) {
        this.becomeFollower(m.term, m.from);
      } else {
        // Learning a higher term from anything but a leader does not restart the election timer
        // (Raft §5.2: only leader contact or a granted vote does). Otherwise a node with a stale log and
        // a fast clock, campaigning again and again, keeps the nodes that could win from ever trying.
        const elapsed = this.electionElapsed;
        this.becomeFollower(m.term, NONE);
        this.electionElapsed = elapsed;
      }
    } else if (m.term < this.term) {
      if (m.type === MessageType.Heartbeat || m.type === MessageType.Quiesce || m.type === MessageType.App) {
        // A stale leader (e.g. one that was partitioned away while we moved on) learns our term from
        // this and steps down. Without it, PreVote/CheckQuorum could leave it leading forever, and so
        // could a node that cannot campaign to spread its term (a recovering one).
        this.send(emptyMessage(MessageType.AppResp, this.id, m.from, this.term));
      } else if (m.type === MessageType.PreVote) {
        const r = emptyMessage(MessageType.PreVoteResp, this.id, m.from, this.term);
        r.reject = true;
        this.send(r);
      }
      return;
    }

    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      this.handleVoteRequest(m);
      return;
    }
    this.stepByRole(m);
  }

  hasReady(): boolean {
    if (this.outstanding) return false;
    if (this.msgs.length || this.readStates.length || this.appendPending || this.commitPending) return true;
    const u = this.log.unstable;
    if (u.nextSnapshot() || u.offsetInProgress < u.offset + u.entries.length) return true;
    if (this.log.hasNextCommittedEnts()) return true;
    // Called for every group on every tick: compare in place rather than building the states.
    const ph = this.prevHard;
    if (this.term !== ph.term || this.log.committed !== ph.commit) return true;
    if (this.vote !== ph.vote && !hardStateEqual(this.hardState(), ph)) return true;
    const ps = this.prevSoft;
    return this.lead !== ps.lead || this.role !== ps.role || (this.recoveryWatermark > 0) !== ps.recovering;
  }

  /** Takes the next batch of work. Only one Ready may be outstanding: call advance() before the next. */
  ready(): Ready {
    if (this.outstanding) throw new Error("ready() called before advance() of the previous Ready");
    this.flushAppends();
    const u = this.log.unstable;
    const snapshot = u.nextSnapshot();
    const entries = u.nextEntries();
    const hs = this.hardState();
    const ss = this.softState();
    const hardChanged = !hardStateEqual(hs, this.prevHard);
    const rd: Ready = {
      softState: ss.lead !== this.prevSoft.lead || ss.role !== this.prevSoft.role || ss.recovering !== this.prevSoft.recovering ? ss : null,
      hardState: hardChanged ? hs : null,
      entries,
      snapshot,
      committedEntries: snapshot ? [] : this.log.nextCommittedEnts(this.maxApplyBytes),
      messages: this.msgs,
      readStates: this.readStates,
      mustSync: entries.length > 0 || (hardChanged && (hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote)) || snapshot !== null,
    };
    this.msgs = [];
    this.readStates = [];
    u.acceptInProgress();
    if (rd.softState) this.prevSoft = rd.softState;
    this.outstanding = rd;
    return rd;
  }

  /** The caller persisted `rd`'s snapshot, entries and hard state, sent its messages and applied its committed entries. */
  advance(rd: Ready): void {
    if (rd !== this.outstanding) throw new Error("advance() with a Ready that is not the outstanding one");
    this.outstanding = null;
    if (rd.hardState) this.prevHard = rd.hardState;
    if (rd.snapshot) {
      const idx = rd.snapshot.meta.index;
      this.log.stableSnapTo(idx);
      if (idx > this.log.applied) this.log.applied = idx;
    }
    if (rd.entries.length) {
      const last = rd.entries[rd.entries.length - 1]!;
      this.log.stableTo(last.index, last.term);
      if (this.role === Role.Leader && this.log.matchTerm(last.index, last.term)) {
        // The leader counts its own entries toward commit only once they are on its disk.
        this.tracker.progress.get(this.id)?.maybeUpdate(last.index);
        if (this.maybeCommit()) this.afterCommit();
      }
    }
    if (rd.committedEntries.length) this.log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index);
  }

  status(withProgress = false): RaftStatus {
    let progress: Map<NodeId, ProgressStatus> | null = null;
    if (withProgress && this.role === Role.Leader) {
      progress = new Map();
      for (const [id, p] of this.tracker.progress) {
        progress.set(id, { match: p.match, next: p.next, state: p.state, isLearner: p.isLearner, recentActive: p.recentActive });
      }
    }
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      role: this.role,
      lead: this.lead,
      leadTransferee: this.leadTransferee,
      recovering: this.recoveryWatermark > 0,
      quiesced: this.quiesced,
      conf: cloneConf(this.currentConf()),
      progress,
    };
  }

  /** The configuration in force: the latest in the log. */
  currentConf(): ConfState {
    return this.confs.current();
  }

  /** The configuration as of log index i, for snapshots the state machine takes at its applied index. */
  confStateAt(i: number): ConfState {
    return this.confs.at(i);
  }

  // ---------------------------------------------------------------- hard/soft state (overridable by fault-injection tests)

  protected hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  protected softState(): SoftState {
    return { lead: this.lead, role: this.role, recovering: this.recoveryWatermark > 0 };
  }

  // ---------------------------------------------------------------- role transitions

  private resetTerm(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.wake();
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
    this.leadTransferee = NONE;
    this.tracker.resetVotes();
    const next = this.log.lastIndex() + 1;
    for (const [id, pr] of this.tracker.progress) {
      pr.match = 0;
      pr.next = next;
      pr.becomeProbe();
      pr.next = next;
      pr.recentActive = false;
      if (id === this.id) pr.match = this.log.persistedLastIndex();
    }
    this.pendingConfIndex = 0;
    this.readOnly = new ReadOnly();
    this.pendingReads = [];
    this.appendPending = false;
    this.commitPending = false;
  }

  protected becomeFollower(term: number, lead: NodeId): void {
    this.resetTerm(term);
    this.lead = lead;
    this.role = Role.Follower;
  }

  private becomePreCandidate(): void {
    // A pre-candidate changes neither term nor vote: a failed pre-vote leaves no trace.
    this.tracker.resetVotes();
    this.lead = NONE;
    this.role = Role.PreCandidate;
  }

  private becomeCandidate(): void {
    this.resetTerm(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  private becomeLeader(): void {
    this.resetTerm(this.term);
    this.lead = this.id;
    this.role = Role.Leader;
    const self = this.tracker.progress.get(this.id);
    if (self) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // A configuration entry this leader inherited may be uncommitted: no new change until it commits.
    this.pendingConfIndex = this.confs.lastEntryIndex();
    // The empty entry of the new term is what lets earlier-term entries commit (Raft §5.4.2).
    this.appendEntry(EntryType.Normal, new Uint8Array(0));
    this.logger?.("info", `${this.id} became leader at term ${this.term}`);
  }

  /**
   * Whether this node may campaign. A voter of the configuration before an uncommitted configuration
   * entry that removes it still may (counting votes by the new configuration): it may hold the longest
   * log, and without it no one could be elected to commit its removal (Raft thesis §4.2.2).
   */
  protected promotable(): boolean {
    if (this.recoveryWatermark !== 0) return false;
    if (this.tracker.isVoter(this.id)) return true;
    const last = this.confs.lastEntryIndex();
    if (last === 0 || last <= this.log.committed) return false;
    return this.confs.previous().voters.includes(this.id);
  }

  // ---------------------------------------------------------------- elections

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed < this.randomizedElectionTimeout) return;
    if (this.promotable()) {
      this.electionElapsed = 0;
      this.hup(false);
    } else if (this.quiesceEnabled && this.role === Role.Follower && this.lead !== NONE) {
      // A member that may not campaign (a learner, a recovering node) has nothing to time out for:
      // it sleeps again rather than tick for a leader that went quiet (its driver still wakes it if the
      // leader's node falls silent, and anything new from the leader does). Its lease on that leader
      // has run out, and stays so while it sleeps: it grants votes to others.
      this.quiesced = true;
    } else {
      this.electionElapsed = 0;
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        if (!this.tracker.quorumActive(this.id)) {
          this.logger?.("warn", `${this.id} steps down at term ${this.term}: no quorum heard from`);
          this.becomeFollower(this.term, NONE);
          return;
        }
        for (const [id, pr] of this.tracker.progress) pr.recentActive = id === this.id;
      }
      for (const pr of this.tracker.progress.values()) {
        // A snapshot not acknowledged within a whole election timeout was lost: probe (and resend) again.
        if (pr.state !== ProgressState.Snapshot) continue;
        if (pr.snapshotRounds++ >= 1) pr.becomeProbe();
      }
      if (this.leadTransferee !== NONE) this.leadTransferee = NONE;
    }
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      if (this.quiesceEnabled && this.canQuiesce()) {
        this.bcastQuiesce();
        return;
      }
      this.quiescing = false;
      this.bcastHeartbeat(this.readOnly.lastPendingContext());
    }
  }

  private hup(transfer: boolean): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    if (this.preVote && !transfer) this.runElection(true, false);
    else this.runElection(false, transfer);
  }

  private runElection(pre: boolean, transfer: boolean): void {
    let term: number;
    let type: MessageType;
    if (pre) {
      this.becomePreCandidate();
      type = MessageType.PreVote;
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      type = MessageType.Vote;
      term = this.term;
    }
    // Our own vote: sent to the world only after the Ready persisting it, like every message.
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes().result === "won") {
      if (pre) this.runElection(false, transfer);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      const m = emptyMessage(type, this.id, id, term);
      m.index = lastIndex;
      m.logTerm = lastTerm;
      if (transfer) m.context = TRANSFER;
      this.msgs.push(m);
    }
  }

  private handleVoteRequest(m: Message): void {
    const pre = m.type === MessageType.PreVote;
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (pre && m.term > this.term);
    const respType = pre ? MessageType.PreVoteResp : MessageType.VoteResp;
    if (canVote && this.recoveryWatermark === 0 && this.log.isUpToDate(m.index, m.logTerm)) {
      // The response carries the candidate's term, so a granted pre-vote counts at the term it is for.
      this.send(emptyMessage(respType, this.id, m.from, m.term));
      if (!pre) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      const r = emptyMessage(respType, this.id, m.from, this.term);
      r.reject = true;
      this.send(r);
    }
  }

  private stepByRole(m: Message): void {
    switch (this.role) {
      case Role.Leader:
        this.stepLeader(m);
        break;
      case Role.Candidate:
      case Role.PreCandidate:
        this.stepCandidate(m);
        break;
      default:
        this.stepFollower(m);
    }
  }

  private stepCandidate(m: Message): void {
    const myResp = this.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.App:
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Quiesce:
        this.becomeFollower(m.term, m.from);
        this.handleQuiesce(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myResp: {
        this.tracker.recordVote(m.from, !m.reject);
        const { result } = this.tracker.tallyVotes();
        if (result === "won") {
          if (this.role === Role.PreCandidate) this.runElection(false, false);
          else this.becomeLeader();
        } else if (result === "lost") {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Quiesce:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleQuiesce(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        // Leadership transfer: campaign at once, skipping pre-vote, with the force flag voters honour.
        this.hup(true);
        return;
      case MessageType.ReadIndex:
        if (this.lead === NONE) return;
        this.msgs.push({ ...m, to: this.lead });
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- follower side of replication

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      const r = emptyMessage(MessageType.AppResp, this.id, m.from, this.term);
      r.index = this.log.committed;
      this.send(r);
      return;
    }
    const res = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (res) {
      if (res.from) this.noteAppended(res.from, m.entries.slice(res.from - (m.index + 1)));
      if (this.recoveryWatermark && res.lastNew >= this.recoveryWatermark) this.endRecovery();
      const r = emptyMessage(MessageType.AppResp, this.id, m.from, this.term);
      r.index = res.lastNew;
      this.send(r);
      return;
    }
    // Conflict hint (etcd-raft's optimisation of §5.3): skip every index whose term cannot match.
    const hintIndex = Math.min(m.index, this.log.lastIndex());
    const [idx, t] = this.log.findConflictByTerm(hintIndex, m.logTerm);
    const r = emptyMessage(MessageType.AppResp, this.id, m.from, this.term);
    r.index = m.index;
    r.reject = true;
    r.rejectHint = idx;
    r.logTerm = t;
    this.send(r);
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(match, commit), so this is within what we acknowledged; the clamp covers a
    // log that lost acknowledged entries to corruption (we are then recovering and do not vote).
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    const r = emptyMessage(MessageType.HeartbeatResp, this.id, m.from, this.term);
    r.context = m.context;
    this.send(r);
  }

  /** An idle heartbeat: quiesce too, if this node holds and has committed everything the leader has. */
  private handleQuiesce(m: Message): void {
    const last = this.log.lastIndex();
    this.log.commitTo(Math.min(m.commit, last));
    const whole = m.commit === last && this.log.committed === last;
    if (whole && this.recoveryWatermark) {
      // The leader quiesces only once every member matched its whole log: ours is now exactly the
      // current leader's. Whatever this node acknowledged before its damage and lost is either in
      // that log (anything committed is, by leader completeness, and so is anything it acknowledged to
      // this leader) or was never committed, so it may vote again, even short of its watermark: an
      // idle group would otherwise never bring its log up to it.
      this.endRecovery();
    }
    const idle = this.quiesceEnabled && this.recoveryWatermark === 0 && whole;
    if (idle) this.quiesced = true;
    const r = emptyMessage(idle ? MessageType.QuiesceResp : MessageType.HeartbeatResp, this.id, m.from, this.term);
    r.index = m.index;
    this.send(r);
  }

  /**
   * A message that tells a quiesced node nothing new: the idle heartbeats and their answers, messages
   * of older terms, and duplicated or late messages of the current leader (heartbeats, appends of
   * entries it already has, acknowledgements of what the leader knows matched). Anything else wakes it.
   */
  private isIdleNoise(m: Message): boolean {
    // A message of an older term only earns its sender our term in reply.
    if (m.term !== this.term) return m.term !== 0 && m.term < this.term;
    if (this.role === Role.Leader) {
      if (m.type === MessageType.HeartbeatResp || m.type === MessageType.QuiesceResp) return true;
      if (m.type !== MessageType.AppResp || m.reject) return false;
      const pr = this.tracker.progress.get(m.from);
      return pr !== undefined && m.index <= pr.match;
    }
    if (m.from !== this.lead) return false;
    switch (m.type) {
      case MessageType.Quiesce:
        return true;
      case MessageType.Heartbeat:
        return m.commit <= this.log.committed;
      case MessageType.App: {
        // Entries up to our commit index are settled (and may be compacted away here): only what
        // lies beyond it can be news.
        const c = this.log.committed;
        if (m.commit > c || (m.index > c && !this.log.matchTerm(m.index, m.logTerm))) return false;
        for (const e of m.entries) if (e.index > c && !this.log.matchTerm(e.index, e.term)) return false;
        return true;
      }
      case MessageType.Snap:
        return m.snapshot !== null && m.snapshot.meta.index <= this.log.committed;
      default:
        return false;
    }
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    const r = emptyMessage(MessageType.AppResp, this.id, m.from, this.term);
    if (s && this.restore(s)) {
      r.index = this.log.lastIndex();
    } else {
      r.index = this.log.committed;
    }
    this.send(r);
  }

  private restore(s: NonNullable<Message["snapshot"]>): boolean {
    const { index, term } = s.meta;
    if (index <= this.log.committed) return false;
    if (this.log.matchTerm(index, term)) {
      // We already hold the snapshot's last entry: everything up to it matches, just commit.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(s);
    this.confs.reset(index, s.meta.conf);
    this.tracker.setConf(this.currentConf(), this.log.lastIndex() + 1);
    if (this.recoveryWatermark && index >= this.recoveryWatermark) this.endRecovery();
    this.logger?.("info", `${this.id} restored snapshot at index ${index} term ${term}`);
    return true;
  }

  private endRecovery(): void {
    this.logger?.("info", `${this.id} caught up past its damaged log (index ${this.recoveryWatermark}); voting again`);
    this.recoveryWatermark = 0;
  }

  // ---------------------------------------------------------------- leader

  private refuseProposal(): ProposeResult | null {
    if (this.role !== Role.Leader) return { ok: false, reason: "not-leader" };
    if (this.leadTransferee !== NONE) return { ok: false, reason: "transferring" };
    if (this.log.lastIndex() - this.log.committed >= this.maxUncommitted) return { ok: false, reason: "too-many-uncommitted" };
    return null;
  }

  private appendEntry(type: EntryType, data: Uint8Array): Entry {
    const e: Entry = { term: this.term, index: this.log.lastIndex() + 1, type, data };
    this.log.append([e]);
    if (type === EntryType.ConfChange) this.noteAppended(e.index, [e]);
    this.appendPending = true;
    return e;
  }

  private stepLeader(m: Message): void {
    const pr = this.tracker.progress.get(m.from);
    switch (m.type) {
      case MessageType.ReadIndex:
        if (pr) this.leaderReadIndex(m.from, m.context);
        return;
      case MessageType.AppResp:
        if (pr) this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResp:
        if (pr) this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.QuiesceResp:
        if (!pr) return;
        pr.recentActive = true;
        if (!this.quiescing || m.index !== this.quiesceEpoch || !this.canQuiesce()) return;
        this.quiesceAcks.add(m.from);
        if (this.quiesceAcks.size === this.tracker.progress.size - 1) this.quiesced = true;
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: NonNullable<ReturnType<ProgressTracker["progress"]["get"]>>): void {
    pr.recentActive = true;
    if (m.reject) {
      if (m.rejectHint < pr.match && m.index >= pr.match) {
        // The follower rejects an append that follows what it acknowledged, its log ending before that:
        // it lost entries to corruption (it is recovering and will not vote). Start over from what it
        // still has. (A rejection of an append below the match is a late one and changes nothing.)
        pr.match = m.rejectHint;
        pr.becomeProbe();
        this.maybeSendAppend(m.from, true);
        return;
      }
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm)[0];
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.maybeSendAppend(m.from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) {
      if (wasPaused && !pr.isPaused()) this.maybeSendAppend(m.from, true);
      return;
    }
    if (pr.state === ProgressState.Probe) pr.becomeReplicate();
    else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= this.log.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Replicate) pr.inflights.freeLE(m.index);

    if (this.maybeCommit()) this.afterCommit();
    if (this.role !== Role.Leader) return;
    while (this.maybeSendAppend(m.from, false)) {
      // Keep the pipeline full while the inflight window allows.
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: Message, pr: NonNullable<ReturnType<ProgressTracker["progress"]["get"]>>): void {
    pr.recentActive = true;
    pr.probeSent = false;
    // A full window with nothing acknowledged means appends were lost: let one more through.
    if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex() || pr.state === ProgressState.Snapshot) this.maybeSendAppend(m.from, true);
    if (!m.context) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (!acks || !this.tracker.hasQuorum(acks)) return;
    for (const rs of this.readOnly.advance(m.context)) this.releaseRead(rs.from, rs.index, rs.context);
  }

  protected leaderReadIndex(from: NodeId, context: string): boolean {
    if (this.log.term(this.log.committed) !== this.term) {
      // Until an entry of this term commits, this leader's commit index may lag the true one.
      if (this.pendingReads.length < 4096) this.pendingReads.push({ from, context });
      return true;
    }
    const idx = this.log.committed;
    if (this.tracker.voters.length === 1 && this.tracker.isVoter(this.id)) {
      this.releaseRead(from, idx, context);
      return true;
    }
    if (!this.readOnly.add(idx, from, context)) return false;
    this.readOnly.recvAck(this.id, context);
    this.bcastHeartbeat(context);
    return true;
  }

  protected releaseRead(from: NodeId, index: number, context: string): void {
    if (from === this.id) {
      this.readStates.push({ index, context });
    } else {
      const r = emptyMessage(MessageType.ReadIndexResp, this.id, from, this.term);
      r.index = index;
      r.context = context;
      this.send(r);
    }
  }

  /** Commits by counting: only an entry of the current term (Raft §5.4.2). Overridden by a fault-injection test. */
  protected maybeCommit(): boolean {
    return this.log.maybeCommit(this.tracker.committedIndex(), this.term);
  }

  private afterCommit(): void {
    this.commitPending = true;
    if (this.pendingReads.length && this.log.term(this.log.committed) === this.term) {
      const reads = this.pendingReads;
      this.pendingReads = [];
      for (const r of reads) this.leaderReadIndex(r.from, r.context);
    }
    // A leader removed from (or demoted in) the configuration leads until that configuration commits.
    const confIndex = this.confs.lastEntryIndex();
    if (!this.tracker.isVoter(this.id) && confIndex > 0 && confIndex <= this.log.committed) {
      this.logger?.("info", `${this.id} steps down: no longer a voter`);
      this.becomeFollower(this.term, NONE);
    }
  }

  /** Sends pending proposals (one batched append per follower) and commit updates. */
  private flushAppends(): void {
    if (this.role !== Role.Leader) {
      this.appendPending = this.commitPending = false;
      return;
    }
    if (!this.appendPending && !this.commitPending) return;
    const sendIfEmpty = this.commitPending;
    this.appendPending = this.commitPending = false;
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      if (!this.maybeSendAppend(id, sendIfEmpty)) continue;
      // More than one message's worth pending: fill the pipeline now rather than one round trip at a time.
      while (pr.state === ProgressState.Replicate && this.maybeSendAppend(id, false)) {
        // sent
      }
    }
  }

  /** Sends an append (or a snapshot) to `to` unless its flow control is paused. Returns whether something was sent. */
  protected maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (!pr || to === this.id || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const ents = prevTerm === undefined ? undefined : this.log.entriesFrom(pr.next, this.maxMsgBytes);
    if (prevTerm === undefined || ents === undefined) return this.sendSnapshot(to, pr);
    if (ents.length === 0 && !sendIfEmpty) return false;
    const m = emptyMessage(MessageType.App, this.id, to, this.term);
    m.index = prevIndex;
    m.logTerm = prevTerm;
    m.entries = ents;
    m.commit = this.log.committed;
    this.msgs.push(m);
    pr.sentEntries(ents.length, ents.length ? ents[ents.length - 1]!.index : prevIndex);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: NonNullable<ReturnType<ProgressTracker["progress"]["get"]>>): boolean {
    // A snapshot is expensive: only send it to a follower we have heard from lately.
    if (!pr.recentActive) return false;
    const snap = this.log.snapshot();
    if (snap.meta.index === 0) return false;
    const m = emptyMessage(MessageType.Snap, this.id, to, this.term);
    m.snapshot = snap;
    this.msgs.push(m);
    pr.becomeSnapshot(snap.meta.index);
    return true;
  }

  protected bcastHeartbeat(context: string): void {
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      const m = emptyMessage(MessageType.Heartbeat, this.id, id, this.term);
      m.commit = this.heartbeatCommit(pr.match);
      m.context = context;
      this.msgs.push(m);
    }
  }

  /**
   * Whether the group is idle: everything committed (so an entry of this term is), every member has
   * all of it and was heard from, and nothing is in progress (reads, a transfer, unsent appends).
   */
  private canQuiesce(): boolean {
    if (this.leadTransferee !== NONE || this.readOnly.size() > 0 || this.pendingReads.length > 0) return false;
    if (this.appendPending || this.commitPending || !this.tracker.isVoter(this.id)) return false;
    const last = this.log.lastIndex();
    if (this.log.committed !== last || this.log.term(last) !== this.term) return false;
    for (const [id, pr] of this.tracker.progress) {
      if (pr.match !== last) return false;
      if (id !== this.id && (pr.state !== ProgressState.Replicate || !pr.recentActive)) return false;
    }
    return true;
  }

  /** Quiesce heartbeats to every member; the leader stops once all of them quiesced in this attempt. */
  private bcastQuiesce(): void {
    if (!this.quiescing) {
      this.quiescing = true;
      this.quiesceEpoch++;
      this.quiesceAcks.clear();
    }
    for (const id of this.tracker.progress.keys()) {
      if (id === this.id) continue;
      const m = emptyMessage(MessageType.Quiesce, this.id, id, this.term);
      m.commit = this.log.committed;
      m.index = this.quiesceEpoch;
      this.msgs.push(m);
    }
    // A group of one has no one to wait for.
    if (this.tracker.progress.size === 1) this.quiesced = true;
  }

  /** Never more than the follower matched: it must not commit entries it may not have. Overridden by a fault-injection test. */
  protected heartbeatCommit(match: number): number {
    return Math.min(match, this.log.committed);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.msgs.push(emptyMessage(MessageType.TimeoutNow, this.id, to, this.term));
  }

  private send(m: Message): void {
    this.msgs.push(m);
  }

  // ---------------------------------------------------------------- configuration

  /** Entries from `from` on were (re)written with `ents`: recompute the configuration if that touched a configuration entry. */
  private noteAppended(from: number, ents: Entry[]): void {
    let changed = this.confs.truncateFrom(from);
    for (const e of ents) {
      if (e.type === EntryType.ConfChange) {
        this.confs.push(e.index, e.data);
        changed = true;
      }
    }
    if (changed) this.applyConf();
  }

  private scanConfEntries(lo: number, hi: number): void {
    for (let i = lo; i <= hi; ) {
      const ents = this.log.slice(i, hi + 1, 4 << 20);
      if (ents.length === 0) break;
      for (const e of ents) if (e.type === EntryType.ConfChange) this.confs.push(e.index, e.data);
      i = ents[ents.length - 1]!.index + 1;
    }
  }

  private applyConf(): void {
    this.tracker.setConf(this.currentConf(), this.log.lastIndex() + 1);
    const self = this.tracker.progress.get(this.id);
    if (self && self.match < this.log.persistedLastIndex() && this.role === Role.Leader) self.maybeUpdate(this.log.persistedLastIndex());
    if ((this.role === Role.Candidate || this.role === Role.PreCandidate) && !this.promotable()) {
      this.becomeFollower(this.term, NONE);
    }
    if (this.role === Role.Leader) {
      // A smaller quorum may commit more at once; new peers need their first probe.
      if (this.maybeCommit()) this.afterCommit();
      this.appendPending = true;
    }
  }
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
