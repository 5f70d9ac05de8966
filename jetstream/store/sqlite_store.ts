// The file-backed StreamStore: one SQLite database (WAL mode) per stream, written through one
// transaction per group-commit round. See sqlite_schema.ts for the layout and why one file per
// stream.
//
// What lives where: message bodies only on disk (plus SQLite's bounded page cache); stream totals,
// per-subject counts/first/last and per-block live counts in memory, maintained incrementally by
// every write and rebuilt from the indexes at open. The totals are also saved in the `state` row
// of every commit, which carries the sequence counters across purges and restarts.

import { close as fsClose, closeSync, fdatasync, fsync, open as fsOpen, openSync } from "node:fs";
import type { CheckpointTicket, Checkpointer } from "./checkpointer.js";
import { dirname } from "node:path";
import type { ConsumerHandle, ConsumerOwner } from "./consumer_handle.js";
import {
  DiscardNewError,
  InvalidArgumentError,
  PurgeArgError,
  SequenceMismatchError,
  StoreClosedError,
  StoreCorruptError,
  StoreError,
  StoreFailedError,
} from "./errors.js";
import { consumerCrc, msgCrc, stateCrc, textCrc } from "./checksum.js";
import { runCallbacks, type Committable, type GroupCommit } from "./group_commit.js";
import { fileStoreMsgSize, subjectBytes } from "./msg_size.js";
import { BLOCK_SIZE, blockOf, SeqBlocks } from "./seq_blocks.js";
import { SqliteConsumers } from "./sqlite_consumers.js";
import { createDatabase, openDatabase, type InitialMeta, type OpenOptions } from "./sqlite_open.js";
import { isCorruptionError } from "./sqlite_schema.js";
import {
  asBuffer,
  BadRow,
  big,
  blob,
  CHUNK,
  int,
  NS_PER_SEC,
  prepareStatements,
  ROWS_PER_INSERT,
  type DB,
  type Statements,
  type Stmt,
} from "./sqlite_statements.js";
import {
  loadNextMsgsOneByOne,
  NO_LIMITS,
  isMarkerHeader,
  StoreFlags,
  TTL_NEVER,
  type AckPolicy,
  type CommitCallback,
  type ExpiredMsg,
  type ConsumerStore,
  type LimitRemovalHandler,
  type Nanos,
  type SimpleState,
  type StateOptions,
  type StoredMsg,
  type StoreLimits,
  type StreamState,
  type StreamStore,
} from "./store.js";
import { SubjectEntry, SubjectIndex, type EntrySet } from "./subject_index.js";
import { hasWildcard, isAllFilter } from "./subject_match.js";
import type { StreamLock } from "./stream_lock.js";

export type { InitialMeta } from "./sqlite_open.js";

export interface SqliteStoreOptions extends OpenOptions {
  commit: GroupCommit;
  checkpointer: Checkpointer;
}

/** Up to this many matching subjects, a wildcard next-message lookup asks each subject's index. */
const CANDIDATE_SUBJECTS = 64;
/** Rows a wildcard lookup scans in sequence order before switching to per-subject lookups. */
const SCAN_ROWS = 1024;
/** Free pages returned to the file system per commit after large removals. */
const VACUUM_PAGES = 4096;
/** WAL bytes written (estimated) after which the checkpoint thread copies the WAL into the database. */
const CHECKPOINT_BYTES = 8 * 1024 * 1024;
/**
 * Under sustained writes a checkpoint beside the writer never reaches the log's end, so the log
 * cannot restart and grows. Past WAL_RESTART_BYTES the checkpoint thread runs again at once (each
 * run has less to copy), and once what was written meanwhile is below WAL_TAIL_BYTES the writer
 * copies that short rest itself, which lets the log restart. WAL_MAX_BYTES bounds the log even if
 * the thread never catches up.
 */
const WAL_RESTART_BYTES = 64 * 1024 * 1024;
const WAL_TAIL_BYTES = 2 * 1024 * 1024;
const WAL_MAX_BYTES = 512 * 1024 * 1024;
/** How long close() waits for the checkpoint thread to let go of the database. */
const CHECKPOINT_CLOSE_WAIT_MS = 60_000;

const EMPTY_BLOB = Buffer.alloc(0);
/** Numbers per row in loadNextMsgs' text: seq, ts seconds, ts nanoseconds, sid, ttl, crc, header length (-1: none), payload length. */
const META_COLS = 8;
/** Above this average message size (bytes) loadNextMsgs reads one by one. */
const CONCAT_AVG_MAX = 2048;

/** Fills out with the comma-separated integers of s; false unless s is exactly out.length of them. */
function parseNumberList(s: string, out: Float64Array): boolean {
  let n = 0;
  let v = 0;
  let digits = 0;
  let neg = false;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 44;
    if (c === 44) {
      if (digits === 0 || v > Number.MAX_SAFE_INTEGER || n >= out.length) return false;
      out[n++] = neg ? -v : v;
      v = 0;
      digits = 0;
      neg = false;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 16) return false;
      v = v * 10 + (c - 48);
    } else if (c === 45 && digits === 0 && !neg) {
      neg = true;
    } else {
      return false;
    }
  }
  return n === out.length;
}

export class SqliteStreamStore implements StreamStore, Committable, ConsumerOwner {
  readonly storage = "file" as const;

  // Stream totals. first is 0 for a never-used stream and last + 1 once emptied.
  private first = 0;
  private firstTs = 0n;
  private last = 0;
  private lastTime = 0n;
  private msgs = 0;
  /** Headers of the last message removed with removeOne(..., withHdr). */
  private removedHdr: Uint8Array | null = null;
  private bytes = 0;

  private readonly index = new SubjectIndex();
  /** Built on first need (it costs an index scan) and then kept current. */
  private blocks: SeqBlocks | null = null;
  private lim: StoreLimits = { ...NO_LIMITS };
  private limActive = false;
  private limitHandler: LimitRemovalHandler | null = null;

