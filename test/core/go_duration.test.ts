// Go's time.Duration.String(), as /connz RTTs, JetStream's 409 texts and limit errors, and the Nats-TTL of
// subject delete markers print it. Expected strings are what Go prints for the same int64.
import { test } from "node:test";
import assert from "node:assert/strict";
import { goDuration } from "../../server/go_duration.js";

const S = 1_000_000_000;

test("durations as Go prints them", () => {
  const cases: Array<[number, string]> = [
    [0, "0s"],
    [1, "1ns"],
    [999, "999ns"],
    [1_000, "1µs"],
    [1_500, "1.5µs"],
    [999_999, "999.999µs"],
    [1_000_000, "1ms"],
    [10_401_491, "10.401491ms"],
    [999_999_999, "999.999999ms"],
    [S, "1s"],
    [S + 1, "1.000000001s"],
    [59 * S + 999_999_999, "59.999999999s"],
    [60 * S, "1m0s"],
    [61_500_000_000, "1m1.5s"],
    [3_599 * S + 999_999_999, "59m59.999999999s"],
    [3_600_000_000_000, "1h0m0s"],
    [5_400 * S, "1h30m0s"],
    [86_400 * S, "24h0m0s"],
    [-2_000, "-2µs"],
    [-90 * S, "-1m30s"],
  ];
  for (const [ns, s] of cases) assert.equal(goDuration(ns), s, String(ns));
});

test("a number is rounded to whole nanoseconds (/connz passes microsecond RTTs as nanoseconds)", () => {
  assert.equal(goDuration(1.4), "1ns");
  assert.equal(goDuration(1_234.6), "1.235µs");
  assert.equal(goDuration(Math.floor(0.25 * 1000) * 1000), "250µs");
  assert.equal(goDuration(Math.floor(12.3456 * 1000) * 1000), "12.345ms");
});

test("JetStream's limits: max_expires in 409s, inactive_threshold in errors, Nats-TTL of markers", () => {
  // The consumer config's smallest max_expires is 1ms; expires and limits are whole nanoseconds.
  assert.equal(goDuration(1_000_000), "1ms");
  assert.equal(goDuration(1_500_000), "1.5ms");
  assert.equal(goDuration(2 * S), "2s");
  assert.equal(goDuration(30 * S), "30s");
  assert.equal(goDuration(300 * S), "5m0s");
  assert.equal(goDuration(7_201 * S), "2h0m1s");
  // Beyond 2^53 a number is no longer exact, but it is rendered as the integer it holds.
  assert.equal(goDuration(2 ** 53), "2501h59m59.254740992s");
});

test("bigints are exact over all of int64", () => {
  assert.equal(goDuration(0n), "0s");
  assert.equal(goDuration(1n), "1ns");
  assert.equal(goDuration(3_600n * 1_000_000_000n), "1h0m0s");
  assert.equal(goDuration(2n ** 63n - 1n), "2562047h47m16.854775807s");
  assert.equal(goDuration(-(2n ** 63n)), "-2562047h47m16.854775808s");
  // The largest whole-second Nats-TTL: Go prints time.Duration(secs) * time.Second.
  assert.equal(goDuration(9_223_372_036n * 1_000_000_000n), "2562047h47m16s");
  assert.equal(goDuration(4_611_686_019n * 1_000_000_000n), "1281023h53m39s");
});
