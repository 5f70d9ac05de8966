// The storage contract between JetStream streams/consumers and their persistence.
//
// Determinism: nothing in a store reads the clock or uses randomness. Sequence numbers and
// timestamps come from the caller (the stream state machine, later the Raft apply loop), and
// time-based work (expire, nextExpiry) takes "now" as an argument. Two stores fed the same calls
// end in the same state, which is what replication needs.
//
// Durability: write methods apply synchronously (state and reads reflect them at once) and join
// the current group-commit transaction; afterCommit()/flush() report when everything written
// before the call is durable under the configured sync policy. Reads see uncommitted writes.

/** Nanoseconds since the Unix epoch. bigint because nanosecond timestamps exceed 2^53. */
export type Nanos = bigint;

/** Per-message TTL in seconds: 0 = none, TTL_NEVER = exempt from max_age, > 0 = expires at ts + ttl. */
export const TTL_NEVER = -1;

export type StorageKind = "file" | "memory";

export interface StoredMsg {
  seq: number;
  ts: Nanos;
  subject: string;
  /** The raw header block as published ("NATS/1.0\r\n..."), or null when there was none. */
  hdr: Buffer | null;
  data: Buffer;
  /** Seconds; see TTL_NEVER. */
  ttl: number;
}

/** nats-server's SimpleState: count and first/last sequence of a filtered set (zeros when empty). */
export interface SimpleState {
  msgs: number;
  first: number;
  last: number;
}

export interface StreamState {
  msgs: number;
  bytes: number;
  /** 0 for a never-used stream; lastSeq + 1 once everything was removed. */
  firstSeq: number;
  /** 0n when the stream holds no message. */
  firstTs: Nanos;
  lastSeq: number;
  /** Kept across purges, like nats-server. */
  lastTs: Nanos;
  /** Sequences in [firstSeq, lastSeq] that hold no message. */
  numDeleted: number;
  numSubjects: number;
  /** Only when state({ deleted: true }) was asked for; ascending. */
  deleted?: number[];
}

/** Limits enforced by the store itself, with nats-server's semantics (<= 0 means unlimited). */
export interface StoreLimits {
  maxMsgs: number;
  maxBytes: number;
  maxMsgsPerSubject: number;
  /** 0n = no max_age. Applied by expire(now), never by a timer of the store. */
  maxAgeNanos: Nanos;
  discardNew: boolean;
  discardNewPerSubject: boolean;
}

export const NO_LIMITS: Readonly<StoreLimits> = Object.freeze({
  maxMsgs: 0,
  maxBytes: 0,
  maxMsgsPerSubject: 0,
  maxAgeNanos: 0n,
  discardNew: false,
  discardNewPerSubject: false,
});

/** A Buffer over the same bytes (no copy). */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** storeMsg flags. */
export const StoreFlags = {
  /** A Nats-Rollup message is accepted even when discard_new_per_subject would refuse it. */
  SkipDiscardNewPerSubject: 1,
} as const;

export interface RemovedMsg {
  seq: number;
  subject: string;
}

export interface ExpiredMsg extends RemovedMsg {
  /** The message was a subject delete marker (its headers carry Nats-Marker-Reason). */
  marker: boolean;
}

const MARKER_HDR = Buffer.from("\r\nNats-Marker-Reason:");
const KV_OPERATION_HDR = Buffer.from("\r\nKV-Operation:");

/**
 * Whether a stored header block is a subject delete marker's: the server's own (Nats-Marker-Reason)
 * or a key-value purge (KV-Operation: PURGE), as nats-server counts them. A marker that expires
 * leaves no new marker behind.
 */
export function isMarkerHeader(hdr: Uint8Array | null): boolean {
  if (hdr === null || hdr.length === 0) return false;
  const b = Buffer.from(hdr.buffer, hdr.byteOffset, hdr.byteLength);
  if (b.indexOf(MARKER_HDR) >= 0) return true;
  const at = b.indexOf(KV_OPERATION_HDR);
  if (at < 0) return false;
  const from = at + KV_OPERATION_HDR.length;
  const eol = b.indexOf("\r\n", from);
  return b.toString("latin1", from, eol < 0 ? b.length : eol).trim() === "PURGE";
}

/** Called once per message the store removed on its own to keep within limits. */
export type LimitRemovalHandler = (seq: number, subject: string) => void;

/** err is null when the writes are durable, else the reason they are not (nothing was stored). */
export type CommitCallback = (err: Error | null) => void;

export interface StateOptions {
  /** Include the list of interior deleted sequences (costs a scan of the gaps). */
  deleted?: boolean;
}

export interface StreamStore {
  readonly account: string;
  readonly name: string;
  readonly storage: StorageKind;
  /** Opened after a crash: the last run did not close the store (its write-ahead log was still there). */
  readonly afterCrash: boolean;
  /** The database file, or null for memory storage. */
  readonly path: string | null;

  // ---- writes -------------------------------------------------------------------------------

