// Bad frames, bad handshakes and oversized messages over WebSocket. Each scenario runs against
// tsnats and, where installed, against nats-server's websocket listener: both must give the same
// answer. Where uWebSockets.js frames differently (documented in server/transport/websocket.ts)
// the test asserts what both servers guarantee: the connection is refused or closed, the server
// keeps serving everyone else.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { constants as zlib, deflateRawSync, inflateRawSync } from "node:zlib";
import { RawWs, startWsServer, type WsTestServer } from "./helpers.js";
import { referenceServer, spawnServer, type ChildServer } from "../helpers/server.js";
import { RawConn } from "../helpers/raw.js";
import { waitFor } from "../helpers/wait.js";

interface Target {
  name: string;
  wsPort: number;
  natsPort: number;
}

const REF = referenceServer();

/** Runs `fn` against tsnats, then against nats-server when it is installed. */
function both(name: string, fn: (t: Target) => Promise<void>): void {
  test(`${name} (tsnats)`, () => fn(targets.tsnats!));
  test(`${name} (nats-server)`, { skip: REF ? false : "nats-server is not installed" }, () => fn(targets.ref!));
}

const targets: { tsnats?: Target; ref?: Target } = {};
let ts: WsTestServer;
let ref: ChildServer | null = null;

/** A fresh connection that has done CONNECT and proven the server is serving it. */
async function connected(port: number): Promise<RawWs> {
  const ws = await RawWs.open(port);
  assert.equal(ws.status, 101);
  await ws.expect(/^INFO \{/);
  ws.sendProto('CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n');
  await ws.flush();
  return ws;
}

/** The server still serves a new client end to end. */
async function stillServing(t: Target): Promise<void> {
  const ws = await connected(t.wsPort);
  ws.sendProto("SUB alive 1\r\nPUB alive 2\r\nok\r\n");
  await ws.expect("MSG alive 1 2\r\nok\r\n");
  ws.destroy();
}

describe("websocket errors", () => {
  before(async () => {
    ts = await startWsServer({ maxPayload: 1024 * 1024 });
    targets.tsnats = { name: "tsnats", wsPort: ts.wsPort, natsPort: ts.port };
    if (REF) {
      ref = await spawnServer("listen: 127.0.0.1:-1\nwebsocket { listen: \"127.0.0.1:-1\", no_tls: true }\n", { bin: REF });
      targets.ref = { name: "nats-server", wsPort: Number(new URL(ref.ports.websocket![0]!).port), natsPort: ref.port };
    }
  });
  after(async () => {
    await ts.stop();
    ref?.cleanup();
  });

  both("a PUB above max_payload gets -ERR and a 1009 close frame", async (t) => {
    const ws = await connected(t.wsPort);
    ws.sendProto("PUB foo 2000000\r\n");
    await ws.expect("-ERR 'Maximum Payload Violation'\r\n");
    await ws.expectClosed();
    assert.deepEqual(ws.closeFrame, { code: 1009, reason: "Maximum Message Payload Exceeded" });
    await stillServing(t);
  });

  both("an unknown protocol operation gets -ERR and a 1002 close frame", async (t) => {
    const ws = await connected(t.wsPort);
    ws.sendProto("FOO bar\r\n");
    await ws.expect("-ERR 'Unknown Protocol Operation'\r\n");
    await ws.expectClosed();
    assert.deepEqual(ws.closeFrame, { code: 1002, reason: "Protocol Violation" });
  });

  both("a client's close frame is answered with the same status and the connection ends", async (t) => {
    const ws = await connected(t.wsPort);
    ws.send({ op: 8, payload: Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from("bye")]) });
    await ws.expectClosed();
    assert.deepEqual(ws.closeFrame, { code: 1000, reason: "bye" });
  });

  both("a ping frame is answered with a pong carrying the same payload", async (t) => {
    const ws = await connected(t.wsPort);
    ws.send({ op: 9, payload: "are-you-there" });
    await waitFor("pong", () => ws.frames.find((f) => f.op === 10));
    assert.equal(ws.frames.find((f) => f.op === 10)!.payload.toString(), "are-you-there");
    ws.destroy();
  });

  both("text frames and fragmented messages carry the protocol like binary frames", async (t) => {
    const ws = await connected(t.wsPort);
    ws.send({ op: 1, payload: "SUB frag 9\r\n" });
    ws.send({ op: 2, fin: false, payload: "PUB frag 5\r\nhe" });
    ws.send({ op: 0, fin: false, payload: "l" });
    ws.send({ op: 0, payload: "lo\r\nPING\r\n" });
    await ws.expect("MSG frag 9 5\r\nhello\r\n");
    ws.destroy();
  });

  both("a PUB whose control line is too long gets -ERR and a 1008 close frame", async (t) => {
    const ws = await connected(t.wsPort);
    ws.sendProto(`PUB ${"s".repeat(5000)} 1\r\n`);
    await ws.expect("-ERR 'maximum control line exceeded'\r\n");
    await ws.expectClosed();
    assert.deepEqual(ws.closeFrame, { code: 1008, reason: "Maximum Control Line Exceeded" });
  });

  both("an offered subprotocol is not selected", async (t) => {
    const ws = await RawWs.open(t.wsPort, { "Sec-WebSocket-Protocol": "nats, mqtt" });
    assert.equal(ws.status, 101);
    assert.doesNotMatch(ws.response, /Sec-WebSocket-Protocol/i);
    ws.destroy();
  });

  both("messages to a websocket client arrive in binary frames", async (t) => {
    const ws = await connected(t.wsPort);
    ws.sendProto("SUB bin 1\r\nPUB bin 3\r\n\u00ff\u0000\u0001\r\n");
    await ws.expect("MSG bin 1 3\r\n\u00ff\u0000\u0001\r\n");
    assert.ok(ws.frames.length > 0 && ws.frames.every((f) => f.op === 2), `frame opcodes: ${ws.frames.map((f) => f.op).join(",")}`);
    ws.destroy();
  });

  both("frames the protocol forbids close the connection and nothing else", async (t) => {
    const cases: Array<{ what: string; frame: Parameters<RawWs["send"]>[0] }> = [
      { what: "unknown opcode", frame: { op: 3, payload: "x" } },
      { what: "control frame over 125 bytes", frame: { op: 9, payload: "a".repeat(130) } },
      { what: "continuation without a first frame", frame: { op: 0, payload: "x" } },
      { what: "compressed bit without negotiated compression", frame: { op: 2, rsv1: true, payload: "PING\r\n" } },
    ];
    for (const c of cases) {
      const ws = await connected(t.wsPort);
      ws.send(c.frame);
      await ws.expectClosed().catch(() => assert.fail(`${c.what}: connection left open`));
      const cf = ws.closeFrame;
      // nats-server's 1002 close frame is best effort (it races the socket close); uWS drops the
      // connection without one. Either way no data frame may follow.
      if (cf) assert.equal(cf.code, 1002, c.what);
    }
    await stillServing(t);
  });

  both("a non-upgrade request is refused with nats-server's status and body", async (t) => {
    const post = await RawWs.open(t.wsPort, {}, { method: "POST" });
    assert.equal(post.status, 405);
    await waitFor("body", () => post.response.includes("Method Not Allowed\n"));
    assert.match(post.response, /Sec-Websocket-Version: 13\r\n/i);
    post.destroy();
    const plain = await RawWs.open(t.wsPort, { Upgrade: "", Connection: "" });
    assert.equal(plain.status, 400);
    await waitFor("body", () => plain.response.includes("Bad Request\n"));
    plain.destroy();
    const v12 = await RawWs.open(t.wsPort, { "Sec-WebSocket-Version": "12" });
    assert.equal(v12.status, 400);
    v12.destroy();
    await stillServing(t);
  });

  both("slow readers: a large burst to a websocket subscriber is delivered complete and in order", async (t) => {
    const ws = await connected(t.wsPort);
    ws.sendProto("SUB burst 1\r\n");
    await ws.flush();
    const pub = await RawConn.connect(t.natsPort);
    pub.send('CONNECT {"verbose":false}\r\n');
    const body = "z".repeat(1000);
    let out = "";
    for (let i = 0; i < 2000; i++) out += `PUB burst ${body.length}\r\n${body}\r\n`;
    pub.send(out);
    await pub.flush();
    await waitFor("2000 messages", () => (ws.text.match(/MSG burst 1 1000\r\n/g) ?? []).length === 2000, 10_000);
    pub.close();
    ws.destroy();
  });
});

