// Go's renderings that monitoring JSON carries: nats-server's uptime, time.Time in JSON, and
// json.Marshal's escapes (time.Duration.String(): test/core/go_duration.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { goJson, goTime, goUptime } from "../../server/monitor/gofmt.js";

test("uptime in nats-server's compact form", () => {
  assert.equal(goUptime(0), "0s");
  assert.equal(goUptime(59_999), "59s");
  assert.equal(goUptime(61_000), "1m1s");
  assert.equal(goUptime(3_601_000), "1h0m1s");
  assert.equal(goUptime(90_061_000), "1d1h1m1s");
  assert.equal(goUptime(366 * 86_400_000), "1y1d0h0m0s");
});

test("times in UTC with trailing zeros trimmed, as time.Time marshals", () => {
  assert.equal(goTime(Date.UTC(2024, 0, 2, 3, 4, 5, 0)), "2024-01-02T03:04:05Z");
  assert.equal(goTime(Date.UTC(2024, 0, 2, 3, 4, 5, 120)), "2024-01-02T03:04:05.12Z");
  assert.equal(goTime(Date.UTC(2024, 0, 2, 3, 4, 5, 1) + 0.5), "2024-01-02T03:04:05.0015Z");
});

test("JSON with Go's HTML-safe escapes and two-space indent", () => {
  assert.equal(goJson({ s: "a.> <&>" }), '{\n  "s": "a.\\u003e \\u003c\\u0026\\u003e"\n}');
  assert.deepEqual(JSON.parse(goJson({ s: "a.> <&>" })), { s: "a.> <&>" });
  assert.equal(goJson({ status: "ok" }, false), '{"status":"ok"}');
});
