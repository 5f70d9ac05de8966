// Deliberately broken Raft cores. The simulator must catch each of them within a bounded number of
// seeds: that is the evidence that its faults reach the code paths that matter and that its
// invariant and linearizability checks can fail.
import { RaftCore, type RaftConfig } from "../../../raft/core.js";
import { type HardState, NONE, Role } from "../../../raft/types.js";

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

export const mutants: Record<string, (cfg: RaftConfig) => RaftCore> = {
  "commit-previous-term": (c) => new CommitPreviousTermCore(c),
  "forget-vote": (c) => new ForgetVoteCore(c),
  "unconfirmed-read": (c) => new UnconfirmedReadCore(c),
};
