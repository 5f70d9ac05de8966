// The file-backed StreamStore: one SQLite database (WAL mode) per stream, written through one
// transaction per group-commit round. See sqlite_schema.ts for the layout and why one file per
// stream.
//
// What lives where: message bodies only on disk (plus SQLite's bounded page cache); stream totals,
// per-subject counts/first/last and per-block live counts in memory, maintained incrementally by
// every write and rebuilt from the indexes at open. The totals are also saved in the `state` row
// of every commit, which carries the sequence counters across purges and restarts.
//
// The class is built in layers, one file each: sqlite_reads.ts (the in-memory state and every
// read), sqlite_writes.ts (stores and removals), and here the transactions (group commit, sync,
// checkpoints), open and load, metadata and the consumers (sqlite_consumers.ts holds their rows).
// sqlite_statements.ts has the SQL, sqlite_open.ts creates and opens the files.

import { close as fsClose, closeSync, fdatasync, fdatasyncSync, fsync, fsyncSync, open as fsOpen, openSync } from "node:fs";
import type { CheckpointTicket, Checkpointer } from "./checkpointer.js";
import type { MsgCache } from "./msg_cache.js";
import { dirname } from "node:path";
import type { ConsumerHandle, ConsumerOwner } from "./consumer_handle.js";
import { StoreClosedError, StoreCorruptError, StoreError, StoreFailedError } from "./errors.js";
import { consumerCrc, stateCrc, textCrc } from "./checksum.js";
import { runCallbacks, type Committable, type GroupCommit } from "./group_commit.js";
import { fileStoreMsgSize, subjectBytes } from "./msg_size.js";
import { SqliteConsumers } from "./sqlite_consumers.js";
import { createDatabase, openDatabase, type InitialMeta, type OpenOptions } from "./sqlite_open.js";
import { isCorruptionError, type ExpectedName } from "./sqlite_schema.js";
import { BadRow, big, int, NS_PER_SEC, type DB } from "./sqlite_statements.js";
import { SqliteStreamWrites } from "./sqlite_writes.js";
import type { AckPolicy, CommitCallback, ConsumerStore, StreamStore } from "./store.js";
import { SubjectEntry } from "./subject_index.js";
import type { StreamLock } from "./stream_lock.js";

export type { InitialMeta } from "./sqlite_open.js";

export interface SqliteStoreOptions extends OpenOptions {
  commit: GroupCommit;
  checkpointer: Checkpointer;
  /** Messages read by sequence, shared by the server's streams (absent: no cache). */
  msgCache?: MsgCache;
}

/** Free pages returned to the file system per commit after large removals. */
const VACUUM_PAGES = 4096;
/** WAL bytes written (estimated) after which the checkpoint thread copies the WAL into the database. */
const CHECKPOINT_BYTES = 8 * 1024 * 1024;
/** Pages every write commit puts in the WAL besides its rows' bytes, and each frame's header. */
const COMMIT_PAGES = 3;
const WAL_FRAME_HEADER = 24;
/**
 * Under sustained writes a checkpoint beside the writer never reaches the log's end, so the log
 * cannot restart and grows. Past WAL_RESTART_BYTES the checkpoint thread runs again at once (each
 * run has less to copy), and once what was written meanwhile is below WAL_TAIL_BYTES the writer
 * copies that short rest itself, which lets the log restart. WAL_MAX_BYTES bounds the log even if
 * the thread never catches up.
 *
 * A fast trickle of small commits on a slow disk can keep each run's rest above WAL_TAIL_BYTES
 * (every run syncs the WAL and the database): each run in a row that misses it doubles the limit,
 * up to 2^TAIL_GROWTH times, so the log restarts after a longer copy here instead of growing on.
 */
const WAL_RESTART_BYTES = 64 * 1024 * 1024;
const WAL_TAIL_BYTES = 2 * 1024 * 1024;
const TAIL_GROWTH = 3;
const WAL_MAX_BYTES = 512 * 1024 * 1024;
/** How long close() waits for the checkpoint thread to let go of the database. */
const CHECKPOINT_CLOSE_WAIT_MS = 60_000;

/** A callback waiting for commit number `need` to be durable. */
interface Waiter {
  need: number;
  cb: CommitCallback;
}

export class SqliteStreamStore extends SqliteStreamWrites implements StreamStore, Committable, ConsumerOwner {
  readonly storage = "file" as const;
  afterCrash = false;

