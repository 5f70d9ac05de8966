// The SQLite stream store's prepared statements, and the checked decoding of the values its rows
// hand back (a value not of the type we wrote means the row is damaged).

import type Database from "better-sqlite3";
import { BLOCK_SHIFT } from "./seq_blocks.js";

export type DB = Database.Database;
export type Stmt = Database.Statement;
export type Statements = ReturnType<typeof prepareStatements>;

/** Timestamps are nanoseconds; a row's expires is ts + ttl seconds. */
export const NS_PER_SEC = 1_000_000_000n;
/** Rows per read of the scans that walk the stream in steps (age expiry, TTLs, wildcard lookups). */
export const CHUNK = 256;
/** Rows per multi-row INSERT: binding is cheaper per row than one statement per message. */
export const ROWS_PER_INSERT = 32;

/** Thrown while decoding a row whose values are not what we wrote; turned into StoreCorruptError. */
export class BadRow extends Error {}

export function big(v: unknown): bigint {
  if (typeof v !== "bigint") throw new BadRow(`expected an integer, found ${typeof v}`);
  return v;
}

export function int(v: unknown): number {
  if (typeof v === "bigint") return Number(v);
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new BadRow(`expected an integer, found ${typeof v}`);
  return v;
}

export function text(v: unknown): string {
  if (typeof v !== "string") throw new BadRow(`expected text, found ${typeof v}`);
  return v;
}

export function blob(v: unknown): Buffer {
  if (!Buffer.isBuffer(v)) throw new BadRow(`expected a blob, found ${typeof v}`);
  return v;
}

