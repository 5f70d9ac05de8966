// Real clients over WebSocket: nats.js's wsconnect for pub/sub, queues, headers, request/reply,
// a TCP and a WebSocket client talking to each other, and JetStream (publish, consume, ack, KV)
// through the ws listener, mixed with TCP clients.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wsconnect, headers, type NatsConnection, type Msg } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { installWebSocketGlobal, startWsServer, type WsTestServer } from "./helpers.js";
import { waitFor } from "../helpers/wait.js";

installWebSocketGlobal();

describe("websocket clients", () => {
  let srv: WsTestServer;
  const conns: NatsConnection[] = [];
  before(async () => {
    srv = await startWsServer();
  });
  after(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
    await srv.stop();
  });
  const ws = async (name: string) => {
    const nc = await wsconnect({ servers: srv.wsUrl, name });
    conns.push(nc);
    return nc;
  };

  test("INFO over websocket is the TCP one and the client is listed as a websocket connection", async () => {
    const nc = await ws("info-check");
    assert.equal(nc.info?.server_id, srv.server.serverId);
    assert.equal(nc.info?.max_payload, srv.server.opts.maxPayload);
    const c = [...srv.server.clients.values()].find((x) => x.connect.name === "info-check");
    assert.ok(c, "client registered");
    assert.equal(c.transport.kind, "websocket");
    assert.equal(c.transport.remoteAddress, "127.0.0.1");
  });

  test("publish and subscribe, wildcards and payload bytes intact", async () => {
    const a = await ws("ws-sub");
    const b = await ws("ws-pub");
    const got: Msg[] = [];
    const sub = a.subscribe("orders.*.created", { callback: (_e, m) => void got.push(m) });
    await a.flush();
    const payloads = [new Uint8Array(0), new Uint8Array([0, 1, 2, 255, 13, 10]), new Uint8Array(200_000).map((_, i) => i & 0xff)];
    for (const [i, p] of payloads.entries()) b.publish(`orders.${i}.created`, p);
    b.publish("orders.x.deleted", "ignored");
    await b.flush();
    await waitFor("3 messages", () => got.length === 3);
    assert.deepEqual(
      got.map((m) => m.subject),
      ["orders.0.created", "orders.1.created", "orders.2.created"],
    );
    for (const [i, m] of got.entries()) assert.deepEqual(Buffer.from(m.data), Buffer.from(payloads[i]!));
    sub.unsubscribe();
  });

  test("queue group members share the messages", async () => {
    const members = [await ws("q1"), await ws("q2")];
    const counts = [0, 0];
    members.forEach((m, i) => m.subscribe("work", { queue: "workers", callback: () => void counts[i]!++ }));
    await Promise.all(members.map((m) => m.flush()));
    const pub = await ws("q-pub");
    for (let i = 0; i < 200; i++) pub.publish("work", String(i));
    await pub.flush();
    await waitFor("200 deliveries", () => counts[0]! + counts[1]! === 200);
    assert.equal(counts[0]! + counts[1]!, 200);
  });

  test("headers and request/reply", async () => {
    const svc = await ws("svc");
    svc.subscribe("svc.echo", {
      callback: (_e, m) => {
        const h = headers();
        h.set("X-Seen", m.headers?.get("X-Trace") ?? "none");
        m.respond(m.data, { headers: h });
      },
    });
    await svc.flush();
    const cli = await ws("cli");
    const h = headers();
    h.set("X-Trace", "abc-123");
    const r = await cli.request("svc.echo", "ping", { timeout: 2000, headers: h });
    assert.equal(r.string(), "ping");
    assert.equal(r.headers?.get("X-Seen"), "abc-123");
  });

  test("no responders over websocket", async () => {
    const cli = await ws("nr");
    await assert.rejects(cli.request("nobody.home", "x", { timeout: 2000 }), (e: Error) => /no responders/i.test(e.message) || e.name === "NoRespondersError");
  });

  test("a TCP client and a WebSocket client talk to each other", async () => {
    const tcp = await connect({ servers: srv.url, name: "tcp-side" });
    conns.push(tcp);
    const wsc = await ws("ws-side");
    // ws -> tcp request/reply, tcp -> ws pub/sub
    tcp.subscribe("mixed.rpc", { callback: (_e, m) => void m.respond(`tcp saw ${m.string()}`) });
    const fromTcp: string[] = [];
    wsc.subscribe("mixed.events", { callback: (_e, m) => void fromTcp.push(m.string()) });
    await Promise.all([tcp.flush(), wsc.flush()]);
    const r = await wsc.request("mixed.rpc", "hello", { timeout: 2000 });
    assert.equal(r.string(), "tcp saw hello");
    for (let i = 0; i < 50; i++) tcp.publish("mixed.events", `e${i}`);
    await tcp.flush();
    await waitFor("50 events over websocket", () => fromTcp.length === 50);
    assert.deepEqual(fromTcp, Array.from({ length: 50 }, (_, i) => `e${i}`));
    const r2 = await tcp.request("mixed.back", "x", { timeout: 2000 }).catch((e: Error) => e);
    assert.ok(r2 instanceof Error, "no ws responder yet, so the TCP request fails");
    wsc.subscribe("mixed.back", { callback: (_e, m) => void m.respond("from ws") });
    await wsc.flush();
    assert.equal((await tcp.request("mixed.back", "x", { timeout: 2000 })).string(), "from ws");
  });

  test("counters count websocket traffic like TCP traffic", async () => {
    const before = { ...srv.server.stats };
    const a = await ws("count-a");
    let n = 0;
    a.subscribe("count.x", { callback: () => void n++ });
    await a.flush();
    const b = await ws("count-b");
    for (let i = 0; i < 10; i++) b.publish("count.x", "12345");
    await b.flush();
    await waitFor("10 messages", () => n === 10);
    assert.equal(srv.server.stats.inMsgs - before.inMsgs, 10);
    assert.equal(srv.server.stats.inBytes - before.inBytes, 50);
    assert.equal(srv.server.stats.outMsgs - before.outMsgs, 10);
    const cb = [...srv.server.clients.values()].find((c) => c.connect.name === "count-b")!;
    assert.equal(cb.inMsgs, 10);
    assert.equal(cb.inBytes, 50);
  });
});

