// /connz with many connections: paging in every sort order visits each connection exactly once in
// order, open and closed together with state=all, and the closed-connection ring keeps the most
// recent ones within its bound. Slow consumers are counted where /varz, /connz and /metrics show them.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startMonitored, type Monitored } from "./helpers.js";
import { RawConn } from "../helpers/raw.js";
import { waitFor } from "../helpers/wait.js";
import { ClosedConnections, type ClosedConnection } from "../../server/closed_ring.js";
import { parseMetrics } from "./prom.js";
import { connzOptions, connzPage } from "../../server/monitor/connz.js";
import { jsonStream } from "../../server/monitor/http.js";
import { Query } from "../../server/monitor/query.js";
import { goJson } from "../../server/monitor/gofmt.js";
import { ProcessStats } from "../../server/monitor/process.js";

type Json = Record<string, any>;

const SORTS: Array<{ sort: string; key: (c: Json) => number | string; desc: boolean }> = [
  { sort: "cid", key: (c) => c.cid, desc: false },
  { sort: "msgs_from", key: (c) => c.in_msgs, desc: true },
  { sort: "bytes_from", key: (c) => c.in_bytes, desc: true },
  { sort: "subs", key: (c) => c.subscriptions, desc: true },
  { sort: "msgs_to", key: (c) => c.out_msgs, desc: true },
];

describe("/connz paging over many connections", () => {
  const N = 1500;
  const CLOSED = 120;
  let m: Monitored;
  const conns: RawConn[] = [];

  before(async () => {
    m = await startMonitored();
    for (let i = 0; i < N; i++) {
      const c = await RawConn.connect(m.port);
      // Different activity per connection, with many ties: i % 7 messages, i % 3 subscriptions.
      let proto = `CONNECT {"verbose":false,"name":"c${i}"}\r\n`;
      for (let s = 0; s < i % 3; s++) proto += `SUB page.${i}.${s} ${s + 1}\r\n`;
      for (let k = 0; k < i % 7; k++) proto += `PUB page.none ${k}\r\n${"x".repeat(k)}\r\n`;
      c.send(proto);
      conns.push(c);
    }
    await waitFor(`${N} connections`, () => m.server.clients.size === N, 60_000);
    await Promise.all(conns.map((c) => c.flush(30_000)));
    for (const c of conns.splice(0, CLOSED)) c.close();
    await waitFor("closed ones gone", () => m.server.clients.size === N - CLOSED, 30_000);
  });
  after(async () => {
    for (const c of conns) c.close();
    await m.stop();
  });

  for (const { sort, key, desc } of SORTS) {
    test(`sort=${sort}: pages of 200 visit every open connection once, in order`, async () => {
      const seen: Json[] = [];
      let total = -1;
      for (let offset = 0; ; offset += 200) {
        const page = await m.json(`/connz?sort=${sort}&limit=200&offset=${offset}`);
        total = page.total;
        assert.equal(page.offset, offset);
        assert.equal(page.limit, 200);
        assert.equal(page.num_connections, page.connections.length);
        if (page.connections.length === 0) break;
        seen.push(...page.connections);
      }
      assert.equal(total, N - CLOSED);
      assert.equal(seen.length, N - CLOSED);
      assert.equal(new Set(seen.map((c) => c.cid)).size, N - CLOSED, "no connection twice");
      for (let i = 1; i < seen.length; i++) {
        const [a, b] = [key(seen[i - 1]!), key(seen[i]!)];
        assert.ok(desc ? a >= b : a <= b, `${sort} order at ${i}: ${a} then ${b}`);
        if (a === b) assert.ok(seen[i - 1]!.cid < seen[i]!.cid, "ties in cid order");
      }
    });
  }

  test("the counters in the pages are what each connection did", async () => {
    const all = await m.json(`/connz?limit=${N}&subs=1`);
    for (const c of all.connections as Json[]) {
      const i = Number(String(c.name).slice(1));
      assert.equal(c.in_msgs, i % 7, c.name);
      let bytes = 0;
      for (let k = 0; k < i % 7; k++) bytes += k;
      assert.equal(c.in_bytes, bytes, c.name);
      assert.equal(c.subscriptions, i % 3, c.name);
      assert.equal((c.subscriptions_list ?? []).length, i % 3, c.name);
    }
    const v = await m.json("/varz");
    assert.equal(v.connections, N - CLOSED);
    assert.equal(v.total_connections, N);
    let msgs = 0;
    for (let i = 0; i < N; i++) msgs += i % 7;
    assert.equal(v.in_msgs, msgs);
  });

  test("a large page is streamed a few hundred records per turn, byte for byte what one piece would be", async () => {
    const ctx = { server: m.server, proc: new ProcessStats(), reqStats: new Map<string, number>() };
    for (const query of [`limit=${N}&subs=detail`, `limit=${N}&state=all&callback=cb`]) {
      const q = new Query(query);
      const p = connzPage(ctx, connzOptions(q));
      assert.ok(p.page.length > 1000);
      const whole = goJson({ ...p.head, connections: p.page.map(p.build) });
      const reply = jsonStream(q, p.head, "connections", p.page, p.build);
      const pieces: string[] = [];
      for (let r = reply.chunks!.next(); !r.done; r = reply.chunks!.next()) pieces.push(r.value);
      assert.ok(pieces.length >= p.page.length / 250, "built in batches");
      const cb = q.get("callback");
      assert.equal(pieces.join(""), cb ? `${cb}(${whole})` : whole);
    }
    // Over HTTP: a valid document with every connection, in cid order.
    const all = await m.json(`/connz?limit=${N}`);
    assert.equal(all.num_connections, N - CLOSED);
    assert.deepEqual(all.connections.map((c: Json) => c.cid), [...all.connections.map((c: Json) => c.cid)].sort((a: number, b: number) => a - b));
  });

  test("state=all pages through open and closed connections together; state=closed has the closed ones", async () => {
    const cids = new Set<number>();
    for (let offset = 0; offset < N + 200; offset += 500) {
      const page = await m.json(`/connz?state=all&limit=500&offset=${offset}`);
      assert.equal(page.total, N);
      for (const c of page.connections as Json[]) cids.add(c.cid);
    }
    assert.equal(cids.size, N);
    const closed = await m.json("/connz?state=closed&sort=stop&limit=1000");
    assert.equal(closed.total, CLOSED);
    assert.ok((closed.connections as Json[]).every((c) => c.reason === "Client Closed" && typeof c.stop === "string"));
    const first = await m.json(`/connz?state=closed&cid=${closed.connections[0].cid}`);
    assert.equal(first.connections.length, 1);
  });
});

