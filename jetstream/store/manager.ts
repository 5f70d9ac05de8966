// Owns a store directory: finds the streams saved there, opens/creates/deletes stream stores, and
// runs the group commit shared by all of them, so one end-of-turn pass commits every stream
// written in that turn.
//
// Layout: <storeDir>/<account>/<stream>.db (names percent-encoded, or hashed where too long for a
// file name, see names.ts), each file a complete SQLite database holding the stream's messages,
// config, metadata and consumers.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError, StoreError, StreamExistsError, StreamNotFoundError } from "./errors.js";
import { GroupCommit } from "./group_commit.js";
import { Checkpointer } from "./checkpointer.js";
import { MsgCache } from "./msg_cache.js";
import { LOCK_SUFFIX } from "./stream_lock.js";
import { MemoryStreamStore } from "./memory_store.js";
import { decodeName, encodeName, STREAM_FILE_SUFFIX, streamFileBase, streamNameOfBase } from "./names.js";
import { SqliteStreamStore, type InitialMeta, type SqliteStoreOptions } from "./sqlite_store.js";
import type { RecoveredStream, StorageKind, StoreOptions, StreamLocation, StreamStore } from "./store.js";

export interface StoreManagerOptions extends StoreOptions {
  /** 0 (default): commit at the end of each event-loop turn; > 0: gather writes for this many ms. */
  commitWindowMs?: number;
}

/** A stream file in the store directory; name null when the file name does not tell it. */
export interface ListedStream extends Omit<StreamLocation, "name"> {
  name: string | null;
}

export interface RecoveryResult {
  streams: RecoveredStream[];
  /** Streams that could not be opened (StoreCorruptError names stream and path); their files are left untouched. */
  failures: StoreError[];
}

const DEFAULT_CACHE_KIB = 8192;

export class StoreManager {
  readonly commit: GroupCommit;
  private readonly checkpointer = new Checkpointer();
  private readonly msgCache = new MsgCache();
  private readonly open = new Map<string, StreamStore>();
  private readonly sqliteOpts: SqliteStoreOptions;
  private syncTimer: NodeJS.Timeout | null = null;
  private isClosed = false;

  private constructor(
    /** null: memory streams only. */
    readonly storeDir: string | null,
    opts: StoreManagerOptions,
  ) {
    const syncInterval = opts.syncInterval ?? "always";
    if (syncInterval !== "always" && !(Number.isFinite(syncInterval) && syncInterval > 0)) {
      throw new InvalidArgumentError(`sync interval must be "always" or a positive number of milliseconds`);
    }
    this.commit = new GroupCommit(opts.commitWindowMs ?? 0);
    this.sqliteOpts = {
      commit: this.commit,
      checkpointer: this.checkpointer,
      msgCache: this.msgCache,
      syncInterval,
      fsync: opts.fsync ?? "background",
      verify: opts.verify ?? "quick",
      cacheKiB: opts.cacheKiB ?? DEFAULT_CACHE_KIB,
    };
    if (syncInterval !== "always") {
      this.syncTimer = setInterval(() => this.syncAll(), syncInterval);
      this.syncTimer.unref();
    }
  }

  static open(storeDir: string | null, opts: StoreManagerOptions = {}): StoreManager {
    if (storeDir !== null) mkdirSync(storeDir, { recursive: true });
    return new StoreManager(storeDir, opts);
  }

  private key(account: string, name: string): string {
    return `${account}\u0000${name}`;
  }

  private pathOf(account: string, name: string): string {
    if (this.storeDir === null) throw new InvalidArgumentError("file storage needs a store directory");
    return join(this.storeDir, encodeName(account), streamFileBase(name) + STREAM_FILE_SUFFIX);
  }

  private checkOpen(): void {
    if (this.isClosed) throw new InvalidArgumentError("store manager is closed");
  }

  /**
   * File streams present in the store directory (opened or not). A stream whose file name is
   * hashed has name null here: only its file knows it.
   */
  listStreams(): ListedStream[] {
    const out: ListedStream[] = [];
    if (this.storeDir === null) return out;
    for (const accDir of readdirSync(this.storeDir).sort()) {
      const dir = join(this.storeDir, accDir);
      if (!statSync(dir).isDirectory()) continue;
      let account: string;
      try {
        account = decodeName(accDir);
      } catch {
        continue;
      }
      for (const f of readdirSync(dir).sort()) {
        if (!f.endsWith(STREAM_FILE_SUFFIX)) continue;
        try {
          out.push({ account, name: streamNameOfBase(f.slice(0, -STREAM_FILE_SUFFIX.length)), path: join(dir, f) });
        } catch {
          // not a name we wrote
        }
      }
    }
    return out;
  }