  /** Transactions committed since open (for tests, benchmarks and monitoring). */
  commitCount = 0;
  private inTx = false;
  /** The open transaction has written (a read-only one commits without a sync). */
  private wrote = false;
  private queued = false;
  private cbs: CommitCallback[] = [];
  private stateDirty = false;
  private vacuumPending = false;
  private failed: StoreError | null = null;
  private isClosed = false;

  private configJson: string | null = null;
  private readonly consumers: SqliteConsumers;
  private readonly consumerHandles = new Map<string, ConsumerHandle>();
  private readonly dirtyConsumers = new Set<ConsumerHandle>();

  private readonly s: Statements;
  /** Messages stored but not yet inserted: 8 values per row, in the order of the INSERT. */
  private rows: unknown[] = [];

  /** The prepared statements, after inserting the rows still held (so SQL always sees every write). */
  private get q(): Statements {
    if (this.rows.length > 0) this.insertRows();
    return this.s;
  }

  private insertRows(): void {
    const r = this.rows;
    this.rows = [];
    const rowLen = 8;
    let i = 0;
    try {
      for (; r.length - i >= ROWS_PER_INSERT * rowLen; i += ROWS_PER_INSERT * rowLen) this.s.insMany.run(r.slice(i, i + ROWS_PER_INSERT * rowLen));
      for (; i < r.length; i += rowLen) this.s.ins.run(r.slice(i, i + rowLen));
    } catch (e) {
      this.writeFailed(e);
    }
  }

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
  private waiters: { need: number; cb: CommitCallback }[] = [];
  /** The WAL, kept open for the background fdatasync. */
  private walFd: number | null = null;

  /** Estimated WAL bytes written since the last checkpoint request. */
  private walDebt = 0;
  private ckpt: CheckpointTicket | null = null;
  /** A sync-interval tick asked for a checkpoint while one was running. */
  private ckptAgain = false;
  /** commitSeq covered by the last complete checkpoint. */
  private lastCheckpointed = 0;
  private readonly checkpointer: Checkpointer;
  private lock: StreamLock | null = null;
  private readonly pageSize: number;

