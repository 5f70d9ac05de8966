import { test } from "node:test";
import assert from "node:assert/strict";
import { DurationError, parseGoDurationMs } from "../../server/config/duration.js";

test("Go duration syntax", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["10s", 10_000],
    ["2m", 120_000],
    ["500ms", 500],
    ["1h30m", 5_400_000],
    ["1.5s", 1500],
    [".5s", 500],
    ["1.s", 1000],
    ["-2m", -120_000],
    ["+1s", 1000],
    ["1000us", 1],
    ["1000\u00b5s", 1],
    ["1000\u03bcs", 1],
    ["1000000ns", 1],
    ["1h1m1s1ms", 3_661_001],
  ];
  for (const [text, ms] of cases) assert.equal(parseGoDurationMs(text), ms, text);
});

test("invalid durations", () => {
  for (const text of ["", "5", "1x", "s", "1.5", "-", "1s2", ".s", "1 s", "9999999999999999999h"]) {
    assert.throws(() => parseGoDurationMs(text), DurationError, text);
  }
});