  /**
   * Opens every saved stream. A stream that fails (corrupt, unreadable) is reported in failures
   * and left on disk as it is; the others are returned open.
   */
  recover(): RecoveryResult {
    this.checkOpen();
    const res: RecoveryResult = { streams: [], failures: [] };
    for (const loc of this.listStreams()) {
      try {
        const store = loc.name !== null ? this.openStream(loc.account, loc.name) : this.openHashed(loc.account, loc.path);
        res.streams.push({ account: loc.account, name: store.name, store, config: store.config(), consumers: store.consumerNames() });
      } catch (e) {
        if (!(e instanceof StoreError)) throw e;
        res.failures.push(e);
      }
    }
    return res;
  }

  /** init: config and metadata written together with the new stream (atomically for files). */
  createStream(account: string, name: string, storage: StorageKind, init: InitialMeta = {}): StreamStore {
    this.checkOpen();
    const k = this.key(account, name);
    if (this.open.has(k)) throw new StreamExistsError(account, name);
    let store: StreamStore;
    if (storage === "memory") {
      if (this.storeDir !== null && existsSync(this.pathOf(account, name))) throw new StreamExistsError(account, name);
      store = new MemoryStreamStore(account, name, this.commit);
      if (init.config !== undefined) store.saveConfig(init.config);
      for (const [k, v] of Object.entries(init.meta ?? {})) store.setMeta(k, v);
    } else {
      const path = this.pathOf(account, name);
      mkdirSync(join(this.storeDir!, encodeName(account)), { recursive: true });
      store = SqliteStreamStore.create(path, account, name, this.sqliteOpts, init);
    }
    this.open.set(k, store);
    return store;
  }

  /** Opens a saved file stream (or returns it if already open). */
  openStream(account: string, name: string): StreamStore {
    this.checkOpen();
    const k = this.key(account, name);
    const cur = this.open.get(k);
    if (cur !== undefined && !cur.closed) return cur;
    if (this.storeDir === null) throw new StreamNotFoundError(account, name);
    const store = SqliteStreamStore.open(this.pathOf(account, name), account, name, this.sqliteOpts);
    this.open.set(k, store);
    return store;
  }

  /** Opens a stream found under a hashed file name: the name inside must be one that hashes to it. */
  private openHashed(account: string, path: string): StreamStore {
    for (const s of this.open.values()) if (s instanceof SqliteStreamStore && s.path === path && !s.closed) return s;
    const store = SqliteStreamStore.open(path, account, { fits: (stored) => this.pathOf(account, stored) === path }, this.sqliteOpts);
    this.open.set(this.key(account, store.name), store);
    return store;
  }

  getStream(account: string, name: string): StreamStore | undefined {
    const s = this.open.get(this.key(account, name));
    return s !== undefined && !s.closed ? s : undefined;
  }

  /** Closes the stream if open and removes its file; returns whether anything existed. */
  deleteStream(account: string, name: string): boolean {
    this.checkOpen();
    const k = this.key(account, name);
    const s = this.open.get(k);
    let existed = false;
    if (s !== undefined) {
      existed = true;
      this.open.delete(k);
      s.close();
    }
    if (this.storeDir !== null && (s === undefined || s.storage === "file")) {
      const path = this.pathOf(account, name);
      if (existsSync(path)) existed = true;
      // The database first: without it a leftover -wal is ignored (and removed by the next create).
      for (const f of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`, `${path}${LOCK_SUFFIX}`]) rmSync(f, { force: true });
      const fd = openSync(join(this.storeDir, encodeName(account)), "r");
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    return existed;
  }

  /** Resolves when everything written so far to any stream is durable. */
  flush(): Promise<void> {
    const all = Array.from(this.open.values()).filter((s) => !s.closed);
    return Promise.all(all.map((s) => s.flush())).then(() => undefined);
  }

  private syncAll(): void {
    for (const s of this.open.values()) if (s instanceof SqliteStreamStore) s.syncNow();
  }

  /** Commits what is pending and closes every stream. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    this.commit.runNow();
    for (const s of this.open.values()) s.close();
    this.open.clear();
    this.checkpointer.close();
  }
}
