// Time as JetStream's wire uses it: int64 nanoseconds for durations and stored timestamps, and
// RFC3339 with nanoseconds (Go's RFC3339Nano: trailing zeros trimmed, UTC "Z") for times.

export type Nanos = bigint;

export const ZERO_TIME = "0001-01-01T00:00:00Z";
export const NS_PER_MS = 1_000_000n;
export const NS_PER_SEC = 1_000_000_000n;

// The monotonic clock gives sub-millisecond resolution but drifts from the wall clock over a long
// run (and ignores clock adjustments); message times must be wall-clock times, as clients compare
// them with their own (KV purgeDeletes, TTLs). So the monotonic reading is re-anchored whenever it
// strays more than a millisecond from Date.now(). The wall clock is read at most once per
// millisecond of the monotonic one, not for every message; a step of the wall clock still shows
// within a millisecond.
let anchorWall = BigInt(Date.now()) * NS_PER_MS;
let anchorMono = process.hrtime.bigint();
let checkedMono = anchorMono;

/** Wall-clock time in nanoseconds since the epoch, with sub-millisecond resolution. */
export function nowNanos(): Nanos {
  const mono = process.hrtime.bigint();
  const t = anchorWall + (mono - anchorMono);
  if (mono - checkedMono < NS_PER_MS) return t;
  checkedMono = mono;
  const wall = BigInt(Date.now()) * NS_PER_MS;
  const d = t - wall;
  if (d > NS_PER_MS || d < -NS_PER_MS) {
    anchorWall = wall;
    anchorMono = mono;
    return wall;
  }
  return t;
}

// Consecutive timestamps mostly share their second: the date part is formatted once per second.
let cachedSec = -1n;
let cachedBase = "";

/** RFC3339Nano, UTC, as Go formats time.Time (zero is 0001-01-01T00:00:00Z). */
export function rfc3339(ns: Nanos): string {
  if (ns === 0n) return ZERO_TIME;
  let sec = ns / NS_PER_SEC;
  let frac = ns - sec * NS_PER_SEC;
  if (frac < 0n) {
    sec -= 1n;
    frac += NS_PER_SEC;
  }
  if (sec !== cachedSec) {
    cachedSec = sec;
    cachedBase = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  }
  if (frac === 0n) return `${cachedBase}Z`;
  let f = String(frac).padStart(9, "0");
  let end = f.length;
  while (f.charCodeAt(end - 1) === 48) end--;
  if (end < f.length) f = f.slice(0, end);
  return `${cachedBase}.${f}Z`;
}

/** Parses RFC3339 (any fraction length, Z or an offset) to nanoseconds; null if invalid. */
export function parseRfc3339(s: string): Nanos | null {
  const m = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, se, frac, tz] = m;
  if (y === "0001" && mo === "01" && d === "01" && h === "00" && mi === "00" && se === "00" && !frac) return 0n;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (Number.isNaN(ms)) return null;
  if (tz !== "Z" && tz !== "z") {
    const sign = tz!.startsWith("-") ? -1 : 1;
    ms -= sign * (Number(tz!.slice(1, 3)) * 60 + Number(tz!.slice(4, 6))) * 60_000;
  }
  const fracNs = frac ? BigInt(frac.padEnd(9, "0")) : 0n;
  return BigInt(ms) * NS_PER_MS + fracNs;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration ("1h30m", "500ms", "-2s"); nanoseconds or null if invalid. */
export function parseGoDuration(s: string): Nanos | null {
  if (s === "0") return 0n;
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
  if (!m) return null;
  let total = 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
  let part: RegExpExecArray | null;
  while ((part = re.exec(s)) !== null) total += Number(part[1]) * UNITS[part[2]!]!;
  if (!Number.isFinite(total)) return null;
  const ns = BigInt(Math.round(total));
  return m[1] === "-" ? -ns : ns;
}
