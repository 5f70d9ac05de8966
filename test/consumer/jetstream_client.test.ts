// @nats-io/jetstream 3.4.0 against tsnats: pull consumers (fetch, next, consume), ordered
// consumers, push consumers with callbacks and queue groups, and consumer management through jsm.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { AckPolicy, DeliverPolicy, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { onBoth } from "./both.js";
import { counts, fill, jsEnvFixture } from "./helpers.js";
import { waitFor, within } from "../helpers/wait.js";

describe("@nats-io/jetstream pull consumers", () => {
  const e = jsEnvFixture();

  test("fetch: a batch, exact info, acks move the floor", async () => {
    await e.jsm.streams.add({ name: "F", subjects: ["f.>"] });
    await fill(e.js, (i) => `f.${i % 2 ? "odd" : "even"}`, 10);
    await e.jsm.consumers.add("F", { durable_name: "d", ack_policy: AckPolicy.Explicit });
    const c = await e.js.consumers.get("F", "d");
    const iter = await c.fetch({ max_messages: 4, expires: 2000 });
    const got: JsMsg[] = [];
    for await (const m of iter) got.push(m);
    assert.deepEqual(got.map((m) => m.seq), [1, 2, 3, 4]);
    assert.deepEqual(got.map((m) => m.string()), ["m1", "m2", "m3", "m4"]);
    assert.deepEqual(got.map((m) => m.info.pending), [9, 8, 7, 6], "the pending token counts down");
    assert.deepEqual(got.map((m) => m.subject), ["f.odd", "f.even", "f.odd", "f.even"]);
    let ci = await c.info();
    assert.deepEqual(counts(ci), { delivered: [4, 4], ack_floor: [0, 0], num_ack_pending: 4, num_redelivered: 0, num_waiting: 0, num_pending: 6 });
    // Ack 1, 2 and 4: the floor stops below 3.
    for (const i of [0, 1, 3]) assert.equal(await got[i]!.ackAck(), true);
    ci = await c.info();
    assert.deepEqual(counts(ci), { delivered: [4, 4], ack_floor: [2, 2], num_ack_pending: 1, num_redelivered: 0, num_waiting: 0, num_pending: 6 });
    assert.equal(await got[2]!.ackAck(), true);
    ci = await c.info();
    assert.deepEqual(counts(ci), { delivered: [4, 4], ack_floor: [4, 4], num_ack_pending: 0, num_redelivered: 0, num_waiting: 0, num_pending: 6 });
  });

  test("fetch ends on the 408 with pending headers when fewer messages exist", async () => {
    await e.jsm.streams.add({ name: "F2", subjects: ["f2"] });
    await fill(e.js, "f2", 3);
    await e.jsm.consumers.add("F2", { durable_name: "d", ack_policy: AckPolicy.None });
    const c = await e.js.consumers.get("F2", "d");
    const t0 = Date.now();
    const iter = await c.fetch({ max_messages: 10, expires: 1000 });
    const got: number[] = [];
    for await (const m of iter) got.push(m.seq);
    assert.deepEqual(got, [1, 2, 3]);
    // Without the 408 (or without its pending headers) fetch only ends after two missed heartbeats.
    assert.ok(Date.now() - t0 < 10_000);
    const ci = await c.info();
    assert.deepEqual(counts(ci), { delivered: [3, 3], ack_floor: [3, 3], num_ack_pending: 0, num_redelivered: 0, num_waiting: 0, num_pending: 0 });
  });

  test("fetch with max_bytes: what fits, then the 409 ends the fetch", async () => {
    await e.jsm.streams.add({ name: "FB", subjects: ["fb"] });
    await fill(e.js, "fb", 5, () => "x".repeat(100));
    await e.jsm.consumers.add("FB", { durable_name: "d", ack_policy: AckPolicy.None });
    const c = await e.js.consumers.get("FB", "d");
    const iter = await c.fetch({ max_bytes: 450, expires: 2000 });
    const got: JsMsg[] = [];
    // A delivery costs subject + ack reply + payload: 2 + 40 + 100 bytes, so three fit in 450 and
    // the fourth gets "409 Message Size Exceeds MaxBytes", which fetch reports as an error.
    await assert.rejects(
      (async () => {
        for await (const m of iter) got.push(m);
      })(),
      /message size exceeds maxbytes/,
    );
    assert.deepEqual(got.map((m) => m.seq), [1, 2, 3]);
    const ci = await c.info();
    assert.deepEqual(counts(ci), { delivered: [3, 3], ack_floor: [3, 3], num_ack_pending: 0, num_redelivered: 0, num_waiting: 0, num_pending: 2 });
  });

  test("next: one message at a time, null when none arrives before expires", async () => {
    await e.jsm.streams.add({ name: "N", subjects: ["n"] });
    await fill(e.js, "n", 2);
    await e.jsm.consumers.add("N", { durable_name: "d", ack_policy: AckPolicy.Explicit });
    const c = await e.js.consumers.get("N", "d");
    const a = await c.next({ expires: 2000 });
    assert.equal(a?.seq, 1);
    a!.ack();
    const b = await c.next({ expires: 2000 });
    assert.equal(b?.seq, 2);
    await b!.ackAck();
    assert.equal(await c.next({ expires: 1000 }), null);
    const ci = await c.info();
    assert.deepEqual(counts(ci), { delivered: [2, 2], ack_floor: [2, 2], num_ack_pending: 0, num_redelivered: 0, num_waiting: 0, num_pending: 0 });
  });

  test("consume: live messages keep flowing, and stop() ends the iterator", async () => {
    await e.jsm.streams.add({ name: "C", subjects: ["c.>"] });
    await fill(e.js, "c.a", 50);
    await e.jsm.consumers.add("C", { durable_name: "d", ack_policy: AckPolicy.Explicit });
    const c = await e.js.consumers.get("C", "d");
    const iter = await c.consume({ max_messages: 20, expires: 2000 });
    const seen: number[] = [];
    const done = (async () => {
      for await (const m of iter) {
        seen.push(m.seq);
        m.ack();
        if (seen.length === 120) iter.stop();
      }
    })();
    await waitFor("the stored 50", () => seen.length >= 50, 10_000);
    await fill(e.js, "c.b", 70);
    await within(20_000, done, "consume");
    assert.deepEqual(seen, Array.from({ length: 120 }, (_, i) => i + 1));
    await waitFor("acks applied", async () => (await c.info()).num_ack_pending === 0, 10_000);
    const ci = await c.info();
    assert.deepEqual(counts(ci).ack_floor, [120, 120]);
    assert.equal(ci.num_pending, 0);
  });

  test("consume with a callback, several pullers share one durable without duplicates", async () => {
    await e.jsm.streams.add({ name: "CB", subjects: ["cb"] });
    await e.jsm.consumers.add("CB", { durable_name: "d", ack_policy: AckPolicy.Explicit });
    const c1 = await e.js.consumers.get("CB", "d");
    const c2 = await e.js.consumers.get("CB", "d");
    const seen = new Map<number, number>();
    const onMsg = (m: JsMsg) => {
      seen.set(m.seq, (seen.get(m.seq) ?? 0) + 1);
      m.ack();
    };
    const i1 = await c1.consume({ callback: onMsg, max_messages: 10, expires: 2000 });
    const i2 = await c2.consume({ callback: onMsg, max_messages: 10, expires: 2000 });
    await fill(e.js, "cb", 200);
    await waitFor("200 messages", () => seen.size === 200, 20_000);
    i1.stop();
    i2.stop();
    assert.ok([...seen.values()].every((n) => n === 1), "each message delivered once");
    await waitFor("all acked", async () => (await c1.info()).num_ack_pending === 0, 10_000);
  });

  test("nak with a delay and a plain nak: redelivered with the delivery count", async () => {
    await e.jsm.streams.add({ name: "NK", subjects: ["nk"] });
    await fill(e.js, "nk", 2);
    await e.jsm.consumers.add("NK", { durable_name: "d", ack_policy: AckPolicy.Explicit });
    const c = await e.js.consumers.get("NK", "d");
    const m1 = await c.next({ expires: 2000 });
    assert.equal(m1?.info.deliveryCount, 1);
    m1!.nak();
    const r1 = await c.next({ expires: 2000 });
    assert.equal(r1?.seq, 1, "a plain nak is redelivered before new messages");
    assert.equal(r1!.info.deliveryCount, 2);
    assert.equal(r1!.redelivered, true);
    r1!.nak(1500);
    const m2 = await c.next({ expires: 2000 });
    assert.equal(m2?.seq, 2, "a delayed nak lets the next message go first");
    await m2!.ackAck();
    const r2 = await c.next({ expires: 5000 });
    assert.equal(r2?.seq, 1);
    assert.equal(r2!.info.deliveryCount, 3);
    await r2!.ackAck();
    const ci = await c.info();
    // Four deliveries (1, 1 again, 2, 1 a third time), all acknowledged.
    assert.deepEqual(counts(ci), { delivered: [4, 2], ack_floor: [4, 2], num_ack_pending: 0, num_redelivered: 0, num_waiting: 0, num_pending: 0 });
  });

  test("term and working: term stops redelivery, working keeps the message", async () => {
    await e.jsm.streams.add({ name: "TW", subjects: ["tw"] });
    await fill(e.js, "tw", 2);
    await e.jsm.consumers.add("TW", { durable_name: "d", ack_policy: AckPolicy.Explicit, ack_wait: 1_000_000_000 });
    const c = await e.js.consumers.get("TW", "d");
    const a = await c.next({ expires: 2000 });
    const b = await c.next({ expires: 2000 });
    assert.deepEqual([a?.seq, b?.seq], [1, 2]);
    a!.term();
    // Keep b alive past two ack waits.
    for (let i = 0; i < 5; i++) {
      b!.working();
      await new Promise((r) => setTimeout(r, 400));
    }
    let ci = await c.info();
    assert.equal(ci.num_redelivered, 0, "+WPI reset the ack timer each time");
    assert.equal(ci.num_ack_pending, 1);
    await b!.ackAck();
    ci = await c.info();
    assert.deepEqual(counts(ci), { delivered: [2, 2], ack_floor: [2, 2], num_ack_pending: 0, num_redelivered: 0, num_waiting: 0, num_pending: 0 });
    assert.equal(await c.next({ expires: 1500 }), null, "terminated message not redelivered");
  });
});

