// The same clients and traffic against tsnats and nats-server, then every endpoint's JSON compared
// by shape: the same field names, nested the same way, in the same order. Values differ (ids,
// times, ports); names and structure are what tools parse.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { wsconnect, type NatsConnection } from "@nats-io/nats-core";
import { installWebSocketGlobal, wsOptions } from "../websocket/helpers.js";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { jsOptions, startMonitored, getHttp, type Monitored } from "./helpers.js";
import { referenceServer, spawnServer, type ChildServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const REF = referenceServer();
installWebSocketGlobal();

/**
 * Field paths in document order: "connections[].cid". An array contributes the union of its
 * elements' fields, sorted (nats-server lists subscriptions in map order, and omitempty fields vary
 * from element to element).
 */
function shape(v: unknown, path = "", out: string[] = []): string[] {
  if (Array.isArray(v)) {
    const union = new Set<string>();
    for (const x of v) for (const p of shape(x, `${path}[]`)) union.add(p);
    out.push(...[...union].sort());
  } else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      out.push(p);
      shape(x, p, out);
    }
  }
  return out;
}

interface Side {
  http: string;
  nats: string;
  ws: string;
  clients: NatsConnection[];
}

let ts: Monitored;
let ref: ChildServer | null = null;
let tsJs: Monitored;
let refJs: ChildServer | null = null;
let jsDir = "";
const sides: Record<string, Side> = {};
const jsSides: Record<string, Side> = {};

async function traffic(side: Side): Promise<void> {
  const sub = await connect({ servers: side.nats, name: "shape-sub" });
  let n = 0;
  sub.subscribe("shape.>", { callback: () => void n++ });
  sub.subscribe("shape.q", { queue: "workers", max: 1000, callback: () => void n++ });
  await sub.flush();
  const pub = await connect({ servers: side.nats, name: "shape-pub" });
  for (let i = 0; i < 5; i++) pub.publish("shape.q", "x");
  await pub.flush();
  await waitFor("deliveries", () => n === 10);
  // A closed connection, for state=closed.
  const gone = await connect({ servers: side.nats, name: "shape-gone" });
  gone.subscribe("shape.gone");
  await gone.flush();
  await gone.close();
  // A websocket client that publishes and receives, listed as type "websocket".
  const ws = await wsconnect({ servers: side.ws, name: "shape-ws" });
  ws.subscribe("shape.ws");
  ws.publish("shape.ws", "over websocket");
  await ws.flush();
  side.clients.push(sub, pub, ws);
}

/** A stream, two consumers (one has taken and acked a message), and a failed API request. */
async function jsTraffic(side: Side): Promise<void> {
  const nc = await connect({ servers: side.nats, name: "shape-js" });
  // The first stream create of a fresh server fsyncs new files and waits for its first commit's
  // sync: twice in full test runs, with other files loading the machine, it outlasted the
  // clients' 5 s default request timeout.
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  await jsm.streams.add({ name: "SHAPE", subjects: ["shape.js.>"] });
  await jsm.consumers.add("SHAPE", { durable_name: "taker", ack_policy: AckPolicy.Explicit });
  await jsm.consumers.add("SHAPE", { durable_name: "idle", ack_policy: AckPolicy.Explicit });
  const js = jetstream(nc, { timeout: 30_000 });
  for (let i = 0; i < 3; i++) await js.publish("shape.js.x", "payload");
  const m = await (await js.consumers.get("SHAPE", "taker")).next({ expires: 5000 });
  await m!.ackAck();
  await jsm.streams.info("NOPE").catch(() => {});
  side.clients.push(nc);
}

