// A simulated disk for one node: what survives a crash. Writes land whole, or (when the node crashes
// mid-write) torn: a prefix of the entries, the last possibly garbled, and no hard state. Bits can rot
// at rest. Every record carries a checksum, and load() does what a real storage does on open: verify,
// drop the damaged suffix and remember how far the log reached (the recovery watermark).
import { entryChecksum, hardStateChecksum, snapshotChecksum } from "../../../raft/checksum.js";
import { MemoryStorage } from "../../../raft/memory_storage.js";
import type { Rng } from "./rng.js";
import { type ConfState, type Entry, type HardState, NONE, type Snapshot } from "../../../raft/types.js";

interface StoredEntry {
  e: Entry;
  crc: number;
  /** Written by a batch that never completed (its commit record is missing): never acknowledged. */
  torn: boolean;
}

export interface LoadResult {
  storage: MemoryStorage;
  corruptAt: number;
  /** The snapshot itself was damaged: the node starts over empty. */
  snapshotDamaged?: boolean;
}

export class SimDisk {
  private hard: HardState = { term: 0, vote: NONE, commit: 0 };
  private hardCrc: number;
  private snap: Snapshot;
  private snapCrc: number;
  private ents: StoredEntry[] = [];
  private watermark = 0;

  constructor(conf: ConfState) {
    this.snap = { meta: { index: 0, term: 0, conf }, data: new Uint8Array(0) };
    this.snapCrc = snapshotChecksum(this.snap);
    this.hardCrc = hardStateChecksum(this.hard);
  }

  private firstIndex(): number {
    return this.snap.meta.index + 1;
  }

  lastIndex(): number {
    return this.snap.meta.index + this.ents.length;
  }

  /** A whole write (the node did not crash during it). */
  write(hard: HardState | null, entries: Entry[], snap: Snapshot | null): void {
    if (snap) this.installSnapshot(snap);
    this.appendEntries(entries, entries.length, false);
    if (hard) {
      this.hard = { ...hard };
      this.hardCrc = hardStateChecksum(this.hard);
    }
  }

  /** The node crashed while this write was in flight: keep a random prefix, maybe garbling its last entry. */
  tornWrite(rng: Rng, hard: HardState | null, entries: Entry[], snap: Snapshot | null): string {
    if (snap && rng.chance(0.5)) this.installSnapshot(snap);
    else if (snap) return "torn: snapshot lost";
    const keep = rng.int(0, entries.length);
    const garble = keep > 0 && rng.chance(0.5);
    this.appendEntries(entries, keep, garble);
    // The hard state goes last and is not reached by a torn write.
    void hard;
    return `torn: kept ${keep}/${entries.length} entries${garble ? ", last garbled" : ""}`;
  }

  private appendEntries(entries: Entry[], keep: number, garbleLast: boolean): void {
    for (let i = 0; i < keep; i++) {
      const e = entries[i]!;
      if (e.index < this.firstIndex()) continue;
      const off = e.index - this.firstIndex();
      if (off > this.ents.length) throw new Error(`sim disk: gap before ${e.index}`);
      this.ents.length = off;
      let stored = e;
      const crc = entryChecksum(e);
      if (garbleLast && i === keep - 1) {
        const data = e.data.length ? e.data.slice() : new Uint8Array(1);
        data[0] = data[0]! ^ 0x5a;
        stored = { ...e, data };
      }
      this.ents.push({ e: stored, crc, torn: garbleLast });
    }
  }

  private installSnapshot(s: Snapshot): void {
    if (s.meta.index <= this.snap.meta.index) return;
    const keepFrom = s.meta.index + 1 - this.firstIndex();
    const t = keepFrom - 1 >= 0 && keepFrom - 1 < this.ents.length ? this.ents[keepFrom - 1]!.e.term : -1;
    // Entries after the snapshot survive only if the log agrees with the snapshot at its index.
    this.ents = t === s.meta.term ? this.ents.slice(keepFrom) : [];
    this.snap = s;
    this.snapCrc = snapshotChecksum(s);
    if (this.hard.commit < s.meta.index) {
      this.hard = { ...this.hard, commit: s.meta.index };
      this.hardCrc = hardStateChecksum(this.hard);
    }
  }

