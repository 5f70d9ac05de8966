// The on-disk layout of one stream's SQLite database, and the checks that decide at open whether
// a file is an intact database of the stream we expect.
//
// One file per stream (not one per account), because:
//  - damage stays local: a torn or corrupt file takes down one stream, is reported with that
//    stream's name and path, and the other streams of the account keep working;
//  - deleting a stream frees its space at once (unlink), without VACUUM of a shared file;
//  - a stream's file is a unit for later Raft snapshots, moves and backups.
// The price is one fsync per written stream per group commit instead of one per account; the
// group commit still folds every message of a turn into that single fsync per stream.

import Database from "better-sqlite3";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { textCrc } from "./checksum.js";
import type { StoreCorruptError } from "./errors.js";
import type { DB } from "./sqlite_statements.js";

export const FORMAT_VERSION = 1;
/** SQLite application_id marking our files ("tsnj"). */
export const APPLICATION_ID = 0x74736e6a;
/**
 * Page size of new stream databases (existing ones keep theirs: it is read from the header).
 * 8 KiB: commits of 1 KB messages write a quarter fewer WAL frames than with 4 KiB pages, at no
 * cost for small messages (measured with bench/jetstream).
 */
export const PAGE_SIZE = 8192;

// msgs.seq is the rowid: appends go to the right edge of the table b-tree. Bodies are BLOBs in
// the same row; subjects are interned (sid) so the (sid, seq) index stays small. Every table
// except subjects has a crc column (checksum.ts); subjects are covered by the message crc.
// expires = ts + ttl seconds, indexed for per-message TTL expiry.
export const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL, crc INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  first_seq INTEGER NOT NULL, first_ts INTEGER NOT NULL,
  last_seq INTEGER NOT NULL, last_ts INTEGER NOT NULL,
  msgs INTEGER NOT NULL, bytes INTEGER NOT NULL, crc INTEGER NOT NULL);
CREATE TABLE subjects (sid INTEGER PRIMARY KEY, subject TEXT NOT NULL UNIQUE);
CREATE TABLE msgs (
  seq INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  sid INTEGER NOT NULL,
  ttl INTEGER NOT NULL,
  expires INTEGER,
  crc INTEGER NOT NULL,
  hdr BLOB,
  data BLOB NOT NULL);
CREATE INDEX msgs_sid ON msgs (sid, seq);
CREATE INDEX msgs_expires ON msgs (expires) WHERE expires IS NOT NULL;
CREATE TABLE consumers (
  cid INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  config TEXT NOT NULL,
  ack_policy TEXT NOT NULL,
  d_cseq INTEGER NOT NULL DEFAULT 0, d_sseq INTEGER NOT NULL DEFAULT 0,
  a_cseq INTEGER NOT NULL DEFAULT 0, a_sseq INTEGER NOT NULL DEFAULT 0,
  crc INTEGER NOT NULL);
CREATE TABLE consumer_pending (
  cid INTEGER NOT NULL, sseq INTEGER NOT NULL, cseq INTEGER NOT NULL, ts INTEGER NOT NULL,
  crc INTEGER NOT NULL, PRIMARY KEY (cid, sseq)) WITHOUT ROWID;
CREATE TABLE consumer_redelivered (
  cid INTEGER NOT NULL, sseq INTEGER NOT NULL, count INTEGER NOT NULL,
  crc INTEGER NOT NULL, PRIMARY KEY (cid, sseq)) WITHOUT ROWID;