before(async () => {
  if (!REF) return;
  jsDir = mkdtempSync(join(tmpdir(), "tsnats-shape-js-"));
  tsJs = await startMonitored(jsOptions(join(jsDir, "ts")));
  refJs = await spawnServer(`listen: 127.0.0.1:-1\nhttp: 127.0.0.1:-1\njetstream { store_dir: "${join(jsDir, "ref")}", max_mem: 64MB, max_file: 1GB }\n`, { bin: REF });
  jsSides.tsnats = { http: tsJs.httpUrl, nats: tsJs.url, ws: "", clients: [] };
  jsSides.ref = { http: refJs.ports.monitoring![0]!, nats: `nats://127.0.0.1:${refJs.port}`, ws: "", clients: [] };
  await jsTraffic(jsSides.tsnats);
  await jsTraffic(jsSides.ref);
  // The websocket block's handshake_timeout is given: tsnats has a default where nats-server has none.
  ts = await startMonitored({ websocket: wsOptions({ handshakeTimeoutMs: 2000 }) });
  ref = await spawnServer('listen: 127.0.0.1:-1\nhttp: 127.0.0.1:-1\nwebsocket { listen: "127.0.0.1:-1", no_tls: true, handshake_timeout: "2s" }\n', { bin: REF });
  sides.tsnats = { http: ts.httpUrl, nats: ts.url, ws: ts.server.portsReport().websocket![0]!, clients: [] };
  sides.ref = { http: ref.ports.monitoring![0]!, nats: `nats://127.0.0.1:${ref.port}`, ws: ref.ports.websocket![0]!, clients: [] };
  await traffic(sides.tsnats);
  await traffic(sides.ref);
});

after(async () => {
  for (const s of [...Object.values(sides), ...Object.values(jsSides)]) for (const c of s.clients) await c.close();
  await ts?.stop();
  ref?.cleanup();
  await tsJs?.stop();
  refJs?.cleanup();
  if (jsDir) rmSync(jsDir, { recursive: true, force: true });
});

/** nats-server fields (paths, and everything under them) tsnats leaves out on purpose, with the reason. */
const ABSENT_ON_PURPOSE: Record<string, string> = {
  system_account: "tsnats has no system account yet; it reports one only when configured",
  "account_detail.imports": "the imports nats-server lists are from its system account ($JS.API, $SYS.REQ), which tsnats does not have",
  "config.compress_ok": "says the server can compress stream catch-up traffic between peers; tsnats cannot",
  "jetstream.config.compress_ok": "as config.compress_ok",
};

function absentOnPurpose(p: string): boolean {
  return Object.keys(ABSENT_ON_PURPOSE).some((a) => p === a || p.startsWith(`${a}.`) || p.startsWith(`${a}[`));
}

/** Fields newer nats-server (2.10+, server/monitor.go and jetstream.go) has and tsnats reports too. */
const NEWER_THAN_2_9 = new Set([
  "config.sync_always",
  "jetstream.config.sync_always",
  "in_client_msgs",
  "in_client_bytes",
  "out_client_msgs",
  "out_client_bytes",
  "slow_consumer_stats",
  "slow_consumer_stats.clients",
  "slow_consumer_stats.routes",
  "slow_consumer_stats.gateways",
  "slow_consumer_stats.leafs",
]);

function compareShapes(a: string, b: string): void {
  const sa = shape(JSON.parse(a)).filter((p) => !NEWER_THAN_2_9.has(p));
  const sb = shape(JSON.parse(b)).filter((p) => !absentOnPurpose(p));
  assert.deepEqual(sa, sb);
}

const ENDPOINTS = [
  "/varz",
  "/connz",
  "/connz?subs=true",
  "/connz?subs=detail",
  "/connz?state=closed&subs=detail",
  "/connz?auth=true&sort=msgs_from",
  "/routez",
  "/subsz",
  "/subsz?subs=1&test=shape.q",
  "/jsz",
  "/jsz?streams=true&consumers=true",
  "/healthz",
  "/healthz?js-enabled-only=true",
  "/leafz",
  "/accountz",
];

for (const path of ENDPOINTS) {
  test(`${path} has nats-server's shape`, { skip: REF ? false : "nats-server is not installed" }, async () => {
    const [a, b] = await Promise.all([getHttp(sides.tsnats!.http, path), getHttp(sides.ref!.http, path)]);
    assert.equal(a.status, b.status, "status");
    assert.equal(a.type, b.type, "content type");
    compareShapes(a.body, b.body);
  });
}