  private constructor(
    private readonly db: DB,
    readonly path: string,
    readonly account: string,
    readonly name: string,
    private readonly gc: GroupCommit,
    opts: SqliteStoreOptions,
  ) {
    this.s = prepareStatements(db);
    this.consumers = new SqliteConsumers(this, this.s, () => this.q, this.consumerHandles, this.dirtyConsumers);
    this.syncMode = opts.syncInterval !== "always" ? "interval" : opts.fsync;
    this.checkpointer = opts.checkpointer;
    this.pageSize = db.pragma("page_size", { simple: true }) as number;
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

  static open(path: string, account: string, name: string, opts: SqliteStoreOptions): SqliteStreamStore {
    const { db, lock, walPresent, corrupt, fail } = openDatabase(path, account, name, opts);
    try {
      const store = new SqliteStreamStore(db, path, account, name, opts.commit, opts);
      store.load(corrupt);
      if (opts.verify === "full") store.verifyAll(corrupt);
      store.lock = lock;
      // A WAL left by a crash is valid (SQLite replays it), but nothing would copy it into the
      // database before the next 8 MiB of writes: start with a checkpoint.
      if (walPresent) store.requestCheckpoint();
      return store;
    } catch (e) {
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
    if (!this.inTx) return;
    if (!this.wrote) {
      try {
        this.s.commit.run();
        this.inTx = false;
      } catch (e) {
        this.abortQuiet(e);
      }
      return;
    }
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
    } catch (e) {
      this.abortQuiet(e);
      return;
    }
    if (this.walDebt >= CHECKPOINT_BYTES) this.requestCheckpoint();
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
        if ((this.walDebt < WAL_TAIL_BYTES || logBytes >= WAL_MAX_BYTES) && !this.inTx) {
          // Everything but the last few writes is in the database (and synced): copying those
          // here lets the next write start the log over.
          try {
            this.db.pragma("wal_checkpoint(PASSIVE)");
          } catch (e) {
            this.abortQuiet(e);
          }
        } else {
          again = true;
        }
      }
      // A failed checkpoint leaves everything in the WAL, which stays valid; the next one retries.
      if (again) this.requestCheckpoint();
    });
  }

  notifyCommitted(): void {
    this.queued = false;
    const cbs = this.cbs;
    if (cbs.length === 0) return;
    this.cbs = [];
    if (this.syncMode !== "background" || this.failed !== null || this.commitSeq <= this.syncedSeq) {
      runCallbacks(cbs, this.failed);
      return;
    }
    for (const cb of cbs) this.waiters.push({ need: this.commitSeq, cb });
    this.startSync();
  }

  /** One fdatasync in flight at a time; it covers every commit made before it started. */
  private startSync(): void {
    if (this.syncing || this.isClosed || this.waiters.length === 0) return;
    this.syncing = true;
    const covers = this.commitSeq;
    const dir = this.dirSynced ? null : dirname(this.path);
    let openErr: Error | null = null;
    if (this.walFd === null) {
      try {
        // The WAL lives as long as the connection: SQLite restarts and truncates it in place.
        this.walFd = openSync(`${this.path}-wal`, "r");
      } catch (e) {
        // No WAL means nothing was ever written to it.
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") openErr = e as Error;
      }
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
    const rest: { need: number; cb: CommitCallback }[] = [];
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

  afterCommit(cb: CommitCallback): void {
    if (this.isClosed) {
      const err = this.failed;
      setImmediate(() => cb(err));
      return;
    }
    this.cbs.push(cb);
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
    if (!this.failed) this.commitPending();
    this.isClosed = true;
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
    // An fdatasync in flight still uses the descriptor; it closes it when it returns.
    if (!this.syncing) this.closeWal();
    try {
      this.db.close();
    } finally {
      this.lock?.release();
      this.lock = null;
      for (const h of this.consumerHandles.values()) h.deleted = true;
      const cbs = this.cbs.concat(this.waiters.map((w) => w.cb));
      this.cbs = [];
      this.waiters = [];
      this.queued = false;
      runCallbacks(cbs, this.failed);
    }
  }

  private closeWal(): void {
    if (this.walFd === null) return;
    try {
      closeSync(this.walFd);
    } catch {
      // nothing depends on it any more
    }
    this.walFd = null;
  }

  private vacuumStep(): void {
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    if (free > 0) this.db.exec(`PRAGMA incremental_vacuum(${VACUUM_PAGES})`);
    this.vacuumPending = free > VACUUM_PAGES;
  }

  private check(): void {
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
    this.inTx = false;
    this.wrote = false;
    this.rows = [];
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

  private readError(e: unknown): never {
    if (e instanceof StoreError) throw e;
    if (isCorruptionError(e)) throw new StoreCorruptError(this.account, this.name, this.path, (e as Error).message, e);
    throw e;
  }

  // ---- writes -------------------------------------------------------------------------------

  storeMsg(seq: number, ts: Nanos, subject: string, hdr: Uint8Array | null, data: Uint8Array, ttl = 0, flags = 0): void {
    this.check();
    if (seq !== this.last + 1) throw new SequenceMismatchError(this.last + 1, seq);
    if (subject.length === 0) throw new InvalidArgumentError("empty subject");
    const hlen = hdr === null ? 0 : hdr.byteLength;
    const dlen = data.byteLength;
    let e = this.index.get(subject);
    if (this.limActive && this.lim.discardNew) this.checkDiscardNew(e, hlen, dlen, flags);
    try {
      this.beginWrite();
      if (e === undefined) {
        const sid = this.q.insSubject.get(subject) as number;
        e = new SubjectEntry(subject, sid, subjectBytes(subject));
        this.index.add(e);
      }
      const h = hlen > 0 ? asBuffer(hdr!) : null;
      const d = asBuffer(data);
      const expires = ttl > 0 ? ts + BigInt(ttl) * NS_PER_SEC : null;
      // Rows are inserted in batches (one statement for many rows): any other use of the
      // database inserts them first (see q), and so does the commit.
      const r = this.rows;
      r.push(seq, ts, e.sid, ttl, expires, msgCrc(seq, ts, ttl, subject, h, d), h, d);
      if (r.length >= ROWS_PER_INSERT * 8 * 4) this.insertRows();
    } catch (err) {
      this.writeFailed(err);
    }
    if (this.msgs === 0) {
      this.first = seq;
      this.firstTs = ts;
    }
    this.msgs++;
    this.bytes += fileStoreMsgSize(e.slen, hlen, dlen);
    this.walDebt += hlen + dlen + 64;
    this.last = seq;
    this.lastTime = ts;
    if (e.msgs === 0) e.first = seq;
    e.msgs++;
    e.last = seq;
    this.blocks?.add(seq);
    this.stateDirty = true;
    if (this.limActive) this.enforceAfterStore(e);
  }

  /** nats-server filestore.storeRawMsg's discard-new checks, before anything is written. */
  private checkDiscardNew(e: SubjectEntry | undefined, hlen: number, dlen: number, flags: number): void {
    const lim = this.lim;
    let atSubjectLimit = false;
    let fseq = 0;
    if (lim.maxMsgsPerSubject > 0 && e !== undefined && e.msgs >= lim.maxMsgsPerSubject) {
      if (lim.discardNewPerSubject && (flags & StoreFlags.SkipDiscardNewPerSubject) === 0) throw new DiscardNewError("msgs_per_subject");
      atSubjectLimit = true;
      fseq = e.first;
    }
    if (lim.maxMsgs > 0 && this.msgs >= lim.maxMsgs && !atSubjectLimit) throw new DiscardNewError("msgs");
    if (lim.maxBytes > 0 && this.bytes + dlen + hlen >= lim.maxBytes) {
      if (!atSubjectLimit || this.sizeOf(fseq) <= dlen + hlen) throw new DiscardNewError("bytes");
    }
  }

  private sizeOf(seq: number): number {
    const r = this.q.sizeOf.get(seq) as [number, number | null, number] | undefined;
    if (r === undefined) return 0;
    const e = this.index.bySidGet(r[0]);
    return fileStoreMsgSize(e ? e.slen : 0, r[1] ?? 0, r[2]);
  }

  private enforceAfterStore(e: SubjectEntry): void {
    const lim = this.lim;
    if (lim.maxMsgsPerSubject > 0) while (e.msgs > lim.maxMsgsPerSubject) this.removeForLimit(e.first);
    if (lim.maxMsgs > 0) while (this.msgs > lim.maxMsgs) this.removeForLimit(this.first);
    if (lim.maxBytes > 0) while (this.bytes > lim.maxBytes && this.msgs > 0) this.removeForLimit(this.first);
  }

  private removeForLimit(seq: number): void {
    const subject = this.removeOne(seq, false);
    if (subject !== null && this.limitHandler !== null) this.limitHandler(seq, subject);
  }

  skipMsgs(seq: number, count: number, ts: Nanos): void {
    this.check();
    if (seq !== this.last + 1) throw new SequenceMismatchError(this.last + 1, seq);
    if (count < 1) return;
    try {
      this.beginWrite();
    } catch (e) {
      this.writeFailed(e);
    }
    this.last = seq + count - 1;
    this.lastTime = ts;
    // As nats-server's SkipMsg: an empty stream's first time is the skip's time.
    if (this.msgs === 0) {
      this.first = this.last + 1;
      this.firstTs = ts;
    }
    this.stateDirty = true;
  }

  removeMsg(seq: number): boolean {
    this.check();
    return this.removeOne(seq, false) !== null;
  }

  eraseMsg(seq: number): boolean {
    this.check();
    return this.removeOne(seq, true) !== null;
  }

  /** Removes one message and updates every structure; returns its subject, or null if absent. */
  /** With withHdr, the removed message's headers are left in removedHdr. */
  private removeOne(seq: number, secure: boolean, withHdr = false): string | null {
    if (seq < this.first || seq > this.last || this.msgs === 0) return null;
    try {
      this.beginWrite();
      if (secure) this.db.pragma("secure_delete = 1");
      const r = (withHdr ? this.q.delOneHdr : this.q.delOne).get(seq) as [number, number | null, number, Uint8Array | null] | undefined;
      if (secure) this.db.pragma("secure_delete = 0");
      if (r === undefined) return null;
      if (withHdr) this.removedHdr = r[3] ?? null;
      const e = this.index.bySidGet(r[0]);
      if (e === undefined) throw new Error(`message ${seq} has unknown subject id ${r[0]}`);
      this.msgs--;
      this.bytes -= fileStoreMsgSize(e.slen, r[1] ?? 0, r[2]);
      this.walDebt += 256;
      this.blocks?.remove(seq);
      this.stateDirty = true;
      e.msgs--;
      if (e.msgs === 0) {
        this.index.delete(e);
        this.q.delSubject.run(e.sid);
      } else if (seq === e.first) {
        e.first = this.q.nextSeqSid.get(e.sid, seq) as number;
      } else if (seq === e.last) {
        e.last = this.q.prevSeqSid.get(e.sid, seq) as number;
      }
      if (this.msgs === 0) {
        this.first = this.last + 1;
        this.firstTs = 0n;
      } else if (seq === this.first) {
        this.setFirstFrom(seq + 1);
      }
      return e.subject;
    } catch (err) {
      return this.writeFailed(err);
    }
  }

  private setFirstFrom(seq: number): void {
    const r = this.q.firstFrom.get(seq) as [bigint, bigint] | undefined;
    if (r === undefined) {
      this.first = this.last + 1;
      this.firstTs = 0n;
    } else {
      this.first = Number(r[0]);
      this.firstTs = r[1];
    }
  }

  purge(): number {
    this.check();
    const n = this.msgs;
    try {
      this.beginWrite();
      this.q.delAll.run();
      this.q.delAllSubjects.run();
    } catch (e) {
      this.writeFailed(e);
    }
    this.index.clear();
    if (this.blocks !== null) this.blocks.clear();
    this.msgs = 0;
    this.bytes = 0;
    this.first = this.last + 1;
    this.firstTs = 0n;
    this.stateDirty = true;
    if (n > 0) this.vacuumPending = true;
    this.walDebt += n * 64;
    return n;
  }

  compact(seq: number): number {
    this.check();
    if (seq === 0) return this.purge();
    if (seq > this.last) {
      const n = this.purge();
      this.first = seq;
      this.last = seq - 1;
      return n;
    }
    if (seq <= this.first || this.msgs === 0) return 0;
    return this.removeRange(this.first, seq - 1, null);
  }

  truncate(seq: number): void {
    this.check();
    if (seq === 0) {
      this.purge();
      this.first = 0;
      this.last = 0;
      this.lastTime = 0n;
      return;
    }
    if (seq >= this.last) return;
    if (this.msgs > 0 && seq >= this.first) this.removeRange(seq + 1, this.last, null);
    else if (this.msgs > 0) this.purge();
    try {
      this.beginWrite();
      const r = this.q.prevRow.get(seq) as [bigint, bigint] | undefined;
      this.lastTime = r === undefined ? 0n : r[1];
    } catch (e) {
      this.writeFailed(e);
    }
    this.last = seq;
    if (this.msgs === 0) {
      this.first = seq + 1;
      this.firstTs = 0n;
    }
    this.stateDirty = true;
  }

  purgeEx(filter: string, upToSeq: number, keep: number): number {
    this.check();
    if (upToSeq > 1 && keep > 0) throw new PurgeArgError();
    if (isAllFilter(filter)) {
      if (keep === 0 && upToSeq <= 1) return this.purge();
      if (upToSeq > 1) return this.compact(upToSeq);
      if (keep >= this.msgs) return 0;
      return this.compact(this.last - keep + 1);
    }
    if (this.msgs === 0) return 0;
    const m = this.index.match(filter);
    if (m.size === 0) return 0;
    const all = m.size === this.index.size;
    let hi = upToSeq > 1 ? upToSeq - 1 : this.last;
    try {
      if (keep > 0) {
        let total = 0;
        for (const e of m) total += e.msgs;
        if (keep >= total) return 0;
        const nth = total - keep - 1;
        if (all) hi = this.q.nth.get(nth) as number;
        else if (m.size === 1) hi = this.q.nthSid.get(first(m).sid, nth) as number;
        else hi = this.q.nthSids.get(JSON.stringify(sidsOf(m)), nth) as number;
      }
    } catch (e) {
      this.readError(e);
    }
    return this.removeRange(this.first, hi, all ? null : Array.from(m));
  }

  /**
   * Removes every message with seq in [lo, hi] (of the given subjects, or all), in bulk: one
   * aggregate query for the accounting, one DELETE, then per-subject first/last fix-ups.
   */
  private removeRange(lo: number, hi: number, entries: SubjectEntry[] | null): number {
    if (hi < lo || this.msgs === 0) return 0;
    let removed = 0;
    let bytes = 0;
    const touched: SubjectEntry[] = [];
    try {
      this.beginWrite();
      const account = (e: SubjectEntry | undefined, sid: number, rows: number[][]): void => {
        if (e === undefined) throw new Error(`messages refer to unknown subject id ${sid}`);
        let c = 0;
        for (const [block, n, dsum, hsum] of rows) {
          c += n!;
          bytes += n! * (30 + e.slen) + dsum! + hsum!;
          this.blocks?.remove(block! * BLOCK_SIZE, n!);
        }
        if (c === 0) return;
        e.msgs -= c;
        removed += c;
        touched.push(e);
      };
      if (entries === null) {
        const bySid = new Map<number, number[][]>();
        for (const r of this.q.statsRange.all(lo, hi) as number[][]) {
          let l = bySid.get(r[0]!);
          if (l === undefined) bySid.set(r[0]!, (l = []));
          l.push(r.slice(1));
        }
        for (const [sid, rows] of bySid) account(this.index.bySidGet(sid), sid, rows);
        this.q.delRange.run(lo, hi);
      } else {
        for (const e of entries) {
          if (e.last < lo || e.first > hi) continue;
          account(e, e.sid, this.q.statsRangeSid.all(e.sid, lo, hi) as number[][]);
          this.q.delRangeSid.run(e.sid, lo, hi);
        }
      }
      this.msgs -= removed;
      this.bytes -= bytes;
      for (const e of touched) {
        if (e.msgs <= 0) {
          this.index.delete(e);
          this.q.delSubject.run(e.sid);
        } else {
          const mm = this.q.minMaxSid.get(e.sid) as [number, number];
          e.first = mm[0];
          e.last = mm[1];
        }
      }
      if (this.msgs === 0) {
        this.first = this.last + 1;
        this.firstTs = 0n;
      } else if (this.first >= lo && this.first <= hi) {
        this.setFirstFrom(this.first);
      }
    } catch (e) {
      this.writeFailed(e);
    }
    if (removed > 0) {
      this.walDebt += removed * 64;
      this.stateDirty = true;
      this.vacuumPending = true;
    }
    return removed;
  }

  expire(now: Nanos): ExpiredMsg[] {
    this.check();
    const out: ExpiredMsg[] = [];
    if (this.msgs === 0) return out;
    try {
      for (;;) {
        const seqs = this.q.expiredTtl.all(now) as number[];
        let n = 0;
        for (const seq of seqs) {
          const subject = this.removeOne(seq, false, true);
          if (subject !== null) {
            out.push({ seq, subject, marker: isMarkerHeader(this.removedHdr) });
            n++;
          }
        }
        if (seqs.length < CHUNK || n === 0) break;
      }
      const maxAge = this.lim.maxAgeNanos;
      if (maxAge > 0n) {
        const cutoff = now - maxAge;
        let from = this.first;
        scan: for (;;) {
          const rows = this.q.scanAge.all(from) as [bigint, bigint, bigint][];
          for (const [bseq, ts, ttl] of rows) {
            if (ts > cutoff) break scan;
            if (Number(ttl) === TTL_NEVER) continue;
            const seq = Number(bseq);
            const subject = this.removeOne(seq, false, true);
            if (subject !== null) out.push({ seq, subject, marker: isMarkerHeader(this.removedHdr) });
          }
          if (rows.length < CHUNK) break;
          from = Number(rows[rows.length - 1]![0]) + 1;
        }
      }
    } catch (e) {
      this.writeFailed(e);
    }
    return out;
  }

  nextExpiry(): Nanos | null {
    this.check();
    if (this.msgs === 0) return null;
    try {
      let best = (this.q.minExpires.get() as bigint | undefined) ?? null;
      const maxAge = this.lim.maxAgeNanos;
      if (maxAge > 0n) {
        let from = this.first;
        scan: for (;;) {
          const rows = this.q.scanAge.all(from) as [bigint, bigint, bigint][];
          for (const [, ts, ttl] of rows) {
            if (Number(ttl) === TTL_NEVER) continue;
            const t = ts + maxAge;
            if (best === null || t < best) best = t;
            break scan;
          }
          if (rows.length < CHUNK) break;
          from = Number(rows[rows.length - 1]![0]) + 1;
        }
      }
      return best;
    } catch (e) {
      return this.readError(e);
    }
  }

  setLimits(limits: Partial<StoreLimits>): void {
    this.check();
    this.lim = { ...this.lim, ...limits };
    const l = this.lim;
    this.limActive = l.maxMsgs > 0 || l.maxBytes > 0 || l.maxMsgsPerSubject > 0 || l.discardNew;
    if (l.maxMsgsPerSubject > 0) {
      for (const e of Array.from(this.index.values())) while (e.msgs > l.maxMsgsPerSubject) this.removeForLimit(e.first);
    }
    if (l.maxMsgs > 0) while (this.msgs > l.maxMsgs) this.removeForLimit(this.first);
    if (l.maxBytes > 0) while (this.bytes > l.maxBytes && this.msgs > 0) this.removeForLimit(this.first);
  }

  limits(): StoreLimits {
    return { ...this.lim };
  }

  onLimitRemoval(handler: LimitRemovalHandler | null): void {
    this.limitHandler = handler;
  }

  // ---- reads --------------------------------------------------------------------------------

  /** r: [ts, sid, ttl, crc, hdr, data] (off 0) or [seq, ts, sid, ttl, crc, hdr, data] (off 1). */
  private buildMsg(seq: number, r: unknown[], off: number, corrupt?: (d: string) => StoreCorruptError): StoredMsg {
    const bad = corrupt ?? ((d: string) => new StoreCorruptError(this.account, this.name, this.path, d));
    try {
      const ts = big(r[off]);
      const sid = int(r[off + 1]);
      const ttl = int(r[off + 2]);
      const crc = int(r[off + 3]);
      const hdr = r[off + 4] === null ? null : blob(r[off + 4]);
      const data = blob(r[off + 5]);
      const e = this.index.bySidGet(sid);
      if (e === undefined) throw new BadRow(`refers to unknown subject id ${sid}`);
      if (msgCrc(seq, ts, ttl, e.subject, hdr, data) !== crc) throw new BadRow("checksum mismatch");
      return { seq, ts, subject: e.subject, hdr, data, ttl };
    } catch (e) {
      if (e instanceof BadRow) throw bad(`message ${seq}: ${e.message}`);
      throw e;
    }
  }

  loadMsg(seq: number): StoredMsg | null {
    this.check();
    if (seq < this.first || seq > this.last) return null;
    try {
      const r = this.q.get.get(seq) as unknown[] | undefined;
      return r === undefined ? null : this.buildMsg(seq, r, 0);
    } catch (e) {
      return this.readError(e);
    }
  }

  loadNextMsg(filter: string, start: number): StoredMsg | null {
    this.check();
    if (start < this.first) start = this.first;
    if (start > this.last || this.msgs === 0) return null;
    try {
      let r: unknown[] | undefined;
      if (isAllFilter(filter)) {
        r = this.q.getNext.get(start) as unknown[] | undefined;
      } else if (!hasWildcard(filter)) {
        const e = this.index.get(filter);
        if (e === undefined || e.last < start) return null;
        r = this.q.getNextSid.get(e.sid, start) as unknown[] | undefined;
      } else {
        const seq = this.nextMatchSeq(filter, start);
        return seq === 0 ? null : this.loadMsg(seq);
      }
      return r === undefined ? null : this.buildMsg(Number(r[0] as bigint), r, 1);
    } catch (e) {
      return this.readError(e);
    }
  }

  loadNextWithHeaders(start: number): StoredMsg | null {
    this.check();
    if (start < this.first) start = this.first;
    if (start > this.last || this.msgs === 0) return null;
    try {
      // The scan of header-less rows stays inside SQLite.
      const r = this.q.getNextHdr.get(start) as unknown[] | undefined;
      return r === undefined ? null : this.buildMsg(Number(r[0] as bigint), r, 1);
    } catch (e) {
      return this.readError(e);
    }
  }

  loadNextMsgMulti(filters: readonly string[], start: number): StoredMsg | null {
    this.check();
    if (start < this.first) start = this.first;
    if (start > this.last || this.msgs === 0) return null;
    try {
      let best = 0;
      for (const f of filters) {
        const s = this.nextMatchSeq(f, start);
        if (s !== 0 && (best === 0 || s < best)) best = s;
        if (best === start) break;
      }
      return best === 0 ? null : this.loadMsg(best);
    } catch (e) {
      return this.readError(e);
    }
  }

  /**
   * Two statements per batch, each answering one row: the rows' small columns as one text of
   * numbers, then every header and payload of those rows as one concatenated blob, which is cut
   * back into messages. Every value SQLite hands to JavaScript costs an allocation (a blob a
   * Buffer, an integer a BigInt, a row an array), and for small messages those are most of the
   * cost of a read; one text and one blob per batch are not. Every message is still checked
   * against its checksum; anything unexpected (a value not as we wrote it, counts or lengths
   * that do not add up, sequences out of order, a bad checksum) goes the one-by-one way, which
   * reports it exactly as loadNextMsg does.
   */
  loadNextMsgs(filter: string, start: number, max: number, maxBytes: number): StoredMsg[] {
    this.check();
    if (start < this.first) start = this.first;
    if (start > this.last || this.msgs === 0 || max <= 0) return [];
    const all = isAllFilter(filter);
    // Large messages: copying them into one blob costs more than a Buffer each.
    if (max === 1 || (!all && hasWildcard(filter)) || this.bytes > this.msgs * CONCAT_AVG_MAX) return loadNextMsgsOneByOne(this, filter, start, max, maxBytes);
    let sid = 0;
    if (!all) {
      const e = this.index.get(filter);
      if (e === undefined || e.last < start) return [];
      sid = e.sid;
    }
    let out: StoredMsg[] | null;
    try {
      const st = this.batchStmts();
      const head = (all ? st.meta.get(start, max) : st.metaSid.get(sid, start, max)) as [unknown, unknown];
      out = this.cutBatch(head, start, maxBytes, (from, to) => (all ? st.bodies.get(from, to) : st.bodiesSid.get(sid, from, to)));
    } catch (e) {
      return this.readError(e);
    }
    return out ?? loadNextMsgsOneByOne(this, filter, start, max, maxBytes);
  }

  /** head: [row count, "<8 numbers per row>"] (META_COLS). null: not what we wrote. */
  private cutBatch(head: [unknown, unknown], start: number, maxBytes: number, bodies: (from: number, to: number) => unknown): StoredMsg[] | null {
    const rows = head[0];
    if (typeof rows !== "number" || !Number.isSafeInteger(rows) || rows < 0) return null;
    if (rows === 0) return [];
    if (typeof head[1] !== "string") return null;
    const v = new Float64Array(rows * META_COLS);
    if (!parseNumberList(head[1], v)) return null;
    let n = 0;
    let total = 0;
    let prev = start - 1;
    while (n < rows && total < maxBytes) {
      const o = n * META_COLS;
      if (v[o]! <= prev || v[o + 6]! < -1 || v[o + 7]! < 0) return null;
      prev = v[o]!;
      total += Math.max(0, v[o + 6]!) + v[o + 7]!;
      n++;
    }
    const b = bodies(v[0]!, v[(n - 1) * META_COLS]!);
    const buf = b === null ? EMPTY_BLOB : Buffer.isBuffer(b) ? b : null;
    if (buf === null || buf.length !== total) return null;
    const out: StoredMsg[] = new Array(n);
    let off = 0;
    // Neighbours mostly share their second.
    let sec = NaN;
    let secNs = 0n;
    for (let i = 0; i < n; i++) {
      const o = i * META_COLS;
      const seq = v[o]!;
      if (v[o + 1] !== sec) {
        sec = v[o + 1]!;
        secNs = BigInt(sec) * NS_PER_SEC;
      }
      const ts = secNs + BigInt(v[o + 2]!);
      const ttl = v[o + 4]!;
      const e = this.index.bySidGet(v[o + 3]!);
      if (e === undefined) return null;
      let hdr: Buffer | null = null;
      const hl = v[o + 6]!;
      if (hl >= 0) {
        hdr = buf.subarray(off, off + hl);
        off += hl;
      }
      const dl = v[o + 7]!;
      const data = buf.subarray(off, off + dl);
      off += dl;
      if (msgCrc(seq, ts, ttl, e.subject, hdr, data) !== v[o + 5]) return null;
      out[i] = { seq, ts, subject: e.subject, hdr, data, ttl };
    }
    return out;
  }

  private batchReads: Record<"meta" | "metaSid" | "bodies" | "bodiesSid", Stmt> | null = null;

  /** Read-only statements for loadNextMsgs, prepared on first use; like q, after inserting the rows held. */
  private batchStmts(): Record<"meta" | "metaSid" | "bodies" | "bodiesSid", Stmt> {
    if (this.rows.length > 0) this.insertRows();
    if (this.batchReads === null) {
      // META_COLS numbers per row; ts in two parts, as a double cannot hold it whole. A row
      // with a NULL where we never write one drops out of group_concat, which the count shows.
      const meta = "count(*), group_concat(format('%d,%d,%d,%d,%d,%d,%d,%d', seq, ts / 1000000000, ts % 1000000000, sid, ttl, crc, hl, dl), ',')";
      // The lengths are taken inside, where SQLite reads them from the row header without the blobs.
      const rows = "seq, ts, sid, ttl, crc, coalesce(length(hdr), -1) AS hl, length(data) AS dl";
      // A TEXT concatenation of blobs keeps their bytes (the database is UTF-8, nothing is
      // transcoded); the cast makes the result a blob again. The aggregates take the rows in the
      // subquery's order (an ORDER BY inside them would sort again); cutBatch checks the order
      // of the numbers, and the checksums that of the bodies.
      const bodies = "CAST(group_concat(CAST(coalesce(hdr, X'') AS BLOB) || data, X'') AS BLOB)";
      const p = (sql: string): Stmt => this.db.prepare(sql);
      this.batchReads = {
        meta: p(`SELECT ${meta} FROM (SELECT ${rows} FROM msgs WHERE seq >= ? ORDER BY seq LIMIT ?)`).raw(),
        metaSid: p(`SELECT ${meta} FROM (SELECT ${rows} FROM msgs WHERE sid = ? AND seq >= ? ORDER BY seq LIMIT ?)`).raw(),
        bodies: p(`SELECT ${bodies} FROM (SELECT hdr, data FROM msgs WHERE seq >= ? AND seq <= ? ORDER BY seq)`).pluck(),
        bodiesSid: p(`SELECT ${bodies} FROM (SELECT hdr, data FROM msgs WHERE sid = ? AND seq >= ? AND seq <= ? ORDER BY seq)`).pluck(),
      };
    }
    return this.batchReads;
  }

  /** First sequence >= start whose subject matches filter, or 0. start is within [first, last]. */
  private nextMatchSeq(filter: string, start: number): number {
    if (isAllFilter(filter)) return (this.q.nextSeq.get(start) as number | undefined) ?? 0;
    if (!hasWildcard(filter)) {
      const e = this.index.get(filter);
      if (e === undefined || e.last < start) return 0;
      return e.first >= start ? e.first : ((this.q.nextSeqSid.get(e.sid, start) as number | undefined) ?? 0);
    }
    const m = this.index.match(filter);
    if (m.size === 0) return 0;
    if (m.size === this.index.size) return (this.q.nextSeq.get(start) as number | undefined) ?? 0;
    if (m.size > CANDIDATE_SUBJECTS) {
      // Many subjects match: walk the stream in order for a while; most hits are near start.
      let from = start;
      for (let scanned = 0; scanned < SCAN_ROWS; ) {
        const rows = this.q.scan.all(from, CHUNK) as [number, number][];
        for (const [seq, sid] of rows) {
          const e = this.index.bySidGet(sid);
          if (e !== undefined && m.has(e)) return seq;
        }
        if (rows.length < CHUNK) return 0;
        scanned += rows.length;
        from = rows[rows.length - 1]![0] + 1;
      }
      start = from;
    }
    let best = 0;
    for (const e of m) {
      if (e.last < start) continue;
      const c = e.first >= start ? e.first : ((this.q.nextSeqSid.get(e.sid, start) as number | undefined) ?? 0);
      if (c !== 0 && (best === 0 || c < best)) best = c;
    }
    return best;
  }

  loadLastMsg(filter: string): StoredMsg | null {
    this.check();
    if (this.msgs === 0) return null;
    if (isAllFilter(filter)) return this.loadPrevMsg(this.last);
    let best = 0;
    for (const e of this.index.match(filter)) if (e.last > best) best = e.last;
    return best === 0 ? null : this.loadMsg(best);
  }

  loadPrevMsg(start: number, filter = ">"): StoredMsg | null {
    this.check();
    if (start > this.last) start = this.last;
    if (start < this.first || this.msgs === 0) return null;
    try {
      if (isAllFilter(filter)) {
        const r = this.q.getPrev.get(start) as unknown[] | undefined;
        return r === undefined ? null : this.buildMsg(Number(r[0] as bigint), r, 1);
      }
      let best = 0;
      for (const e of this.index.match(filter)) {
        if (e.first > start) continue;
        const c = e.last <= start ? e.last : ((this.q.prevSeqSid.get(e.sid, start) as number | undefined) ?? 0);
        if (c > best) best = c;
      }
      return best === 0 ? null : this.loadMsg(best);
    } catch (e) {
      return this.readError(e);
    }
  }

  seqFromTime(ts: Nanos): number {
    this.check();
    if (this.msgs === 0) return this.last + 1;
    try {
      let lo = this.first;
      let hi = this.last + 1;
      while (lo < hi) {
        const mid = lo + Math.floor((hi - lo) / 2);
        const r = this.q.firstFrom.get(mid) as [bigint, bigint] | undefined;
        if (r === undefined || r[1] >= ts) hi = mid;
        else lo = Number(r[0]) + 1;
      }
      const r = this.q.firstFrom.get(lo) as [bigint, bigint] | undefined;
      return r === undefined ? this.last + 1 : Number(r[0]);
    } catch (e) {
      return this.readError(e);
    }
  }

  lastSeq(): number {
    return this.last;
  }

  lastTs(): Nanos {
    return this.lastTime;
  }

  state(opts?: StateOptions): StreamState {
    this.check();
    const numDeleted = this.msgs > 0 ? this.last - this.first + 1 - this.msgs : 0;
    const st: StreamState = {
      msgs: this.msgs,
      bytes: this.bytes,
      firstSeq: this.first,
      firstTs: this.firstTs,
      lastSeq: this.last,
      lastTs: this.lastTime,
      numDeleted,
      numSubjects: this.index.size,
    };
    if (opts?.deleted) st.deleted = numDeleted > 0 ? this.deletedList() : [];
    return st;
  }

  private deletedList(): number[] {
    const out: number[] = [];
    try {
      const blocks = this.ensureBlocks();
      const lastB = blockOf(this.last);
      for (let b = blockOf(this.first); b <= lastB; b++) {
        const lo = Math.max(b * BLOCK_SIZE, this.first);
        const hi = Math.min(b * BLOCK_SIZE + BLOCK_SIZE - 1, this.last);
        const live = blocks.count(b);
        if (live === hi - lo + 1) continue;
        let next = lo;
        if (live > 0) {
          for (const seq of this.q.seqsRange.iterate(lo, hi) as IterableIterator<number>) {
            for (; next < seq; next++) out.push(next);
            next = seq + 1;
          }
        }
        for (; next <= hi; next++) out.push(next);
      }
    } catch (e) {
      this.readError(e);
    }
    return out;
  }

  private ensureBlocks(): SeqBlocks {
    if (this.blocks !== null) return this.blocks;
    const b = new SeqBlocks();
    for (const [block, n] of this.q.blockCounts.all() as [number, number][]) b.add(block * BLOCK_SIZE, n);
    this.blocks = b;
    return b;
  }

  subjectState(subject: string): SimpleState | null {
    this.check();
    const e = this.index.get(subject);
    return e === undefined ? null : { msgs: e.msgs, first: e.first, last: e.last };
  }

  subjectsState(filter: string): Map<string, SimpleState> {
    this.check();
    const out = new Map<string, SimpleState>();
    for (const e of this.index.match(filter)) out.set(e.subject, { msgs: e.msgs, first: e.first, last: e.last });
    return out;
  }

  filteredState(start: number, filter: string): SimpleState {
    this.check();
    if (start < this.first) start = this.first;
    if (start > this.last || this.msgs === 0) return { msgs: 0, first: 0, last: 0 };
    try {
      const m = this.index.match(filter);
      if (m.size === this.index.size) {
        const n = this.countFrom(start);
        if (n === 0) return { msgs: 0, first: 0, last: 0 };
        return { msgs: n, first: this.q.nextSeq.get(start) as number, last: this.q.maxSeq.get() as number };
      }
      const ss: SimpleState = { msgs: 0, first: 0, last: 0 };
      for (const e of m) {
        if (e.last < start) continue;
        let f: number;
        if (e.first >= start) {
          ss.msgs += e.msgs;
          f = e.first;
        } else {
          ss.msgs += this.countSidFrom(e, start);
          f = this.q.nextSeqSid.get(e.sid, start) as number;
        }
        if (ss.first === 0 || f < ss.first) ss.first = f;
        if (e.last > ss.last) ss.last = e.last;
      }
      return ss;
    } catch (e) {
      return this.readError(e);
    }
  }

  numPending(start: number, filter: string, lastPerSubject: boolean): number {
    this.check();
    if (start < this.first) start = this.first;
    if (start > this.last || this.msgs === 0) return 0;
    const m = this.index.match(filter);
    if (lastPerSubject) {
      let n = 0;
      for (const e of m) if (e.last >= start) n++;
      return n;
    }
    try {
      if (m.size === this.index.size) return this.countFrom(start);
      let n = 0;
      for (const e of m) {
        if (e.last < start) continue;
        n += e.first >= start ? e.msgs : this.countSidFrom(e, start);
      }
      return n;
    } catch (e) {
      return this.readError(e);
    }
  }

  /** Live messages with seq >= start: block counts plus one partial block. */
  private countFrom(start: number): number {
    if (start <= this.first) return this.msgs;
    const blocks = this.ensureBlocks();
    const b = blockOf(start);
    const blockEnd = b * BLOCK_SIZE + BLOCK_SIZE - 1;
    // Count the shorter side of start within its block.
    const before = start - b * BLOCK_SIZE;
    const inBlock =
      before < BLOCK_SIZE / 2 ? blocks.count(b) - (this.q.countRange.get(b * BLOCK_SIZE, start - 1) as number) : (this.q.countRange.get(start, blockEnd) as number);
    return inBlock + blocks.sumAfter(b);
  }

  /** Messages of e with seq >= start, counting whichever side of start is shorter in its index. */
  private countSidFrom(e: SubjectEntry, start: number): number {
    if (start - e.first < e.last - start) return e.msgs - (this.q.countBeforeSid.get(e.sid, start) as number);
    return this.q.countFromSid.get(e.sid, start) as number;
  }

  msgSize(subject: string, hdrLen: number, dataLen: number): number {
    return fileStoreMsgSize(subjectBytes(subject), hdrLen, dataLen);
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

/** fdatasync(path) on the threadpool, plus fsync of its directory the first time (new file). */
/** fdatasync of the WAL (null: there is none, nothing to sync), then once the directory. */
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

function first<T>(it: Iterable<T>): T {
  for (const x of it) return x;
  throw new Error("empty");
}

function sidsOf(m: EntrySet): number[] {
  const out: number[] = [];
  for (const e of m) out.push(e.sid);
  return out;
}
