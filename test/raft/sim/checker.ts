// Invariant checks run by the simulator after every step: the Raft paper's five properties (election
// safety, leader append-only, log matching, leader completeness, state machine safety) plus: no
// committed entry is ever overwritten or lost, and every proposal is applied at most once (and, at
// the end, acknowledged ones exactly once on every live replica).
import type { RaftCore } from "../../../raft/core.js";
import { type Entry, EntryType, type NodeId, Role, type Snapshot } from "../../../raft/types.js";
import { decodePut, hashBytes } from "./kv.js";

export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvariantViolation";
  }
}

interface NodeTrack {
  /** Highest commit index of this node already folded into the committed registry. */
  seenCommit: number;
  /** Last index the state machine of this node applied (its apply stream must be gap-free). */
  applied: number;
  leaderTerm: number;
  leaderLastIndex: number;
  leaderLastTerm: number;
}

export class InvariantChecker {
  /** term of the entry committed at each index (0 = not known to be committed). */
  readonly committedTerm: number[] = [0];
  /**
   * The lowest term any node was in when it was seen to hold index i committed: an upper bound on the
   * term in which i was committed (exact in practice: the committing leader is seen first). Leader
   * completeness binds only leaders of later terms; a candidate of an older term may still win its
   * election with the votes it collected then, lacking the entry, and can do no harm.
   */
  private readonly commitTermAt: number[] = [0];
  /** hash of the committed entry's data, once some replica applied it. */
  private readonly committedHash: number[] = [0];
  /** KV digest after applying index i, from the first replica that did. */
  private readonly digestAt: number[] = [0];
  maxCommitted = 0;
  private readonly leaders = new Map<number, NodeId>();
  /** Log matching: (index, term) identifies the entry's data and the term of its predecessor. */
  private readonly entryIds = new Map<string, { hash: number; prevTerm: number }>();
  /** Exactly-once: where each proposal was applied. */
  readonly opIndex = new Map<number, number>();
  private readonly nodes = new Map<NodeId, NodeTrack>();
  checks = 0;

  private fail(msg: string): never {
    throw new InvariantViolation(msg);
  }

  private track(id: NodeId): NodeTrack {
    let t = this.nodes.get(id);
    if (!t) {
      t = { seenCommit: 0, applied: 0, leaderTerm: 0, leaderLastIndex: 0, leaderLastTerm: 0 };
      this.nodes.set(id, t);
    }
    return t;
  }

  /** A node (re)started with its state machine restored to `applied` (its snapshot). */
  restarted(id: NodeId, core: RaftCore, applied: number, digest: number): void {
    const t = this.track(id);
    t.applied = applied;
    t.seenCommit = Math.min(core.log.committed, t.seenCommit);
    t.leaderTerm = 0;
    if (applied > 0 && this.digestAt[applied] !== undefined && this.digestAt[applied] !== digest) {
      this.fail(`${id} restarted from a snapshot at ${applied} whose state differs from the committed state there`);
    }
  }

  /** Entries handed out for persisting, with the term of the entry before the first one. */
  persisting(id: NodeId, entries: Entry[], prevTerm: number | undefined, onDisk: (i: number) => number | undefined): void {
    let prev = prevTerm;
    for (const e of entries) {
      this.checks++;
      const key = `${e.index}:${e.term}`;
      const h = hashBytes(e.data) ^ e.type;
      const known = this.entryIds.get(key);
      if (known) {
        if (known.hash !== h) this.fail(`log matching: ${id} has a different entry at index ${e.index} term ${e.term}`);
        if (prev !== undefined && known.prevTerm !== prev) {
          this.fail(`log matching: ${id} has entry ${e.index}/${e.term} after term ${prev}, another log after term ${known.prevTerm}`);
        }
      } else if (prev !== undefined) {
        this.entryIds.set(key, { hash: h, prevTerm: prev });
      }
      // A stale leader may write anything at a committed index of a log that never held the committed
      // entry; overwriting the committed entry itself is what must never happen.
      const ct = this.committedTerm[e.index];
      if (ct && ct !== e.term && onDisk(e.index) === ct) {
        this.fail(`committed entry lost: ${id} overwrites committed entry ${e.index} (term ${ct}) with term ${e.term}`);
      }
      prev = e.term;
    }
  }