describe("@nats-io/jetstream ordered consumers", () => {
  const e = jsEnvFixture();

  test("ordered pull consumer reads everything in order, then live messages", async () => {
    await e.jsm.streams.add({ name: "O", subjects: ["o.>"] });
    await fill(e.js, (i) => `o.${i % 3}`, 300);
    const c = await e.js.consumers.get("O", { filter_subjects: "o.1" });
    const iter = await c.consume({ max_messages: 50 });
    const seen: number[] = [];
    const done = (async () => {
      for await (const m of iter) {
        seen.push(m.seq);
        if (m.seq === 302) break;
      }
    })();
    await waitFor("the stored o.1 messages", () => seen.length === 100, 10_000);
    await e.js.publish("o.2", "no");
    await e.js.publish("o.1", "yes");
    await within(10_000, done, "ordered consume");
    // o.1 holds 1, 4, ..., 298; the live o.2 message is 301 and the live o.1 message 302.
    const expect = Array.from({ length: 100 }, (_, i) => 3 * i + 1);
    expect.push(302);
    assert.deepEqual(seen, expect);
  });

  test("ordered consumer fetch from a start sequence", async () => {
    await e.jsm.streams.add({ name: "O2", subjects: ["o2"] });
    await fill(e.js, "o2", 20);
    const c = await e.js.consumers.get("O2", { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 15 });
    const iter = await c.fetch({ max_messages: 100, expires: 1000 });
    const seen: number[] = [];
    for await (const m of iter) seen.push(m.seq);
    assert.deepEqual(seen, [15, 16, 17, 18, 19, 20]);
  });

  test("ordered push consumer", async () => {
    await e.jsm.streams.add({ name: "OP", subjects: ["op"] });
    await fill(e.js, "op", 30);
    const c = await e.js.consumers.getPushConsumer("OP");
    const seen: number[] = [];
    const iter = await c.consume({ callback: (m) => void seen.push(m.seq) });
    await waitFor("30 messages", () => seen.length === 30, 10_000);
    await fill(e.js, "op", 5);
    await waitFor("35 messages", () => seen.length === 35, 10_000);
    await iter.close();
    assert.deepEqual(seen, Array.from({ length: 35 }, (_, i) => i + 1));
  });
});

