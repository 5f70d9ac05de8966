// Single-server membership changes. A ConfChange entry carries the change *and* the whole resulting
// configuration, so any node (including one that joined late and never saw the bootstrap
// configuration) derives its configuration from the latest configuration entry in its log alone.
// Configurations take effect when appended (Raft thesis §4.1), not when committed.
import type { ConfChange, ConfState, NodeId } from "./types.js";

export interface ConfEntry {
  change: ConfChange;
  conf: ConfState;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfEntry(e: ConfEntry): Uint8Array {
  return encoder.encode(JSON.stringify({ t: e.change.type, n: e.change.nodeId, v: e.conf.voters, l: e.conf.learners }));
}

export function decodeConfEntry(data: Uint8Array): ConfEntry {
  const o = JSON.parse(decoder.decode(data)) as { t: ConfChange["type"]; n: NodeId; v: NodeId[]; l: NodeId[] };
  return { change: { type: o.t, nodeId: o.n }, conf: { voters: o.v, learners: o.l } };
}

export function cloneConf(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] };
}

export function confEquals(a: ConfState, b: ConfState): boolean {
  const eq = (x: NodeId[], y: NodeId[]) => x.length === y.length && [...x].sort().join("\0") === [...y].sort().join("\0");
  return eq(a.voters, b.voters) && eq(a.learners, b.learners);
}

/** Returns the configuration after `cc`, or an error string when the change is not a single-server step. */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState | string {
  const voters = conf.voters.filter((v) => v !== cc.nodeId);
  const learners = conf.learners.filter((l) => l !== cc.nodeId);
  const isVoter = conf.voters.includes(cc.nodeId);
  const isLearner = conf.learners.includes(cc.nodeId);
  if (!cc.nodeId) return "empty node id";
  switch (cc.type) {
    case "addVoter":
      if (isVoter) return `${cc.nodeId} is already a voter`;
      voters.push(cc.nodeId);
      break;
    case "addLearner":
      if (isLearner) return `${cc.nodeId} is already a learner`;
      // Demoting a voter to learner is a removal from the voters: still a single-server step.
      learners.push(cc.nodeId);
      break;
    case "removeNode":
      if (!isVoter && !isLearner) return `${cc.nodeId} is not a member`;
      if (isVoter && voters.length === 0) return "cannot remove the last voter";
      break;
    default:
      return `unknown change ${String((cc as ConfChange).type)}`;
  }
  voters.sort();
  learners.sort();
  return { voters, learners };
}

/**
 * The configurations a log defines: the snapshot's, then one per configuration entry after it. The
 * latest is in force; truncating the log past an entry reverts to the one before.
 */
export class ConfHistory {
  private base: { index: number; conf: ConfState };
  private entries: { index: number; conf: ConfState }[] = [];

  constructor(snapshotIndex: number, conf: ConfState) {
    this.base = { index: snapshotIndex, conf: cloneConf(conf) };
  }

  reset(snapshotIndex: number, conf: ConfState): void {
    this.base = { index: snapshotIndex, conf: cloneConf(conf) };
    this.entries = [];
  }

  current(): ConfState {
    return this.entries.length ? this.entries[this.entries.length - 1]!.conf : this.base.conf;
  }

  /** The configuration before the latest configuration entry (the base if there is none). */
  previous(): ConfState {
    const n = this.entries.length;
    return n >= 2 ? this.entries[n - 2]!.conf : this.base.conf;
  }

  /** Index of the latest configuration entry, 0 if the configuration comes from the snapshot. */
  lastEntryIndex(): number {
    return this.entries.length ? this.entries[this.entries.length - 1]!.index : 0;
  }

  at(index: number): ConfState {
    for (let k = this.entries.length - 1; k >= 0; k--) if (this.entries[k]!.index <= index) return cloneConf(this.entries[k]!.conf);
    return cloneConf(this.base.conf);
  }

  /** Drops configuration entries at or after `index` (the log was truncated there). Returns whether any was dropped. */
  truncateFrom(index: number): boolean {
    let changed = false;
    while (this.entries.length && this.entries[this.entries.length - 1]!.index >= index) {
      this.entries.pop();
      changed = true;
    }
    return changed;
  }

  push(index: number, data: Uint8Array): void {
    this.entries.push({ index, conf: decodeConfEntry(data).conf });
  }
}
