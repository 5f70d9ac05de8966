// Malformed and hostile HTTP on the monitoring and websocket ports. Requests uWebSockets.js can
// parse get nats-server's status (and, on the monitoring port, its body); requests it cannot parse
// are dropped, where nats-server answers 400 or 431 (see server/transport/websocket.ts). Either
// way the connection ends, nothing crashes, and both ports keep serving.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startWsServer, type WsTestServer } from "../websocket/helpers.js";
import { getHttp } from "./helpers.js";
import { referenceServer, spawnServer, type ChildServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const REF = referenceServer();

interface Answer {
  head: string;
  body: string;
  location: string | undefined;
  closed: boolean;
}

/** Sends raw bytes; resolves with the first response (status line and body) or the close. */
function exchange(port: number, data: Buffer | string, deadlineMs = 30_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let got = Buffer.alloc(0);
    const done = (closed: boolean) => {
      clearTimeout(timer);
      s.destroy();
      const text = got.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      const headers = end >= 0 ? text.slice(0, end) : text;
      resolve({ head: headers.split("\r\n")[0] ?? "", body: end >= 0 ? text.slice(end + 4) : "", location: /\r\nlocation: *([^\r]*)/i.exec(headers)?.[1], closed });
    };
    const timer = setTimeout(() => reject(new Error(`no answer and no close within ${deadlineMs} ms`)), deadlineMs);
    s.on("data", (b) => {
      got = Buffer.concat([got, b]);
      const text = got.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      // Without a length (a chunked body) the head is what is compared.
      if (!len || got.length >= end + 4 + Number(len[1])) done(false);
    });
    s.on("error", () => {});
    s.on("close", () => done(true));
    s.on("connect", () => s.write(data));
  });
}

const req = (target: string, headers = "Host: x\r\n", method = "GET") => `${method} ${target} HTTP/1.1\r\n${headers}\r\n`;

/** Requests uWS parses: status (and monitor body) must be nats-server's. */
const PARSABLE: Record<string, string> = {
  "bad percent-escapes": req("/connz?limit=%zz&sort=%ff"),
  "int out of range": req("/connz?limit=99999999999999999999999"),
  "negative cid": req("/connz?cid=-5"),
  "bad state": req("/connz?state=%00"),
  "bad sort": req("/connz?sort=%3Cscript%3E"),
  "bool garbage": req("/subsz?subs=yes%20please"),
  "unknown path": req("/nope/../../etc/passwd"),
  "20k path": req("/" + "x".repeat(20_000)),
  "8k query": req("/connz?x=" + "y".repeat(8_000)),
  "5k header": req("/varz", `Host: x\r\nX-Big: ${"a".repeat(5000)}\r\n`),
  "POST with a body": `POST /varz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`,
  "repeated parameters": req("/connz?limit=1&limit=x"),
  "escaped path": req("/%76arz"),
  "dot-dot path": req("/nope/../../etc/passwd"),
  "dot-dot to an endpoint": req("/varz/../connz?limit=1"),
  "double slash": req("//varz"),
  "bad escape in the path": req("/varz%zz"),
  "semicolon pair dropped": req("/connz?limit=1;x&sort=bogus"),
  "bad escape pair dropped": req("/connz?limit=%zz&sort=%ff"),
  "NUL in a value": req("/connz?limit=%00"),
  "UTF-8 in a value": req("/connz?sort=%e2%82%ac"),
  "invalid UTF-8 in a value": req("/subsz?subs=%ff%fe"),
  "plus is a space": req("/connz?limit=+5"),
  "uint64 past the range": req("/connz?cid=18446744073709551616"),
  "int64 edge": req("/connz?offset=-9223372036854775808"),
  "HEAD redirect": req("//varz", "Host: x\r\n", "HEAD"),
};