describe("the closed-connection ring", () => {
  const cc = (cid: number): ClosedConnection => ({ cid, transport: "tcp", ip: "127.0.0.1", port: 1, start: 0, lastActivity: 0, stop: cid, reason: "Client Closed", name: "", lang: "", version: "", user: undefined, inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0, subs: [], rttMs: 0 });

  test("keeps the most recent `capacity` connections, oldest first", () => {
    const r = new ClosedConnections(5);
    for (let i = 1; i <= 3; i++) r.add(cc(i));
    assert.deepEqual(r.list().map((c) => c.cid), [1, 2, 3]);
    for (let i = 4; i <= 12; i++) r.add(cc(i));
    assert.equal(r.size, 5);
    assert.deepEqual(r.list().map((c) => c.cid), [8, 9, 10, 11, 12]);
  });

  test("the server keeps 10,000, as nats-server's default", async () => {
    const m = await startMonitored();
    try {
      assert.equal(m.server.closedConns.capacity, 10_000);
    } finally {
      await m.stop();
    }
  });
});

describe("slow consumers in the counts", () => {
  test("a subscriber that stops reading is counted in /varz, /metrics and its closed /connz record", async () => {
    const m = await startMonitored({ maxPending: 128 * 1024 });
    try {
      const slow = await RawConn.connect(m.port);
      slow.send('CONNECT {"verbose":false,"name":"stuck"}\r\nSUB flood 1\r\n');
      await slow.flush();
      slow.sock.pause();
      const pub = await RawConn.connect(m.port);
      pub.send('CONNECT {"verbose":false}\r\n');
      const body = "x".repeat(32 * 1024);
      await waitFor(
        "the slow consumer closed",
        () => {
          if (m.server.stats.slowConsumers > 0) return true;
          pub.send(`PUB flood ${body.length}\r\n${body}\r\n`.repeat(8));
          return false;
        },
        20_000,
        20,
      );
      const v = await m.json("/varz");
      assert.equal(v.slow_consumers, 1);
      assert.deepEqual(v.slow_consumer_stats, { clients: 1, routes: 0, gateways: 0, leafs: 0 });
      assert.equal(parseMetrics((await m.get("/metrics")).body).value("gnatsd_varz_slow_consumers"), 1);
      const closed = await m.json("/connz?state=closed");
      const rec = (closed.connections as Json[]).find((c) => c.name === "stuck");
      assert.equal(rec?.reason, "Slow Consumer (Pending Bytes)");
      pub.close();
      slow.close();
    } finally {
      await m.stop();
    }
  });
});
