// Go's time.Duration.String(), for the texts nats-server prints durations in: /connz RTTs, JetStream's
// "409 Exceeded MaxRequestExpires of 1s" and limit errors, the Nats-TTL of subject delete markers.
// Pure, with no imports, so that server/ and jetstream/ can both use it.

const MINUTE = 60_000_000_000n;

/**
 * Go's time.Duration.String() for a duration in nanoseconds: "0s", "1.5µs", "10.401491ms", "1m1.5s",
 * "1h0m0s". A number is rounded to whole nanoseconds; a bigint is rendered exactly (all of int64).
 */
export function goDuration(ns: number | bigint): string {
  let u = typeof ns === "bigint" ? ns : BigInt(Math.round(ns));
  if (u === 0n) return "0s";
  const neg = u < 0n;
  if (neg) u = -u;
  let out: string;
  // Below a second Go picks the largest unit that keeps the integer part non-zero.
  if (u < 1_000n) out = `${u}ns`;
  else if (u < 1_000_000n) out = `${fraction(u, 3)}µs`;
  else if (u < 1_000_000_000n) out = `${fraction(u, 6)}ms`;
  else {
    // Seconds with up to nine decimals, then minutes and hours; Go stops at hours.
    const mins = u / MINUTE;
    out = `${fraction(u % MINUTE, 9)}s`;
    if (mins > 0n) out = `${mins % 60n}m${out}`;
    if (mins >= 60n) out = `${mins / 60n}h${out}`;
  }
  return neg ? `-${out}` : out;
}

/** v / 10^digits with the fraction's trailing zeros trimmed. */
function fraction(v: bigint, digits: number): string {
  const div = 10n ** BigInt(digits);
  const frac = String(v % div).padStart(digits, "0").replace(/0+$/, "");
  return frac ? `${v / div}.${frac}` : String(v / div);
}
