// The monitoring endpoints against known traffic from real clients: every number is checked
// against what the test itself sent, and the error answers against nats-server's texts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { startMonitored, type Monitored } from "./helpers.js";
import { waitFor } from "../helpers/wait.js";

type Json = Record<string, any>;

describe("monitoring endpoints", () => {
  let m: Monitored;
  let subber: NatsConnection;
  let pubber: NatsConnection;
  let subCid = 0;
  let pubCid = 0;
  let received = 0;

  before(async () => {
    m = await startMonitored();
    subber = await connect({ servers: m.url, name: "subber" });
    subber.subscribe("a.>", { callback: () => void received++ });
    subber.subscribe("a.b", { queue: "q", callback: () => void received++ });
    await subber.flush();
    pubber = await connect({ servers: m.url, name: "pubber" });
    for (let i = 0; i < 10; i++) pubber.publish("a.b", "hello");
    await pubber.flush();
    await waitFor("20 deliveries", () => received === 20);
    for (const c of m.server.clients.values()) {
      if (c.connect.name === "subber") subCid = c.cid;
      if (c.connect.name === "pubber") pubCid = c.cid;
    }
  });
  after(async () => {
    await subber.close();
    await pubber.close().catch(() => {});
    await m.stop();
  });

  test("/varz counts exactly what was sent", async () => {
    const v = await m.json("/varz");
    assert.equal(v.server_id, m.server.serverId);
    assert.equal(v.port, m.port);
    assert.equal(v.in_msgs, 10);
    assert.equal(v.in_bytes, 50);
    assert.equal(v.out_msgs, 20);
    assert.equal(v.out_bytes, 100);
    assert.equal(v.connections, 2);
    assert.equal(v.total_connections, 2);
    assert.equal(v.subscriptions, 2);
    assert.equal(v.slow_consumers, 0);
    assert.equal(v.max_payload, 1024 * 1024);
    assert.equal(v.ping_interval, 120_000_000_000, "nanoseconds, as Go's time.Duration");
    assert.equal(v.write_deadline, 10_000_000_000);
    assert.deepEqual(v.jetstream, {});
    assert.deepEqual(v.websocket, {});
    assert.ok(v.mem > 0);
    assert.match(v.now, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.match(v.uptime, /^\d+s$/);
  });

  test("/varz http_req_stats counts requests per endpoint", async () => {
    const before = ((await m.json("/varz")).http_req_stats["/varz"] as number) ?? 0;
    await m.json("/varz");
    await m.json("/varz");
    await m.get("/connz?limit=bad"); // refused while decoding: not counted, as nats-server
    const v = await m.json("/varz");
    assert.equal(v.http_req_stats["/varz"], before + 3);
  });

  test("/connz lists connections with their counters and subscriptions", async () => {
    const c = await m.json("/connz?subs=detail");
    assert.equal(c.num_connections, 2);
    assert.equal(c.total, 2);
    assert.equal(c.limit, 1024);
    assert.equal(c.offset, 0);
    assert.deepEqual(
      c.connections.map((x: Json) => x.cid),
      [subCid, pubCid],
    );
    const [s, p] = c.connections as Json[];
    assert.equal(s!.name, "subber");
    assert.equal(s!.lang, "nats.js");
    assert.equal(s!.kind, "Client");
    assert.equal(s!.type, "nats");
    assert.equal(s!.ip, "127.0.0.1");
    assert.ok(s!.port > 0);
    assert.equal(s!.out_msgs, 20);
    assert.equal(s!.out_bytes, 100);
    assert.equal(s!.in_msgs, 0);
    assert.equal(s!.subscriptions, 2);
    assert.deepEqual(
      (s!.subscriptions_list_detail as Json[]).map((d) => [d.subject, d.qgroup, d.msgs, d.cid]),
      [
        ["a.>", undefined, 10, subCid],
        ["a.b", "q", 10, subCid],
      ],
    );
    assert.equal(p!.in_msgs, 10);
    assert.equal(p!.in_bytes, 50);
    assert.equal(p!.subscriptions, 0);
    assert.equal(p!.subscriptions_list_detail, undefined, "omitted when empty");
    const plain = await m.json("/connz?subs=true&cid=" + subCid);
    assert.equal(plain.limit, 1, "a cid filter means one");
    assert.deepEqual(plain.connections[0].subscriptions_list, ["a.>", "a.b"]);
  });

  test("/connz sorts, pages and filters like nats-server", async () => {
    const from = await m.json("/connz?sort=msgs_from");
    assert.equal(from.connections[0].cid, pubCid, "descending by messages received");
    const to = await m.json("/connz?sort=msgs_to");
    assert.equal(to.connections[0].cid, subCid);
    const subs = await m.json("/connz?sort=subs");
    assert.equal(subs.connections[0].cid, subCid);
    // rtt is newer nats-server's (2.10) sort: highest round trip first.
    const byRtt = await m.json("/connz?sort=rtt");
    const rtts = [subCid, pubCid].map((cid) => m.server.clients.get(cid)!.rttMs);
    assert.equal(byRtt.connections[0].cid, rtts[0]! >= rtts[1]! ? subCid : pubCid);
    const page = await m.json("/connz?limit=1&offset=1");
    assert.equal(page.num_connections, 1);
    assert.equal(page.total, 2);
    assert.equal(page.connections[0].cid, pubCid);
    const past = await m.json("/connz?offset=5");
    assert.equal(past.num_connections, 0);
    assert.deepEqual(past.connections, []);
    const none = await m.json("/connz?cid=999999");
    assert.deepEqual(none.connections, []);
  });

  test("bad parameters get nats-server's 400 texts; unknown paths 404", async () => {
    const cases: Array<[string, string]> = [
      ["/connz?limit=abc", `Error decoding int for 'limit': strconv.Atoi: parsing "abc": invalid syntax`],
      ["/connz?offset=1.5", `Error decoding int for 'offset': strconv.Atoi: parsing "1.5": invalid syntax`],
      ["/connz?cid=-1", `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "-1": invalid syntax`],
      ["/connz?subs=maybe", `Error decoding boolean for 'subs': strconv.ParseBool: parsing "maybe": invalid syntax`],
      ["/connz?sort=bogus", "invalid sorting option: bogus"],
      ["/connz?sort=stop", "sort by stop only valid on closed connections"],
      ["/connz?sort=reason&state=open", "sort by reason only valid on closed connections"],
      ["/connz?state=weird", "Error decoding state for weird"],
      ["/subsz?test=a.*", "invalid test subject, must be valid publish subject: a.*"],
      ["/accountz?acc=nope", "Account nope does not exist"],
      ["/jsz?leader-only=true", "filtered response: not leader"],
      ["/healthz?js-enabled-only=perhaps", `Error decoding boolean for 'js-enabled-only': strconv.ParseBool: parsing "perhaps": invalid syntax`],
    ];
    for (const [path, body] of cases) {
      const r = await m.get(path);
      assert.equal(r.status, 400, path);
      assert.equal(r.body, body, path);
      assert.equal(r.type, "text/plain; charset=utf-8");
    }
    for (const path of ["/nope", "/varz/", "/varz/extra", "/VARZ"]) {
      const r = await m.get(path);
      assert.equal(r.status, 404, path);
      assert.equal(r.body, "404 page not found\n");
    }
  });

  test("/subsz reports the subject index's own counters", async () => {
    const s = await m.json("/subsz");
    // 10 publishes to one subject: one miss, nine cache hits; its result fans out to a plain
    // subscriber and one queue group.
    assert.deepEqual(s, { num_subscriptions: 2, num_cache: 1, num_inserts: 2, num_removes: 0, num_matches: 10, cache_hit_rate: 0.9, max_fanout: 2, avg_fanout: 2 });
    const list = await m.json("/subsz?subs=1");
    assert.equal(list.total, 2);
    assert.equal(list.server_id, m.server.serverId);
    assert.deepEqual(
      (list.subscriptions_list as Json[]).map((d) => [d.account, d.subject, d.qgroup ?? "", d.cid]).sort(),
      [
        ["$G", "a.>", "", subCid],
        ["$G", "a.b", "q", subCid],
      ],
    );
    const tested = await m.json("/subsz?subs=1&test=a.c");
    assert.equal(tested.total, 1);
    assert.equal(tested.subscriptions_list[0].subject, "a.>");
    const empty = await m.json("/subsz?subs=1&test=zzz");
    assert.equal(empty.subscriptions_list, undefined, "an empty page is answered with the bare stats");
    assert.equal(empty.num_subscriptions, 2);
  });

  test("/routez, /leafz, /accountz, /healthz and /jsz without clustering or JetStream", async () => {
    const r = await m.json("/routez");
    assert.equal(r.num_routes, 0);
    assert.deepEqual(r.routes, []);
    const l = await m.json("/leafz");
    assert.equal(l.leafnodes, 0);
    assert.equal(l.leafs, null);
    const a = await m.json("/accountz");
    assert.deepEqual(a.accounts, ["$G"]);
    const ad = await m.json("/accountz?acc=$G");
    assert.equal(ad.account_detail.client_connections, 2);
    assert.equal(ad.account_detail.subscriptions, 2);
    assert.equal(ad.account_detail.jetstream_enabled, false);
    const h = await m.get("/healthz?js-enabled-only=true");
    assert.equal(h.status, 200);
    assert.equal(h.body, '{"status":"ok"}');
    const j = await m.json("/jsz?streams=true&consumers=true");
    assert.equal(j.disabled, true);
    assert.deepEqual(j.config, { max_memory: 0, max_storage: 0 });
    assert.equal(j.streams, 0);
    assert.equal(j.account_details, undefined);
  });

  test("JSONP: ?callback= wraps the JSON; a callback that is not a name is refused", async () => {
    const r = await m.get("/varz?callback=handle");
    assert.equal(r.type, "application/javascript");
    assert.match(r.body, /^handle\(\{\n {2}"server_id"/);
    assert.ok(r.body.endsWith("})"));
    const bad = await m.get("/varz?callback=%3Cscript%3E");
    assert.equal(bad.status, 400);
  });

  test("closed connections: /connz?state=closed keeps their final counters and reason", async () => {
    await pubber.close();
    await waitFor("pubber gone", () => !m.server.clients.has(pubCid));
    const closed = await m.json("/connz?state=closed&subs=1");
    const c = (closed.connections as Json[]).find((x) => x.cid === pubCid);
    assert.ok(c, "closed connection listed");
    assert.equal(c.reason, "Client Closed");
    assert.equal(c.in_msgs, 10);
    assert.equal(c.in_bytes, 50);
    assert.equal(c.name, "pubber");
    assert.match(c.stop, /Z$/);
    const any = await m.json("/connz?state=any");
    assert.equal(any.total, 2);
    assert.deepEqual(
      any.connections.map((x: Json) => x.cid),
      [subCid, pubCid],
    );
    const byStop = await m.json("/connz?state=closed&sort=stop");
    assert.equal(byStop.connections[0].cid, pubCid);
    const byCid = await m.json(`/connz?state=closed&cid=${pubCid}`);
    assert.equal(byCid.connections[0].reason, "Client Closed");
    const v = await m.json("/varz");
    assert.equal(v.connections, 1);
    assert.equal(v.total_connections, 2);
  });
});

describe("monitoring base path and the dashboard page", () => {
  test("endpoints move under http_base_path; the root serves the dashboard", async () => {
    const m = await startMonitored({ http: { host: "127.0.0.1", port: -1, basePath: "/mon" } });
    try {
      assert.equal((await m.get("/mon/varz")).status, 200);
      assert.equal((await m.get("/varz")).status, 404);
      const page = await m.get("/mon");
      assert.equal(page.status, 200);
      assert.equal(page.type, "text/html; charset=utf-8");
      assert.match(page.body, /const BASE = "\/mon";/);
      assert.match(page.body, /<canvas id="rate-chart"/);
      const v = await m.json("/mon/varz");
      assert.equal(v.http_base_path, "/mon");
      assert.equal(v.http_req_stats["/"], 1);
    } finally {
      await m.stop();
    }
  });
});
