// The storage contract between the Raft core and the caller. The core only reads (synchronously,
// like etcd-raft's Storage); the caller writes what a Ready asks it to persist, then acknowledges.
import type { ConfState, Entry, HardState, Snapshot } from "./types.js";

export interface InitialState {
  hardState: HardState;
  conf: ConfState;
  /**
   * Non-zero when the storage found corruption and dropped a suffix of the log: the highest index the
   * node may have acknowledged. Until its log again reaches it (from a leader) the node neither votes
   * nor campaigns, since it may have been part of the quorum that committed what it lost.
   */
  recoveryWatermark: number;
}

/** Read side, used by the core. */
export interface Storage {
  initialState(): InitialState;
  /** Index of the first entry still in the log; the snapshot covers everything before it. */
  firstIndex(): number;
  lastIndex(): number;
  /** Term of entry i for firstIndex()-1 <= i <= lastIndex(); undefined outside that range. */
  term(i: number): number | undefined;
  /** Entries [lo, hi), at least one if any, stopping before the total data size passes maxBytes. May throw CorruptionError. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  snapshot(): Snapshot;
}

/** Write side, used by drivers (RaftHost, the simulator) to carry out a Ready. */
export interface LogStore extends Storage {
  /** Persists a Ready's durable parts atomically: snapshot, then entries (replacing any conflicting suffix), then hard state. */
  save(hardState: HardState | null, entries: Entry[], snapshot: Snapshot | null): void;
  /** State-machine-driven compaction, step 1: record a snapshot of the applied state at `index`. */
  createSnapshot(index: number, conf: ConfState, data: Uint8Array): Snapshot;
  /**
   * Step 2: drop entries up to and including `index` (which must be covered by the snapshot). A storage
   * may already have dropped them in createSnapshot (the SQLite storage does).
   */
  compact(index: number): void;
  /** The node caught up past its recovery watermark. */
  clearRecoveryWatermark(): void;
  /**
   * Optional, for storages that verify checksums: after entries() raised CorruptionError, verify the
   * log again as on open (drop the damaged suffix, set the recovery watermark) and return the first
   * damaged index, 0 if none was found. The driver then starts the group over from the snapshot.
   */
  recover?(): number;
}

export function entriesSize(ents: Entry[]): number {
  let n = 0;
  for (const e of ents) n += e.data.length + 24;
  return n;
}

/** Trims `ents` so their size stays within maxBytes, but always keeps the first entry. */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = ents[0]!.data.length + 24;
  let i = 1;
  for (; i < ents.length; i++) {
    size += ents[i]!.data.length + 24;
    if (size > maxBytes) break;
  }
  return i === ents.length ? ents : ents.slice(0, i);
}
