// Query-string decoding with Go's rules (net/url ParseQuery, QueryUnescape) and nats-server's error
// texts (strconv.ParseBool, Atoi, ParseUint), so a tool that sends a bad parameter gets the same
// 400 body from either server. Values are kept as bytes (a "binary" string, one char per byte):
// Go echoes the raw bytes in its errors, and get() decodes them as UTF-8 for use as data.

/** A bad request parameter: the monitor answers 400 with this text (a binary string) as the body. */
export class BadRequest extends Error {}

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

const HEX = /^[0-9a-fA-F]{2}$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

function clamp(v: bigint): number {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(v > max ? max : v < -max ? -max : v);
}

/** Go's QueryUnescape: `+` is a space, `%XX` a byte, a bad `%` an error (null). A binary string. */
function queryUnescape(s: string): string | null {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "%") {
      const h = s.slice(i + 1, i + 3);
      if (!HEX.test(h)) return null;
      out += String.fromCharCode(parseInt(h, 16));
      i += 2;
    } else if (c === "+") out += " ";
    else out += c;
  }
  return out;
}

/** url.ParseQuery: pairs with a bad escape or a `;` are dropped (Go 1.17+), the rest kept in order. */
export function parseGoQuery(raw: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const pair of raw.split("&")) {
    if (pair === "" || pair.includes(";")) continue;
    const eq = pair.indexOf("=");
    const key = queryUnescape(eq < 0 ? pair : pair.slice(0, eq));
    const value = queryUnescape(eq < 0 ? "" : pair.slice(eq + 1));
    if (key === null || value === null) continue;
    const list = m.get(key);
    if (list) list.push(value);
    else m.set(key, [value]);
  }
  return m;
}

/** A binary string's bytes as UTF-8 text. */
export function utf8(bin: string): string {
  return Buffer.from(bin, "latin1").toString("utf8");
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's strconv.Quote of a byte string (binary string in, binary string out). */
export function goQuote(bin: string): string {
  const bytes = Buffer.from(bin, "latin1");
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    const chunk = len > 0 && i + len <= bytes.length ? bytes.subarray(i, i + len) : null;
    const ch = chunk ? chunk.toString("utf8") : "";
    // Valid only if it decodes to one code point that encodes back to the same bytes.
    if (chunk === null || [...ch].length !== 1 || !Buffer.from(ch, "utf8").equals(chunk)) {
      // An invalid byte: Go writes it as \x escape and moves on one byte.
      out += `\\x${b.toString(16).padStart(2, "0")}`;
      i++;
      continue;
    }
    i += len;
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (PRINTABLE.test(ch)) out += Buffer.from(ch, "utf8").toString("latin1");
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\v") out += "\\v";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return out + '"';
}

export class Query {
  private readonly params: Map<string, string[]>;

  constructor(raw: string) {
    this.params = parseGoQuery(raw);
  }

  /** The first value of a parameter as bytes (a binary string), or "": for echoing in errors. */
  raw(name: string): string {
    return this.params.get(name)?.[0] ?? "";
  }

  /** The first value of a parameter as text, or "" (Go's url.Values.Get). */
  get(name: string): string {
    return utf8(this.raw(name));
  }

  bool(name: string): boolean {
    const s = this.raw(name);
    if (s === "") return false;
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
    throw new BadRequest(`Error decoding boolean for '${name}': strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
  }

  /** Go's 64-bit int; values past 2^53 (which no offset, limit or cid reaches) are clamped. */
  int(name: string): number {
    const s = this.raw(name);
    if (s === "") return 0;
    if (!/^[+-]?[0-9]+$/.test(s)) throw new BadRequest(`Error decoding int for '${name}': strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`);
    const v = BigInt(s);
    if (v > INT64_MAX || v < INT64_MIN) throw new BadRequest(`Error decoding int for '${name}': strconv.Atoi: parsing ${goQuote(s)}: value out of range`);
    return clamp(v);
  }

  uint(name: string): number {
    const s = this.raw(name);
    if (s === "") return 0;
    if (!/^[0-9]+$/.test(s)) throw new BadRequest(`Error decoding uint64 for '${name}': strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax`);
    const v = BigInt(s);
    if (v > UINT64_MAX) throw new BadRequest(`Error decoding uint64 for '${name}': strconv.ParseUint: parsing ${goQuote(s)}: value out of range`);
    return clamp(v);
  }

  /** `subs=detail` or a boolean `subs`, as /connz and /routez read it. */
  subs(): { subs: boolean; detail: boolean } {
    if (this.raw("subs").toLowerCase() === "detail") return { subs: false, detail: true };
    return { subs: this.bool("subs"), detail: false };
  }
}
