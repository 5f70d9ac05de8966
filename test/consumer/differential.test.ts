// Differential tests of the consumer wire contract: the same raw-protocol scenarios against tsnats
// and the reference nats-server 2.9.10 (when installed), comparing what a client observes: API
// responses, delivered subjects, headers and payloads, ack reply subjects (minus the stored
// timestamp), status frames with their headers, ack replies, advisories. Timing is not compared;
// only content and order per subscription.
import { Wire, statusOf, type WireMsg } from "./wire.js";
import { describeDifferential, type Scenario } from "../jetstream/differential_harness.js";

const VOLATILE = new Set(["created", "last_active", "timestamp", "id", "first_ts", "last_ts", "time"]);

/** Removes what legitimately differs between runs: times, ids, the stored timestamp in ack subjects. */
function norm(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(norm);
  if (v !== null && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = VOLATILE.has(k) ? "<volatile>" : norm(x);
    return o;
  }
  if (typeof v === "string" && v.startsWith("$JS.ACK.")) {
    const t = v.split(".");
    if (t.length === 9) t[7] = "<ts>";
    return t.join(".");
  }
  return v;
}

/** A delivered message as a client sees it. */
function seen(m: WireMsg): Record<string, unknown> {
  let data: unknown = m.data.toString();
  if (typeof data === "string" && data.startsWith("{")) {
    try {
      data = JSON.parse(data);
    } catch {
      /* not JSON */
    }
  }
  return { subject: m.subject, reply: m.reply, hdr: m.hdr, data };
}

async function api(w: Wire, subject: string, body: unknown = ""): Promise<unknown> {
  return w.request(subject, body);
}

const stream = (name: string, extra: Record<string, unknown> = {}) => ({ name, subjects: [`${name.toLowerCase()}.>`], storage: "file", ...extra });

