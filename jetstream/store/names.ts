// File names for accounts and streams. Names are arbitrary strings in NATS (accounts like "$G",
// public keys, user names), so anything outside a conservative set is percent-encoded; the real
// names are also stored inside each database, which stays authoritative.

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