describe("@nats-io/jetstream push consumers", () => {
  const e = jsEnvFixture();

  test("push consumer with a callback and explicit acks", async () => {
    await e.jsm.streams.add({ name: "P", subjects: ["p"] });
    await fill(e.js, "p", 20);
    await e.jsm.consumers.add("P", { durable_name: "d", ack_policy: AckPolicy.Explicit, deliver_subject: "deliver.p", idle_heartbeat: 1_000_000_000, flow_control: true });
    const c = await e.js.consumers.getPushConsumer("P", "d");
    const seen: number[] = [];
    const iter = await c.consume({
      callback: (m) => {
        seen.push(m.seq);
        m.ack();
      },
    });
    await waitFor("20 messages", () => seen.length === 20, 10_000);
    let ci = await e.jsm.consumers.info("P", "d");
    assert.equal(ci.push_bound, true);
    await fill(e.js, "p", 10);
    await waitFor("30 messages", () => seen.length === 30, 10_000);
    await waitFor("acks", async () => (await e.jsm.consumers.info("P", "d")).num_ack_pending === 0, 10_000);
    ci = await e.jsm.consumers.info("P", "d");
    assert.deepEqual(counts(ci), { delivered: [30, 30], ack_floor: [30, 30], num_ack_pending: 0, num_redelivered: 0, num_waiting: 0, num_pending: 0 });
    await iter.close();
    await waitFor("unbound", async () => (await e.jsm.consumers.info("P", "d")).push_bound !== true, 10_000);
    assert.deepEqual(seen, Array.from({ length: 30 }, (_, i) => i + 1));
  });

  test("push consumer with a queue group: members share, nothing twice", async () => {
    await e.jsm.streams.add({ name: "Q", subjects: ["q"] });
    await e.jsm.consumers.add("Q", { durable_name: "d", ack_policy: AckPolicy.Explicit, deliver_subject: "deliver.q", deliver_group: "workers" });
    const byMember = [new Set<number>(), new Set<number>(), new Set<number>()];
    const iters = [];
    for (const set of byMember) {
      const c = await e.js.consumers.getPushConsumer("Q", "d");
      iters.push(
        await c.consume({
          callback: (m) => {
            set.add(m.seq);
            m.ack();
          },
        }),
      );
    }
    await fill(e.js, "q", 300);
    await waitFor("300 messages", () => byMember.reduce((n, s) => n + s.size, 0) >= 300, 20_000);
    const all = byMember.flatMap((s) => [...s]);
    assert.equal(all.length, 300);
    assert.equal(new Set(all).size, 300, "no message went to two members");
    assert.ok(byMember.filter((s) => s.size > 0).length >= 2, "more than one member got messages");
    await waitFor("acks", async () => (await e.jsm.consumers.info("Q", "d")).num_ack_pending === 0, 10_000);
    for (const it of iters) await it.close();
  });
});

