// Delivery rules observed on the wire with exact counts: redelivery after ack_wait, the backoff
// schedule, max_deliver and its advisory, naks with and without a delay, max_ack_pending,
// idle heartbeats and request timeouts, exact consumer info, and inactivity cleanup. Quiet
// periods are proven with idle heartbeats (a push consumer only sends one after idle_heartbeat
// without deliveries), never with sleeps.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "../helpers/wait.js";
import { ackInfo, headersOf, statusOf } from "./wire.js";
import { counts, jsWireFixture } from "./helpers.js";

const MS = 1_000_000;

describe("consumer delivery rules", () => {
  const fx = jsWireFixture();
  let n = 0;

  /** A fresh stream with `count` messages on `<name>.x` (payloads m1..). */
  async function stream(count: number, extra: Record<string, unknown> = {}): Promise<string> {
    const name = `S${++n}`;
    const r = await fx.w.request(`$JS.API.STREAM.CREATE.${name}`, { name, subjects: [`${name}.>`], ...extra });
    assert.equal(r.error, undefined, JSON.stringify(r));
    for (let i = 1; i <= count; i++) fx.w.pub(`${name}.x`, null, `m${i}`);
    await fx.w.flush();
    return name;
  }

  async function consumer(st: string, name: string, config: Record<string, unknown>): Promise<any> {
    const r = await fx.w.request(`$JS.API.CONSUMER.CREATE.${st}.${name}`, { stream_name: st, config: { name, ...config } });
    assert.equal(r.error, undefined, JSON.stringify(r));
    return r;
  }

  const info = (st: string, c: string) => fx.w.request(`$JS.API.CONSUMER.INFO.${st}.${c}`);
  const deliveries = (sid: string) => fx.w.on(sid).filter((m) => statusOf(m) === "");
  const heartbeats = (sid: string) => fx.w.on(sid).filter((m) => statusOf(m) === "100 Idle Heartbeat");

  /** Waits until `k` more idle heartbeats arrived on sid: that long, nothing was delivered. */
  async function quiet(sid: string, k: number): Promise<void> {
    const base = heartbeats(sid).length;
    await waitFor(`${k} idle heartbeats`, () => heartbeats(sid).length >= base + k, 15_000);
  }

  test("unacked messages are redelivered after ack_wait until max_deliver, then the advisory", async () => {
    const st = await stream(2);
    const adv = fx.w.sub(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${st}.c`);
    const sid = fx.w.sub(`push.${st}`);
    await consumer(st, "c", { durable_name: "c", deliver_subject: `push.${st}`, ack_policy: "explicit", ack_wait: 300 * MS, max_deliver: 3, idle_heartbeat: 200 * MS });
    const advs = await fx.w.take(adv, 2, 15_000);
    // After the advisories, two ack waits with nothing delivered.
    await quiet(sid, 4);
    const got = deliveries(sid).map((m) => ackInfo(m.reply!));
    assert.deepEqual(
      got.map((a) => [a.sseq, a.dc]).sort(),
      [
        [1, 1],
        [1, 2],
        [1, 3],
        [2, 1],
        [2, 2],
        [2, 3],
      ],
      "each message exactly max_deliver times",
    );
    assert.deepEqual(got.map((a) => a.dseq), [1, 2, 3, 4, 5, 6], "every delivery takes a new consumer sequence");
    const bodies = advs.map((m) => JSON.parse(m.data.toString()));
    assert.deepEqual(
      bodies.map((b) => [b.type, b.stream, b.consumer, b.stream_seq, b.deliveries]).sort(),
      [
        ["io.nats.jetstream.advisory.v1.max_deliver", st, "c", 1, 3],
        ["io.nats.jetstream.advisory.v1.max_deliver", st, "c", 2, 3],
      ],
    );
    const ci = await info(st, "c");
    assert.deepEqual([ci.delivered, ci.num_pending, ci.num_ack_pending], [{ consumer_seq: 6, stream_seq: 2, last_active: ci.delivered.last_active }, 0, 0]);
  });

  test("the backoff schedule sets each redelivery's wait", async () => {
    const st = await stream(1);
    const sid = fx.w.sub(`push.${st}`);
    const backoff = [150, 450, 900];
    const t0 = performance.now();
    await consumer(st, "c", { durable_name: "c", deliver_subject: `push.${st}`, ack_policy: "explicit", backoff: backoff.map((b) => b * MS), max_deliver: 5, idle_heartbeat: 100 * MS });
    const ci = await info(st, "c");
    assert.equal(ci.config.ack_wait, 150 * MS, "ack_wait is backoff[0]");
    await waitFor("5 deliveries", () => deliveries(sid).length >= 5, 20_000);
    await quiet(sid, 3);
    const ds = deliveries(sid).map((m) => ackInfo(m.reply!));
    assert.deepEqual(ds.map((a) => a.dc), [1, 2, 3, 4, 5]);
    // Each redelivery waits its entry of the schedule (the last repeats once it runs out) after
    // the previous delivery, which came after the consumer was created: delivery k arrives no
    // sooner than the sum of the waits before it (a few ms allowed for timer rounding).
    const recv = deliveries(sid).map((m) => m.recvAt - t0);
    let sum = 0;
    for (let i = 1; i < recv.length; i++) {
      sum += backoff[Math.min(i - 1, backoff.length - 1)]!;
      assert.ok(recv[i]! >= sum - 5, `delivery ${i + 1} came ${recv[i]!.toFixed(0)} ms after the create, before the ${sum} ms of backoff it must wait`);
    }
  });

  test("a plain nak redelivers at once; a nak with a delay waits for it", async () => {
    const st = await stream(3);
    await consumer(st, "c", { durable_name: "c", ack_policy: "explicit", ack_wait: 30_000 * MS });
    const inbox = fx.w.sub(`_INBOX.${st}`);
    fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${st}.c`, `_INBOX.${st}`, '{"batch":3}');
    const first = await fx.w.take(inbox, 3);
    fx.w.clear();
    const acks = fx.w.sub(`_INBOX.${st}.acks`);
    // Taken before the naks are sent: the delays run from a later moment.
    const t0 = performance.now();
    fx.w.pub(first[0]!.reply!, `_INBOX.${st}.acks`, "-NAK");
    fx.w.pub(first[1]!.reply!, `_INBOX.${st}.acks`, '-NAK {"delay":600000000}');
    fx.w.pub(first[2]!.reply!, `_INBOX.${st}.acks`, "-NAK 300ms");
    await fx.w.take(acks, 3);
    const r = fx.w.sub(`_INBOX.${st}.r`);
    fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${st}.c`, `_INBOX.${st}.r`, '{"batch":3,"expires":5000000000}');
    const again = await fx.w.take(r, 3, 10_000);
    const times = again.map((m) => m.recvAt - t0);
    const a = again.map((m) => ackInfo(m.reply!));
    assert.deepEqual(a.map((x) => [x.sseq, x.dc]), [
      [1, 2],
      [3, 2],
      [2, 2],
    ]);
    assert.ok(times[1]! >= 300 - 5, `the 300ms nak came back after ${times[1]} ms`);
    assert.ok(times[2]! >= 600 - 5, `the 600ms nak came back after ${times[2]} ms`);
    const ci = await info(st, "c");
    assert.equal(ci.num_redelivered, 3);
    assert.equal(ci.num_ack_pending, 3);
    assert.deepEqual([ci.delivered.consumer_seq, ci.delivered.stream_seq], [6, 3]);
  });

  test("+TERM ends a message's deliveries; its advisory carries the reason, for acks sent in one write", async () => {
    const st = await stream(3);
    await consumer(st, "c", { durable_name: "c", ack_policy: "explicit", ack_wait: 30_000 * MS });
    const adv = fx.w.sub(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${st}.c`);
    const inbox = fx.w.sub(`_INBOX.${st}`);
    fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${st}.c`, `_INBOX.${st}`, '{"batch":3}');
    const got = await fx.w.take(inbox, 3);
    // All three in one write, with other traffic after them in the same buffer.
    const frame = (subject: string, body: string) => `PUB ${subject} ${Buffer.byteLength(body)}\r\n${body}\r\n`;
    fx.w.send(frame(got[0]!.reply!, "+TERM bad input") + frame(got[1]!.reply!, "+TERM") + frame(got[2]!.reply!, "+TERM  spaced reason ") + frame(`${st}.other`, "x".repeat(64)));
    const advs = (await fx.w.take(adv, 3)).map((m) => JSON.parse(m.data.toString()));
    assert.deepEqual(
      advs.map((a) => [a.stream_seq, a.consumer_seq, a.deliveries, a.reason]),
      [
        [1, 1, 1, "bad input"],
        [2, 2, 1, undefined],
        [3, 3, 1, "spaced reason"],
      ],
    );
    assert.ok(advs.every((a) => a.type === "io.nats.jetstream.advisory.v1.terminated" && a.stream === st && a.consumer === "c"));
    const ci = await info(st, "c");
    assert.equal(ci.num_ack_pending, 0);
    assert.equal(ci.num_redelivered, 0);
    assert.deepEqual([ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq], [3, 3]);
    // Only the message published after the acks is left to deliver.
    const r = fx.w.sub(`_INBOX.${st}.r`);
    fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${st}.c`, `_INBOX.${st}.r`, '{"batch":1}');
    const [rest] = await fx.w.take(r, 1);
    assert.equal(ackInfo(rest!.reply!).sseq, 4);
    assert.equal((await info(st, "c")).num_pending, 0);
  });

  test("max_ack_pending: deliveries stop at the limit and resume one per ack", async () => {
    const st = await stream(20);
    const sid = fx.w.sub(`push.${st}`);
    await consumer(st, "c", { durable_name: "c", deliver_subject: `push.${st}`, ack_policy: "explicit", max_ack_pending: 5, idle_heartbeat: 100 * MS });
    await waitFor("5 deliveries", () => deliveries(sid).length >= 5, 10_000);
    await quiet(sid, 3);
    assert.equal(deliveries(sid).length, 5, "no more than max_ack_pending outstanding");
    let ci = await info(st, "c");
    assert.deepEqual([ci.num_ack_pending, ci.num_pending], [5, 15]);
    const acks = fx.w.sub(`_INBOX.${st}.acks`);
    for (const m of deliveries(sid).slice(0, 2)) fx.w.pub(m.reply!, `_INBOX.${st}.acks`, "+ACK");
    await fx.w.take(acks, 2);
    await waitFor("2 more", () => deliveries(sid).length >= 7, 10_000);
    await quiet(sid, 3);
    assert.equal(deliveries(sid).length, 7);
    ci = await info(st, "c");
    assert.deepEqual([ci.num_ack_pending, ci.num_pending, ci.ack_floor.stream_seq], [5, 13, 2]);
    // Pull: a batch larger than the room left gets only the room.
    const st2 = await stream(10);
    await consumer(st2, "p", { durable_name: "p", ack_policy: "explicit", max_ack_pending: 4 });
    const inbox = fx.w.sub(`_INBOX.${st2}`);
    fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${st2}.p`, `_INBOX.${st2}`, '{"batch":10,"expires":600000000}');
    await waitFor("the request times out", () => fx.w.on(inbox).some((m) => statusOf(m) === "408 Request Timeout"), 10_000);
    const frames = fx.w.on(inbox);
    assert.equal(frames.filter((m) => statusOf(m) === "").length, 4);
    assert.equal(headersOf(frames.at(-1)!).get("Nats-Pending-Messages"), "6");
  });

  test("a pull request to a missing consumer or stream finds no responder (503), as each consumer answers its own", async () => {
    const st = await stream(1);
    await consumer(st, "c", { durable_name: "c", ack_policy: "none" });
    const inbox = fx.w.sub(`_INBOX.nr.${st}`);
    const ask = (c: string) => fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${c}`, `_INBOX.nr.${st}`, '{"batch":1,"expires":2000000000}');
    ask(`${st}.nope`);
    ask(`NOSTREAM.c`);
    ask(`${st}.c`);
    await waitFor("the answers", () => fx.w.on(inbox).length >= 3);
    const frames = fx.w.on(inbox).map((m) => statusOf(m) || "msg");
    assert.deepEqual(frames, ["503", "503", "msg"]);
  });

  test("pull request heartbeats and timeouts, with the pending counts", async () => {
    const st = await stream(2);
    await consumer(st, "c", { durable_name: "c", ack_policy: "none" });
    const inbox = fx.w.sub(`_INBOX.${st}`);
    fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${st}.c`, `_INBOX.${st}`, '{"batch":5,"expires":1000000000,"idle_heartbeat":200000000}');
    await waitFor("408", () => fx.w.on(inbox).some((m) => statusOf(m) === "408 Request Timeout"), 10_000);
    const frames = fx.w.on(inbox).map((m) => statusOf(m) || "msg");
    assert.deepEqual(frames.slice(0, 2), ["msg", "msg"]);
    assert.equal(frames.at(-1), "408 Request Timeout");
    const hbs = frames.filter((f) => f === "100 Idle Heartbeat").length;
    // About one per 200 ms of a 1 s wait after the deliveries.
    assert.ok(hbs >= 1 && hbs <= 5, `${hbs} heartbeats`);
    const last = fx.w.on(inbox).at(-1)!;
    assert.deepEqual([...headersOf(last)], [
      ["Nats-Pending-Messages", "3"],
      ["Nats-Pending-Bytes", "0"],
    ]);
    const hb = fx.w.on(inbox).find((m) => statusOf(m) === "100 Idle Heartbeat")!;
    assert.deepEqual([...headersOf(hb)], [
      ["Nats-Last-Consumer", "2"],
      ["Nats-Last-Stream", "2"],
    ]);
    // max_bytes left in the 408 when a byte budget was asked for.
    const inbox2 = fx.w.sub(`_INBOX.${st}.b`);
    fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${st}.c`, `_INBOX.${st}.b`, '{"batch":5,"max_bytes":4096,"expires":300000000}');
    await waitFor("408", () => fx.w.on(inbox2).some((m) => statusOf(m) === "408 Request Timeout"), 10_000);
    assert.deepEqual([...headersOf(fx.w.on(inbox2).at(-1)!)], [
      ["Nats-Pending-Messages", "5"],
      ["Nats-Pending-Bytes", "4096"],
    ]);
  });

  test("push idle heartbeats carry the last delivered sequences", async () => {
    const st = await stream(3);
    const sid = fx.w.sub(`push.${st}`);
    await consumer(st, "c", { durable_name: "c", deliver_subject: `push.${st}`, ack_policy: "none", idle_heartbeat: 150 * MS, filter_subject: `${st}.x` });
    await quiet(sid, 2);
    fx.w.pub(`${st}.y`, null, "other subject");
    await fx.w.flush();
    await quiet(sid, 2);
    const hb = heartbeats(sid).at(-1)!;
    assert.ok(!hb.reply, "heartbeats have no reply subject");
    assert.equal(hb.subject, `push.${st}`);
    assert.deepEqual([...headersOf(hb)], [
      ["Nats-Last-Consumer", "3"],
      ["Nats-Last-Stream", "3"],
    ]);
    assert.equal(deliveries(sid).length, 3);
  });

  test("consumer info is exact through deliveries, waiting requests, acks and redeliveries", async () => {
    const st = await stream(6);
    await consumer(st, "c", { durable_name: "c", ack_policy: "explicit" });
    const inbox = fx.w.sub(`_INBOX.${st}`);
    fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${st}.c`, `_INBOX.${st}`, '{"batch":4}');
    const got = await fx.w.take(inbox, 4);
    let ci = await info(st, "c");
    assert.deepEqual(counts(ci), { delivered: [4, 4], ack_floor: [0, 0], num_ack_pending: 4, num_redelivered: 0, num_waiting: 0, num_pending: 2 });
    const acks = fx.w.sub(`_INBOX.${st}.acks`);
    fx.w.pub(got[1]!.reply!, `_INBOX.${st}.acks`, "+ACK");
    fx.w.pub(got[0]!.reply!, `_INBOX.${st}.acks`, "-NAK");
    await fx.w.take(acks, 2);
    // 1 is queued for redelivery but not yet redelivered: num_redelivered counts redeliveries made.
    ci = await info(st, "c");
    assert.deepEqual(counts(ci), { delivered: [4, 4], ack_floor: [0, 0], num_ack_pending: 3, num_redelivered: 0, num_waiting: 0, num_pending: 2 });
    const w2 = fx.w.sub(`_INBOX.${st}.w2`);
    fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${st}.c`, `_INBOX.${st}.w2`, '{"batch":10,"expires":30000000000}');
    const more = await fx.w.take(w2, 3);
    assert.deepEqual(more.map((m) => [ackInfo(m.reply!).sseq, ackInfo(m.reply!).dc, ackInfo(m.reply!).dseq]), [
      [1, 2, 5],
      [5, 1, 6],
      [6, 1, 7],
    ]);
    // The request still wants 7 more and waits.
    ci = await info(st, "c");
    assert.deepEqual(counts(ci), { delivered: [7, 6], ack_floor: [0, 0], num_ack_pending: 5, num_redelivered: 1, num_waiting: 1, num_pending: 0 });
    for (const m of [...got, ...more]) fx.w.pub(m.reply!, `_INBOX.${st}.acks`, "+ACK");
    await fx.w.take(acks, 2 + 7);
    ci = await info(st, "c");
    assert.deepEqual(counts(ci), { delivered: [7, 6], ack_floor: [7, 6], num_ack_pending: 0, num_redelivered: 0, num_waiting: 1, num_pending: 0 });
    // A new message goes to the waiting request.
    fx.w.pub(`${st}.x`, null, "m7");
    await fx.w.take(w2, 4);
    ci = await info(st, "c");
    assert.deepEqual(counts(ci), { delivered: [8, 7], ack_floor: [7, 6], num_ack_pending: 1, num_redelivered: 0, num_waiting: 1, num_pending: 0 });
  });

  test("ephemerals go after inactive_threshold without interest; activity keeps them", async () => {
    const st = await stream(1);
    const gone = async (c: string) => (await info(st, c)).error?.err_code === 10014;
    // Pull ephemeral, no requests.
    await consumer(st, "p1", { ack_policy: "explicit", inactive_threshold: 300 * MS });
    // Push ephemeral, nobody on the deliver subject.
    await consumer(st, "q1", { ack_policy: "none", deliver_subject: `push.${st}.q1`, inactive_threshold: 300 * MS });
    // Push ephemeral with a subscriber: stays while bound.
    const sid = fx.w.sub(`push.${st}.q2`);
    await consumer(st, "q2", { ack_policy: "none", deliver_subject: `push.${st}.q2`, inactive_threshold: 300 * MS, idle_heartbeat: 100 * MS });
    // Durable with a threshold goes too.
    await consumer(st, "d1", { durable_name: "d1", ack_policy: "explicit", inactive_threshold: 300 * MS });
    await waitFor("p1, q1, d1 removed", async () => (await gone("p1")) && (await gone("q1")) && (await gone("d1")), 10_000);
    // q2 has been bound all along: ten heartbeats (1 s, three thresholds) later it is still there.
    await quiet(sid, 10);
    assert.equal((await info(st, "q2")).name, "q2");
    fx.w.unsub(sid);
    await waitFor("q2 removed once unbound", () => gone("q2"), 10_000);
    const names = await fx.w.request(`$JS.API.CONSUMER.NAMES.${st}`);
    assert.deepEqual(names.consumers, []);
    // The default threshold of an ephemeral is stamped into its config.
    const e = await fx.w.request(`$JS.API.CONSUMER.CREATE.${st}`, { stream_name: st, config: { ack_policy: "none" } });
    assert.equal(e.config.inactive_threshold, 5000 * MS);
  });
});