  /** State-machine snapshot plus compaction, written atomically (write-new-then-rename). */
  snapshotAndCompact(snap: Snapshot, compactTo: number): void {
    if (snap.meta.index > this.snap.meta.index) {
      const drop = snap.meta.index - this.snap.meta.index;
      this.ents = this.ents.slice(drop);
      this.snap = snap;
      this.snapCrc = snapshotChecksum(snap);
    }
    void compactTo;
  }

  clearWatermark(): void {
    this.watermark = 0;
  }

  /** Flips one bit in a random stored entry; returns its index, or 0 if there is none. */
  rot(rng: Rng): number {
    if (this.ents.length === 0) return 0;
    const i = rng.int(0, this.ents.length - 1);
    const se = this.ents[i]!;
    const data = se.e.data.length ? se.e.data.slice() : new Uint8Array(1);
    data[rng.int(0, data.length - 1)]! ^= 1 << rng.int(0, 7);
    this.ents[i] = { e: { ...se.e, data }, crc: se.crc, torn: se.torn };
    return se.e.index;
  }

  /** Flips one bit in the stored snapshot's data; returns its index, or 0 if there is no snapshot. */
  rotSnapshot(rng: Rng): number {
    if (this.snap.meta.index === 0) return 0;
    const data = this.snap.data.length ? this.snap.data.slice() : new Uint8Array(1);
    data[rng.int(0, data.length - 1)]! ^= 1 << rng.int(0, 7);
    this.snap = { ...this.snap, data };
    return this.snap.meta.index;
  }

  /** What a restarting node reads back: verified records, the damaged suffix dropped and remembered. */
  load(): LoadResult {
    if (hardStateChecksum(this.hard) !== this.hardCrc) throw new Error("sim disk: hard state damaged (not injected)");
    if (snapshotChecksum(this.snap) !== this.snapCrc) {
      // As the SQLite storage does: without its snapshot the log after it is useless; start over
      // empty, recovering up to everything this disk held. Rot hits the data: the configuration,
      // checksummed on its own, survives.
      const at = this.snap.meta.index;
      this.watermark = Math.max(this.watermark, this.lastIndex());
      this.ents = [];
      this.snap = { meta: { index: 0, term: 0, conf: this.snap.meta.conf }, data: new Uint8Array(0) };
      this.snapCrc = snapshotChecksum(this.snap);
      this.hard = { ...this.hard, commit: 0 };
      this.hardCrc = hardStateChecksum(this.hard);
      return { storage: MemoryStorage.restore(this.hard, this.snap, [], this.watermark), corruptAt: at, snapshotDamaged: true };
    }
    let corruptAt = 0;
    for (let i = 0; i < this.ents.length; i++) {
      const se = this.ents[i]!;
      if (entryChecksum(se.e) !== se.crc || se.e.index !== this.firstIndex() + i) {
        if (se.torn) {
          // The tail of an incomplete batch: never acknowledged, so dropping it is just crash recovery.
          this.ents.length = i;
          break;
        }
        corruptAt = se.e.index;
        break;
      }
    }
    if (corruptAt) {
      this.watermark = Math.max(this.watermark, this.lastIndex());
      this.ents.length = corruptAt - this.firstIndex();
    }
    // What survived of an incomplete batch is now log like any other (the node may acknowledge it
    // from here on): damage found in it later is corruption, not the tail of a torn write.
    for (const se of this.ents) se.torn = false;
    const storage = MemoryStorage.restore(
      this.hard,
      this.snap,
      this.ents.map((s) => s.e),
      this.watermark,
    );
    return { storage, corruptAt };
  }
}