test("the same counts as nats-server for the same core traffic", { skip: REF ? false : "nats-server is not installed" }, async () => {
  const [a, b] = await Promise.all([getHttp(sides.tsnats!.http, "/varz"), getHttp(sides.ref!.http, "/varz")]);
  // subscriptions differ: nats-server's system account holds its own.
  const pick = (v: any) => ({ in_msgs: v.in_msgs, out_msgs: v.out_msgs, in_bytes: v.in_bytes, out_bytes: v.out_bytes, connections: v.connections, total_connections: v.total_connections, slow_consumers: v.slow_consumers });
  assert.deepEqual(pick(JSON.parse(a.body)), pick(JSON.parse(b.body)));
  const [ca, cb] = await Promise.all([getHttp(sides.tsnats!.http, "/connz?state=all&subs=1"), getHttp(sides.ref!.http, "/connz?state=all&subs=1")]);
  const conns = (c: any) => c.connections.map((x: any) => [x.name, x.type, x.in_msgs, x.out_msgs, x.in_bytes, x.out_bytes, x.subscriptions, x.reason ?? ""]).sort();
  assert.deepEqual(conns(JSON.parse(ca.body)), conns(JSON.parse(cb.body)));
});

const JS_ENDPOINTS = ["/jsz", "/jsz?accounts=true", "/jsz?streams=true", "/jsz?consumers=true", "/jsz?consumers=true&config=true", "/jsz?acc=$G", "/varz", "/healthz", "/healthz?js-enabled-only=true", "/accountz?acc=$G"];

for (const path of JS_ENDPOINTS) {
  test(`with JetStream: ${path} has nats-server's shape`, { skip: REF ? false : "nats-server is not installed" }, async () => {
    const [a, b] = await Promise.all([getHttp(jsSides.tsnats!.http, path), getHttp(jsSides.ref!.http, path)]);
    assert.equal(a.status, b.status, "status");
    assert.equal(a.type, b.type, "content type");
    compareShapes(a.body, b.body);
  });
}

test("with JetStream: the same counts as nats-server for the same traffic", { skip: REF ? false : "nats-server is not installed" }, async () => {
  const [a, b] = await Promise.all([getHttp(jsSides.tsnats!.http, "/jsz?consumers=true"), getHttp(jsSides.ref!.http, "/jsz?consumers=true")]);
  const ja = JSON.parse(a.body);
  const jb = JSON.parse(b.body);
  for (const k of ["streams", "consumers", "messages", "bytes", "storage", "memory", "accounts"]) assert.equal(ja[k], jb[k], k);
  assert.equal(ja.api.errors, jb.api.errors, "api.errors");
  const consumers = (j: any) => Object.fromEntries(j.account_details[0].stream_detail[0].consumer_detail.map((c: any) => [c.name, [c.num_pending, c.num_ack_pending, c.delivered.stream_seq, c.ack_floor.stream_seq]]));
  assert.deepEqual(consumers(ja), consumers(jb));
  assert.deepEqual(ja.account_details[0].stream_detail[0].state.messages, jb.account_details[0].stream_detail[0].state.messages);
  const [va, vb] = await Promise.all([getHttp(jsSides.tsnats!.http, "/varz"), getHttp(jsSides.ref!.http, "/varz")]);
  // What clients sent and how many messages they got; out_bytes differ by the servers' own texts (ids, times).
  const pick = (v: any) => ({ in_msgs: v.in_msgs, out_msgs: v.out_msgs, in_bytes: v.in_bytes });
  assert.deepEqual(pick(JSON.parse(va.body)), pick(JSON.parse(vb.body)));
});

test("errors: the same status and body for the same bad requests", { skip: REF ? false : "nats-server is not installed" }, async () => {
  for (const path of ["/connz?limit=x", "/connz?sort=nope", "/connz?state=open&sort=reason", "/subsz?offset=-", "/nope", "/accountz?acc=missing", "/routez?subs=2"]) {
    const [a, b] = await Promise.all([getHttp(sides.tsnats!.http, path), getHttp(sides.ref!.http, path)]);
    assert.equal(a.status, b.status, path);
    assert.equal(a.body, b.body, path);
  }
});
