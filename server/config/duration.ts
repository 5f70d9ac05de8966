// Go's time.ParseDuration, because nats-server configs write durations in Go's syntax:
// "500ms", "10s", "1h30m", "1.5s", "-2m", "0". Returns milliseconds (possibly fractional).

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n, // micro sign
  "\u03bcs": 1_000n, // Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const INT64_MAX = 2n ** 63n - 1n;

export class DurationError extends Error {}

export function parseGoDurationMs(input: string): number {
  const invalid = (): DurationError => new DurationError(`invalid duration "${input}"`);
  let s = input;
  let neg = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw invalid();
  let total = 0n;
  while (s !== "") {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const intPart = m[1]!;
    const fracPart = m[2];
    if (intPart === "" && (fracPart === undefined || fracPart === "")) throw invalid();
    s = s.slice(m[0].length);
    let unitEnd = 0;
    while (unitEnd < s.length && !/[0-9.]/.test(s[unitEnd]!)) unitEnd++;
    if (unitEnd === 0) throw new DurationError(`missing unit in duration "${input}"`);
    const unit = s.slice(0, unitEnd);
    s = s.slice(unitEnd);
    const ns = UNIT_NS[unit];
    if (ns === undefined) throw new DurationError(`unknown unit "${unit}" in duration "${input}"`);
    let v = BigInt(intPart === "" ? "0" : intPart) * ns;
    if (fracPart) v += BigInt(Math.trunc(Number(`0.${fracPart}`) * Number(ns)));
    total += v;
    if (total > INT64_MAX) throw invalid();
  }
  const ms = Number(total) / 1e6;
  return neg ? -ms : ms;
}
