// Deliberately broken Raft cores. The simulator must catch each of them within a bounded number of
// seeds: that is the evidence that its faults reach the code paths that matter and that its
// invariant and linearizability checks can fail.
import { RaftCore, type RaftConfig } from "../../../raft/core.js";
import type { RaftLog } from "../../../raft/log.js";
import type { SimOptions } from "./cluster.js";
import { type Entry, type HardState, NONE, Role } from "../../../raft/types.js";

/** Commits entries of earlier terms by counting replicas (the bug of Raft paper figure 8). */
export class CommitPreviousTermCore extends RaftCore {
  protected override maybeCommit(): boolean {
    const idx = this.tracker.committedIndex();
    if (idx <= this.log.committed) return false;
    this.log.commitTo(idx);
    return true;
  }
}

/** Never puts its vote in the hard state, so a restart forgets whom it voted for in the current term. */
export class ForgetVoteCore extends RaftCore {
  protected override hardState(): HardState {
    return { term: this.term, vote: NONE, commit: this.log.committed };
  }
}

/** Answers ReadIndex from its commit index without confirming it is still the leader. */
export class UnconfirmedReadCore extends RaftCore {
  protected override leaderReadIndex(from: string, context: string): boolean {
    if (this.role !== Role.Leader) return false;
    this.releaseRead(from, this.log.committed, context);
    return true;
  }
}

/** Confirms leadership for a read but does not wait for an entry of its term to commit first. */
export class EarlyReadCore extends RaftCore {
  protected override leaderReadIndex(from: string, context: string): boolean {
    const idx = this.log.committed;
    if (!this.readOnly.add(idx, from, context)) return false;
    this.readOnly.recvAck(this.id, context);
    this.bcastHeartbeat(context);
    return true;
  }
}

/** Grants votes without the up-to-date check of §5.4.1. */
export class VoteForStaleLogCore extends RaftCore {
  constructor(cfg: RaftConfig) {
    super(cfg);
    this.log.isUpToDate = () => true;
  }
}

/** Ignores its recovery watermark: after losing part of its log to corruption it votes and campaigns at once. */
export class RecoveringVotesCore extends RaftCore {
  constructor(cfg: RaftConfig) {
    super(cfg);
    this.recoveryWatermark = 0;
  }
}

/** Follower accepts an append whose preceding entry has a different term (no consistency check, §5.3). */
export class NoConsistencyCheckCore extends RaftCore {
  constructor(cfg: RaftConfig) {
    super(cfg);
    const log: RaftLog = this.log;
    const orig = log.maybeAppend.bind(log);
    log.maybeAppend = (index: number, logTerm: number, committed: number, ents: Entry[]) => {
      if (index <= log.lastIndex() && index >= log.committed) {
        const t = log.term(index);
        if (t !== undefined) return orig(index, t, committed, ents);
      }
      return orig(index, logTerm, committed, ents);
    };
  }
}

/** Heartbeats carry the leader's commit index even to followers that have not matched that far. */
export class UnclampedHeartbeatCore extends RaftCore {
  protected override heartbeatCommit(): number {
    return this.log.committed;
  }
}

/** Ignores the driver's word that the leader's node fell silent: a quiesced follower sleeps on. */
export class DeafQuiescedCore extends RaftCore {
  override unquiesce(): void {}
}

/** Each mutant as simulator options: a broken core, or a broken driver around the correct core. */
export const mutants: Record<string, Pick<SimOptions, "coreFactory" | "driverBug">> = {
  "commit-previous-term": { coreFactory: (c) => new CommitPreviousTermCore(c) },
  "forget-vote": { coreFactory: (c) => new ForgetVoteCore(c) },
  "unconfirmed-read": { coreFactory: (c) => new UnconfirmedReadCore(c) },
  "early-read": { coreFactory: (c) => new EarlyReadCore(c) },
  "vote-for-stale-log": { coreFactory: (c) => new VoteForStaleLogCore(c) },
  "recovering-votes": { coreFactory: (c) => new RecoveringVotesCore(c) },
  "no-consistency-check": { coreFactory: (c) => new NoConsistencyCheckCore(c) },
  "unclamped-heartbeat": { coreFactory: (c) => new UnclampedHeartbeatCore(c) },
  "send-before-persist": { driverBug: "send-before-persist" },
  "deaf-quiesced": { coreFactory: (c) => new DeafQuiescedCore(c) },
};
