// The configuration in force (voters, learners), per-peer Progress, the vote tally and quorum arithmetic.
import { Progress } from "./progress.js";
import type { ConfState, NodeId } from "./types.js";

export type VoteResult = "won" | "lost" | "pending";

export class ProgressTracker {
  voters: NodeId[] = [];
  learners: NodeId[] = [];
  private voterSet = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  private readonly matchScratch: number[] = [];

  constructor(private readonly maxInflight: number) {}

  /** Switches to `conf`; peers new to the configuration start probing at `nextIndex`. */
  setConf(conf: ConfState, nextIndex: number): void {
    this.voters = [...conf.voters];
    this.learners = [...conf.learners];
    this.voterSet = new Set(conf.voters);
    const members = new Set([...conf.voters, ...conf.learners]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const pr = this.progress.get(id);
      const learner = !this.voterSet.has(id);
      if (pr) pr.isLearner = learner;
      else this.progress.set(id, new Progress(nextIndex, this.maxInflight, learner));
    }
    for (const id of [...this.votes.keys()]) if (!this.voterSet.has(id)) this.votes.delete(id);
  }

  isVoter(id: NodeId): boolean {
    return this.voterSet.has(id);
  }

  quorum(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  /** The largest index that a majority of voters have matched. */
  committedIndex(): number {
    const n = this.voters.length;
    if (n === 0) return 0;
    const m = this.matchScratch;
    m.length = n;
    for (let i = 0; i < n; i++) m[i] = this.progress.get(this.voters[i]!)?.match ?? 0;
    m.sort((a, b) => b - a);
    // Sorted descending, the quorum-th largest match is held by at least a quorum of voters.
    return m[this.quorum() - 1]!;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.voterSet.has(id)) return;
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    const q = this.quorum();
    const result: VoteResult = granted >= q ? "won" : this.voters.length - rejected < q ? "lost" : "pending";
    return { granted, rejected, result };
  }

  /** Whether a quorum of voters has been heard from (recentActive); `self` always counts. */
  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const id of this.voters) {
      if (id === self || this.progress.get(id)?.recentActive) active++;
    }
    return active >= this.quorum();
  }

  hasQuorum(ids: Set<NodeId>): boolean {
    let n = 0;
    for (const id of this.voters) if (ids.has(id)) n++;
    return n >= this.quorum();
  }
}