  /** Transactions committed since open (for tests, benchmarks and monitoring). */
  commitCount = 0;
  private inTx = false;
  /** The open transaction has written (a read-only one commits without a sync). */
  private wrote = false;
  private queued = false;
  /** afterCommit callbacks not yet given to the sync, each with the commit it waits for. */
  private cbs: Waiter[] = [];
  private failed: StoreError | null = null;
  private isClosed = false;

  private configJson: string | null = null;
  private readonly consumers: SqliteConsumers;
  private readonly consumerHandles = new Map<string, ConsumerHandle>();
  private readonly dirtyConsumers = new Set<ConsumerHandle>();

  /**
   * How commits become durable. inline: SQLite fsyncs inside COMMIT (synchronous=FULL), blocking
   * the event loop. background: COMMIT writes the WAL to the OS (synchronous=NORMAL, which
   * already survives kill -9), then an fdatasync of the WAL runs on the libuv threadpool and the
   * callbacks fire when it returns; the event loop keeps working meanwhile. interval: callbacks
   * fire after COMMIT, a timer syncs (the user's explicit choice).
   */
  private readonly syncMode: "inline" | "background" | "interval";
  /** Commits so far; a callback is durable once a sync that started after its commit finished. */
  private commitSeq = 0;
  private syncedSeq = 0;
  private syncing = false;
  private dirSynced = false;
  private waiters: Waiter[] = [];
  /** The WAL, kept open for the background fdatasync. */
  private walFd: number | null = null;
  /**
   * The WAL again, for the tail copy's sync, which may run while a background one is out: on a
   * descriptor of its own, a write error is reported to both (each open file sees it once).
   */
  private walTailFd: number | null = null;

  private ckpt: CheckpointTicket | null = null;
  /** A sync-interval tick asked for a checkpoint while one was running. */
  private ckptAgain = false;
  /** Checkpoint runs in a row, past WAL_RESTART_BYTES, whose rest was above the tail limit. */
  private tailMisses = 0;
  /** The checkpoint thread left only a short tail, to be copied here after the turn's commit. */
  private copyTail = false;
  /**
   * The database file, for the fsync after a tail copy. Opened with the store, so that a write
   * error on the file from then on is reported to its fsync.
   */
  private dbFd: number | null = null;
  /** A tail copy's database fsync has not returned: no COMMIT until it has (see copyWalTail). */
  private holdCommits = false;
  /** That fsync is still using dbFd. */
  private dbSyncInFlight = false;
  /** commitSeq covered by the last complete checkpoint. */
  private lastCheckpointed = 0;
  private readonly checkpointer: Checkpointer;
  private lock: StreamLock | null = null;
  private readonly pageSize: number;

  private constructor(
    db: DB,
    path: string,
    account: string,
    name: string,
    private readonly gc: GroupCommit,
    opts: SqliteStoreOptions,
  ) {
    super(db, path, account, name);
    this.consumers = new SqliteConsumers(this, this.s, () => this.q, this.consumerHandles, this.dirtyConsumers);
    this.syncMode = opts.syncInterval !== "always" ? "interval" : opts.fsync;
    this.checkpointer = opts.checkpointer;
    this.cache = opts.msgCache ?? null;
    this.pageSize = db.pragma("page_size", { simple: true }) as number;
    this.dbFd = openSync(path, "r");
  }