describe("JetStream over websocket", () => {
  let srv: WsTestServer;
  let dir: string;
  let nc: NatsConnection;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tsnats-wsjs-"));
    srv = await startWsServer({ jetstream: { enabled: true, storeDir: dir, maxMemoryStore: -1, maxFileStore: -1, syncInterval: "always" } });
    nc = await wsconnect({ servers: srv.wsUrl, name: "ws-js" });
  });
  after(async () => {
    await nc?.close().catch(() => {});
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("stream create, publish with PubAck, stream info", async () => {
    assert.equal(nc.info?.jetstream, true, "INFO over websocket advertises JetStream");
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "WSORDERS", subjects: ["wsorders.>"] });
    const js = jetstream(nc);
    for (let i = 1; i <= 5; i++) {
      const ack = await js.publish("wsorders.new", `order ${i}`);
      assert.equal(ack.stream, "WSORDERS");
      assert.equal(ack.seq, i);
    }
    const si = await jsm.streams.info("WSORDERS");
    assert.equal(si.state.messages, 5);
    const m = await jsm.streams.getMessage("WSORDERS", { seq: 3 });
    assert.equal(m?.string(), "order 3");
  });

  test("a durable pull consumer over websocket: consume, ack, and the ack floor moves", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "WSWORK", subjects: ["wswork.>"] });
    await jsm.consumers.add("WSWORK", { durable_name: "worker", ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    for (let i = 1; i <= 20; i++) await js.publish(`wswork.${i % 3}`, `job ${i}`);
    const c = await js.consumers.get("WSWORK", "worker");
    const got: string[] = [];
    const it = await c.consume({ max_messages: 7 });
    for await (const msg of it) {
      got.push(msg.string());
      assert.equal(msg.info.stream, "WSWORK");
      assert.equal(msg.seq, got.length);
      await msg.ackAck();
      if (got.length === 20) break;
    }
    await it.close();
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `job ${i + 1}`));
    const info = await jsm.consumers.info("WSWORK", "worker");
    assert.equal(info.num_pending, 0);
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.ack_floor.stream_seq, 20);
  });

  test("a large pull batch over websocket arrives whole and in order (it leaves in several writes)", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "WSBATCH", subjects: ["wsbatch"] });
    await jsm.consumers.add("WSBATCH", { durable_name: "big", ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    const n = 500;
    const body = (i: number) => `${i}:${"x".repeat(60)}`;
    await Promise.all(Array.from({ length: n }, (_, i) => js.publish("wsbatch", body(i + 1))));
    const c = await js.consumers.get("WSBATCH", "big");
    // One pull request for all of them: about 60 KB, far past the first early write.
    const it = await c.fetch({ max_messages: n, expires: 10_000 });
    const got: [number, string][] = [];
    for await (const msg of it) {
      got.push([msg.seq, msg.string()]);
      msg.ack();
    }
    assert.deepEqual(got, Array.from({ length: n }, (_, i) => [i + 1, body(i + 1)]));
    await nc.flush();
    const info = await jsm.consumers.info("WSBATCH", "big");
    assert.equal(info.num_pending, 0);
    assert.equal(info.delivered.stream_seq, n);
  });

  test("a TCP publisher's JetStream messages reach a websocket consumer (and the reverse)", async () => {
    const tcp = await connect({ servers: srv.url, name: "tcp-js" });
    try {
      const jsm = await jetstreamManager(tcp);
      await jsm.streams.add({ name: "MIXED", subjects: ["mixed.js.>"] });
      await jetstream(tcp).publish("mixed.js.from-tcp", "t");
      await jetstream(nc).publish("mixed.js.from-ws", "w");
      const wsSide = await jetstream(nc).consumers.get("MIXED");
      const a = await wsSide.next({ expires: 5000 });
      const b = await wsSide.next({ expires: 5000 });
      assert.deepEqual([a?.subject, b?.subject], ["mixed.js.from-tcp", "mixed.js.from-ws"]);
      const tcpSide = await jetstream(tcp).consumers.get("MIXED");
      assert.equal((await tcpSide.next({ expires: 5000 }))?.string(), "t");
    } finally {
      await tcp.close();
    }
  });

  test("key-value over websocket, with a watcher", async () => {
    const kv = await new Kvm(nc).create("wsconfig");
    const seen: string[] = [];
    const w = await kv.watch({ key: "feature.>" });
    const watching = (async () => {
      for await (const e of w) {
        seen.push(`${e.key}=${e.string()}`);
        if (seen.length === 2) break;
      }
    })();
    await kv.put("feature.dark", "on");
    await kv.put("feature.dark", "off");
    await watching;
    assert.deepEqual(seen, ["feature.dark=on", "feature.dark=off"]);
    assert.equal((await kv.get("feature.dark"))?.string(), "off");
  });
});
