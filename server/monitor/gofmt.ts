// Go's text renderings of times and durations, because the monitoring JSON is read by tools written
// against nats-server (Go): `time.Time` as RFC 3339 with trimmed nanoseconds, `time.Duration.String()`
// for RTTs, nats-server's own compact uptime format, and json.Marshal's HTML-safe string escapes.

/** Wall-clock milliseconds since the epoch, with sub-millisecond precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A time as Go's time.Time marshals to JSON in UTC: 2006-01-02T15:04:05.999999999Z (zeros trimmed). */
export function goTime(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // 2006-01-02T15:04:05.123Z
  const base = iso.slice(0, 19);
  // Microseconds are all the precision a double near "now" holds reliably.
  const micros = Math.round((ms - whole) * 1000) + (whole % 1000) * 1000;
  let frac = String(Math.min(micros, 999_999)).padStart(6, "0").replace(/0+$/, "");
  if (frac.length > 0) frac = "." + frac;
  return `${base}${frac}Z`;
}

/** nats-server's myUptime: whole seconds, as 1y2d3h4m5s with leading zero units left out. */
export function goUptime(ms: number): string {
  const tsecs = Math.max(0, Math.floor(ms / 1000));
  const tmins = Math.floor(tsecs / 60);
  const thrs = Math.floor(tmins / 60);
  const tdays = Math.floor(thrs / 24);
  const tyrs = Math.floor(tdays / 365);
  if (tyrs > 0) return `${tyrs}y${tdays % 365}d${thrs % 24}h${tmins % 60}m${tsecs % 60}s`;
  if (tdays > 0) return `${tdays}d${thrs % 24}h${tmins % 60}m${tsecs % 60}s`;
  if (thrs > 0) return `${thrs}h${tmins % 60}m${tsecs % 60}s`;
  if (tmins > 0) return `${tmins}m${tsecs % 60}s`;
  return `${tsecs}s`;
}

/** Go's time.Duration.String() for a duration given in nanoseconds: "0s", "1.5µs", "10.4ms", "1m2.5s". */
export function goDuration(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    // Below a second Go picks the largest unit that keeps the integer part non-zero.
    if (u < 1e3) out = `${u}ns`;
    else if (u < 1e6) out = `${fraction(u, 3)}µs`;
    else out = `${fraction(u, 6)}ms`;
  } else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    out = `${fraction(u, 9)}s`;
    if (h > 0) out = `${h}h${m}m${out}`;
    else if (m > 0) out = `${m}m${out}`;
  }
  return neg ? `-${out}` : out;
}

/** v / 10^digits with the fraction's trailing zeros trimmed. */
function fraction(v: number, digits: number): string {
  const div = 10 ** digits;
  const int = Math.floor(v / div);
  const frac = String(v - int * div).padStart(digits, "0").replace(/0+$/, "");
  return frac ? `${int}.${frac}` : String(int);
}

/** JSON.stringify with two-space indent and Go's escapes of <, > and & (json.MarshalIndent). */
export function goJson(v: unknown, indent = true): string {
  const s = indent ? JSON.stringify(v, null, 2) : JSON.stringify(v);
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
