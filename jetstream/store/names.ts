// File names for accounts and streams. Names are arbitrary strings in NATS (accounts like "$G",
// public keys, user names), so anything outside a conservative set is percent-encoded; the real
// names are also stored inside each database, which stays authoritative.
//
// A stream's files are <base>.db plus SQLite's and our own suffixes (-wal, -shm, -lock,
// .creating-journal). A name whose encoding would push the longest of them past the file system's
// 255-byte limit (a 255-byte stream name of punctuation or non-ASCII letters encodes to several
// times that) gets a base of its encoding's start, "~" and a hash of the whole name. encodeName
// never writes "~", so such a base is never mistaken for an encoded name: its stream is known by
// the name stored inside the file.

import { createHash } from "node:crypto";

const SAFE = /^[A-Za-z0-9_-]$/;

export function encodeName(name: string): string {
  let out = "";
  for (const ch of name) {
    if (SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, "utf8")) out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  // "" would collide with the directory itself.
  return out.length === 0 ? "%" : out;
}

export function decodeName(encoded: string): string {
  if (encoded === "%") return "";
  return decodeURIComponent(encoded);
}

export const STREAM_FILE_SUFFIX = ".db";
/** The longest name beside a stream's database: its create-time journal. */
const LONGEST_SUFFIX = `${STREAM_FILE_SUFFIX}.creating-journal`;
const NAME_MAX = 255;
/** The longest base that leaves room for every suffix. */
const MAX_STREAM_BASE = NAME_MAX - LONGEST_SUFFIX.length;
const HASH_MARK = "~";
const HASH_HEX = 32;

/** The file name base (before ".db") of a stream's database. */
export function streamFileBase(name: string): string {
  const enc = encodeName(name);
  if (enc.length <= MAX_STREAM_BASE) return enc;
  let cut = MAX_STREAM_BASE - HASH_MARK.length - HASH_HEX;
  // Never cut inside a %XX escape.
  const pct = enc.lastIndexOf("%", cut - 1);
  if (pct >= 0 && pct > cut - 3) cut = pct;
  return enc.slice(0, cut) + HASH_MARK + createHash("sha256").update(name, "utf8").digest("hex").slice(0, HASH_HEX);
}

/** The stream name a base stands for; null for a hashed base (the name is inside the file). Throws on a base we never write. */
export function streamNameOfBase(base: string): string | null {
  if (base.includes(HASH_MARK)) return null;
  return decodeName(base);
}

/** What can be told of a hashed base's stream without opening it: the start of its name. */
export function hashedBasePrefix(base: string): string {
  const start = base.slice(0, base.indexOf(HASH_MARK));
  try {
    return decodeName(start) + "…";
  } catch {
    return "…";
  }
}