describe("@nats-io/jetstream consumer management", () => {
  const e = jsEnvFixture();

  test("add, info, update, list, delete", async () => {
    await e.jsm.streams.add({ name: "M", subjects: ["m.>"] });
    await fill(e.js, "m.a", 3);
    const ci = await e.jsm.consumers.add("M", { durable_name: "d1", ack_policy: AckPolicy.Explicit, filter_subject: "m.a", description: "first" });
    assert.equal(ci.name, "d1");
    assert.equal(ci.num_pending, 3);
    assert.equal(ci.config.ack_wait, 30_000_000_000);
    assert.equal(ci.config.max_ack_pending, 1000);
    assert.equal(ci.config.max_waiting, 512);
    assert.equal(ci.config.max_deliver, -1);
    // Same config again: the existing consumer.
    const again = await e.jsm.consumers.add("M", { durable_name: "d1", ack_policy: AckPolicy.Explicit, filter_subject: "m.a", description: "first" });
    assert.equal(again.created, ci.created);
    await assert.rejects(e.jsm.consumers.add("M", { durable_name: "d1", ack_policy: AckPolicy.Explicit, filter_subject: "m.a", description: "other" }), /consumer already exists/);
    const up = await e.jsm.consumers.update("M", "d1", { description: "second", max_ack_pending: 10 });
    assert.equal(up.config.description, "second");
    assert.equal(up.config.max_ack_pending, 10);
    // jsm's update reads the info first.
    await assert.rejects(e.jsm.consumers.update("M", "nope", { description: "x" }), /consumer not found/);
    await e.jsm.consumers.add("M", { name: "e1", ack_policy: AckPolicy.None, inactive_threshold: 60_000_000_000 });
    const listed = await e.jsm.consumers.list("M").next();
    assert.deepEqual(listed.map((c) => c.name).sort(), ["d1", "e1"]);
    assert.equal(await e.jsm.consumers.delete("M", "e1"), true);
    await assert.rejects(e.jsm.consumers.info("M", "e1"), /consumer not found/);
    const after = await e.jsm.consumers.list("M").next();
    assert.deepEqual(after.map((c) => c.name), ["d1"]);
    assert.equal((await e.jsm.streams.info("M")).state.consumer_count, 1);
  });
});

