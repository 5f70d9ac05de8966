// The same clients and traffic against tsnats and nats-server, then every endpoint's JSON compared
// by shape: the same field names, nested the same way, in the same order. Values differ (ids,
// times, ports); names and structure are what tools parse.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { startMonitored, getHttp, type Monitored } from "./helpers.js";
import { referenceServer, spawnServer, type ChildServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const REF = referenceServer();

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
  clients: NatsConnection[];
}

let ts: Monitored;
let ref: ChildServer | null = null;
const sides: Record<string, Side> = {};

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
  side.clients.push(sub, pub);
}

before(async () => {
  if (!REF) return;
  ts = await startMonitored();
  ref = await spawnServer("listen: 127.0.0.1:-1\nhttp: 127.0.0.1:-1\n", { bin: REF });
  sides.tsnats = { http: ts.httpUrl, nats: ts.url, clients: [] };
  sides.ref = { http: ref.ports.monitoring![0]!, nats: `nats://127.0.0.1:${ref.port}`, clients: [] };
  await traffic(sides.tsnats);
  await traffic(sides.ref);
});

after(async () => {
  for (const s of Object.values(sides)) for (const c of s.clients) await c.close();
  await ts?.stop();
  ref?.cleanup();
});

/** nats-server fields tsnats leaves out on purpose, each with the reason. */
const ABSENT_ON_PURPOSE: Record<string, string> = {
  system_account: "tsnats has no system account yet; it reports one only when configured",
};

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
    const sa = shape(JSON.parse(a.body));
    const sb = shape(JSON.parse(b.body)).filter((p) => !(p.split(/[.[]/)[0]! in ABSENT_ON_PURPOSE));
    assert.deepEqual(sa, sb);
  });
}

test("errors: the same status and body for the same bad requests", { skip: REF ? false : "nats-server is not installed" }, async () => {
  for (const path of ["/connz?limit=x", "/connz?sort=nope", "/connz?state=open&sort=reason", "/subsz?offset=-", "/nope", "/accountz?acc=missing", "/routez?subs=2"]) {
    const [a, b] = await Promise.all([getHttp(sides.tsnats!.http, path), getHttp(sides.ref!.http, path)]);
    assert.equal(a.status, b.status, path);
    assert.equal(a.body, b.body, path);
  }
});
