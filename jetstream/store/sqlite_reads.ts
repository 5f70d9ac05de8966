// The SQLite stream store's in-memory state (stream totals, subject index, per-block counts), the
// statements with the rows held for the multi-row insert, and every read. SqliteStreamWrites adds
// the writes and SqliteStreamStore the transactions; this class only reads the state they keep.

import type { MsgCache } from "./msg_cache.js";
import { msgCrc } from "./checksum.js";
import { StoreCorruptError } from "./errors.js";
import { fileStoreMsgSize, subjectBytes } from "./msg_size.js";
import { BLOCK_SIZE, blockOf, SeqBlocks } from "./seq_blocks.js";
import { BadRow, big, blob, CHUNK, int, NS_PER_SEC, prepareStatements, ROWS_PER_INSERT, type DB, type Statements, type Stmt } from "./sqlite_statements.js";
import { loadNextMsgsOneByOne, type Nanos, type SimpleState, type StateOptions, type StoredMsg, type StreamState } from "./store.js";
import { SubjectIndex, type SubjectEntry } from "./subject_index.js";
import { hasWildcard, isAllFilter } from "./subject_match.js";

/** Up to this many matching subjects, a wildcard next-message lookup asks each subject's index. */
const CANDIDATE_SUBJECTS = 64;
/** Rows a wildcard lookup scans in sequence order before switching to per-subject lookups. */
const SCAN_ROWS = 1024;

const EMPTY_BLOB = Buffer.alloc(0);
/** Room for the held rows' bytes: more than ROWS_PER_INSERT * 4 rows of 1 KB. */
const STAGE_BYTES = 256 * 1024;
/** Larger headers or payloads get a copy of their own. */
const STAGE_MAX_COPY = 16 * 1024;
/** Numbers per row in loadNextMsgs' text: seq, ts seconds, ts nanoseconds, sid, ttl, crc, header length (-1: none), payload length. */
const META_COLS = 8;
/** Above this average message size (bytes) loadNextMsgs reads one by one. */
const CONCAT_AVG_MAX = 2048;

/**
 * The values for insManyPlain of the ROWS_PER_INSERT held rows from offset i (8 values each, in
 * the INSERT's order), or null if one of them has a TTL or headers.
 */
function plainRows(r: unknown[], i: number): unknown[] | null {
  const end = i + ROWS_PER_INSERT * 8;
  for (let j = i; j < end; j += 8) if (r[j + 3] !== 0 || r[j + 6] !== null) return null;
  const out = new Array<unknown>(ROWS_PER_INSERT * 5);
  for (let j = i, k = 0; j < end; j += 8, k += 5) {
    out[k] = r[j];
    out[k + 1] = r[j + 1];
    out[k + 2] = r[j + 2];
    out[k + 3] = r[j + 5];
    out[k + 4] = r[j + 7];
  }
  return out;
}

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

export abstract class SqliteStreamReads {
  // Stream totals. first is 0 for a never-used stream and last + 1 once emptied.
  protected first = 0;
  protected firstTs = 0n;
  protected last = 0;
  protected lastTime = 0n;
  protected msgs = 0;
  protected bytes = 0;

  protected readonly index = new SubjectIndex();
  /** Built on first need (it costs an index scan) and then kept current. */
  protected blocks: SeqBlocks | null = null;

  protected readonly s: Statements;
  /** Messages read by sequence, shared by the server's streams (null: none). */
  protected cache: MsgCache | null = null;
  /** Messages stored but not yet inserted: 8 values per row, in the order of the INSERT. */
  protected rows: unknown[] = [];
  /**
   * The held rows' headers and payloads: storeMsg's callers may reuse their buffers once it
   * returns (a transport's read buffer), so it copies them here, and an insert frees the room.
   */
  private stage = Buffer.allocUnsafeSlow(STAGE_BYTES);
  private staged = 0;

  /** Room in the stage for a row's header and payload (inserting the rows held if need be). */
  protected stageRoom(hlen: number, dlen: number): void {
    const n = (hlen <= STAGE_MAX_COPY ? hlen : 0) + (dlen <= STAGE_MAX_COPY ? dlen : 0);
    if (n > STAGE_BYTES - this.staged) this.insertRows();
  }

  /** A copy of b that stays valid until the held rows are inserted (after stageRoom). */
  protected hold(b: Buffer): Buffer {
    const n = b.length;
    if (n > STAGE_MAX_COPY) return Buffer.from(b);
    const at = this.staged;
    b.copy(this.stage, at);
    this.staged = at + n;
    return this.stage.subarray(at, at + n);
  }

  /** The held rows are gone (inserted or rolled back): their stage room is free again. */
  protected dropHeld(): void {
    this.rows = [];
    this.staged = 0;
  }

  /** The prepared statements, after inserting the rows still held (so SQL always sees every write). */
  protected get q(): Statements {
    if (this.rows.length > 0) this.insertRows();
    return this.s;
  }

  protected insertRows(): void {
    const r = this.rows;
    const rowLen = 8;
    let i = 0;
    try {
      for (; r.length - i >= ROWS_PER_INSERT * rowLen; i += ROWS_PER_INSERT * rowLen) {
        const plain = plainRows(r, i);
        if (plain !== null) this.s.insManyPlain.run(plain);
        else this.s.insMany.run(r.slice(i, i + ROWS_PER_INSERT * rowLen));
      }
      for (; i < r.length; i += rowLen) this.s.ins.run(r.slice(i, i + rowLen));
    } catch (e) {
      this.dropHeld();
      this.writeFailed(e);
    }
    // SQLite has its own copy of every bound value once a statement has run.
    this.dropHeld();
  }

  protected constructor(
    protected readonly db: DB,
    readonly path: string,
    readonly account: string,
    readonly name: string,
  ) {
    this.s = prepareStatements(db);
  }

  /** Throws if the store failed or is closed; opens the turn's transaction. */
  protected abstract check(): void;
  /** For read paths: our own StoreErrors pass, SQLite's corruption errors become StoreCorruptError. */
  protected abstract readError(e: unknown): never;
  /** For write paths: our own StoreErrors (thrown before any write) pass; anything else fails the store. */
  abstract writeFailed(e: unknown): never;

  /** r: [ts, sid, ttl, crc, hdr, data] (off 0) or [seq, ts, sid, ttl, crc, hdr, data] (off 1). */
  protected buildMsg(seq: number, r: unknown[], off: number, corrupt?: (d: string) => StoreCorruptError): StoredMsg {
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
      if (this.cache !== null) {
        const hit = this.cache.get(this, seq);
        if (hit !== undefined) return hit;
      }
      const r = this.q.get.get(seq) as unknown[] | undefined;
      if (r === undefined) return null;
      const m = this.buildMsg(seq, r, 0);
      this.cache?.put(this, m);
      return m;
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
}