export function prepareStatements(db: DB) {
  const p = (sql: string): Stmt => db.prepare(sql);
  const row = "ts, sid, ttl, crc, hdr, data";
  return {
    begin: p("BEGIN"),
    commit: p("COMMIT"),
    rollback: p("ROLLBACK"),
    ins: p("INSERT INTO msgs (seq, ts, sid, ttl, expires, crc, hdr, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
    insMany: p(`INSERT INTO msgs (seq, ts, sid, ttl, expires, crc, hdr, data) VALUES ${Array(ROWS_PER_INSERT).fill("(?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`),
    // The common row (no TTL, no headers) binds five values instead of eight.
    insManyPlain: p(`INSERT INTO msgs (seq, ts, sid, ttl, expires, crc, hdr, data) VALUES ${Array(ROWS_PER_INSERT).fill("(?, ?, ?, 0, NULL, ?, NULL, ?)").join(", ")}`),
    // A subject row left without messages (none should be) is found by subjectSid instead.
    insSubject: p("INSERT INTO subjects (subject) VALUES (?) ON CONFLICT (subject) DO NOTHING"),
    subjectSid: p("SELECT sid FROM subjects WHERE subject = ?").pluck(),
    delSubject: p("DELETE FROM subjects WHERE sid = ?"),
    get: p(`SELECT ${row} FROM msgs WHERE seq = ?`).raw().safeIntegers(),
    getNext: p(`SELECT seq, ${row} FROM msgs WHERE seq >= ? ORDER BY seq LIMIT 1`).raw().safeIntegers(),
    getNextSid: p(`SELECT seq, ${row} FROM msgs WHERE sid = ? AND seq >= ? ORDER BY seq LIMIT 1`).raw().safeIntegers(),
    getPrev: p(`SELECT seq, ${row} FROM msgs WHERE seq <= ? ORDER BY seq DESC LIMIT 1`).raw().safeIntegers(),
    getNextHdr: p(`SELECT seq, ${row} FROM msgs WHERE seq >= ? AND hdr IS NOT NULL ORDER BY seq LIMIT 1`).raw().safeIntegers(),
    prevRow: p("SELECT seq, ts FROM msgs WHERE seq <= ? ORDER BY seq DESC LIMIT 1").raw().safeIntegers(),
    firstFrom: p("SELECT seq, ts FROM msgs WHERE seq >= ? ORDER BY seq LIMIT 1").raw().safeIntegers(),
    nextSeq: p("SELECT seq FROM msgs WHERE seq >= ? ORDER BY seq LIMIT 1").pluck(),
    maxSeq: p("SELECT max(seq) FROM msgs").pluck(),
    nextSeqSid: p("SELECT seq FROM msgs WHERE sid = ? AND seq >= ? ORDER BY seq LIMIT 1").pluck(),
    prevSeqSid: p("SELECT seq FROM msgs WHERE sid = ? AND seq <= ? ORDER BY seq DESC LIMIT 1").pluck(),
    minMaxSid: p("SELECT min(seq), max(seq) FROM msgs WHERE sid = ?").raw(),
    sizeOf: p("SELECT sid, length(hdr), length(data) FROM msgs WHERE seq = ?").raw(),
    sizeOfHdr: p("SELECT sid, length(hdr), length(data), hdr FROM msgs WHERE seq = ?").raw(),
    // A removal reads the row's sizes first: DELETE ... RETURNING costs several times a SELECT
    // and a plain DELETE together (it runs the statement through a temporary table).
    delOne: p("DELETE FROM msgs WHERE seq = ?"),
    delAll: p("DELETE FROM msgs"),
    delAllSubjects: p("DELETE FROM subjects"),
    statsRange: p(
      `SELECT sid, seq >> ${BLOCK_SHIFT}, count(*), sum(length(data)), sum(CASE WHEN hdr IS NULL THEN 0 ELSE 4 + length(hdr) END) FROM msgs WHERE seq >= ? AND seq <= ? GROUP BY 1, 2`,
    ).raw(),
    statsRangeSid: p(
      `SELECT seq >> ${BLOCK_SHIFT}, count(*), sum(length(data)), sum(CASE WHEN hdr IS NULL THEN 0 ELSE 4 + length(hdr) END) FROM msgs WHERE sid = ? AND seq >= ? AND seq <= ? GROUP BY 1`,
    ).raw(),
    delRange: p("DELETE FROM msgs WHERE seq >= ? AND seq <= ?"),
    delRangeSid: p("DELETE FROM msgs WHERE sid = ? AND seq >= ? AND seq <= ?"),
    nth: p("SELECT seq FROM msgs ORDER BY seq LIMIT 1 OFFSET ?").pluck(),
    nthSid: p("SELECT seq FROM msgs WHERE sid = ? ORDER BY seq LIMIT 1 OFFSET ?").pluck(),
    nthSids: p("SELECT seq FROM msgs WHERE sid IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT 1 OFFSET ?").pluck(),
    countRange: p("SELECT count(*) FROM msgs WHERE seq >= ? AND seq <= ?").pluck(),
    countFromSid: p("SELECT count(*) FROM msgs WHERE sid = ? AND seq >= ?").pluck(),
    countBeforeSid: p("SELECT count(*) FROM msgs WHERE sid = ? AND seq < ?").pluck(),
    seqsRange: p("SELECT seq FROM msgs WHERE seq >= ? AND seq <= ? ORDER BY seq").pluck(),
    scan: p("SELECT seq, sid FROM msgs WHERE seq >= ? ORDER BY seq LIMIT ?").raw(),
    scanAge: p(`SELECT seq, ts, ttl FROM msgs WHERE seq >= ? ORDER BY seq LIMIT ${CHUNK}`).raw().safeIntegers(),
    expiredTtl: p(`SELECT seq FROM msgs WHERE expires <= ? ORDER BY expires LIMIT ${CHUNK}`).pluck(),
    minExpires: p("SELECT expires FROM msgs WHERE expires IS NOT NULL ORDER BY expires LIMIT 1").pluck().safeIntegers(),
    blockCounts: p(`SELECT seq >> ${BLOCK_SHIFT}, count(*) FROM msgs GROUP BY 1`).raw(),
    saveState: p("UPDATE state SET first_seq = ?, first_ts = ?, last_seq = ?, last_ts = ?, msgs = ?, bytes = ?, crc = ? WHERE id = 1"),
    metaGet: p("SELECT value, crc FROM meta WHERE key = ?").raw(),
    metaPut: p("INSERT INTO meta (key, value, crc) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, crc = excluded.crc"),
    metaDel: p("DELETE FROM meta WHERE key = ?"),
    cIns: p("INSERT INTO consumers (name, config, ack_policy, crc) VALUES (?, ?, ?, ?) RETURNING cid").pluck(),
    cHdr: p("UPDATE consumers SET config = ?, ack_policy = ?, d_cseq = ?, d_sseq = ?, a_cseq = ?, a_sseq = ?, crc = ? WHERE cid = ?"),
    cDel: p("DELETE FROM consumers WHERE cid = ?"),
    cLoad: p("SELECT config, ack_policy, d_cseq, d_sseq, a_cseq, a_sseq, crc FROM consumers WHERE cid = ?").raw(),
    cLoadPending: p("SELECT sseq, cseq, ts, crc FROM consumer_pending WHERE cid = ?").raw().safeIntegers(),
    cLoadRedelivered: p("SELECT sseq, count, crc FROM consumer_redelivered WHERE cid = ?").raw(),
    cPutPending: p("INSERT OR REPLACE INTO consumer_pending (cid, sseq, cseq, ts, crc) VALUES (?, ?, ?, ?, ?)"),
    cDelPending: p("DELETE FROM consumer_pending WHERE cid = ? AND sseq = ?"),
    cDelPendingUpTo: p("DELETE FROM consumer_pending WHERE cid = ? AND sseq <= ?"),
    cDelPendingAll: p("DELETE FROM consumer_pending WHERE cid = ?"),
    cPutRedelivered: p("INSERT OR REPLACE INTO consumer_redelivered (cid, sseq, count, crc) VALUES (?, ?, ?, ?)"),
    cDelRedelivered: p("DELETE FROM consumer_redelivered WHERE cid = ? AND sseq = ?"),
    cDelRedeliveredUpTo: p("DELETE FROM consumer_redelivered WHERE cid = ? AND sseq <= ?"),
    cDelRedeliveredAll: p("DELETE FROM consumer_redelivered WHERE cid = ?"),
  };
}