  /** After any step of a live node. */
  afterStep(id: NodeId, core: RaftCore): void {
    this.checks++;
    const t = this.track(id);
    const log = core.log;
    // Every index up to the commit index is committed, with the term this node has there.
    if (log.committed > t.seenCommit) {
      for (let i = t.seenCommit + 1; i <= log.committed; i++) {
        const term = log.term(i);
        if (term === undefined) continue;
        const ct = this.committedTerm[i];
        if (ct === undefined || ct === 0) {
          this.committedTerm[i] = term;
          if (i > this.maxCommitted) this.maxCommitted = i;
        } else if (ct !== term) {
          this.fail(`state machine safety: ${id} commits term ${term} at index ${i}, committed elsewhere with term ${ct}`);
        }
        const seen = this.commitTermAt[i];
        if (seen === undefined || seen === 0 || core.term < seen) this.commitTermAt[i] = core.term;
      }
      t.seenCommit = log.committed;
    }
    if (core.role === Role.Leader) {
      const prev = this.leaders.get(core.term);
      if (prev === undefined) this.leaders.set(core.term, id);
      else if (prev !== id) this.fail(`election safety: ${prev} and ${id} are both leaders of term ${core.term}`);
      if (t.leaderTerm !== core.term) {
        this.checkLeaderCompleteness(id, core);
        t.leaderTerm = core.term;
      } else {
        if (log.lastIndex() < t.leaderLastIndex || log.term(t.leaderLastIndex) !== t.leaderLastTerm) {
          this.fail(`leader append-only: ${id} (term ${core.term}) lost or rewrote entry ${t.leaderLastIndex}`);
        }
      }
      t.leaderLastIndex = log.lastIndex();
      t.leaderLastTerm = log.lastTerm();
    } else {
      t.leaderTerm = 0;
    }
  }

  private checkLeaderCompleteness(id: NodeId, core: RaftCore): void {
    const log = core.log;
    // Only what was committed in a term before this leader's binds it (Raft §5.4.3).
    let bound = this.maxCommitted;
    while (bound > 0 && !(this.commitTermAt[bound]! > 0 && this.commitTermAt[bound]! < core.term)) bound--;
    if (log.lastIndex() < bound) {
      this.fail(`leader completeness: ${id} leads term ${core.term} with last index ${log.lastIndex()} < ${bound}, committed in term ${this.commitTermAt[bound]}`);
    }
    const from = Math.max(1, log.firstIndex() - 1);
    for (let i = from; i <= bound; i++) {
      const ct = this.committedTerm[i];
      const at = this.commitTermAt[i];
      if (!ct || !at || at >= core.term) continue;
      const term = log.term(i);
      if (term !== undefined && term !== ct) {
        this.fail(`leader completeness: ${id} leads term ${core.term} with term ${term} at committed index ${i} (committed term ${ct}, in term ${at})`);
      }
    }
  }

  /** A replica applied entry e; its KV digest is now `digest`. */
  applied(id: NodeId, e: Entry, digest: number): void {
    this.checks++;
    const t = this.track(id);
    if (e.index !== t.applied + 1) this.fail(`${id} applied index ${e.index} after ${t.applied}: the apply stream has a gap or repeats`);
    t.applied = e.index;
    const ct = this.committedTerm[e.index];
    if (ct && ct !== e.term) this.fail(`state machine safety: ${id} applied term ${e.term} at ${e.index}, committed term is ${ct}`);
    if (!ct) {
      this.committedTerm[e.index] = e.term;
      if (e.index > this.maxCommitted) this.maxCommitted = e.index;
    }
    const h = hashBytes(e.data) ^ e.type;
    const ch = this.committedHash[e.index];
    if (ch === undefined) this.committedHash[e.index] = h;
    else if (ch !== h) this.fail(`state machine safety: ${id} applied different data at index ${e.index}`);
    const d = this.digestAt[e.index];
    if (d === undefined) this.digestAt[e.index] = digest;
    else if (d !== digest) this.fail(`replica divergence: ${id}'s state after index ${e.index} differs from another replica's`);
    if (e.type === EntryType.Normal) {
      const op = decodePut(e.data);
      if (op) {
        const at = this.opIndex.get(op.opId);
        if (at === undefined) this.opIndex.set(op.opId, e.index);
        else if (at !== e.index) this.fail(`exactly-once: proposal ${op.opId} applied at index ${at} and again at ${e.index}`);
      }
    }
  }

  /** A replica installed a snapshot received from the leader; its KV digest is `digest`. */
  installedSnapshot(id: NodeId, s: Snapshot, digest: number): void {
    const t = this.track(id);
    const { index, term } = s.meta;
    const ct = this.committedTerm[index];
    if (ct && ct !== term) this.fail(`${id} installed a snapshot at ${index} with term ${term}, committed term is ${ct}`);
    const d = this.digestAt[index];
    if (d !== undefined && d !== digest) this.fail(`${id} installed a snapshot at ${index} whose state differs from the committed state`);
    if (index < t.applied) this.fail(`${id} installed a snapshot at ${index} behind its applied index ${t.applied}`);
    t.applied = index;
  }

  appliedIndex(id: NodeId): number {
    return this.track(id).applied;
  }
}