/** Requests uWS cannot parse: nats-server answers 400/431; tsnats must at least end the connection. */
const UNPARSABLE: Record<string, string | Buffer> = {
  garbage: "GARBAGE\r\n\r\n",
  binary: Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]),
  "negative Content-Length": req("/varz", "Host: x\r\nContent-Length: -1\r\n"),
  "bad chunked body": `GET /varz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
  "no Host header": "GET /varz HTTP/1.1\r\n\r\n",
  "HTTP/2 preface": "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
  "2 MB header": req("/varz", `Host: x\r\nX-Big: ${"a".repeat(2_000_000)}\r\n`),
  "never finished": "GET /varz HTTP/1.1\r\n",
  "upgrade never finished": "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n",
};

let ts: WsTestServer;
let ref: ChildServer | null = null;
let refPorts: { http: number; ws: number } | null = null;

before(async () => {
  ts = await startWsServer();
  if (REF) {
    ref = await spawnServer('listen: 127.0.0.1:-1\nhttp: 127.0.0.1:-1\nwebsocket { listen: "127.0.0.1:-1", no_tls: true }\n', { bin: REF });
    refPorts = { http: Number(new URL(ref.ports.monitoring![0]!).port), ws: Number(new URL(ref.ports.websocket![0]!).port) };
  }
});
after(async () => {
  await ts.stop();
  ref?.cleanup();
});

/** 200 bodies carry per-server values (ids, times): those are compared by status only. */
const statusOnly = (a: Answer) => a.head.startsWith("HTTP/1.1 200 ");

test("parsable bad requests get nats-server's status and body, on both ports", { skip: REF ? false : "nats-server is not installed" }, async () => {
  for (const [name, data] of Object.entries(PARSABLE)) {
    const [a, b, wa, wb] = await Promise.all([exchange(ts.httpPort, data), exchange(refPorts!.http, data), exchange(ts.wsPort, data), exchange(refPorts!.ws, data)]);
    assert.equal(a.head, b.head, `monitor: ${name}`);
    if (!statusOnly(b)) assert.equal(a.body, b.body, `monitor body: ${name}`);
    assert.equal(a.location, b.location, `monitor Location: ${name}`);
    assert.equal(wa.head, wb.head, `websocket: ${name}`);
  }
});

test("unparsable requests end the connection on both ports, and both keep serving", async () => {
  const all = Object.entries(UNPARSABLE).flatMap(([name, data]) => [
    exchange(ts.httpPort, data).then((r) => ({ name: `monitor: ${name}`, r })),
    exchange(ts.wsPort, data).then((r) => ({ name: `websocket: ${name}`, r })),
  ]);
  // Dropped at once, or at uWS's fixed HTTP timeout; the deadline leaves room on a loaded machine.
  for (const { name, r } of await Promise.all(all)) {
    assert.ok(r.closed || /^HTTP\/1\.1 4\d\d /.test(r.head), `${name}: ${r.head || "no answer"}`);
    assert.ok(!/^HTTP\/1\.1 [23]/.test(r.head), `${name} was not served: ${r.head}`);
  }
  const v = await getHttp(ts.httpUrl, "/varz");
  assert.equal(v.status, 200);
  assert.equal(JSON.parse(v.body).server_id, ts.server.serverId);
  const ws = await exchange(ts.wsPort, `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  assert.match(ws.head, /^HTTP\/1\.1 101 /);
});

test("a flood of bad requests on many connections at once leaves the server serving", async () => {
  const bad = Object.values(PARSABLE);
  const flood = Array.from({ length: 200 }, (_, i) => exchange(i % 2 ? ts.httpPort : ts.wsPort, bad[i % bad.length]!));
  const answers = await Promise.all(flood);
  assert.equal(answers.length, 200);
  assert.ok(answers.every((a) => a.head.startsWith("HTTP/1.1 ")), "every parsable request was answered");
  await waitFor("monitor still answering", async () => (await getHttp(ts.httpUrl, "/healthz")).status === 200);
});
