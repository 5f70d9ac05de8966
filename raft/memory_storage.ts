// In-memory LogStore: for in-memory groups, unit tests and the simulator's view of a node's disk.
import { cloneConf } from "./conf.js";
import type { InitialState, LogStore } from "./storage.js";
import { limitSize } from "./storage.js";
import { type ConfState, type Entry, type HardState, NONE, type Snapshot } from "./types.js";

export class MemoryStorage implements LogStore {
  private hard: HardState = { term: 0, vote: NONE, commit: 0 };
  private snap: Snapshot;
  /** ents[0] is a dummy standing for the snapshot position (its index and term). */
  private ents: Entry[];
  private watermark = 0;

  constructor(conf: ConfState = { voters: [], learners: [] }) {
    this.snap = { meta: { index: 0, term: 0, conf: cloneConf(conf) }, data: new Uint8Array(0) };
    this.ents = [{ index: 0, term: 0, type: 0, data: new Uint8Array(0) }];
  }

  /** Rebuilds a storage from state recovered from a disk (simulator restarts). */
  static restore(hard: HardState, snap: Snapshot, entries: Entry[], watermark: number): MemoryStorage {
    const s = new MemoryStorage(snap.meta.conf);
    s.snap = snap;
    s.ents = [{ index: snap.meta.index, term: snap.meta.term, type: 0, data: new Uint8Array(0) }, ...entries];
    const last = s.lastIndex();
    s.hard = { ...hard, commit: Math.min(Math.max(hard.commit, snap.meta.index), last) };
    s.watermark = watermark;
    return s;
  }

  initialState(): InitialState {
    return { hardState: { ...this.hard }, conf: cloneConf(this.snap.meta.conf), recoveryWatermark: this.watermark };
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  term(i: number): number | undefined {
    const off = this.ents[0]!.index;
    if (i < off || i - off >= this.ents.length) return undefined;
    return this.ents[i - off]!.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const off = this.ents[0]!.index;
    if (lo <= off) throw new Error(`entries(${lo}) compacted (first ${off + 1})`);
    if (hi > this.lastIndex() + 1) throw new Error(`entries(${hi}) beyond last ${this.lastIndex()}`);
    return limitSize(this.ents.slice(lo - off, hi - off), maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  hardState(): HardState {
    return { ...this.hard };
  }

  save(hardState: HardState | null, entries: Entry[], snapshot: Snapshot | null): void {
    if (snapshot) this.applySnapshot(snapshot);
    if (entries.length) this.append(entries);
    if (hardState) this.hard = { ...hardState };
  }

  applySnapshot(s: Snapshot): void {
    if (s.meta.index <= this.snap.meta.index) return;
    this.snap = s;
    this.ents = [{ index: s.meta.index, term: s.meta.term, type: 0, data: new Uint8Array(0) }];
    if (this.hard.commit < s.meta.index) this.hard = { ...this.hard, commit: s.meta.index };
  }

  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    // Entries already compacted away are covered by the snapshot; skip them.
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index);
    const off = entries[0]!.index - this.ents[0]!.index;
    if (off > this.ents.length) throw new Error(`missing log entry: last ${this.lastIndex()}, append at ${entries[0]!.index}`);
    this.ents.length = off;
    for (const e of entries) this.ents.push(e);
  }

  createSnapshot(index: number, conf: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) return this.snap;
    const term = this.term(index);
    if (term === undefined) throw new Error(`snapshot index ${index} out of range (last ${this.lastIndex()})`);
    this.snap = { meta: { index, term, conf: cloneConf(conf) }, data };
    return this.snap;
  }

  compact(index: number): void {
    const off = this.ents[0]!.index;
    if (index <= off) return;
    if (index > this.snap.meta.index) throw new Error(`compact ${index} beyond snapshot ${this.snap.meta.index}`);
    const e = this.ents[index - off]!;
    this.ents = [{ index: e.index, term: e.term, type: 0, data: new Uint8Array(0) }, ...this.ents.slice(index - off + 1)];
  }

  clearRecoveryWatermark(): void {
    this.watermark = 0;
  }

  recoveryWatermark(): number {
    return this.watermark;
  }
}