describe("websocket limits and policies (tsnats)", () => {
  test("origin checks: same_origin and allowed_origins refuse with 403, a missing Origin is accepted", async () => {
    const srv = await startWsServer({}, { sameOrigin: true, allowedOrigins: ["http://good.example:8080"] });
    try {
      const bad = await RawWs.open(srv.wsPort, { Origin: "http://evil.example" });
      assert.equal(bad.status, 403);
      await waitFor("body", () => bad.response.includes("Forbidden\n"));
      bad.destroy();
      const none = await RawWs.open(srv.wsPort);
      assert.equal(none.status, 101);
      none.destroy();
      // Same origin passes the first check but must also be on the allowed list.
      const same = await RawWs.open(srv.wsPort, { Host: "good.example:8080", Origin: "http://good.example:8080" });
      assert.equal(same.status, 101);
      same.destroy();
      const wrongPort = await RawWs.open(srv.wsPort, { Host: "good.example:8080", Origin: "http://good.example:9090" });
      assert.equal(wrongPort.status, 403);
      wrongPort.destroy();
    } finally {
      await srv.stop();
    }
  });

  test("X-Forwarded-For sets the client address when it is an IP", async () => {
    const srv = await startWsServer();
    try {
      const a = await RawWs.open(srv.wsPort, { "X-Forwarded-For": "203.0.113.7, 10.0.0.1" });
      await a.expect(/"client_ip":"203\.0\.113\.7"/);
      const b = await RawWs.open(srv.wsPort, { "X-Forwarded-For": "not-an-ip" });
      await b.expect(/"client_ip":"127\.0\.0\.1"/);
      a.destroy();
      b.destroy();
    } finally {
      await srv.stop();
    }
  });

  test("max_connections over websocket: -ERR and a 1008 close frame", async () => {
    const srv = await startWsServer({ maxConnections: 1 });
    try {
      const first = await connected(srv.wsPort);
      const second = await RawWs.open(srv.wsPort);
      await second.expect("-ERR 'maximum connections exceeded'\r\n");
      await second.expectClosed();
      assert.deepEqual(second.closeFrame, { code: 1008, reason: "Maximum Connections Exceeded" });
      first.destroy();
    } finally {
      await srv.stop();
    }
  });

  test("a bad token over websocket: Authorization Violation and a 1008 close frame", async () => {
    const srv = await startWsServer({ authorization: { token: "s3cret" } });
    try {
      const ws = await RawWs.open(srv.wsPort);
      await ws.expect(/"auth_required":true/);
      ws.sendProto('CONNECT {"verbose":false,"auth_token":"wrong"}\r\nPING\r\n');
      await ws.expect("-ERR 'Authorization Violation'\r\n");
      await ws.expectClosed();
      assert.deepEqual(ws.closeFrame, { code: 1008, reason: "Authentication Failure" });
      const ok = await RawWs.open(srv.wsPort);
      ok.sendProto('CONNECT {"verbose":false,"auth_token":"s3cret"}\r\nPING\r\n');
      await ok.expect("PONG\r\n");
      ok.destroy();
    } finally {
      await srv.stop();
    }
  });

  test("uWS framing limits close the offender only: invalid UTF-8 text, oversized message, unmasked frame", async () => {
    const srv = await startWsServer({ maxPayload: 1024 });
    const t: Target = { name: "tsnats", wsPort: srv.wsPort, natsPort: srv.port };
    try {
      const bystander = await connected(srv.wsPort);
      bystander.sendProto("SUB watch 1\r\n");
      await bystander.flush();

      const utf8 = await connected(srv.wsPort);
      utf8.send({ op: 1, payload: Buffer.from([0x50, 0x49, 0xff, 0xfe]) });
      await utf8.expectClosed();

      // Far above what the parser would see (4 x max(max_payload, 1 MiB) + max_control_line).
      const huge = await connected(srv.wsPort);
      huge.send({ op: 2, payload: Buffer.alloc(5 * 1024 * 1024 + 1, 0x61) });
      await huge.expectClosed(10_000);

      const unmasked = await connected(srv.wsPort);
      unmasked.send({ op: 2, mask: false, payload: "PUB watch 2\r\nno\r\n" });

      bystander.sendProto("PUB watch 3\r\nyes\r\n");
      await bystander.expect("MSG watch 1 3\r\nyes\r\n");
      assert.ok(!bystander.text.includes("MSG watch 1 2\r\n"), "the unmasked frame was not taken as protocol");
      await stillServing(t);
      unmasked.destroy();
      bystander.destroy();
    } finally {
      await srv.stop();
    }
  });

  test("permessage-deflate only when configured; compressed frames inflate to the protocol", async () => {
    const ext = "permessage-deflate; client_no_context_takeover; server_no_context_takeover";
    const plain = await startWsServer();
    try {
      const ws = await RawWs.open(plain.wsPort, { "Sec-WebSocket-Extensions": ext });
      assert.equal(ws.status, 101);
      assert.doesNotMatch(ws.response, /permessage-deflate/i);
      ws.destroy();
    } finally {
      await plain.stop();
    }
    const comp = await startWsServer({}, { compression: true });
    try {
      const ws = await RawWs.open(comp.wsPort, { "Sec-WebSocket-Extensions": ext });
      assert.equal(ws.status, 101);
      assert.match(ws.response, /Sec-WebSocket-Extensions: permessage-deflate/i);
      const body = "compressible ".repeat(100);
      ws.sendProto(`CONNECT {"verbose":false}\r\nSUB big 1\r\nPUB big ${body.length}\r\n${body}\r\n`);
      // Each message is its own deflate stream (no context takeover): inflate frame by frame.
      const inflated = () =>
        ws.frames
          .filter((f) => f.rsv1)
          .map((f) => inflateRawSync(Buffer.concat([f.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.Z_SYNC_FLUSH }).toString())
          .join("");
      await waitFor("the compressed MSG", () => inflated().includes(`MSG big 1 ${body.length}\r\n${body}\r\n`));
      assert.match(inflated(), /^INFO \{/, "INFO is compressed too (it is over 64 bytes)");
      const total = ws.frames.filter((f) => f.rsv1).reduce((n, f) => n + f.payload.length, 0);
      assert.ok(total < body.length, "compressed frames are smaller than their content");
      ws.destroy();
    } finally {
      await comp.stop();
    }
  });

  test("a websocket subscriber stuck past write_deadline is closed as a slow consumer (write deadline)", async () => {
    const srv = await startWsServer({ writeDeadlineMs: 300 });
    try {
      const ws = await connected(srv.wsPort);
      ws.sendProto("SUB stuck 1\r\n");
      await ws.flush();
      ws.sock.pause();
      const pub = await RawConn.connect(srv.port);
      pub.send('CONNECT {"verbose":false}\r\n');
      const body = "y".repeat(64 * 1024);
      await waitFor(
        "write deadline",
        () => {
          if (srv.server.closedConns.list().some((c) => c.transport === "websocket" && c.reason === "Slow Consumer (Write Deadline)")) return true;
          let chunk = "";
          for (let i = 0; i < 8; i++) chunk += `PUB stuck ${body.length}\r\n${body}\r\n`;
          pub.send(chunk);
          return false;
        },
        20_000,
        50,
      );
      assert.ok(srv.server.stats.slowConsumers >= 1);
      pub.close();
      ws.destroy();
    } finally {
      await srv.stop();
    }
  });

  test("server shutdown closes websocket clients with 1001 Server Shutdown", async () => {
    const srv = await startWsServer();
    const ws = await connected(srv.wsPort);
    await srv.stop();
    await ws.expectClosed();
    assert.deepEqual(ws.closeFrame, { code: 1001, reason: "Server Shutdown" });
  });

  test("a websocket subscriber that stops reading is closed as a slow consumer (pending bytes)", async () => {
    const srv = await startWsServer({ maxPending: 256 * 1024 });
    try {
      const ws = await connected(srv.wsPort);
      ws.sendProto("SUB flood 1\r\n");
      await ws.flush();
      ws.sock.pause();
      const pub = await RawConn.connect(srv.port);
      pub.send('CONNECT {"verbose":false}\r\n');
      const body = "x".repeat(64 * 1024);
      // Keep publishing until the server gives up on the reader: socket buffers absorb an unknown amount first.
      await waitFor(
        "slow consumer",
        () => {
          if (srv.server.stats.slowConsumers > 0) return true;
          let chunk = "";
          for (let i = 0; i < 16; i++) chunk += `PUB flood ${body.length}\r\n${body}\r\n`;
          pub.send(chunk);
          return false;
        },
        20_000,
        20,
      );
      const closed = srv.server.closedConns.list().find((c) => c.transport === "websocket" && c.reason === "Slow Consumer (Pending Bytes)");
      assert.ok(closed, "closed record names the websocket client and the reason");
      pub.close();
      ws.destroy();
    } finally {
      await srv.stop();
    }
  });
});

describe("permessage-deflate, tsnats beside nats-server", { skip: REF ? false : "nats-server is not installed" }, () => {
  let tsc: WsTestServer;
  let refc: ChildServer;
  const ports: Record<string, number> = {};
  before(async () => {
    tsc = await startWsServer({}, { compression: true });
    refc = await spawnServer('listen: 127.0.0.1:-1\nwebsocket { listen: "127.0.0.1:-1", no_tls: true, compression: true }\n', { bin: REF! });
    ports.tsnats = tsc.wsPort;
    ports["nats-server"] = Number(new URL(refc.ports.websocket![0]!).port);
  });
  after(async () => {
    await tsc.stop();
    refc.cleanup();
  });

  const params = (response: string) => {
    const h = /Sec-WebSocket-Extensions: *([^\r]*)/i.exec(response)?.[1];
    return h === undefined ? null : h.split(";").map((x) => x.trim()).sort();
  };

  test("the same extension answer for each offer (parameter order aside)", async () => {
    const offers = ["permessage-deflate", "permessage-deflate; client_max_window_bits", "permessage-deflate; server_max_window_bits=10", "x-webkit-deflate-frame", ""];
    for (const ext of offers) {
      const got: Record<string, unknown> = {};
      for (const [name, port] of Object.entries(ports)) {
        const ws = await RawWs.open(port, ext ? { "Sec-WebSocket-Extensions": ext } : {});
        assert.equal(ws.status, 101, `${name} ${ext}`);
        got[name] = params(ws.response);
        ws.destroy();
      }
      assert.deepEqual(got.tsnats, got["nats-server"], ext);
    }
  });

  test("a compressed PUB is inflated, and the MSG comes back compressed, from both", async () => {
    for (const [name, port] of Object.entries(ports)) {
      const ws = await RawWs.open(port, { "Sec-WebSocket-Extensions": "permessage-deflate" });
      await waitFor(`${name}: INFO`, () => ws.frames.length > 0);
      const body = "squeeze me ".repeat(40);
      const proto = `CONNECT {"verbose":false}\r\nSUB z 1\r\nPUB z ${body.length}\r\n${body}\r\n`;
      const deflated = deflateRawSync(Buffer.from(proto), { finishFlush: zlib.Z_SYNC_FLUSH });
      ws.send({ op: 2, rsv1: true, payload: deflated.subarray(0, deflated.length - 4) });
      const inflated = () =>
        ws.frames.map((f) => (f.rsv1 ? inflateRawSync(Buffer.concat([f.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.Z_SYNC_FLUSH }).toString("latin1") : f.payload.toString("latin1"))).join("");
      await waitFor(`${name}: the MSG`, () => inflated().includes(`MSG z 1 ${body.length}\r\n${body}\r\n`));
      assert.ok(ws.frames.some((f) => f.rsv1), `${name} compressed something`);
      ws.destroy();
    }
  });
});
