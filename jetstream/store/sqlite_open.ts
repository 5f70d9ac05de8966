// Making and opening a stream's database file: the atomic create, and the checks an open runs
// before the store reads anything (file header, lock, connection settings, schema, verify level).

import Database from "better-sqlite3";
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { hashedBasePrefix, STREAM_FILE_SUFFIX } from "./names.js";
import { stateCrc, textCrc } from "./checksum.js";
import { StoreCorruptError, StoreError, StoreOpenError, StreamExistsError, StreamNotFoundError } from "./errors.js";
import { APPLICATION_ID, checkFileHeader, checkSchema, FORMAT_VERSION, isOpenCorruption, PAGE_SIZE, SCHEMA, type ExpectedName } from "./sqlite_schema.js";
import type { DB } from "./sqlite_statements.js";
import type { FsyncMode, SyncInterval, VerifyLevel } from "./store.js";
import { LOCK_SUFFIX, StreamLock } from "./stream_lock.js";

/** What a new stream database is created with (StreamStore.saveConfig / setMeta values). */
export interface InitialMeta {
  config?: string;
  meta?: Record<string, string>;
}

/** The options that decide how a database is opened and checked. */
export interface OpenOptions {
  syncInterval: SyncInterval;
  fsync: FsyncMode;
  verify: VerifyLevel;
  cacheKiB: number;
}

/** A stream database opened, locked and checked, for the store to load. */
export interface CheckedDatabase {
  readonly db: DB;
  readonly lock: StreamLock;
  /** A WAL was left behind (by a crash); SQLite replays it. */
  readonly walPresent: boolean;
  /** The stream's name, as stored in the file. */
  readonly name: string;
  readonly corrupt: (detail: string, cause?: unknown) => StoreCorruptError;
  /** Closes the database, releases the lock and throws e as this open's error. */
  fail(e: unknown): never;
}

/**
 * Creates the database under a temporary name and renames it into place, so a crash never
 * leaves a half-initialised file that recovery would report as a corrupt stream.
 */
export function createDatabase(path: string, account: string, name: string, init: InitialMeta): void {
  if (existsSync(path)) throw new StreamExistsError(account, name);
  const tmp = `${path}.creating`;
  // Leftovers of an interrupted create or delete; a stray -wal must never meet a new file.
  for (const f of [tmp, `${tmp}-journal`, `${path}-wal`, `${path}-shm`, `${path}-journal`]) rmSync(f, { force: true });
  const db = new Database(tmp);
  try {
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma("auto_vacuum = INCREMENTAL");
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${FORMAT_VERSION}`);
    db.pragma("journal_mode = DELETE");
    db.pragma("synchronous = FULL");
    db.exec("BEGIN");
    db.exec(SCHEMA);
    const put = db.prepare("INSERT INTO meta (key, value, crc) VALUES (?, ?, ?)");
    const rows: [string, string][] = [
      ["format", String(FORMAT_VERSION)],
      ["account", account],
      ["stream", name],
    ];
    // The stream's config and metadata arrive with the file itself: no crash can leave a stream
    // database without the config that says what it is.
    if (init.config !== undefined) rows.push(["config", init.config]);
    for (const [k, v] of Object.entries(init.meta ?? {})) rows.push([`user:${k}`, v]);
    for (const [k, v] of rows) put.run(k, v, textCrc(k, v));
    db.prepare("INSERT INTO state VALUES (1, 0, 0, 0, 0, 0, 0, ?)").run(stateCrc(0, 0n, 0, 0n, 0, 0));
    db.exec("COMMIT");
  } catch (e) {
    db.close();
    rmSync(tmp, { force: true });
    throw new StoreOpenError(account, name, path, "cannot create database", e);
  }
  db.close();
  fsyncPath(tmp);
  renameSync(tmp, path);
  fsyncPath(dirname(path));
}

/** Opens, locks and checks the database at path; on failure nothing stays open or locked. */
export function openDatabase(path: string, account: string, expected: ExpectedName, opts: OpenOptions): CheckedDatabase {
  // Until the file says whose it is, a hashed file is reported by what its path tells.
  let name = typeof expected === "string" ? expected : hashedBasePrefix(basename(path, STREAM_FILE_SUFFIX));
  const corrupt = (detail: string, cause?: unknown) => new StoreCorruptError(account, name, path, detail, cause);
  if (!existsSync(path)) throw new StreamNotFoundError(account, name);
  const wal = `${path}-wal`;
  const walPresent = existsSync(wal) && statSync(wal).size > 0;
  const problem = checkFileHeader(path, walPresent);
  if (problem !== null) throw corrupt(problem);

  let lock: StreamLock | null;
  try {
    lock = StreamLock.acquire(path);
  } catch (e) {
    throw new StoreOpenError(account, name, path, `cannot take the lock ${path}${LOCK_SUFFIX}: ${(e as Error).message}`, e);
  }
  if (lock === null) throw new StoreOpenError(account, name, path, "database is locked (in use by another server)");
  let db: DB;
  try {
    db = new Database(path, { fileMustExist: true, timeout: 0 });
  } catch (e) {
    lock.release();
    if (isOpenCorruption(e)) throw corrupt((e as Error).message, e);
    throw new StoreOpenError(account, name, path, (e as Error).message, e);
  }
  const fail = (e: unknown): never => {
    try {
      db.close();
    } catch {
      // already failing; the original error is the one to report
    }
    lock.release();
    if (e instanceof StoreError) throw e;
    if (isOpenCorruption(e)) throw corrupt((e as Error).message, e);
    throw new StoreOpenError(account, name, path, (e as Error).message, e);
  };
  try {
    configure(db, opts);
    name = checkSchema(db, account, expected, corrupt);
    if (opts.verify !== "light") {
      // quick_check: every page's structure. integrity_check adds that indexes match tables.
      const check = opts.verify === "full" ? "integrity_check" : "quick_check";
      const res = db.pragma(`${check}(20)`, { simple: false }) as Record<string, string>[];
      if (res.length !== 1 || res[0]![check] !== "ok") throw corrupt(`${check}: ${res.map((r) => r[check]).join("; ")}`);
    }
  } catch (e) {
    fail(e);
  }
  return { db, lock, walPresent, name, corrupt, fail };
}

function configure(db: DB, opts: OpenOptions): void {
  // Normal locking (the checkpoint thread has its own connection); StreamLock keeps other
  // processes out, since the in-memory state assumes this process is the only writer.
  const mode = db.pragma("journal_mode = WAL", { simple: true });
  if (mode !== "wal") throw new Error(`cannot enable WAL (journal_mode is ${String(mode)})`);
  // FULL (fsync inline): SQLite fsyncs the WAL inside every COMMIT.
  // NORMAL: COMMIT writes the WAL to the OS (survives kill -9); durability then comes from our
  // background fdatasync (fsync background) or the periodic checkpoint (sync interval).
  db.pragma(`synchronous = ${opts.syncInterval === "always" && opts.fsync === "inline" ? "FULL" : "NORMAL"}`);
  db.pragma(`cache_size = ${-Math.max(256, Math.floor(opts.cacheKiB))}`);
  db.pragma("temp_store = MEMORY");
  // Checkpoints run on the checkpoint thread, never inside a COMMIT on the event loop.
  db.pragma("wal_autocheckpoint = 0");
  db.pragma("journal_size_limit = 67108864");
}

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