  /**
   * Appends a message. seq must be state().lastSeq + 1 (else SequenceMismatchError).
   * With limits.discardNew a full stream throws DiscardNewError and stores nothing; otherwise
   * older messages are removed to honour the limits (reported to the LimitRemovalHandler).
   * The memory store keeps hdr and data as they are, so its caller must never change them
   * afterwards (streams pass their own copy of an inbound message, or a stored message, which
   * nothing changes). The file store copies what it keeps before returning: its caller may
   * reuse the bytes at once (file streams read inbound messages from the transport's buffer).
   */
  storeMsg(
    seq: number,
    ts: Nanos,
    subject: string,
    hdr: Uint8Array | null,
    data: Uint8Array,
    ttl?: number,
    flags?: number,
  ): void;
  /** Consumes `count` sequences starting at seq (= lastSeq + 1) without storing anything. */
  skipMsgs(seq: number, count: number, ts: Nanos): void;
  /** Returns whether the message existed. */
  removeMsg(seq: number): boolean;
  /**
   * Like removeMsg, and overwrites the stored bytes on disk (the file store). A memory store only
   * removes: the bytes may be shared with other holders (see storeMsg), as nats-server's memory
   * store also leaves the old bytes to the collector.
   */
  eraseMsg(seq: number): boolean;
  /** Removes everything; lastSeq is kept, firstSeq becomes lastSeq + 1. Returns the count removed. */
  purge(): number;
  /**
   * nats-server PurgeEx: filter ("" or ">" = all, wildcards allowed); upToSeq > 1 removes only
   * sequences below it; keep > 0 keeps the newest `keep` messages of the filtered set.
   * upToSeq > 1 together with keep > 0 throws PurgeArgError.
   */
  purgeEx(filter: string, upToSeq: number, keep: number): number;
  /**
   * Removes every message below seq. seq > lastSeq empties the stream and makes seq the next
   * sequence (firstSeq = seq, lastSeq = seq - 1): that is also how `first_seq` is applied to a new stream.
   */
  compact(seq: number): number;
  /** Removes every message above seq (Raft rollback). truncate(0) resets to a never-used stream. */
  truncate(seq: number): void;
  /** Removes messages whose TTL deadline or max_age has passed at `now`. */
  expire(now: Nanos): ExpiredMsg[];
  /** The earliest time at which expire() would remove something, or null. */
  nextExpiry(): Nanos | null;
  /** Changes limits (partial update) and enforces lowered ones at once. */
  setLimits(limits: Partial<StoreLimits>): void;
  limits(): StoreLimits;
  onLimitRemoval(handler: LimitRemovalHandler | null): void;

  // ---- reads --------------------------------------------------------------------------------

  loadMsg(seq: number): StoredMsg | null;
  /** First message at or after start whose subject matches filter ("" or ">" = any). */
  loadNextMsg(filter: string, start: number): StoredMsg | null;
  /**
   * What repeated loadNextMsg calls would return, each starting after the one before: up to max
   * messages at or after start matching filter, in order, stopping once they hold maxBytes (the
   * message that crosses it included). Deliveries read ahead with it.
   */
  loadNextMsgs(filter: string, start: number, max: number, maxBytes: number): StoredMsg[];
  /** First message at or after start that has headers (start-up rebuilds of the de-duplication window). */
  loadNextWithHeaders(start: number): StoredMsg | null;
  /** First message at or after start matching any of the filters. */
  loadNextMsgMulti(filters: readonly string[], start: number): StoredMsg | null;
  /** Newest message matching filter (literal or wildcard). */
  loadLastMsg(filter: string): StoredMsg | null;
  /** Newest message at or before start matching filter. */
  loadPrevMsg(start: number, filter?: string): StoredMsg | null;
  /** First sequence whose message has ts >= the given time (lastSeq + 1 if none). Assumes ts grows with seq. */
  seqFromTime(ts: Nanos): number;
  state(opts?: StateOptions): StreamState;
  /** state().lastSeq and state().lastTs without building the state (the publish path reads them per message). */
  lastSeq(): number;
  lastTs(): Nanos;
  /** Literal subject only; null if the subject holds no message. O(1). */
  subjectState(subject: string): SimpleState | null;
  /** Per-subject state of every subject matching filter. */
  subjectsState(filter: string): Map<string, SimpleState>;
  /** Messages at or after start matching filter. */
  filteredState(start: number, filter: string): SimpleState;
  /** Consumer num_pending: filteredState(start, filter).msgs, or with lastPerSubject the number of matching subjects whose last message is at or after start. */
  numPending(start: number, filter: string, lastPerSubject: boolean): number;
  /** The size this store accounts for a message (nats-server's file or memory formula). */
  msgSize(subject: string, hdrLen: number, dataLen: number): number;

  // ---- stream metadata ----------------------------------------------------------------------

  /** The stream's config as the stream layer serialised it; written in the next group commit. */
  saveConfig(json: string): void;
  config(): string | null;
  /** Small named values the stream layer wants kept with the stream (e.g. "created"). null deletes. */
  setMeta(key: string, value: string | null): void;
  getMeta(key: string): string | null;

  // ---- consumers ----------------------------------------------------------------------------

