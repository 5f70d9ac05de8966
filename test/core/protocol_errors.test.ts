// The exact -ERR texts, and whether the connection is closed afterwards, over raw sockets.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { RawConn } from "../helpers/raw.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitFor, within } from "../helpers/wait.js";
import * as v3 from "@nats-io/transport-node";

const QUIET = 'CONNECT {"verbose":false,"pedantic":false}\r\n';

describe("protocol errors over raw sockets", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ maxSubscriptions: 3 });
  });
  after(async () => {
    await s.stop();
  });

  async function conn(connect = QUIET): Promise<RawConn> {
    const c = await RawConn.connect(s.port);
    await c.expect(/^INFO \{.*\} \r\n/);
    c.send(connect);
    return c;
  }

  test("INFO has nats-server's fields", async () => {
    const c = await RawConn.connect(s.port);
    const text = await c.expect("\r\n");
    const info = JSON.parse(text.slice(5, text.indexOf("\r\n")));
    assert.equal(typeof info.server_id, "string");
    assert.equal(info.server_id.length, 56);
    assert.equal(info.proto, 1);
    assert.equal(info.headers, true);
    assert.equal(info.max_payload, 1048576);
    assert.equal(info.port, s.port);
    assert.equal(info.client_ip, "127.0.0.1");
    assert.equal(typeof info.client_id, "number");
    assert.match(info.version, /^\d+\.\d+\.\d+$/);
    assert.equal(info.auth_required, undefined);
    assert.deepEqual(Object.keys(info).slice(0, 4), ["server_id", "server_name", "version", "proto"]);
    c.close();
  });

  test("Unknown Protocol Operation closes the connection", async () => {
    const c = await conn();
    c.send("XYZ");
    await c.expect("-ERR 'Unknown Protocol Operation'\r\n");
    await c.expectClosed();
  });

  test("a payload longer than declared is Unknown Protocol Operation", async () => {
    const c = await conn();
    c.send("PUB foo 2\r\nhiX\r\n");
    await c.expect("-ERR 'Unknown Protocol Operation'\r\n");
    await c.expectClosed();
  });

  test("Maximum Payload Violation closes the connection", async () => {
    const c = await conn();
    c.send("PUB foo 2000000\r\n");
    await c.expect("-ERR 'Maximum Payload Violation'\r\n");
    await c.expectClosed();
  });

  test("maximum control line exceeded closes the connection", async () => {
    const c = await conn();
    c.send(`SUB ${"a".repeat(5000)} 1\r\n`);
    await c.expect("-ERR 'maximum control line exceeded'\r\n");
    await c.expectClosed();
  });

  test("Invalid Subject keeps the connection", async () => {
    const c = await conn();
    c.send("SUB a..b 1\r\n");
    await c.expect("-ERR 'Invalid Subject'\r\n");
    await c.flush();
    assert.equal(c.closed, false);
    c.close();
  });

  test("maximum subscriptions exceeded keeps the connection", async () => {
    const c = await conn();
    c.send("SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nSUB d 4\r\n");
    await c.expect("-ERR 'maximum subscriptions exceeded'\r\n");
    await c.flush();
    assert.equal(c.closed, false);
    c.close();
  });

  test("bad PUB arguments close without an -ERR, as nats-server does", async () => {
    const c = await conn();
    c.send("PUB foo\r\n");
    await c.expectClosed();
    assert.ok(!c.text.includes("-ERR"), c.text);
  });

  test("verbose mode answers +OK to every op; pedantic refuses wildcard publishes but still routes", async () => {
    const c = await conn('CONNECT {"verbose":true,"pedantic":true}\r\n');
    c.send("SUB foo.* 1\r\nPUB foo.* 2\r\nhi\r\nPUB foo.bar 2\r\nhi\r\nUNSUB 1\r\nPING\r\n");
    const text = await c.expect("PONG\r\n");
    const body = text.slice(text.indexOf("\r\n") + 2);
    assert.equal(body, "+OK\r\n+OK\r\n-ERR 'Invalid Publish Subject'\r\n+OK\r\nMSG foo.* 1 2\r\nhi\r\n+OK\r\nMSG foo.bar 1 2\r\nhi\r\n+OK\r\nPONG\r\n");
    c.close();
  });

  test("CONNECT defaults: a bare CONNECT {} is verbose", async () => {
    const c = await conn("CONNECT {}\r\n");
    await c.expect("+OK\r\n");
    c.close();
  });

  test("invalid client protocol and no_responders without headers", async () => {
    const a = await conn('CONNECT {"protocol":5}\r\n');
    await a.expect("-ERR 'invalid client protocol'\r\n");
    await a.expectClosed();
    const b = await conn('CONNECT {"no_responders":true}\r\n');
    await b.expect("-ERR 'no responders requires headers support'\r\n");
    await b.expectClosed();
  });

  test("bad CONNECT JSON closes the connection", async () => {
    const c = await conn("CONNECT {bad json\r\n");
    await c.expectClosed();
  });

  test("no responders status message is sent immediately on the reply subject", async () => {
    const c = await conn('CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n');
    c.send("SUB _INBOX.x 7\r\nPUB nobody _INBOX.x 2\r\nhi\r\n");
    await c.expect("HMSG _INBOX.x 7 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
    c.close();
  });

  test("headers are stripped for connections without header support", async () => {
    const h = await conn('CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n');
    const plain = await conn();
    plain.send("SUB hs 1\r\n");
    await plain.flush();
    h.send("HPUB hs 12 14\r\nNATS/1.0\r\n\r\nhi\r\n");
    await plain.expect("MSG hs 1 2\r\nhi\r\n");
    h.close();
    plain.close();
  });

  test("HPUB with an empty header block is delivered as MSG", async () => {
    const c = await conn('CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n');
    c.send("SUB e 1\r\nHPUB e 0 2\r\nhi\r\n");
    await c.expect("MSG e 1 2\r\nhi\r\n");
    c.close();
  });

  test("a client may not publish with a JetStream ack reply", async () => {
    const c = await conn();
    c.send("PUB foo $JS.ACK.a.b.1.1.1.1.1 0\r\n\r\n");
    await c.expect(`-ERR 'Permissions Violation for Publish with Reply of "$JS.ACK.a.b.1.1.1.1.1"'\r\n`);
    c.close();
  });

  test("the server pings, and a PONG keeps the connection alive", async () => {
    const c = await conn();
    await c.expect("PING\r\n", 5000);
    c.send("PONG\r\n");
    await c.flush();
    assert.equal(c.closed, false);
    c.close();
  });
});

