// Checks that a string is a well-formed public NATS nkey of a given kind (base32, kind prefix,
// CRC16 checksum), as nats-server does when it loads nkey users, account nkeys and trusted keys.
// Only the shape is checked here; signatures are the auth code's business.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export type NkeyKind = "user" | "account" | "operator";

const PREFIX_BYTE: Record<NkeyKind, number> = {
  account: 0, // 'A'
  operator: 14 << 3, // 'O'
  user: 20 << 3, // 'U'
};

function base32Decode(s: string): Uint8Array | undefined {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of s) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) return undefined;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const b of data) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function isValidPublicNkey(key: string, kind: NkeyKind): boolean {
  if (key.length !== 56) return false;
  const raw = base32Decode(key);
  if (!raw || raw.length !== 35) return false;
  const body = raw.subarray(0, 33);
  const sum = raw[33]! | (raw[34]! << 8);
  if (crc16(body) !== sum) return false;
  return raw[0] === PREFIX_BYTE[kind];
}

/** The 32-byte ed25519 public key inside a well-formed public nkey of that kind, or undefined. */
export function publicNkeyBytes(key: string, kind: NkeyKind): Uint8Array | undefined {
  if (!isValidPublicNkey(key, kind)) return undefined;
  return base32Decode(key)!.subarray(1, 33);
}
