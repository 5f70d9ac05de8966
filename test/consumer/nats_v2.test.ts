// The legacy `nats` v2 client's JetStream API against tsnats: pull subscriptions with pull() and
// fetch(), push subscriptions (durable, queue, ordered), js.fetch, and the newer consumers() API.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { AckPolicy, connect, consumerOpts, type JsMsg } from "nats";
import { jsFixture } from "../jetstream/helpers.js";
import { waitFor, within } from "../helpers/wait.js";

describe("nats v2 JetStream API", () => {
  const fx = jsFixture(
    async (s) => {
      const nc = await connect({ servers: s.url });
      return { nc, js: nc.jetstream({ timeout: 10_000 }), jsm: await nc.jetstreamManager({ timeout: 10_000 }) };
    },
    (c) => c.nc.close(),
  );

  async function fill(subject: string, n: number): Promise<void> {
    const acks = [];
    for (let i = 1; i <= n; i++) acks.push(fx.js.publish(subject, `m${i}`));
    await Promise.all(acks);
  }

  test("pull subscription: pull() and batches", async () => {
    await fx.jsm.streams.add({ name: "PS", subjects: ["ps.>"] });
    await fill("ps.a", 25);
    const opts = consumerOpts().durable("ps").ackExplicit().manualAck();
    const sub = await fx.js.pullSubscribe("ps.a", opts);
    const seen: number[] = [];
    const done = (async () => {
      for await (const m of sub) {
        seen.push(m.seq);
        m.ack();
        if (seen.length === 25) break;
      }
    })();
    sub.pull({ batch: 10, expires: 2000 });
    await waitFor("first batch", () => seen.length === 10, 10_000);
    sub.pull({ batch: 10, expires: 2000 });
    await waitFor("second batch", () => seen.length === 20, 10_000);
    sub.pull({ batch: 10, expires: 2000 });
    await within(10_000, done, "pull subscription");
    assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => i + 1));
    const ci = await fx.jsm.consumers.info("PS", "ps");
    assert.equal(ci.config.filter_subject, "ps.a");
    await waitFor("acks", async () => (await fx.jsm.consumers.info("PS", "ps")).num_ack_pending === 0, 10_000);
    assert.deepEqual((await fx.jsm.consumers.info("PS", "ps")).ack_floor, { consumer_seq: 25, stream_seq: 25, last_active: (await fx.jsm.consumers.info("PS", "ps")).ack_floor.last_active });
  });

  test("js.fetch with no_wait and with expires", async () => {
    await fx.jsm.streams.add({ name: "JF", subjects: ["jf"] });
    await fill("jf", 7);
    await fx.jsm.consumers.add("JF", { durable_name: "d", ack_policy: AckPolicy.Explicit });
    const got: JsMsg[] = [];
    for await (const m of fx.js.fetch("JF", "d", { batch: 5, no_wait: true })) got.push(m);
    assert.deepEqual(got.map((m) => m.seq), [1, 2, 3, 4, 5]);
    for (const m of got) m.ack();
    const rest: number[] = [];
    for await (const m of fx.js.fetch("JF", "d", { batch: 5, expires: 1000 })) {
      rest.push(m.seq);
      await m.ackAck();
    }
    assert.deepEqual(rest, [6, 7]);
    const empty: number[] = [];
    for await (const m of fx.js.fetch("JF", "d", { batch: 5, no_wait: true })) empty.push(m.seq);
    assert.deepEqual(empty, [], "404 No Messages ends the fetch at once");
    await waitFor("acks", async () => (await fx.jsm.consumers.info("JF", "d")).num_ack_pending === 0, 10_000);
  });

  test("push subscription: durable with explicit acks, then resubscribe continues", async () => {
    await fx.jsm.streams.add({ name: "PU", subjects: ["pu"] });
    await fill("pu", 6);
    const opts = consumerOpts().durable("pd").ackExplicit().manualAck().deliverTo("pu.deliver").deliverAll();
    let sub = await fx.js.subscribe("pu", opts);
    const seen: number[] = [];
    await within(
      10_000,
      (async () => {
        for await (const m of sub) {
          seen.push(m.seq);
          await m.ackAck();
          if (seen.length === 6) break;
        }
      })(),
      "first subscription",
    );
    await waitFor("unbound", async () => (await fx.jsm.consumers.info("PU", "pd")).push_bound !== true, 10_000);
    // Stored while nobody listens: delivered once the consumer is bound again.
    await fill("pu", 4);
    sub = await fx.js.subscribe("pu", consumerOpts().bind("PU", "pd").manualAck());
    await within(
      10_000,
      (async () => {
        for await (const m of sub) {
          seen.push(m.seq);
          m.ack();
          if (seen.length === 10) break;
        }
      })(),
      "second subscription",
    );
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "acked messages are not delivered again");
  });

  test("queue push subscription shares the messages", async () => {
    await fx.jsm.streams.add({ name: "QU", subjects: ["qu"] });
    const mk = () => consumerOpts().durable("qd").ackExplicit().deliverTo("qu.deliver").queue("grp").callback((err, m) => {
      if (err === null && m !== null) {
        seen.push(m.seq);
        m.ack();
      }
    });
    const seen: number[] = [];
    const a = await fx.js.subscribe("qu", mk());
    const b = await fx.js.subscribe("qu", mk());
    await fill("qu", 100);
    await waitFor("100 messages", () => seen.length >= 100, 10_000);
    assert.deepEqual([...seen].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i + 1));
    const ci = await fx.jsm.consumers.info("QU", "qd");
    assert.equal(ci.config.deliver_group, "grp");
    a.unsubscribe();
    b.unsubscribe();
  });

  test("ordered push subscription", async () => {
    await fx.jsm.streams.add({ name: "OR", subjects: ["or.*"] });
    await fill("or.a", 40);
    await fill("or.b", 10);
    const sub = await fx.js.subscribe("or.a", consumerOpts().orderedConsumer());
    const seen: number[] = [];
    await within(
      10_000,
      (async () => {
        for await (const m of sub) {
          seen.push(m.seq);
          if (seen.length === 40) break;
        }
      })(),
      "ordered subscription",
    );
    assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => i + 1));
  });

  test("consumers() API: get, fetch, consume", async () => {
    await fx.jsm.streams.add({ name: "CA", subjects: ["ca"] });
    await fill("ca", 12);
    await fx.jsm.consumers.add("CA", { durable_name: "d", ack_policy: AckPolicy.Explicit });
    const c = await fx.js.consumers.get("CA", "d");
    const first: number[] = [];
    for await (const m of await c.fetch({ max_messages: 5, expires: 2000 })) {
      first.push(m.seq);
      m.ack();
    }
    assert.deepEqual(first, [1, 2, 3, 4, 5]);
    const rest: number[] = [];
    const it = await c.consume({ max_messages: 4 });
    for await (const m of it) {
      rest.push(m.seq);
      m.ack();
      if (rest.length === 7) break;
    }
    assert.deepEqual(rest, [6, 7, 8, 9, 10, 11, 12]);
    const n = await c.next({ expires: 1000 });
    assert.equal(n, null);
    const list = await fx.jsm.consumers.list("CA").next();
    assert.deepEqual(list.map((x) => x.name), ["d"]);
  });
});