  get stream(): StreamStore {
    return this;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  // ---- create / open ------------------------------------------------------------------------

  /** Creates the stream's database (atomically, see createDatabase) and opens it. */
  static create(path: string, account: string, name: string, opts: SqliteStoreOptions, init: InitialMeta = {}): SqliteStreamStore {
    createDatabase(path, account, name, init);
    return SqliteStreamStore.open(path, account, name, { ...opts, verify: "light" });
  }

  /** `expected` is the stream name, or a test of the stored name for a file whose path does not tell it. */
  static open(path: string, account: string, expected: ExpectedName, opts: SqliteStoreOptions): SqliteStreamStore {
    const { db, lock, walPresent, name, corrupt, fail } = openDatabase(path, account, expected, opts);
    let store: SqliteStreamStore | null = null;
    try {
      store = new SqliteStreamStore(db, path, account, name, opts.commit, opts);
      store.load(corrupt);
      if (opts.verify === "full") store.verifyAll(corrupt);
      store.lock = lock;
      // A WAL left by a crash is valid (SQLite replays it), but nothing would copy it into the
      // database before the next 8 MiB of writes: start with a checkpoint.
      if (walPresent) store.requestCheckpoint();
      store.afterCrash = walPresent;
      return store;
    } catch (e) {
      store?.closeDbFd();
      return fail(e);
    }
  }

  /** Rebuilds the in-memory state from the saved totals and the subject index, cross-checking them. */
  private load(corrupt: (d: string) => StoreCorruptError): void {
    const st = this.db.prepare("SELECT first_seq, first_ts, last_seq, last_ts, msgs, bytes, crc FROM state WHERE id = 1").raw().safeIntegers().get() as
      | unknown[]
      | undefined;
    if (st === undefined) throw corrupt("state row missing");
    try {
      this.first = int(st[0]);
      this.firstTs = big(st[1]);
      this.last = int(st[2]);
      this.lastTime = big(st[3]);
      this.msgs = int(st[4]);
      this.bytes = int(st[5]);
      if (stateCrc(this.first, this.firstTs, this.last, this.lastTime, this.msgs, this.bytes) !== int(st[6])) throw new BadRow("checksum mismatch");
    } catch (e) {
      if (e instanceof BadRow) throw corrupt(`state row: ${e.message}`);
      throw e;
    }

    const rows = this.db
      .prepare(
        "SELECT a.sid, s.subject, a.c, a.f, a.l FROM (SELECT sid, count(*) AS c, min(seq) AS f, max(seq) AS l FROM msgs GROUP BY sid) a LEFT JOIN subjects s ON s.sid = a.sid",
      )
      .raw()
      .all() as [number, string | null, number, number, number][];
    let total = 0;
    let minSeq = Infinity;
    let maxSeq = 0;
    for (const [sid, subject, c, f, l] of rows) {
      if (typeof subject !== "string" || subject.length === 0 || !Number.isSafeInteger(sid) || sid <= 0) {
        throw corrupt(`messages refer to a missing or damaged subject (id ${String(sid)})`);
      }
      if (this.index.get(subject) !== undefined) throw corrupt(`subject ${subject} stored twice`);
      const e = new SubjectEntry(subject, sid, subjectBytes(subject));
      e.msgs = c;
      e.first = f;
      e.last = l;
      this.index.add(e);
      total += c;
      if (f < minSeq) minSeq = f;
      if (l > maxSeq) maxSeq = l;
    }
    if (total !== this.msgs) throw corrupt(`state says ${this.msgs} messages, index holds ${total}`);
    if (total > 0) {
      if (minSeq !== this.first) throw corrupt(`state first_seq ${this.first} but first message is ${minSeq}`);
      if (maxSeq > this.last) throw corrupt(`state last_seq ${this.last} but a message has seq ${maxSeq}`);
      // The first and last rows must read back with valid checksums.
      this.verifyRow(minSeq, corrupt);
      this.verifyRow(maxSeq, corrupt);
    } else if (!(this.first === this.last + 1 || (this.first === 0 && this.last === 0))) {
      throw corrupt(`empty stream with first_seq ${this.first} and last_seq ${this.last}`);
    }
    this.configJson = this.readMeta("config", corrupt);
    this.consumers.load(this.db, corrupt);
  }

  private verifyRow(seq: number, corrupt: (d: string) => StoreCorruptError): void {
    const r = this.q.get.get(seq) as unknown[] | undefined;
    if (r === undefined) throw corrupt(`message ${seq} missing`);
    this.buildMsg(seq, r, 0, corrupt);
  }

  /** verify: full. Every message, its expiry entry, the byte total, and every consumer. */
  private verifyAll(corrupt: (d: string) => StoreCorruptError): void {
    const it = this.db.prepare("SELECT seq, ts, sid, ttl, crc, hdr, data, expires FROM msgs ORDER BY seq").raw().safeIntegers().iterate() as IterableIterator<unknown[]>;
    let bytes = 0;
    for (const r of it) {
      const m = this.buildMsg(Number(r[0]), r, 1, corrupt);
      const want = m.ttl > 0 ? m.ts + BigInt(m.ttl) * NS_PER_SEC : null;
      if (r[7] !== want) throw corrupt(`expiry of message ${m.seq} does not match its TTL`);
      bytes += fileStoreMsgSize(subjectBytes(m.subject), m.hdr === null ? 0 : m.hdr.length, m.data.length);
    }
    if (bytes !== this.bytes) throw corrupt(`state says ${this.bytes} bytes, messages hold ${bytes}`);
    this.consumers.verify(corrupt);
  }

  // ---- group commit -------------------------------------------------------------------------

  beginWrite(): void {
    this.check();
    this.wrote = true;
  }

  /**
   * Every use of the store runs inside the turn's transaction (reads too: one snapshot and one
   * lock acquisition per turn instead of one per statement); writes turn it into a write.
   */
  private openTx(): void {
    if (this.inTx) return;
    this.s.begin.run();
    this.inTx = true;
    if (!this.queued) {
      this.queued = true;
      this.gc.enqueue(this);
    }
  }

  commitPending(): void {
    if (!this.inTx || this.holdCommits) return;
    if (!this.wrote) {
      try {
        this.s.commit.run();
        this.inTx = false;
      } catch (e) {
        this.abortQuiet(e);
        return;
      }
      if (this.copyTail) this.copyWalTail();
      return;
    }
    const consumersWritten = this.dirtyConsumers.size;
    try {
      for (const h of this.dirtyConsumers) {
        const c = h.core;
        const nums = [c.delivered.consumerSeq, c.delivered.streamSeq, c.ackFloor.consumerSeq, c.ackFloor.streamSeq];
        this.q.cHdr.run(h.config(), c.ackPolicy, ...nums, consumerCrc(h.name, h.config(), c.ackPolicy, nums), h.cid);
      }
      this.dirtyConsumers.clear();
      if (this.stateDirty) {
        const crc = stateCrc(this.first, this.firstTs, this.last, this.lastTime, this.msgs, this.bytes);
        this.q.saveState.run(this.first, this.firstTs, this.last, this.lastTime, this.msgs, this.bytes, crc);
        this.stateDirty = false;
      }
      if (this.rows.length > 0) this.insertRows();
      if (this.vacuumPending) this.vacuumStep();
      this.s.commit.run();
      this.inTx = false;
      this.wrote = false;
      this.commitCount++;
      this.commitSeq++;
      // Every page a commit changes goes to the WAL whole, however little of it changed: about
      // three besides the rows' own bytes (the table's last leaf, an index leaf and the state
      // row's page, or a consumer's pending and header pages), and one more per consumer
      // written. A trickle of one-message commits writes little else.
      this.walDebt += (COMMIT_PAGES + consumersWritten) * (this.pageSize + WAL_FRAME_HEADER);
    } catch (e) {
      this.abortQuiet(e);
      return;
    }
    if (this.copyTail) this.copyWalTail();
    if (this.walDebt >= CHECKPOINT_BYTES) this.requestCheckpoint();
  }

  /**
   * Copies what is left in the WAL into the database on this thread (a short tail only), so that
   * the next commit can start the log over. Inside the pragma SQLite would sync the WAL before
   * the copy and the database after it; the second sync is the slow one (tens of ms under load),
   * so it runs on the threadpool instead, and until it returns no COMMIT runs: a commit is what
   * starts the log over, overwriting frames whose pages might not be on disk yet. Nothing else
   * writes the WAL meanwhile: every write waits in the turn's transaction, and cache spill (which
   * writes frames before the commit) is off until then.
   */
  private copyWalTail(): void {
    this.copyTail = false;
    if (this.holdCommits || this.failed !== null || this.isClosed || this.dbFd === null) return;
    try {
      // The pages copied must come from frames on disk; inline commits synced their own.
      if (this.syncMode !== "inline" && this.walFile() !== null) fdatasyncSync(this.walTailFd!);
      // Back to whatever the connection was opened with (sqlite_open.ts configure).
      const sync = this.db.pragma("synchronous", { simple: true }) as number;
      this.db.pragma("synchronous = OFF");
      try {
        this.db.pragma("wal_checkpoint(PASSIVE)");
      } finally {
        this.db.pragma(`synchronous = ${sync}`);
      }
      this.db.pragma("cache_spill = OFF");
    } catch (e) {
      this.abortQuiet(e);
      return;
    }
    this.holdCommits = true;
    this.dbSyncInFlight = true;
    fsync(this.dbFd, (err) => this.tailSynced(err));
  }

  private tailSynced(err: Error | null): void {
    this.dbSyncInFlight = false;
    if (this.isClosed) {
      // close() synced the file itself and left the descriptor to us.
      this.closeDbFd();
      return;
    }
    this.holdCommits = false;
    try {
      this.db.pragma("cache_spill = ON");
    } catch (e) {
      if (err === null) err = e as Error;
    }
    // Without that sync the log must not start over, so nothing more may be committed: the held
    // transaction rolls back and its callbacks hear the error (from the commit pass below).
    if (err !== null) this.abortQuiet(err);
    this.gc.enqueue(this);
  }

  /** Opens the WAL's two descriptors for our own syncs, together; null: there is no WAL yet. */
  private walFile(): number | null {
    if (this.walFd === null) {
      const wal = `${this.path}-wal`;
      try {
        // The WAL lives as long as the connection: SQLite restarts and truncates it in place.
        this.walFd = openSync(wal, "r");
      } catch (e) {
        // No WAL means nothing was ever written to it.
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        return null;
      }
      try {
        this.walTailFd = openSync(wal, "r");
      } catch (e) {
        this.walFd = closeQuiet(this.walFd);
        throw e;
      }
    }
    return this.walFd;
  }

  /** Hands a checkpoint to the checkpoint thread (one at a time per stream). */
  private requestCheckpoint(): void {
    if (this.isClosed || this.failed !== null) return;
    if (this.ckpt !== null) {
      this.ckptAgain = true;
      return;
    }
    this.walDebt = 0;
    this.ckptAgain = false;
    const covers = this.commitSeq;
    this.ckpt = this.checkpointer.request(this.path, (err, r) => {
      this.ckpt = null;
      if (err === null && r !== null && !r.busy) this.lastCheckpointed = covers;
      if (this.isClosed) return;
      let again = this.ckptAgain || this.walDebt >= CHECKPOINT_BYTES;
      const logBytes = err === null && r !== null && !r.busy ? r.log * this.pageSize : 0;
      if (logBytes >= WAL_RESTART_BYTES) {
        const tailLimit = WAL_TAIL_BYTES * 2 ** Math.min(this.tailMisses, TAIL_GROWTH);
        if (this.walDebt < tailLimit || logBytes >= WAL_MAX_BYTES) {
          this.tailMisses = 0;
          // Everything but the last few writes is in the database (and synced): copying those
          // here lets the next write start the log over. Inside the turn's transaction it
          // cannot; the commit ending the turn does it then.
          if (this.inTx) this.copyTail = true;
          else this.copyWalTail();
        } else {
          this.tailMisses++;
          again = true;
        }
      } else {
        this.tailMisses = 0;
      }
      // A failed checkpoint leaves everything in the WAL, which stays valid; the next one retries.
      if (again) this.requestCheckpoint();
    });
  }

  notifyCommitted(): void {
    // Held: the commit pass after the database sync runs the callbacks.
    if (this.holdCommits) return;
    this.queued = false;
    const cbs = this.cbs;
    if (cbs.length === 0) return;
    this.cbs = [];
    // Registration order is commit order (commitTarget never goes back): those that may run now
    // come first, and they run after the waiters given to the sync before them could.
    const now: CommitCallback[] = [];
    let wait = false;
    for (const w of cbs) {
      if (this.failed === null && w.need > this.commitSeq) this.cbs.push(w); // its commit is still to come
      else if (this.syncMode !== "background" || this.failed !== null || w.need <= this.syncedSeq) now.push(w.cb);
      else {
        this.waiters.push(w);
        wait = true;
      }
    }
    if (this.cbs.length > 0) {
      this.queued = true;
      this.gc.enqueue(this);
    }
    if (wait) this.startSync();
    runCallbacks(now, this.failed);
  }

  /** One fdatasync in flight at a time; it covers every commit made before it started. */
  private startSync(): void {
    if (this.syncing || this.isClosed || this.waiters.length === 0) return;
    this.syncing = true;
    const covers = this.commitSeq;
    const dir = this.dirSynced ? null : dirname(this.path);
    let openErr: Error | null = null;
    try {
      this.walFile();
    } catch (e) {
      openErr = e as Error;
    }
    const after = (err: Error | null): void => {
      this.syncing = false;
      if (this.isClosed) {
        // close() synced and answered everyone, and left the descriptor to us.
        this.closeWal();
        return;
      }
      if (err !== null && this.failed === null) {
        // After a failed fsync the page cache state is unknown: nothing more may be acknowledged.
        this.failed = new StoreFailedError(this.name, err);
      }
      if (err === null) {
        this.syncedSeq = covers;
        this.dirSynced = true;
      }
      this.releaseWaiters();
      this.startSync();
    };
    if (openErr !== null) setImmediate(after, openErr);
    else syncFile(this.walFd, dir, after);
  }

  private releaseWaiters(): void {
    const durable: CommitCallback[] = [];
    const lost: CommitCallback[] = [];
    const rest: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.need <= this.syncedSeq) durable.push(w.cb);
      else if (this.failed !== null) lost.push(w.cb);
      else rest.push(w);
    }
    this.waiters = rest;
    // Commits synced before a later failure are still durable; only the rest get the error.
    try {
      runCallbacks(durable, null);
    } finally {
      runCallbacks(lost, this.failed);
    }
  }

  commitTarget(): number {
    return this.inTx && this.wrote ? this.commitSeq + 1 : this.commitSeq;
  }

  afterCommit(cb: CommitCallback): void {
    if (this.isClosed) {
      const err = this.failed;
      setImmediate(() => cb(err));
      return;
    }
    this.cbs.push({ need: this.commitTarget(), cb });
    if (!this.queued) {
      this.queued = true;
      this.gc.enqueue(this);
    }
  }

  flush(): Promise<void> {
    return new Promise((resolve, reject) => this.afterCommit((err) => (err ? reject(err) : resolve())));
  }

  /** Lazy sync: make everything committed so far durable (the checkpoint syncs WAL and database). */
  syncNow(): void {
    if (this.isClosed || this.failed) return;
    this.commitPending();
    if (this.failed || this.commitSeq === this.lastCheckpointed) return;
    this.requestCheckpoint();
  }

  close(): void {
    if (this.isClosed) return;
    if (this.holdCommits) {
      // A tail copy's sync is still out: do it here, so that the last commit may go.
      this.holdCommits = false;
      try {
        fsyncSync(this.dbFd!);
        this.db.pragma("cache_spill = ON");
      } catch (e) {
        this.abortQuiet(e);
      }
    }
    if (!this.failed) this.commitPending();
    this.isClosed = true;
    this.cache?.forget(this);
    // The checkpoint thread must be done with the file before this, the last connection, closes
    // it (closing last checkpoints and deletes the WAL; the stream may be deleted right after).
    if (this.ckpt !== null && !this.ckpt.waitClosed(CHECKPOINT_CLOSE_WAIT_MS)) {
      if (!this.failed) this.failed = new StoreFailedError(this.name, new Error("checkpoint thread did not finish"));
    }
    this.ckpt = null;
    try {
      // Copies the WAL into the database and fsyncs it: everything committed is durable after this.
      if (!this.failed) this.db.pragma("wal_checkpoint(TRUNCATE)");
      this.syncedSeq = this.commitSeq;
    } catch (e) {
      // The data stays in the WAL for the next open, but it may not be on stable storage.
      if (!this.failed && this.syncMode === "background") this.failed = new StoreFailedError(this.name, e);
    }
    // A sync in flight still uses its descriptor; it closes it when it returns.
    if (!this.syncing) this.closeWal();
    if (!this.dbSyncInFlight) this.closeDbFd();
    try {
      this.db.close();
    } finally {
      this.lock?.release();
      this.lock = null;
      for (const h of this.consumerHandles.values()) h.deleted = true;
      const cbs = this.waiters.concat(this.cbs).map((w) => w.cb);
      this.cbs = [];
      this.waiters = [];
      this.queued = false;
      runCallbacks(cbs, this.failed);
    }
  }

  private closeDbFd(): void {
    this.dbFd = closeQuiet(this.dbFd);
  }

  private closeWal(): void {
    this.walFd = closeQuiet(this.walFd);
    this.walTailFd = closeQuiet(this.walTailFd);
  }

  private vacuumStep(): void {
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    if (free > 0) this.db.exec(`PRAGMA incremental_vacuum(${VACUUM_PAGES})`);
    this.vacuumPending = free > VACUUM_PAGES;
  }

  protected check(): void {
    if (this.failed) throw this.failed;
    if (this.isClosed) throw new StoreClosedError(this.name);
    if (!this.inTx) this.openTx();
  }

  /**
   * A write failed half-way or a commit failed: the transaction is rolled back and memory no
   * longer matches the disk, so the store refuses further use (the manager can reopen it).
   */
  private abort(e: unknown): never {
    this.abortQuiet(e);
    throw this.failed!;
  }

  private abortQuiet(e: unknown): void {
    // Messages read inside the rolled-back transaction may not exist any more.
    this.cache?.forget(this);
    this.inTx = false;
    this.wrote = false;
    this.dropHeld();
    try {
      if (this.db.inTransaction) this.s.rollback.run();
    } catch {
      // nothing more can be done; the failure below is what callers will see
    }
    if (!this.failed) {
      this.failed = isCorruptionError(e) ? new StoreCorruptError(this.account, this.name, this.path, (e as Error).message, e) : new StoreFailedError(this.name, e);
    }
  }

  /** For write paths: our own StoreErrors (thrown before any write) pass; anything else aborts. */
  writeFailed(e: unknown): never {
    if (e instanceof StoreError && e !== this.failed && !(e instanceof StoreCorruptError)) throw e;
    return this.abort(e);
  }

  protected readError(e: unknown): never {
    if (e instanceof StoreError) throw e;
    if (isCorruptionError(e)) throw new StoreCorruptError(this.account, this.name, this.path, (e as Error).message, e);
    throw e;
  }
  // ---- metadata -----------------------------------------------------------------------------

  saveConfig(json: string): void {
    this.putMeta("config", json);
    this.configJson = json;
  }

  config(): string | null {
    this.check();
    return this.configJson;
  }

  setMeta(key: string, value: string | null): void {
    if (value === null) {
      this.check();
      try {
        this.beginWrite();
        this.q.metaDel.run(`user:${key}`);
      } catch (e) {
        this.writeFailed(e);
      }
    } else {
      this.putMeta(`user:${key}`, value);
    }
  }

  getMeta(key: string): string | null {
    this.check();
    try {
      return this.readMeta(`user:${key}`);
    } catch (e) {
      return this.readError(e);
    }
  }

  private readMeta(key: string, corrupt?: (d: string) => StoreCorruptError): string | null {
    const r = this.q.metaGet.get(key) as [unknown, unknown] | undefined;
    if (r === undefined) return null;
    if (typeof r[0] !== "string" || r[1] !== textCrc(key, r[0])) {
      const d = `metadata ${JSON.stringify(key)}: checksum mismatch`;
      throw corrupt ? corrupt(d) : new StoreCorruptError(this.account, this.name, this.path, d);
    }
    return r[0];
  }

  private putMeta(key: string, value: string): void {
    this.check();
    try {
      this.beginWrite();
      this.q.metaPut.run(key, value, textCrc(key, value));
    } catch (e) {
      this.writeFailed(e);
    }
  }

  // ---- consumers ----------------------------------------------------------------------------

  createConsumer(name: string, configJson: string, ackPolicy: AckPolicy): ConsumerStore {
    this.check();
    return this.consumers.create(name, configJson, ackPolicy);
  }

  consumer(name: string): ConsumerStore | null {
    this.check();
    try {
      return this.consumers.get(name);
    } catch (e) {
      return this.readError(e);
    }
  }

  saveConsumerConfig(h: ConsumerHandle): void {
    // Written with the header (and its checksum) at commit, after the handle took the new values.
    this.dirtyConsumers.add(h);
  }

  consumerNames(): string[] {
    this.check();
    return this.consumers.names();
  }

  deleteConsumer(name: string): boolean {
    this.check();
    return this.consumers.delete(name);
  }
}

/** Closes a descriptor nothing depends on any more; returns null, for the field that held it. */
function closeQuiet(fd: number | null): null {
  if (fd !== null) {
    try {
      closeSync(fd);
    } catch {
      // already gone: nothing to do
    }
  }
  return null;
}

/** fdatasync of the WAL on the threadpool (null: there is none, nothing to sync), then fsync of its directory when given (the first time: a new file). */
function syncFile(fd: number | null, dir: string | null, done: (err: Error | null) => void): void {
  const syncDir = (): void => {
    if (dir === null) return done(null);
    fsOpen(dir, "r", (err3, dfd) => {
      if (err3 !== null) return done(err3);
      fsync(dfd, (err4) => fsClose(dfd, () => done(err4)));
    });
  };
  if (fd === null) return syncDir();
  fdatasync(fd, (err) => (err !== null ? done(err) : syncDir()));
}
