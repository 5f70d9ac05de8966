// The upgrade checks and address rendering, alone (server/transport/ws_handshake.ts), and the close
// status for each close reason (nats-server's wsEnqueueCloseMessage table).
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkOrigin, checkUpgrade, forwardedFor, headerContains, normalizeWsAddress, offersDeflate, originPolicy } from "../../server/transport/ws_handshake.js";
import { closeStatus, WebSocketListener } from "../../server/transport/websocket.js";
import { ClosedReason } from "../../server/client/closed.js";

const good = { method: "GET", host: "h:1", upgrade: "websocket", connection: "keep-alive, Upgrade", key: "k", version: "13", origin: "" };

test("upgrade checks run in nats-server's order with its reasons", () => {
  assert.equal(checkUpgrade(good), null);
  assert.deepEqual(checkUpgrade({ ...good, method: "POST" }), { status: 405, reason: "request method must be GET" });
  assert.deepEqual(checkUpgrade({ ...good, host: "" }), { status: 400, reason: "'Host' missing in request" });
  assert.deepEqual(checkUpgrade({ ...good, upgrade: "h2c" }), { status: 400, reason: "invalid value for header 'Upgrade'" });
  assert.deepEqual(checkUpgrade({ ...good, connection: "close" }), { status: 400, reason: "invalid value for header 'Connection'" });
  assert.deepEqual(checkUpgrade({ ...good, key: "" }), { status: 400, reason: "key missing" });
  assert.deepEqual(checkUpgrade({ ...good, version: "8, 12" }), { status: 400, reason: "invalid version" });
  assert.equal(checkUpgrade({ ...good, upgrade: "WebSocket", version: "12, 13" }), null);
});

test("header tokens and the deflate offer", () => {
  assert.ok(headerContains("a, Upgrade ,b", "upgrade"));
  assert.ok(!headerContains("upgraded", "upgrade"));
  assert.ok(offersDeflate("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits"));
  assert.ok(!offersDeflate("x-webkit-deflate-frame"));
});

test("origin policy: anything goes without one; same origin compares host and port; the list compares scheme too", () => {
  const open = originPolicy(false, []);
  assert.equal(checkOrigin(open, "http://anything", "h"), null);
  const same = originPolicy(true, []);
  assert.equal(checkOrigin(same, "", "example.com"), null, "no Origin header is accepted");
  assert.equal(checkOrigin(same, "http://Example.com", "example.com:80"), null, "default port and case");
  assert.equal(checkOrigin(same, "http://example.com:8080", "example.com"), "not same origin");
  const list = originPolicy(false, ["https://app.example", "http://other.example:8080"]);
  assert.equal(checkOrigin(list, "https://app.example:443", "x"), null);
  assert.equal(checkOrigin(list, "http://app.example", "x"), "not in the allowed list", "scheme differs");
  assert.equal(checkOrigin(list, "http://other.example:8080", "x"), null);
  assert.equal(checkOrigin(list, "http://nope.example", "x"), "not in the allowed list");
  assert.match(checkOrigin(list, "::not a url::", "x") ?? "", /invalid/);
});

test("client addresses: X-Forwarded-For only when an IP; uWS text forms normalised", () => {
  assert.equal(forwardedFor("198.51.100.1, 10.0.0.2"), "198.51.100.1");
  assert.equal(forwardedFor("2001:db8::1"), "2001:db8::1");
  assert.equal(forwardedFor("proxy.example"), null);
  assert.equal(forwardedFor(""), null);
  assert.equal(normalizeWsAddress("127.0.0.1"), "127.0.0.1");
  assert.equal(normalizeWsAddress("::ffff:10.1.2.3"), "10.1.2.3");
  assert.equal(normalizeWsAddress("0000:0000:0000:0000:0000:ffff:7f00:0001"), "127.0.0.1");
  assert.equal(normalizeWsAddress("0000:0000:0000:0000:0000:0000:0000:0001"), "::1");
  assert.equal(normalizeWsAddress("2001:0db8:0000:0000:0001:0000:0000:0001"), "2001:db8::1:0:0:1");
});

test("close statuses follow nats-server's table", () => {
  const want: Array<[ClosedReason, number]> = [
    [ClosedReason.ClientClosed, 1000],
    [ClosedReason.AuthenticationViolation, 1008],
    [ClosedReason.AuthenticationTimeout, 1008],
    [ClosedReason.SlowConsumerPendingBytes, 1008],
    [ClosedReason.SlowConsumerWriteDeadline, 1008],
    [ClosedReason.MaxConnectionsExceeded, 1008],
    [ClosedReason.MaxControlLineExceeded, 1008],
    [ClosedReason.ProtocolViolation, 1002],
    [ClosedReason.ParseError, 1002],
    [ClosedReason.BadClientProtocolVersion, 1002],
    [ClosedReason.MaxPayloadExceeded, 1009],
    [ClosedReason.ServerShutdown, 1001],
    [ClosedReason.StaleConnection, 1006],
    [ClosedReason.NoRespondersRequiresHeaders, 1011],
  ];
  for (const [reason, code] of want) assert.equal(closeStatus(reason), code, reason);
});

test("the largest assembled message leaves room for a maximal PUB", () => {
  const m = WebSocketListener.maxMessage(1024 * 1024, 4096);
  assert.ok(m > 1024 * 1024 + 4096 + 32 * 1024);
  assert.equal(WebSocketListener.maxMessage(8 * 1024 * 1024, 4096), 32 * 1024 * 1024 + 4096);
});
