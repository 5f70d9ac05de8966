// Durable Raft storage on SQLite (better-sqlite3). One database holds many groups, so one
// transaction can persist the Ready of every group at once (group commit). Every entry, snapshot and
// hard state row carries a CRC32; on open the log is verified, and a damaged suffix is dropped and
// remembered as the recovery watermark (see InitialState) instead of being served.
import Database from "better-sqlite3";
import { confChecksum, entryChecksum, hardStateChecksum, snapshotChecksum } from "./checksum.js";
import { cloneConf } from "./conf.js";
import type { InitialState, LogStore } from "./storage.js";
import { type ConfState, CorruptionError, type Entry, type HardState, NONE, type Snapshot } from "./types.js";

export interface SqliteRaftStoreOptions {
  /** "full" (default): fsync at every commit, what "acknowledged means durable" needs. */
  synchronous?: "full" | "normal" | "off";
  /** Most recent entries of each group kept in memory, served without reading them back (default 4096). */
  cacheEntries?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS raft_entry (
  grp TEXT NOT NULL, idx INTEGER NOT NULL, term INTEGER NOT NULL, type INTEGER NOT NULL,
  data BLOB NOT NULL, crc INTEGER NOT NULL, PRIMARY KEY (grp, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS raft_hard (
  grp TEXT PRIMARY KEY, term INTEGER NOT NULL, vote TEXT NOT NULL, commit_idx INTEGER NOT NULL,
  crc INTEGER NOT NULL, watermark INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS raft_snap (
  grp TEXT PRIMARY KEY, idx INTEGER NOT NULL, term INTEGER NOT NULL, conf TEXT NOT NULL,
  data BLOB NOT NULL, crc INTEGER NOT NULL, conf_crc INTEGER NOT NULL DEFAULT 0);
`;

/** The database shared by the groups of one process. */
export class SqliteRaftStore {
  readonly db: Database.Database;
  private readonly groups = new Map<string, SqliteLogStorage>();
  private readonly cacheEntries: number;

  constructor(path: string, opts: SqliteRaftStoreOptions = {}) {
    this.cacheEntries = opts.cacheEntries ?? 4096;
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma(`synchronous = ${(opts.synchronous ?? "full").toUpperCase()}`);
    this.db.exec(SCHEMA);
    // Databases from before the configuration had a checksum of its own.
    const cols = this.db.prepare("PRAGMA table_info(raft_snap)").all() as { name: string }[];
    if (!cols.some((c) => c.name === "conf_crc")) this.db.exec("ALTER TABLE raft_snap ADD COLUMN conf_crc INTEGER NOT NULL DEFAULT 0");
  }

  /**
   * Opens (creating if new) the storage of a group. `bootstrap` is the initial configuration of a new
   * group's founding members; a node joining an existing group later passes none.
   * Throws CorruptionError if the hard state is damaged: term and vote cannot be guessed safely.
   */
  group(name: string, bootstrap?: ConfState): SqliteLogStorage {
    let g = this.groups.get(name);
    if (!g) {
      g = new SqliteLogStorage(this.db, name, bootstrap ?? { voters: [], learners: [] }, this.cacheEntries);
      this.groups.set(name, g);
    }
    return g;
  }

  /** Runs fn in one transaction (nested saves become savepoints): one fsync for everything in it. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Deletes a group's state entirely (the group was removed from this server). */
  dropGroup(name: string): void {
    this.groups.delete(name);
    this.transaction(() => {
      for (const t of ["raft_entry", "raft_hard", "raft_snap"]) this.db.prepare(`DELETE FROM ${t} WHERE grp = ?`).run(name);
    });
  }

  close(): void {
    this.db.close();
  }
}

interface EntryRow {
  idx: number;
  term: number;
  type: number;
  data: Buffer;
  crc: number;
}


export class SqliteLogStorage implements LogStore {
  private hard: HardState = { term: 0, vote: NONE, commit: 0 };
  private snap!: Snapshot;
  private watermark = 0;
  /** terms[i - snapIndex] for every index from the snapshot's to the last: term() never touches disk. */
  private terms: number[] = [];
  /** The most recent entries, served to followers and the state machine without reading them back. */
  private tail: Entry[] = [];
  /** Index of the first damaged entry found on open or by recover() (0 if none), for reporting. */
  corruptAt = 0;

  private readonly q: {
    insertEntry: Database.Statement;
    deleteFrom: Database.Statement;
    deleteUpTo: Database.Statement;
    selectRange: Database.Statement;
    upsertHard: Database.Statement;
    setWatermark: Database.Statement;
    upsertSnap: Database.Statement;
  };

  constructor(
    private readonly db: Database.Database,
    readonly name: string,
    bootstrap: ConfState,
    private readonly cacheEntries = 4096,
  ) {
    this.q = {
      insertEntry: db.prepare("INSERT OR REPLACE INTO raft_entry (grp, idx, term, type, data, crc) VALUES (?, ?, ?, ?, ?, ?)"),
      deleteFrom: db.prepare("DELETE FROM raft_entry WHERE grp = ? AND idx >= ?"),
      deleteUpTo: db.prepare("DELETE FROM raft_entry WHERE grp = ? AND idx <= ?"),
      selectRange: db.prepare("SELECT idx, term, type, data, crc FROM raft_entry WHERE grp = ? AND idx >= ? AND idx < ? ORDER BY idx"),
      upsertHard: db.prepare(
        "INSERT INTO raft_hard (grp, term, vote, commit_idx, crc) VALUES (?, ?, ?, ?, ?) ON CONFLICT(grp) DO UPDATE SET term = excluded.term, vote = excluded.vote, commit_idx = excluded.commit_idx, crc = excluded.crc",
      ),
      setWatermark: db.prepare("INSERT INTO raft_hard (grp, term, vote, commit_idx, crc, watermark) VALUES (?, 0, '', 0, ?, ?) ON CONFLICT(grp) DO UPDATE SET watermark = excluded.watermark"),
      upsertSnap: db.prepare("INSERT OR REPLACE INTO raft_snap (grp, idx, term, conf, data, crc, conf_crc) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    };
    this.corruptAt = db.transaction(() => this.load(bootstrap))();
  }

  private load(bootstrap: ConfState): number {
    const name = this.name;
    const hr = this.db.prepare("SELECT term, vote, commit_idx, crc, watermark FROM raft_hard WHERE grp = ?").get(name) as
      | { term: number; vote: string; commit_idx: number; crc: number; watermark: number }
      | undefined;
    if (hr) {
      this.hard = { term: hr.term, vote: hr.vote, commit: hr.commit_idx };
      this.watermark = hr.watermark;
      if (hardStateChecksum(this.hard) !== hr.crc) {
        throw new CorruptionError(`raft group ${name}: hard state (term/vote) is damaged; refusing to start`, 0);
      }
    }
    const maxRow = this.db.prepare("SELECT MAX(idx) AS m FROM raft_entry WHERE grp = ?").get(name) as { m: number | null };
    const maxIdx = maxRow.m ?? 0;
    const sr = this.db.prepare("SELECT idx, term, conf, data, crc, conf_crc FROM raft_snap WHERE grp = ?").get(name) as
      | { idx: number; term: number; conf: string; data: Buffer; crc: number; conf_crc: number }
      | undefined;
    if (sr) {
      let conf: ConfState | null = null;
      try {
        conf = JSON.parse(sr.conf) as ConfState;
      } catch {
        // Damaged beyond parsing: the checksums below fail.
      }
      const empty: ConfState = { voters: [], learners: [] };
      this.snap = { meta: { index: sr.idx, term: sr.term, conf: conf ?? empty }, data: new Uint8Array(sr.data) };
      if (!conf || snapshotChecksum(this.snap) !== sr.crc) {
        // Without the snapshot the entries after it cannot be applied: start over empty, recovering.
        // The configuration has a checksum of its own and usually survives: without it the node would
        // not know the group it belongs to until a snapshot or a configuration entry reached it.
        const keep = conf && confChecksum(conf) === sr.conf_crc ? conf : empty;
        this.setWatermarkRow(Math.max(this.watermark, maxIdx, sr.idx));
        this.q.deleteFrom.run(name, 0);
        this.snap = { meta: { index: 0, term: 0, conf: keep }, data: new Uint8Array(0) };
        this.writeSnapRow(this.snap);
        this.terms = [0];
        this.tail = [];
        this.hard = { ...this.hard, commit: 0 };
        this.writeHardRow();
        return sr.idx || 1;
      }
    } else {
      this.snap = { meta: { index: 0, term: 0, conf: cloneConf(bootstrap) }, data: new Uint8Array(0) };
      this.writeSnapRow(this.snap);
    }
    const first = this.snap.meta.index + 1;
    this.terms = [this.snap.meta.term];
    let corruptAt = 0;
    const rows = this.q.selectRange.iterate(name, first, Number.MAX_SAFE_INTEGER) as IterableIterator<EntryRow>;
    for (const r of rows) {
      const e: Entry = { index: r.idx, term: r.term, type: r.type, data: new Uint8Array(r.data) };
      if (r.idx !== first + this.terms.length - 1 || entryChecksum(e) !== r.crc) {
        corruptAt = Math.min(r.idx, first + this.terms.length - 1);
        break;
      }
      this.terms.push(r.term);
      this.tail.push(e);
      if (this.tail.length > this.cacheEntries) this.tail.splice(0, this.tail.length - this.cacheEntries);
    }
    if (corruptAt) {
      this.setWatermarkRow(Math.max(this.watermark, maxIdx));
      this.q.deleteFrom.run(name, corruptAt);
      this.tail = this.tail.filter((e) => e.index < corruptAt);
    }
    const last = this.lastIndex();
    if (this.hard.commit > last || this.hard.commit < this.snap.meta.index) {
      this.hard = { ...this.hard, commit: Math.min(Math.max(this.hard.commit, this.snap.meta.index), last) };
      this.writeHardRow();
    }
    return corruptAt;
  }

  private setWatermarkRow(w: number): void {
    this.watermark = w;
    this.q.setWatermark.run(this.name, hardStateChecksum({ term: 0, vote: "", commit: 0 }), w);
  }

  private writeHardRow(): void {
    this.q.upsertHard.run(this.name, this.hard.term, this.hard.vote, this.hard.commit, hardStateChecksum(this.hard));
  }

  private writeSnapRow(s: Snapshot): void {
    this.q.upsertSnap.run(this.name, s.meta.index, s.meta.term, JSON.stringify(s.meta.conf), Buffer.from(s.data), snapshotChecksum(s), confChecksum(s.meta.conf));
  }

  // ---------------------------------------------------------------- Storage (read side)

  initialState(): InitialState {
    return { hardState: { ...this.hard }, conf: cloneConf(this.snap.meta.conf), recoveryWatermark: this.watermark };
  }

  firstIndex(): number {
    return this.snap.meta.index + 1;
  }

  lastIndex(): number {
    return this.snap.meta.index + this.terms.length - 1;
  }

  term(i: number): number | undefined {
    const off = i - this.snap.meta.index;
    return off >= 0 && off < this.terms.length ? this.terms[off] : undefined;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw new Error(`entries(${lo}) compacted (first ${this.firstIndex()})`);
    if (hi > this.lastIndex() + 1) throw new Error(`entries(${hi}) beyond last ${this.lastIndex()}`);
    if (lo >= hi) return [];
    const out: Entry[] = [];
    let size = 0;
    const tailStart = this.tail.length ? this.tail[0]!.index : Infinity;
    let i = lo;
    if (i < tailStart) {
      const rows = this.q.selectRange.iterate(this.name, lo, Math.min(hi, tailStart)) as IterableIterator<EntryRow>;
      for (const r of rows) {
        const e: Entry = { index: r.idx, term: r.term, type: r.type, data: new Uint8Array(r.data) };
        if (r.idx !== i || entryChecksum(e) !== r.crc) throw new CorruptionError(`raft group ${this.name}: entry ${i} is damaged`, i);
        size += e.data.length + 24;
        if (out.length && size > maxBytes) return out;
        out.push(e);
        i++;
      }
    }
    for (; i < hi; i++) {
      const e = this.tail[i - tailStart]!;
      size += e.data.length + 24;
      if (out.length && size > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  recoveryWatermark(): number {
    return this.watermark;
  }

  // ---------------------------------------------------------------- LogStore (write side)

  save(hardState: HardState | null, entries: Entry[], snapshot: Snapshot | null): void {
    this.db.transaction(() => {
      if (snapshot) this.installSnapshot(snapshot);
      if (entries.length) this.append(entries);
      if (hardState) {
        this.hard = { ...hardState };
        this.writeHardRow();
      }
    })();
  }

  private installSnapshot(s: Snapshot): void {
    if (s.meta.index <= this.snap.meta.index) return;
    const keep = this.term(s.meta.index) === s.meta.term;
    if (keep) {
      this.q.deleteUpTo.run(this.name, s.meta.index);
      this.terms = this.terms.slice(s.meta.index - this.snap.meta.index);
      this.tail = this.tail.filter((e) => e.index > s.meta.index);
    } else {
      this.q.deleteFrom.run(this.name, 0);
      this.terms = [s.meta.term];
      this.tail = [];
    }
    this.snap = s;
    this.writeSnapRow(s);
    if (this.hard.commit < s.meta.index) {
      this.hard = { ...this.hard, commit: s.meta.index };
      this.writeHardRow();
    }
  }

  private append(entries: Entry[]): void {
    const first = this.firstIndex();
    if (entries[entries.length - 1]!.index < first) return;
    if (entries[0]!.index < first) entries = entries.slice(first - entries[0]!.index);
    const from = entries[0]!.index;
    if (from > this.lastIndex() + 1) throw new Error(`raft group ${this.name}: append at ${from} leaves a gap after ${this.lastIndex()}`);
    if (from <= this.lastIndex()) {
      this.q.deleteFrom.run(this.name, from);
      this.terms.length = from - this.snap.meta.index;
      this.tail = this.tail.filter((e) => e.index < from);
    }
    for (const e of entries) {
      this.q.insertEntry.run(this.name, e.index, e.term, e.type, Buffer.from(e.data.buffer, e.data.byteOffset, e.data.length), entryChecksum(e));
      this.terms.push(e.term);
      this.tail.push(e);
    }
    if (this.tail.length > this.cacheEntries) this.tail = this.tail.slice(this.tail.length - this.cacheEntries);
  }

  createSnapshot(index: number, conf: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) return this.snap;
    const term = this.term(index);
    if (term === undefined) throw new Error(`snapshot index ${index} out of range (last ${this.lastIndex()})`);
    // The row replaces the old snapshot, but entries are only dropped by compact(): the log keeps
    // covering everything after the old snapshot until then.
    const s: Snapshot = { meta: { index, term, conf: cloneConf(conf) }, data };
    this.db.transaction(() => {
      this.writeSnapRow(s);
      this.q.deleteUpTo.run(this.name, index);
    })();
    this.terms = this.terms.slice(index - this.snap.meta.index);
    this.tail = this.tail.filter((e) => e.index > index);
    this.snap = s;
    return s;
  }

  /** Entries up to the snapshot are already dropped by createSnapshot (the snapshot row is the log's new start). */
  compact(index: number): void {
    if (index > this.snap.meta.index) throw new Error(`compact ${index} beyond snapshot ${this.snap.meta.index}`);
  }

  /**
   * Called after entries() raised CorruptionError: verifies the log again as on open, dropping the
   * damaged suffix and setting the recovery watermark. Returns the first damaged index (0: none found).
   */
  recover(): number {
    this.terms = [];
    this.tail = [];
    this.corruptAt = this.db.transaction(() => this.load(this.snap.meta.conf))();
    return this.corruptAt;
  }

  clearRecoveryWatermark(): void {
    if (this.watermark === 0) return;
    this.watermark = 0;
    this.db.prepare("UPDATE raft_hard SET watermark = 0 WHERE grp = ?").run(this.name);
  }
}