`;

const EXPECTED_OBJECTS = [
  "meta",
  "state",
  "subjects",
  "msgs",
  "msgs_sid",
  "msgs_expires",
  "consumers",
  "consumer_pending",
  "consumer_redelivered",
];

/**
 * A stream name to check a file against, or, for a file whose name does not tell its stream (a
 * hashed one, see names.ts), the test the name stored inside must pass.
 */
export type ExpectedName = string | { readonly fits: (stored: string) => boolean };

/**
 * After the file header: format, the exact schema, the metadata rows and whose stream the file is.
 * Returns the stream's name.
 */
export function checkSchema(db: DB, account: string, name: ExpectedName, corrupt: (d: string) => StoreCorruptError): string {
  const appId = db.pragma("application_id", { simple: true });
  if (appId !== APPLICATION_ID) throw corrupt(`application_id ${String(appId)} is not a tsnats stream`);
  const version = db.pragma("user_version", { simple: true });
  if (version !== FORMAT_VERSION) throw corrupt(`unsupported format version ${String(version)}`);
  // The exact schema text: a damaged CREATE statement would otherwise surface later as a
  // misleading "no such column" from a statement we prepare.
  const schema = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name").raw().all() as unknown[][];
  const want = expectedSchema();
  if (schema.length !== want.length || schema.some((r, i) => r.some((v, j) => v !== want[i]![j]))) {
    const names = new Set(schema.map((r) => r[1]));
    const missing = EXPECTED_OBJECTS.filter((o) => !names.has(o));
    throw corrupt(missing.length > 0 ? `schema objects missing: ${missing.join(", ")}` : "schema differs from the expected layout");
  }
  const meta = new Map<string, string>();
  for (const [k, v, crc] of db.prepare("SELECT key, value, crc FROM meta").raw().all() as unknown[][]) {
    if (typeof k !== "string" || typeof v !== "string" || crc !== textCrc(k, v)) throw corrupt(`metadata row ${JSON.stringify(k)}: checksum mismatch`);
    meta.set(k, v);
  }
  const stored = meta.get("stream");
  const ours = typeof name === "string" ? stored === name : stored !== undefined && name.fits(stored);
  if (!ours || meta.get("account") !== account) {
    throw corrupt(`file belongs to stream ${JSON.stringify(stored)} of account ${JSON.stringify(meta.get("account"))}`);
  }
  return stored!;
}

let schemaRows: unknown[][] | null = null;

/** sqlite_schema rows of a freshly created database, to compare opened files against. */
function expectedSchema(): unknown[][] {
  if (schemaRows === null) {
    const db = new Database(":memory:");
    db.exec(SCHEMA);
    schemaRows = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name").raw().all() as unknown[][];
    db.close();
  }
  return schemaRows;
}

/**
 * Checks the 100-byte SQLite header and the file length before SQLite touches the file, so that
 * a truncated or overwritten file is reported as such (SQLite would otherwise read zeros past
 * the end and may only notice when that page is visited). Returns a problem description or null.
 */
export function checkFileHeader(path: string, walPresent: boolean): string | null {
  const size = statSync(path).size;
  if (size < 100) return `file too short (${size} bytes)`;
  const hdr = Buffer.alloc(100);
  const fd = openSync(path, "r");
  try {
    readSync(fd, hdr, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (hdr.toString("latin1", 0, 16) !== "SQLite format 3\0") return "bad SQLite header magic";
  let pageSize = hdr.readUInt16BE(16);
  if (pageSize === 1) pageSize = 65536;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return `bad page size ${pageSize}`;
  if (hdr.readUInt32BE(68) !== APPLICATION_ID) return "not a tsnats stream database (application_id)";
  // Fixed fields: read/write versions (1 legacy or 2 WAL; exclusive-mode WAL leaves 1), no
  // reserved bytes, payload fractions, schema format 4, UTF-8, incremental auto-vacuum.
  if (hdr[18] !== hdr[19] || (hdr[18] !== 1 && hdr[18] !== 2)) return `bad file format versions ${hdr[18]}/${hdr[19]}`;
  if (hdr[20] !== 0 || hdr[21] !== 64 || hdr[22] !== 32 || hdr[23] !== 32) return "bad page layout fields";
  if (hdr.readUInt32BE(44) !== 4) return `bad schema format ${hdr.readUInt32BE(44)}`;
  if (hdr.readUInt32BE(56) !== 1) return `bad text encoding ${hdr.readUInt32BE(56)}`;
  if (hdr.readUInt32BE(64) !== 1) return "incremental vacuum flag cleared";
  if (size % pageSize !== 0) return `file size ${size} is not a multiple of the page size ${pageSize}`;
  // The in-header page count is authoritative when it was written by the same change as the
  // header's version-valid-for field. With a WAL present, a checkpoint may be mid-way (page 1
  // written before the file was extended) and the WAL will complete it, so skip the check then.
  const changeCounter = hdr.readUInt32BE(24);
  const pages = hdr.readUInt32BE(28);
  const validFor = hdr.readUInt32BE(92);
  if (!walPresent && pages > 0 && validFor === changeCounter && size < pages * pageSize) {
    return `file truncated: ${size} bytes, header says ${pages} pages of ${pageSize}`;
  }
  return null;
}

/**
 * While opening, an error that is not about access to the file (permissions, locks, I/O, memory)
 * means the content is not what we wrote: SQLite reports some damage as plain SQLITE_ERROR
 * ("unsupported file format", malformed schema).
 */
export function isOpenCorruption(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== "string") return false;
  if (code === "SQLITE_IOERR_SHORT_READ") return true;
  return !/^SQLITE_(CANTOPEN|BUSY|LOCKED|PERM|READONLY|IOERR|NOMEM|FULL|AUTH|INTERRUPT)/.test(code);
}

/** SQLite result codes that mean the file content is damaged rather than unavailable. */
export function isCorruptionError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== "string") return false;
  return code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB" || code === "SQLITE_IOERR_SHORT_READ" || code === "SQLITE_FORMAT";
}