describe("what INFO's version implies", () => {
  test("2.9.10 is advertised: PAUSE and UNPIN (2.11) get no answer, as from nats-server 2.9.10", async () => {
    const { ours, ref } = await onBoth(async ({ nc, jsm }) => {
      await jsm.streams.add({ name: "PZ", subjects: ["pz"] });
      await jsm.consumers.add("PZ", { durable_name: "d", ack_policy: AckPolicy.Explicit });
      const short = await jetstreamManager(nc, { timeout: 750 });
      const outcome = async (p: Promise<unknown>) => p.then(() => "answered", (e: Error) => e.name);
      return {
        version: nc.info?.version,
        pause: await outcome(short.consumers.pause("PZ", "d", new Date(Date.now() + 60_000))),
        unpin: await outcome(short.consumers.unpin("PZ", "d", "g")),
        // Client-side gates follow the version: filter_subjects and metadata need 2.10.
        filters: await outcome(jsm.consumers.add("PZ", { name: "f", ack_policy: AckPolicy.None, filter_subjects: ["pz"] })),
        metadata: await outcome(jsm.consumers.add("PZ", { name: "m", ack_policy: AckPolicy.None, metadata: { a: "b" } })),
      };
    });
    assert.deepEqual(ours, { version: "2.9.10", pause: "TimeoutError", unpin: "TimeoutError", filters: "InvalidArgumentError", metadata: "InvalidArgumentError" });
    if (ref !== null) assert.deepEqual(ours, ref);
  });
});