describe("liveness and resource limits", () => {
  test("Stale Connection after ping_max unanswered pings", async () => {
    const s = await startServer({ pingIntervalMs: 50, pingMax: 2 });
    try {
      const c = await RawConn.connect(s.port);
      c.send(QUIET);
      await c.expect("-ERR 'Stale Connection'\r\n", 5000);
      await c.expectClosed();
      assert.equal((c.text.match(/PING\r\n/g) ?? []).length, 2);
    } finally {
      await s.stop();
    }
  });

  test("Authentication Timeout when no CONNECT arrives", async () => {
    const s = await startServer({ authorization: { token: "secret" }, authTimeoutMs: 100 });
    try {
      const c = await RawConn.connect(s.port);
      await c.expect("-ERR 'Authentication Timeout'\r\n");
      await c.expectClosed();
    } finally {
      await s.stop();
    }
  });

  test("maximum connections exceeded", async () => {
    const s = await startServer({ maxConnections: 2 });
    try {
      const a = await RawConn.connect(s.port);
      const b = await RawConn.connect(s.port);
      await a.expect("INFO");
      await b.expect("INFO");
      const c = await RawConn.connect(s.port);
      await c.expect(/INFO .*\r\n-ERR 'maximum connections exceeded'\r\n/);
      await c.expectClosed();
      a.close();
      b.close();
    } finally {
      await s.stop();
    }
  });

  test("a fast publisher is held back while a reading subscriber catches up, instead of the subscriber being cut off", async () => {
    // 32 MB sent in one go to a subscriber allowed 1 MB of backlog: the server takes the input far
    // faster than it can write it out, so only pausing the publisher keeps the subscriber.
    const s = await startServer({ maxPending: 1024 * 1024 });
    try {
      const sub = await v3.connect({ servers: s.url });
      const n = 32 * 1024;
      let got = 0;
      const all = new Promise<void>((resolve) => sub.subscribe("fast", { callback: () => void (++got === n && resolve()) }));
      await sub.flush();
      const pub = await RawConn.connect(s.port);
      const one = `PUB fast 1000\r\n${"p".repeat(1000)}\r\n`;
      pub.send(QUIET + one.repeat(n));
      await within(60_000, all, `${n} messages`);
      assert.equal(s.server.stats.slowConsumers, 0);
      assert.equal(sub.isClosed(), false);
      await pub.flush(10_000);
      pub.close();
      await sub.close();
    } finally {
      await s.stop();
    }
  });

  test("Slow Consumer: a reader that stops reading is closed when max_pending is exceeded, and counted", async () => {
    const s = await startServer({ maxPending: 256 * 1024 });
    try {
      const slow = await RawConn.connect(s.port);
      slow.send(QUIET + "SUB slow 1\r\n");
      await slow.flush();
      slow.sock.pause();
      const pub = await RawConn.connect(s.port);
      pub.send(QUIET);
      const payload = "x".repeat(60_000);
      for (let i = 0; i < 400 && s.server.stats.slowConsumers === 0; i++) {
        pub.send(`PUB slow ${payload.length}\r\n${payload}\r\n`);
        await pub.flush();
      }
      await waitFor("slow consumer detected", () => s.server.stats.slowConsumers === 1);
      await waitFor("slow consumer removed", () => s.server.clients.size === 1);
      // Once it reads again, the last thing it gets is the reason.
      slow.sock.resume();
      await slow.expect(/-ERR 'Slow Consumer'\r\n$/, 10000);
      await slow.expectClosed();
      assert.equal(pub.closed, false, "the publisher is unaffected");
      pub.close();
      slow.close();
    } finally {
      await s.stop();
    }
  });
});
