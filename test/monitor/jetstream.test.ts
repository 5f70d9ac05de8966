// /jsz, /varz, /healthz and /metrics fed by a JetStream extension through the monitor interface
// (server/monitor/jetstream.ts), with counts that come from real published messages.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { startMonitored, type Monitored } from "./helpers.js";
import { FakeJetStream } from "./fake_jetstream.js";
import { parseMetrics } from "./prom.js";

const JS_OPTS = { jetstream: { enabled: true, storeDir: "/tmp/fake-js", maxMemoryStore: -1, maxFileStore: -1, syncInterval: "always" as const } };

describe("JetStream through the monitor interface", () => {
  let m: Monitored;
  let js: FakeJetStream;
  let nc: NatsConnection;
  before(async () => {
    js = new FakeJetStream();
    js.addStream("ORDERS", ["orders.>"], ["proc", "audit"]);
    js.addStream("EMPTY", ["empty.>"]);
    m = await startMonitored(JS_OPTS, [js]);
    nc = await connect({ servers: m.url });
    for (let i = 0; i < 7; i++) nc.publish("orders.new", "order");
    await nc.flush();
    js.ack("ORDERS", "proc", 3);
    js.apiTotal = 12;
    js.apiErrors = 2;
  });
  after(async () => {
    await nc.close();
    await m.stop();
  });

  test("/jsz totals, and streams with consumers on request", async () => {
    const j = await m.json("/jsz");
    assert.equal(j.disabled, undefined);
    assert.equal(j.server_id, m.server.serverId);
    assert.equal(j.streams, 2);
    assert.equal(j.consumers, 2);
    assert.equal(j.messages, 7);
    assert.deepEqual(j.api, { total: 12, errors: 2 });
    assert.equal(j.config.store_dir, "/tmp/fake-js");
    assert.equal(j.account_details, undefined, "accounts only when asked");
    const d = await m.json("/jsz?consumers=true");
    const orders = d.account_details[0].stream_detail.find((s: { name: string }) => s.name === "ORDERS");
    assert.equal(orders.state.messages, 7);
    assert.equal(orders.config, undefined, "config only with config=true");
    const pending = Object.fromEntries(orders.consumer_detail.map((c: { name: string; num_pending: number }) => [c.name, c.num_pending]));
    assert.deepEqual(pending, { proc: 4, audit: 7 });
    const withCfg = await m.json("/jsz?streams=true&config=true");
    assert.deepEqual(withCfg.account_details[0].stream_detail[0].config.subjects, ["orders.>"]);
  });

  test("/varz carries JetStream's config and stats; /accountz says it is enabled", async () => {
    const v = await m.json("/varz");
    assert.equal(v.jetstream.config.store_dir, "/tmp/fake-js");
    assert.deepEqual(v.jetstream.stats.api, { total: 12, errors: 2 });
    const a = await m.json("/accountz?acc=$G");
    assert.equal(a.account_detail.jetstream_enabled, true);
  });

  test("/metrics: the same figures, in families the Prometheus format accepts", async () => {
    const r = await m.get("/metrics");
    assert.equal(r.status, 200);
    assert.equal(r.type, "text/plain; version=0.0.4; charset=utf-8");
    const p = parseMetrics(r.body);
    const v = await m.json("/varz");
    assert.equal(p.value("gnatsd_varz_in_msgs"), v.in_msgs);
    assert.equal(p.value("gnatsd_varz_connections"), 1);
    assert.equal(p.value("gnatsd_varz_subscriptions"), v.subscriptions);
    assert.equal(p.value("gnatsd_varz_slow_consumers"), 0);
    assert.equal(p.value("jetstream_server_jetstream_disabled"), 0);
    assert.equal(p.value("jetstream_server_total_streams"), 2);
    assert.equal(p.value("jetstream_server_total_consumers"), 2);
    assert.equal(p.value("jetstream_server_total_messages"), 7);
    assert.equal(p.value("gnatsd_varz_jetstream_stats_api_errors"), 2);
    assert.equal(p.value("jetstream_stream_total_messages", { stream_name: "ORDERS" }), 7);
    assert.equal(p.value("jetstream_stream_total_messages", { stream_name: "EMPTY" }), 0);
    assert.equal(p.value("jetstream_consumer_num_pending", { stream_name: "ORDERS", consumer_name: "proc" }), 4);
    assert.equal(p.value("jetstream_consumer_num_pending", { stream_name: "ORDERS", consumer_name: "audit" }), 7);
    assert.equal(p.value("gnatsd_varz_in_msgs", { server_id: m.server.serverId }), v.in_msgs);
  });

  test("/healthz follows JetStream's state; a stopped JetStream reads as disabled", async () => {
    assert.equal((await m.get("/healthz")).body, '{"status":"ok"}');
    js.enabled = false;
    try {
      const h = await m.get("/healthz");
      assert.equal(h.status, 503);
      assert.equal(h.body, '{"status":"unavailable","error":"JetStream not enabled"}');
      const j = await m.json("/jsz");
      assert.equal(j.disabled, true);
      const p = parseMetrics((await m.get("/metrics")).body);
      assert.equal(p.value("jetstream_server_jetstream_disabled"), 1);
    } finally {
      js.enabled = true;
    }
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
      assert.equal(p.value("gnatsd_varz_in_bytes"), 8);
      assert.equal(p.value("gnatsd_subsz_num_subscriptions"), 1);
      assert.equal(p.value("jetstream_server_jetstream_disabled"), 1);
      assert.equal(p.has("jetstream_server_total_streams"), false);
      await nc.close();
    } finally {
      await m.stop();
    }
  });
});