const SCENARIOS: Record<string, Scenario> = {
  async "pull requests and their status frames"(w, log) {
    await api(w, "$JS.API.STREAM.CREATE.ORDERS", stream("ORDERS"));
    w.hpub("orders.new", null, { "Nats-Msg-Id": "abc" }, "o1");
    w.pub("orders.new", null, "o2");
    w.pub("orders.old", null, "o3");
    await w.flush();
    log("create pull1", await api(w, "$JS.API.CONSUMER.CREATE.ORDERS.pull1.orders.>", { stream_name: "ORDERS", config: { durable_name: "pull1", ack_policy: "explicit", filter_subject: "orders.>", deliver_policy: "all", replay_policy: "instant" } }));
    log("filter mismatch", await api(w, "$JS.API.CONSUMER.CREATE.ORDERS.pull2.orders.new", { stream_name: "ORDERS", config: { name: "pull2", ack_policy: "explicit", filter_subject: "orders.>" } }));
    const eph = (await api(w, "$JS.API.CONSUMER.CREATE.ORDERS", { stream_name: "ORDERS", config: { ack_policy: "none", deliver_policy: "last" } })) as Record<string, unknown>;
    log("legacy ephemeral", { ...eph, name: typeof eph.name === "string" && eph.name.length === 8 ? "<generated>" : eph.name });
    const inbox = w.sub("_INBOX.p1");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull1", "_INBOX.p1", '{"batch":2,"no_wait":true}');
    const two = await w.take(inbox, 2);
    log("batch of 2", two.map(seen));
    const inbox2 = w.sub("_INBOX.p2");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull1", "_INBOX.p2", '{"batch":1,"no_wait":true}');
    const [third] = await w.take(inbox2, 1);
    log("third", seen(third!));
    const ackIn = w.sub("_INBOX.ack");
    w.pub(third!.reply!, "_INBOX.ack", "+ACK");
    w.pub(third!.reply!, "_INBOX.ack", "+ACK");
    log("ack replies", (await w.take(ackIn, 2)).map(seen));
    const s3 = w.sub("_INBOX.p3");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull1", "_INBOX.p3", '{"batch":1,"no_wait":true}');
    w.pub("$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull1", "_INBOX.p3", '{"batch":1,"expires":100000000,"idle_heartbeat":250000000}');
    w.pub("$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull1", "_INBOX.p3", '{"batch":');
    w.pub("$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull1", "_INBOX.p3", '{"batch":"x"}');
    log("statuses", (await w.take(s3, 4)).map(seen));
    const s4 = w.sub("_INBOX.p4");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull1", "_INBOX.p4", '{"batch":5,"expires":300000000}');
    log("request timeout", (await w.take(s4, 1)).map(seen));
    w.pub("orders.big", null, "x".repeat(100));
    const s5 = w.sub("_INBOX.p5");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull1", "_INBOX.p5", '{"batch":1,"max_bytes":10,"expires":500000000}');
    w.pub("$JS.API.CONSUMER.MSG.NEXT.ORDERS.pull1", "_INBOX.p5", '{"batch":1,"max_bytes":100000,"expires":500000000}');
    log("max bytes", (await w.take(s5, 2)).map(seen));
    log("info pull1", await api(w, "$JS.API.CONSUMER.INFO.ORDERS.pull1"));
    log("create tmp", await api(w, "$JS.API.CONSUMER.CREATE.ORDERS.tmp", { stream_name: "ORDERS", config: { name: "tmp", ack_policy: "explicit", deliver_policy: "new" } }));
    const s6 = w.sub("_INBOX.p6");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.ORDERS.tmp", "_INBOX.p6", "1");
    await w.flush();
    log("delete tmp", await api(w, "$JS.API.CONSUMER.DELETE.ORDERS.tmp"));
    log("waiter told", (await w.take(s6, 1)).map(seen));
    // The ephemeral's name is generated: compare it as a placeholder, in nats-server's sorted order.
    const names = (await api(w, "$JS.API.CONSUMER.NAMES.ORDERS")) as { consumers: string[] };
    log("names", { ...names, consumers: names.consumers.map((n) => (n === eph.name ? "<generated>" : n)).sort() });
    log("info missing", await api(w, "$JS.API.CONSUMER.INFO.ORDERS.nope"));
    log("info with body", await api(w, "$JS.API.CONSUMER.INFO.ORDERS.pull1", '{"x":1}'));
    log("delete missing", await api(w, "$JS.API.CONSUMER.DELETE.ORDERS.nope"));
  },

  async "create and update validation"(w, log) {
    await api(w, "$JS.API.STREAM.CREATE.V", stream("V"));
    await api(w, "$JS.API.STREAM.CREATE.WQ", { name: "WQ", subjects: ["wq.>"], retention: "workqueue" });
    await api(w, "$JS.API.STREAM.CREATE.LIM", { name: "LIM", subjects: ["lim.>"], max_consumers: 1 });
    const cases: [string, unknown][] = [
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { deliver_policy: "by_start_sequence", ack_policy: "explicit" } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { deliver_policy: "all", opt_start_seq: 3 } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { deliver_policy: "by_start_time", opt_start_seq: 3 } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { deliver_policy: "last_per_subject" } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { deliver_subject: "d.a", flow_control: true } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { deliver_subject: "d.a", max_waiting: 10 } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { deliver_subject: "d.a", idle_heartbeat: 50000000 } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { deliver_subject: "d.*" } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { deliver_subject: "v.x" } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { deliver_subject: "d.a", max_ack_pending: 5 } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { idle_heartbeat: 1000000000 } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { flow_control: true } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { rate_limit_bps: 1000 } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { max_waiting: -1 } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { max_batch: -1 } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { max_expires: 10 } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { ack_policy: "explicit", backoff: [1000000000, 2000000000] } }],
      ["$JS.API.CONSUMER.CREATE.V.a", { stream_name: "V", config: { ack_policy: "explicit", backoff: [1000000000, 2000000000], max_deliver: 3 } }],
      ["$JS.API.CONSUMER.CREATE.V.b", { stream_name: "V", config: { durable_name: "b", name: "c" } }],
      ["$JS.API.CONSUMER.CREATE.V.b", { stream_name: "V", config: { durable_name: "x" } }],
      ["$JS.API.CONSUMER.CREATE.V", { stream_name: "V", config: { durable_name: "x" } }],
      ["$JS.API.CONSUMER.CREATE.V.b", { stream_name: "W", config: {} }],
      ["$JS.API.CONSUMER.CREATE.NOPE.b", { stream_name: "NOPE", config: {} }],
      ["$JS.API.CONSUMER.CREATE.V.b", { stream_name: "V", config: { ack_policy: "sometimes" } }],
      ["$JS.API.CONSUMER.CREATE.V.b", "{not json"],
      ["$JS.API.CONSUMER.CREATE.V.b", { stream_name: "V", config: { filter_subject: "other.x" } }],
      ["$JS.API.CONSUMER.CREATE.V.b", { stream_name: "V", config: { num_replicas: 3 } }],
      ["$JS.API.CONSUMER.CREATE.V.b", { stream_name: "V", config: { sample_freq: "abc" } }],
      ["$JS.API.CONSUMER.CREATE.V.b", { stream_name: "V", config: { description: "x".repeat(5000) } }],
      ["$JS.API.CONSUMER.CREATE.V.a.b", { stream_name: "V", config: { durable_name: "a.b" } }],
      ["$JS.API.CONSUMER.DURABLE.CREATE.V.d1", { stream_name: "V", config: { ack_policy: "explicit" } }],
      ["$JS.API.CONSUMER.DURABLE.CREATE.V.d1", { stream_name: "V", config: { durable_name: "d2" } }],
      ["$JS.API.CONSUMER.DURABLE.CREATE.V.d1", { stream_name: "V", config: { durable_name: "d1", ack_policy: "explicit", deliver_policy: "last" } }],
      ["$JS.API.CONSUMER.DURABLE.CREATE.V.d1", { stream_name: "V", config: { durable_name: "d1", ack_policy: "explicit", deliver_policy: "last" } }],
      ["$JS.API.CONSUMER.DURABLE.CREATE.V.d1", { stream_name: "V", config: { durable_name: "d1", ack_policy: "explicit", deliver_policy: "all" } }],
      ["$JS.API.CONSUMER.DURABLE.CREATE.V.d1", { stream_name: "V", config: { durable_name: "d1", ack_policy: "all", deliver_policy: "last" } }],
      ["$JS.API.CONSUMER.DURABLE.CREATE.V.d1", { stream_name: "V", config: { durable_name: "d1", ack_policy: "explicit", deliver_policy: "last", max_ack_pending: 7, ack_wait: 5000000000, description: "changed" } }],
      ["$JS.API.CONSUMER.CREATE.V.p1", { stream_name: "V", config: { durable_name: "p1", deliver_subject: "push.p1", ack_policy: "explicit" } }],
      ["$JS.API.CONSUMER.CREATE.V.p1", { stream_name: "V", config: { durable_name: "p1", ack_policy: "explicit" } }],
      ["$JS.API.CONSUMER.CREATE.V.p1", { stream_name: "V", config: { durable_name: "p1", deliver_subject: "push.p2", ack_policy: "explicit" } }],
      ["$JS.API.CONSUMER.CREATE.V.p1", { stream_name: "V", config: { durable_name: "p1", deliver_subject: "push.p2", ack_policy: "explicit", idle_heartbeat: 1000000000 } }],
      ["$JS.API.CONSUMER.CREATE.V.h1", { stream_name: "V", config: { name: "h1", deliver_subject: "push.h1", ack_policy: "none", idle_heartbeat: 1000000000, flow_control: true, headers_only: true, rate_limit_bps: 1000000, max_deliver: 1, mem_storage: true, num_replicas: 1, replay_policy: "original", sample_freq: "50%" } }],
      ["$JS.API.CONSUMER.CREATE.V.f1.v.>", { stream_name: "V", config: { name: "f1", filter_subject: "v.>", deliver_policy: "last_per_subject", max_batch: 10, max_expires: 5000000000, max_bytes: 1024, max_waiting: 7, inactive_threshold: 60000000000 } }],
      ["$JS.API.CONSUMER.CREATE.WQ.w1", { stream_name: "WQ", config: { durable_name: "w1", ack_policy: "none" } }],
      ["$JS.API.CONSUMER.CREATE.WQ.w1", { stream_name: "WQ", config: { durable_name: "w1", ack_policy: "all" } }],
      ["$JS.API.CONSUMER.CREATE.WQ.w1", { stream_name: "WQ", config: { durable_name: "w1", ack_policy: "explicit", deliver_policy: "new" } }],
      ["$JS.API.CONSUMER.CREATE.WQ.w1", { stream_name: "WQ", config: { durable_name: "w1", ack_policy: "explicit", filter_subject: "wq.a.>" } }],
      ["$JS.API.CONSUMER.CREATE.WQ.w2", { stream_name: "WQ", config: { durable_name: "w2", ack_policy: "explicit" } }],
      ["$JS.API.CONSUMER.CREATE.WQ.w2", { stream_name: "WQ", config: { durable_name: "w2", ack_policy: "explicit", filter_subject: "wq.a.b" } }],
      ["$JS.API.CONSUMER.CREATE.WQ.w2", { stream_name: "WQ", config: { durable_name: "w2", ack_policy: "explicit", filter_subject: "wq.b" } }],
      ["$JS.API.CONSUMER.CREATE.LIM.l1", { stream_name: "LIM", config: { durable_name: "l1" } }],
      ["$JS.API.CONSUMER.CREATE.LIM.l2", { stream_name: "LIM", config: { durable_name: "l2" } }],
    ];
    for (const [subject, body] of cases) log(`${subject} ${JSON.stringify(body).slice(0, 200)}`, await api(w, subject, body));
    log("list", await api(w, "$JS.API.CONSUMER.LIST.V", { offset: 1 }));
    log("names past end", await api(w, "$JS.API.CONSUMER.NAMES.V", { offset: 100 }));
    log("names of missing stream", await api(w, "$JS.API.CONSUMER.NAMES.NOPE"));
  },

  async "acks, naks, terms and ack floors"(w, log) {
    await api(w, "$JS.API.STREAM.CREATE.A", stream("A"));
    for (let i = 1; i <= 8; i++) w.pub(`a.${i % 3}`, null, `m${i}`);
    await w.flush();
    await api(w, "$JS.API.CONSUMER.CREATE.A.c", { stream_name: "A", config: { durable_name: "c", ack_policy: "explicit" } });
    const sid = w.sub("_INBOX.f1");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.A.c", "_INBOX.f1", '{"batch":6}');
    const msgs = await w.take(sid, 6);
    log("delivered", msgs.map(seen));
    const r = (i: number) => msgs[i]!.reply!;
    const acks = w.sub("_INBOX.acks");
    w.pub(r(0), "_INBOX.acks", "+ACK");
    w.pub(r(2), "_INBOX.acks", "");
    w.pub(r(1), "_INBOX.acks", "-NAK");
    w.pub(r(3), "_INBOX.acks", "+TERM");
    w.pub(r(4), "_INBOX.acks", "+WPI");
    w.pub(r(5), "_INBOX.acks", "+WHAT");
    log("ack replies", (await w.take(acks, 6)).length);
    log("info after acks", await api(w, "$JS.API.CONSUMER.INFO.A.c"));
    const sid2 = w.sub("_INBOX.f2");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.A.c", "_INBOX.f2", '{"batch":2}');
    const again = await w.take(sid2, 2);
    log("redelivered first, then new", again.map(seen));
    log("info after redelivery", await api(w, "$JS.API.CONSUMER.INFO.A.c"));
    const nxt = w.sub("_INBOX.nxt");
    // One message is left to deliver; a batch of 1 leaves no waiting request behind to take the
    // redelivery below.
    w.pub(again[0]!.reply!, "_INBOX.nxt", '+NXT {"batch":1}');
    log("+NXT delivers to the ack's reply", (await w.take(nxt, 1)).map(seen));
    log("info after +NXT", await api(w, "$JS.API.CONSUMER.INFO.A.c"));
    // A NAK with a delay is not redelivered before the delay.
    const sid3 = w.sub("_INBOX.f3");
    w.pub(again[1]!.reply!, null, '-NAK {"delay":300000000}');
    w.pub("$JS.API.CONSUMER.MSG.NEXT.A.c", "_INBOX.f3", '{"batch":1,"expires":2000000000}');
    log("nak delay redelivery", (await w.take(sid3, 1)).map(seen));
    log("final info", await api(w, "$JS.API.CONSUMER.INFO.A.c"));
  },

  async "ack all"(w, log) {
    await api(w, "$JS.API.STREAM.CREATE.AA", stream("AA"));
    for (let i = 1; i <= 6; i++) w.pub("aa.x", null, `m${i}`);
    await w.flush();
    await api(w, "$JS.API.CONSUMER.CREATE.AA.c", { stream_name: "AA", config: { durable_name: "c", ack_policy: "all" } });
    const sid = w.sub("_INBOX.f1");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.AA.c", "_INBOX.f1", '{"batch":5}');
    const msgs = await w.take(sid, 5);
    const acks = w.sub("_INBOX.acks");
    w.pub(msgs[2]!.reply!, "_INBOX.acks", "+ACK");
    await w.take(acks, 1);
    log("after ack of 3", await api(w, "$JS.API.CONSUMER.INFO.AA.c"));
    w.pub(msgs[1]!.reply!, "_INBOX.acks", "+ACK");
    w.pub(msgs[4]!.reply!, "_INBOX.acks", "+ACK");
    await w.take(acks, 3);
    log("after ack of 5", await api(w, "$JS.API.CONSUMER.INFO.AA.c"));
  },

  async "push consumer: interest, heartbeats, headers only"(w, log) {
    await api(w, "$JS.API.STREAM.CREATE.KV_cfg", { name: "KV_cfg", subjects: ["$KV.cfg.>"], max_msgs_per_subject: 5, allow_rollup_hdrs: true });
    w.pub("$KV.cfg.a", null, "v1");
    w.hpub("$KV.cfg.b", null, { "KV-Operation": "PURGE", "Nats-Rollup": "sub" });
    w.pub("$KV.cfg.a", null, "v2");
    w.pub("$KV.cfg.c.d", null, "v3");
    await w.flush();
    const created = (await api(w, "$JS.API.CONSUMER.CREATE.KV_cfg.w1.$KV.cfg.>", {
      stream_name: "KV_cfg",
      config: { name: "w1", deliver_subject: "_INBOX.push.1", deliver_policy: "last_per_subject", ack_policy: "none", max_deliver: 1, filter_subject: "$KV.cfg.>", flow_control: true, idle_heartbeat: 300000000, headers_only: true, mem_storage: true },
    })) as Record<string, unknown>;
    log("create (no interest yet)", created);
    const sid = w.sub("_INBOX.push.1");
    const initial = await w.take(sid, 3);
    log("initial values", initial.map(seen));
    w.pub("$KV.cfg.e", null, "v4");
    const hbs = await w.take(sid, 5, 10000);
    log("update then heartbeats", hbs.slice(3).map(seen));
    log("info bound", await api(w, "$JS.API.CONSUMER.INFO.KV_cfg.w1"));
  },

  async "push consumer flow control"(w, log) {
    await api(w, "$JS.API.STREAM.CREATE.BIG", { name: "BIG", subjects: ["big.>"], storage: "memory" });
    const big = "y".repeat(100_000);
    for (let i = 0; i < 25; i++) w.pub("big.x", null, big);
    await w.flush();
    const sid = w.sub("_INBOX.push.fc");
    log("create", await api(w, "$JS.API.CONSUMER.CREATE.BIG.fc1", { stream_name: "BIG", config: { name: "fc1", deliver_subject: "_INBOX.push.fc", ack_policy: "none", flow_control: true, idle_heartbeat: 400000000 } }));
    // Until the first stall: 11 messages, the request, more messages up to the window, a heartbeat.
    await waitStatus(w, sid, "100 Idle Heartbeat");
    const firstRound = w.on(sid);
    log("until stalled", oneHeartbeatPerGap(firstRound).map((m) => (statusOf(m) ? { status: statusOf(m), reply: m.reply ? "<fc>" : null, hdr: m.hdr.replace(/\$JS\.FC\.BIG\.fc1\.\w+/, "<fc>") } : { reply: m.reply })));
    const fc = firstRound.find((m) => statusOf(m) === "100 FlowControl Request")!;
    w.clear();
    w.pub(fc.reply!, null, "");
    await waitStatus(w, sid, "100 Idle Heartbeat");
    log("after the flow control reply", oneHeartbeatPerGap(w.on(sid)).map((m) => (statusOf(m) ? { status: statusOf(m) } : { reply: m.reply })));
  },

  async "max deliver, backoff and advisories"(w, log) {
    await api(w, "$JS.API.STREAM.CREATE.MD", stream("MD"));
    w.pub("md.a", null, "one");
    await w.flush();
    const adv = w.sub("$JS.EVENT.ADVISORY.CONSUMER.>");
    await api(w, "$JS.API.CONSUMER.CREATE.MD.c", { stream_name: "MD", config: { durable_name: "c", deliver_subject: "push.md", ack_policy: "explicit", max_deliver: 3, backoff: [100000000, 300000000] } });
    const sid = w.sub("push.md");
    const got = await w.take(sid, 3, 5000);
    log("deliveries", got.map(seen));
    await w.take(adv, 2, 5000);
    const advs = w.on(adv).map((m) => ({ subject: m.subject, body: norm(JSON.parse(m.data.toString())) }));
    log("advisories", advs.filter((a) => !a.subject.includes(".CREATED.")));
    log("info", await api(w, "$JS.API.CONSUMER.INFO.MD.c"));
  },

  async "interest and workqueue retention"(w, log) {
    await api(w, "$JS.API.STREAM.CREATE.IN", { name: "IN", subjects: ["in.>"], retention: "interest" });
    w.pub("in.a", null, "before");
    await w.flush();
    await api(w, "$JS.API.CONSUMER.CREATE.IN.c1", { stream_name: "IN", config: { durable_name: "c1", ack_policy: "explicit" } });
    await api(w, "$JS.API.CONSUMER.CREATE.IN.c2", { stream_name: "IN", config: { durable_name: "c2", ack_policy: "explicit", filter_subject: "in.b" } });
    for (const s of ["in.a", "in.b", "in.a", "in.b"]) w.pub(s, null, s);
    await w.flush();
    const state = async () => ((await api(w, "$JS.API.STREAM.INFO.IN")) as { state: unknown }).state;
    log("stored", await state());
    const s1 = w.sub("_INBOX.c1");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.IN.c1", "_INBOX.c1", '{"batch":4}');
    const m1 = await w.take(s1, 4);
    const acks = w.sub("_INBOX.acks");
    for (const m of m1) w.pub(m.reply!, "_INBOX.acks", "+ACK");
    await w.take(acks, 4);
    log("after c1 acked all", await state());
    const s2 = w.sub("_INBOX.c2");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.IN.c2", "_INBOX.c2", '{"batch":1}');
    const [m2] = await w.take(s2, 1);
    w.pub(m2!.reply!, "_INBOX.acks", "+ACK");
    await w.take(acks, 5);
    log("after c2 acked one", await state());
    log("delete c2", await api(w, "$JS.API.CONSUMER.DELETE.IN.c2"));
    log("after c2 deleted", await state());

    await api(w, "$JS.API.STREAM.CREATE.WQ", { name: "WQ", subjects: ["wq.>"], retention: "workqueue" });
    for (let i = 0; i < 5; i++) w.pub(`wq.${i}`, null, `job${i}`);
    await w.flush();
    await api(w, "$JS.API.CONSUMER.CREATE.WQ.work", { stream_name: "WQ", config: { durable_name: "work", ack_policy: "explicit" } });
    const sw = w.sub("_INBOX.work");
    w.pub("$JS.API.CONSUMER.MSG.NEXT.WQ.work", "_INBOX.work", '{"batch":3}');
    const jobs = await w.take(sw, 3);
    w.pub(jobs[0]!.reply!, "_INBOX.acks", "+ACK");
    w.pub(jobs[2]!.reply!, "_INBOX.acks", "+TERM");
    await w.take(acks, 7);
    log("workqueue after ack and term", await api(w, "$JS.API.STREAM.INFO.WQ"));
    log("workqueue consumer", await api(w, "$JS.API.CONSUMER.INFO.WQ.work"));
  },
};

/**
 * How many heartbeats arrive in a quiet gap depends on how long the test takes to look (on both
 * servers): one heartbeat stands for each run of them.
 */
function oneHeartbeatPerGap(ms: WireMsg[]): WireMsg[] {
  return ms.filter((m, i) => !(statusOf(m) === "100 Idle Heartbeat" && i > 0 && statusOf(ms[i - 1]!) === "100 Idle Heartbeat"));
}

async function waitStatus(w: Wire, sid: string, status: string): Promise<void> {
  const { waitFor } = await import("../helpers/wait.js");
  await waitFor(`status ${status}`, () => w.on(sid).some((m) => statusOf(m) === status), 10000, 2);
}

describeDifferential("consumer wire contract against nats-server 2.9.10", Object.fromEntries(Object.entries(SCENARIOS).map(([k, run]) => [k, { run }])), norm);
