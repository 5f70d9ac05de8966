// Go's text renderings of times and uptimes, because the monitoring JSON is read by tools written
// against nats-server (Go): `time.Time` as RFC 3339 with trimmed nanoseconds, nats-server's own compact
// uptime format, and json.Marshal's HTML-safe string escapes (time.Duration.String(): ../go_duration.ts).

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

/** JSON.stringify with two-space indent and Go's escapes of <, > and & (json.MarshalIndent). */
export function goJson(v: unknown, indent = true): string {
  const s = indent ? JSON.stringify(v, null, 2) : JSON.stringify(v);
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
