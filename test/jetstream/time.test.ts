// Message timestamps: wall-clock nanoseconds with sub-millisecond resolution, following the wall
// clock when it steps, and Go's RFC3339Nano on the wire.

import { test } from "node:test";
import assert from "node:assert/strict";
import { NS_PER_MS, nowNanos, rfc3339 } from "../../jetstream/util/time.js";

/** Spins (no timer involved) until the monotonic clock has moved on by at least ns. */
function spinFor(ns: bigint): void {
  const until = process.hrtime.bigint() + ns;
  while (process.hrtime.bigint() < until) {
    // busy: the condition is the monotonic clock itself
  }
}

test("nowNanos stays within a millisecond of the wall clock and resolves below a millisecond", () => {
  const seen = new Set<bigint>();
  for (let i = 0; i < 20_000; i++) {
    const before = BigInt(Date.now()) * NS_PER_MS;
    const t = nowNanos();
    const after = BigInt(Date.now()) * NS_PER_MS;
    // Date.now() truncates to the millisecond: t may be up to a millisecond past `after`.
    assert.ok(t >= before - 2n * NS_PER_MS && t <= after + 2n * NS_PER_MS, `${t} not near [${before}, ${after}]`);
    seen.add(t / 1000n);
  }
  // 20,000 readings a few hundred nanoseconds apart fall in far more microseconds than milliseconds.
  assert.ok(seen.size > 100, `only ${seen.size} distinct microseconds`);
});

test("nowNanos follows a step of the wall clock within a millisecond of monotonic time", (t) => {
  const realNow = Date.now;
  const step = 3_600_000; // one hour forward
  t.after(() => {
    Date.now = realNow;
  });
  nowNanos();
  Date.now = () => realNow() + step;
  spinFor(2n * NS_PER_MS);
  const stepped = nowNanos();
  const expected = BigInt(realNow() + step) * NS_PER_MS;
  assert.ok(stepped >= expected - 3n * NS_PER_MS && stepped <= expected + 3n * NS_PER_MS, `forward step: ${stepped} vs ${expected}`);
  // And back again.
  Date.now = realNow;
  spinFor(2n * NS_PER_MS);
  const back = nowNanos();
  const now = BigInt(realNow()) * NS_PER_MS;
  assert.ok(back >= now - 3n * NS_PER_MS && back <= now + 3n * NS_PER_MS, `backward step: ${back} vs ${now}`);
});

test("rfc3339 formats as Go's RFC3339Nano", () => {
  assert.equal(rfc3339(0n), "0001-01-01T00:00:00Z");
  assert.equal(rfc3339(1_700_000_000_000_000_000n), "2023-11-14T22:13:20Z");
  assert.equal(rfc3339(1_700_000_000_123_456_789n), "2023-11-14T22:13:20.123456789Z");
  assert.equal(rfc3339(1_700_000_000_120_000_000n), "2023-11-14T22:13:20.12Z");
});
