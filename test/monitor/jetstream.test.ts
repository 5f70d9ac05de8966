// /jsz, /varz, /healthz and /metrics with the real JetStream: a client creates streams and
// consumers, publishes, consumes and acks, and makes API requests that fail; every figure the
// endpoints report is checked against what the test did.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { AckPolicy, StorageType, jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { jsOptions, startMonitored, type Monitored } from "./helpers.js";
import { parseMetrics } from "./prom.js";
import type { ServerExtension } from "../../server/server.js";

type Json = Record<string, any>;


describe("JetStream on the monitoring endpoints", () => {
  let m: Monitored;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let dir: string;
  const PUBLISHED = 7;
  const ACKED = 3;
  const DELIVERED = 5;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tsnats-monjs-"));
    m = await startMonitored(jsOptions(dir));
    nc = await connect({ servers: m.url, name: "js-client" });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
    await jsm.streams.add({ name: "EMPTY", subjects: ["empty.>"], storage: StorageType.Memory });
    await jsm.consumers.add("ORDERS", { durable_name: "proc", ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add("ORDERS", { durable_name: "audit", ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    for (let i = 0; i < PUBLISHED; i++) await js.publish(i % 2 ? "orders.new" : "orders.paid", `order ${i}`);
    // "proc" takes 5 and acks 3 of them: 2 left awaiting an ack, 2 never delivered.
    const proc = await js.consumers.get("ORDERS", "proc");
    const batch = await proc.fetch({ max_messages: DELIVERED, expires: 5000 });
    let n = 0;
    for await (const msg of batch) {
      if (n++ < ACKED) await msg.ackAck();
      if (n === DELIVERED) break;
    }
  });
  after(async () => {
    await nc?.close();
    await m?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("/jsz totals match the streams the client made and what it stored", async () => {
    const orders = await jsm.streams.info("ORDERS");
    const j = await m.json("/jsz");
    assert.equal(j.disabled, undefined);
    assert.equal(j.server_id, m.server.serverId);
    assert.equal(j.streams, 2);
    assert.equal(j.consumers, 2);
    assert.equal(j.messages, PUBLISHED);
    assert.equal(orders.state.messages, PUBLISHED);
    assert.equal(j.bytes, orders.state.bytes);
    assert.ok(j.bytes > PUBLISHED * "order 0".length, "stored bytes include subjects and overhead");
    assert.equal(j.storage, orders.state.bytes, "file storage in use is ORDERS");
    assert.equal(j.memory, 0, "the memory stream is empty");
    assert.equal(j.accounts, 1);
    assert.deepEqual(j.config, { max_memory: 64 * 1024 * 1024, max_storage: 1024 * 1024 * 1024, store_dir: join(dir, "jetstream"), sync_always: true });
    assert.equal(j.account_details, undefined, "accounts only when asked");
  });

  test("/jsz?consumers=true: each consumer's pending, ack pending and floors", async () => {
    const d = await m.json("/jsz?consumers=true");
    assert.equal(d.account_details.length, 1);
    const acc = d.account_details[0];
    assert.equal(acc.name, "$G");
    assert.deepEqual(
      acc.stream_detail.map((s: Json) => s.name),
      ["EMPTY", "ORDERS"],
    );
    const orders = acc.stream_detail.find((s: Json) => s.name === "ORDERS");
    assert.equal(orders.state.messages, PUBLISHED);
    assert.equal(orders.state.first_seq, 1);
    assert.equal(orders.state.last_seq, PUBLISHED);
    assert.equal(orders.state.num_subjects, 2);
    assert.equal(orders.state.consumer_count, 2);
    assert.equal(orders.config, undefined, "config only with config=true");
    assert.equal(orders.cluster.leader, m.server.name);
    const byName = Object.fromEntries(orders.consumer_detail.map((c: Json) => [c.name, c]));
    assert.equal(byName.proc.num_pending, PUBLISHED - DELIVERED);
    assert.equal(byName.proc.num_ack_pending, DELIVERED - ACKED);
    assert.equal(byName.proc.delivered.stream_seq, DELIVERED);
    assert.equal(byName.proc.ack_floor.stream_seq, ACKED);
    assert.equal(byName.proc.config, undefined);
    assert.equal(byName.audit.num_pending, PUBLISHED);
    assert.equal(byName.audit.num_ack_pending, 0);
    const info = await jsm.consumers.info("ORDERS", "proc");
    assert.equal(byName.proc.num_pending, info.num_pending, "the same figure the consumer API gives");
    const empty = acc.stream_detail.find((s: Json) => s.name === "EMPTY");
    assert.equal(empty.consumer_detail, undefined, "no consumers, no list");
  });

  test("/jsz options: streams without consumers, config, acc, offset past the accounts", async () => {
    const s = await m.json("/jsz?streams=true");
    assert.equal(s.account_details[0].stream_detail[0].consumer_detail, undefined);
    const c = await m.json("/jsz?streams=true&config=true");
    const orders = c.account_details[0].stream_detail.find((x: Json) => x.name === "ORDERS");
    assert.deepEqual(orders.config.subjects, ["orders.>"]);
    assert.deepEqual(Object.keys(orders), ["name", "created", "cluster", "config", "state"]);
    const a = await m.json("/jsz?accounts=true");
    assert.equal(a.account_details[0].stream_detail, undefined);
    assert.equal(a.account_details[0].storage, a.storage);
    const acc = await m.json("/jsz?acc=$G");
    assert.equal(acc.account_details.length, 1, "acc selects the account without accounts=true");
    const past = await m.json("/jsz?accounts=true&offset=1");
    assert.equal(past.account_details, undefined);
    const bad = await m.get("/jsz?consumers=maybe");
    assert.equal(bad.status, 400);
    assert.equal(bad.body, `Error decoding boolean for 'consumers': strconv.ParseBool: parsing "maybe": invalid syntax`);
  });

  test("API requests and API errors are counted one by one", async () => {
    const before = (await m.json("/jsz")).api;
    await jsm.streams.info("ORDERS");
    await assert.rejects(jsm.streams.info("MISSING"));
    await assert.rejects(jsm.consumers.info("ORDERS", "missing"));
    await jsm.consumers.info("ORDERS", "proc");
    const after = (await m.json("/jsz")).api;
    assert.equal(after.total - before.total, 4);
    assert.equal(after.errors - before.errors, 2);
    const v = await m.json("/varz");
    assert.deepEqual(v.jetstream.stats.api, after);
    const p = parseMetrics((await m.get("/metrics")).body);
    assert.equal(p.value("gnatsd_varz_jetstream_stats_api_errors"), after.errors);
    assert.equal(p.value("gnatsd_varz_jetstream_stats_api_total"), after.total);
  });

  test("/varz jetstream and /accountz agree with /jsz", async () => {
    const [v, j] = [await m.json("/varz"), await m.json("/jsz")];
    assert.deepEqual(v.jetstream.config, j.config);
    assert.equal(v.jetstream.stats.storage, j.storage);
    assert.equal(v.jetstream.stats.accounts, 1);
    const a = await m.json("/accountz?acc=$G");
    assert.equal(a.account_detail.jetstream_enabled, true);
  });

  test("/metrics: the JetStream figures per server, stream and consumer", async () => {
    const r = await m.get("/metrics");
    assert.equal(r.status, 200);
    assert.equal(r.type, "text/plain; version=0.0.4; charset=utf-8");
    const p = parseMetrics(r.body);
    const j = await m.json("/jsz");
    assert.equal(p.value("jetstream_server_jetstream_disabled"), 0);
    assert.equal(p.value("jetstream_server_total_streams"), 2);
    assert.equal(p.value("jetstream_server_total_consumers"), 2);
    assert.equal(p.value("jetstream_server_total_messages"), PUBLISHED);
    assert.equal(p.value("jetstream_server_total_message_bytes"), j.bytes);
    assert.equal(p.value("gnatsd_varz_jetstream_stats_storage"), j.storage);
    assert.equal(p.value("jetstream_stream_total_messages", { stream_name: "ORDERS" }), PUBLISHED);
    assert.equal(p.value("jetstream_stream_total_bytes", { stream_name: "ORDERS" }), j.bytes);
    assert.equal(p.value("jetstream_stream_total_messages", { stream_name: "EMPTY" }), 0);
    assert.equal(p.value("jetstream_stream_consumer_count", { stream_name: "ORDERS" }), 2);
    assert.equal(p.value("jetstream_consumer_num_pending", { stream_name: "ORDERS", consumer_name: "proc" }), PUBLISHED - DELIVERED);
    assert.equal(p.value("jetstream_consumer_num_ack_pending", { stream_name: "ORDERS", consumer_name: "proc" }), DELIVERED - ACKED);
    assert.equal(p.value("jetstream_consumer_ack_floor_stream_seq", { stream_name: "ORDERS", consumer_name: "proc" }), ACKED);
    assert.equal(p.value("jetstream_consumer_num_pending", { stream_name: "ORDERS", consumer_name: "audit" }), PUBLISHED);
    const v = await m.json("/varz");
    assert.equal(p.value("gnatsd_varz_in_msgs", { server_id: m.server.serverId }), v.in_msgs);
  });

  test("/healthz: ok with JetStream running; unavailable (503) once it stops", async () => {
    assert.equal((await m.get("/healthz")).body, '{"status":"ok"}');
    assert.equal((await m.get("/healthz?js-enabled-only=true")).body, '{"status":"ok"}');
    const view = m.server.extension<ServerExtension>("jetstream-monitor")!;
    await view.shutdown();
    try {
      for (const q of ["", "?js-enabled-only=true"]) {
        const h = await m.get(`/healthz${q}`);
        assert.equal(h.status, 503, q);
        assert.equal(h.body, '{"status":"unavailable","error":"JetStream not enabled"}');
      }
      const j = await m.json("/jsz");
      assert.equal(j.disabled, true);
      assert.equal(parseMetrics((await m.get("/metrics")).body).value("jetstream_server_jetstream_disabled"), 1);
    } finally {
      await view.start(m.server);
    }
    assert.equal((await m.get("/healthz")).status, 200);
  });
});

describe("/metrics without JetStream", () => {
  test("core figures match /varz and the JetStream series say disabled", async () => {
    const m = await startMonitored();
    try {
      const nc = await connect({ servers: m.url });
      nc.subscribe("m.x");
      nc.publish("m.x", "12345678");
      await nc.flush();
      const p = parseMetrics((await m.get("/metrics")).body);
      const v = await m.json("/varz");
      for (const k of ["in_msgs", "out_msgs", "in_bytes", "out_bytes", "connections", "total_connections", "subscriptions", "slow_consumers"]) {
        assert.equal(p.value(`gnatsd_varz_${k}`), v[k], k);
      }
      assert.equal(p.value("gnatsd_varz_in_msgs"), 1);
      assert.equal(p.value("gnatsd_varz_out_msgs"), 1);
      assert.equal(p.value("gnatsd_varz_in_bytes"), 8);
      assert.equal(p.value("gnatsd_varz_out_bytes"), 8);
      assert.equal(p.value("gnatsd_varz_subscriptions"), 1);
      assert.equal(p.value("gnatsd_subsz_num_subscriptions"), 1);
      assert.equal(p.value("jetstream_server_jetstream_disabled"), 1);
      assert.equal(p.has("jetstream_server_total_streams"), false);
      await nc.close();
    } finally {
      await m.stop();
    }
  });
});