  /** Creates a consumer record; throws ConsumerExistsError if the name is taken. */
  createConsumer(name: string, configJson: string, ackPolicy: AckPolicy): ConsumerStore;
  /** The consumer's handle (loading its saved state on first use), or null. */
  consumer(name: string): ConsumerStore | null;
  consumerNames(): string[];
  /** Deletes the consumer and its state; returns whether it existed. */
  deleteConsumer(name: string): boolean;

  // ---- durability ---------------------------------------------------------------------------

  /** cb runs once every write made before this call is durable (or failed). Cheaper than flush(). */
  afterCommit(cb: CommitCallback): void;
  /**
   * The commit that makes every write so far durable, as a number. While it stays the same, one
   * afterCommit callback covers all writes since it was registered: a caller gathering replies
   * for one callback (PubAcks, ack replies) starts a new gathering, with a new callback, when the
   * number changes.
   */
  commitTarget(): number;
  flush(): Promise<void>;
  /** Commits what is pending (synced), then releases the store. Idempotent. */
  close(): void;
  readonly closed: boolean;
}

// ---- consumers ------------------------------------------------------------------------------

export type AckPolicy = "none" | "all" | "explicit";

export interface SequencePair {
  consumerSeq: number;
  streamSeq: number;
}

export interface PendingEntry {
  /** Consumer (delivery) sequence of the last delivery of this stream sequence. */
  consumerSeq: number;
  /** When it was last delivered. */
  ts: Nanos;
}

/** Mirrors nats-server's ConsumerState. */
export interface ConsumerState {
  delivered: SequencePair;
  ackFloor: SequencePair;
  /** Unacknowledged deliveries by stream sequence (ack policy explicit or all). */
  pending: Map<number, PendingEntry>;
  /** Stream sequence -> number of redeliveries (delivery count - 1), for those delivered more than once. */
  redelivered: Map<number, number>;
}

/**
 * A consumer's persisted config and state. Its writes join the owning stream's group commit, so
 * a delivery/ack is durable exactly when afterCommit says so. updateDelivered/updateAcks follow
 * nats-server's ConsumerStore semantics (ack floor movement included).
 */
export interface ConsumerStore {
  readonly name: string;
  readonly stream: StreamStore;
  config(): string;
  ackPolicy(): AckPolicy;
  updateConfig(configJson: string, ackPolicy?: AckPolicy): void;
  /** Sets the delivered stream sequence before any delivery (deliver policies). */
  setStarting(streamSeq: number): void;
  /** A message was delivered (dc = delivery count, 1 for the first delivery). */
  updateDelivered(consumerSeq: number, streamSeq: number, dc: number, ts: Nanos): void;
  /** A message was acked. Returns false when it was not pending (nothing changed). */
  updateAcks(consumerSeq: number, streamSeq: number): boolean;
  /** Replaces the whole state (snapshot/Raft apply); throws InvalidConsumerStateError if inconsistent. */
  update(state: ConsumerState): void;
  /** A copy of the current state. */
  state(): ConsumerState;
  /** Same as StreamStore.deleteConsumer(this.name). */
  delete(): void;
  afterCommit(cb: CommitCallback): void;
  /** The owning stream's commitTarget(). */
  commitTarget(): number;
  flush(): Promise<void>;
}

// ---- manager --------------------------------------------------------------------------------

/** "always" = fsync at every group commit (default); a number = milliseconds between syncs. */
export type SyncInterval = "always" | number;

/**
 * With sync "always": background (default) commits with synchronous=NORMAL and fdatasyncs the WAL
 * on the threadpool before acknowledging, so the event loop never waits on the disk; inline lets
 * SQLite fsync inside COMMIT (synchronous=FULL), blocking the event loop for each fsync.
 */
export type FsyncMode = "background" | "inline";

/**
 * How much an existing database is checked at open.
 * light: file header and size, schema, stream identity, stored state against the indexes.
 * quick: light + SQLite's quick_check of every page (default).
 * full:  quick + every message's checksum.
 */
export type VerifyLevel = "light" | "quick" | "full";

export interface StoreOptions {
  syncInterval?: SyncInterval;
  fsync?: FsyncMode;
  verify?: VerifyLevel;
  /** SQLite page cache per stream, KiB. */
  cacheKiB?: number;
}

export interface StreamLocation {
  account: string;
  name: string;
  path: string;
}

export interface RecoveredStream {
  account: string;
  name: string;
  store: StreamStore;
  /** Saved stream config, as given to saveConfig. */
  config: string | null;
  /** Saved consumer names; open them with store.consumer(name). */
  consumers: string[];
}

/** loadNextMsgs as a loop of loadNextMsg, for the lookups without a cheaper batch form. */
export function loadNextMsgsOneByOne(store: Pick<StreamStore, "loadNextMsg">, filter: string, start: number, max: number, maxBytes: number): StoredMsg[] {
  const out: StoredMsg[] = [];
  let bytes = 0;
  while (out.length < max && bytes < maxBytes) {
    const m = store.loadNextMsg(filter, start);
    if (m === null) break;
    out.push(m);
    bytes += m.data.length + (m.hdr === null ? 0 : m.hdr.length);
    start = m.seq + 1;
  }
  return out;
}
