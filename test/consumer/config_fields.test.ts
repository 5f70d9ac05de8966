// Every ConsumerConfig field the issue lists is accepted and does what it says: rate_limit_bps,
// sample_freq, replay_policy original, headers_only, max_bytes/max_batch/max_expires/max_waiting,
// filter_subjects, deliver_policy by_start_time and last_per_subject, metadata, description,
// num_replicas, mem_storage (not kept across a restart) and durable state (kept).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startJs } from "../jetstream/helpers.js";
import { waitFor } from "../helpers/wait.js";
import { jsWireFixture } from "./helpers.js";
import { Wire, ackInfo, statusOf } from "./wire.js";

const MS = 1_000_000;

describe("consumer config fields", () => {
  const fx = jsWireFixture();
  let n = 0;

  async function stream(extra: Record<string, unknown> = {}): Promise<string> {
    const name = `C${++n}`;
    const r = await fx.w.request(`$JS.API.STREAM.CREATE.${name}`, { name, subjects: [`${name}.>`], ...extra });
    assert.equal(r.error, undefined, JSON.stringify(r));
    return name;
  }

  async function put(subject: string, count: number, data = (i: number) => `m${i}`): Promise<void> {
    for (let i = 1; i <= count; i++) fx.w.pub(subject, null, data(i));
    await fx.w.flush();
  }

  const create = (st: string, name: string, config: Record<string, unknown>) => fx.w.request(`$JS.API.CONSUMER.CREATE.${st}.${name}`, { stream_name: st, config: { name, ...config } });
  const pull = (st: string, c: string, inbox: string, body: string) => fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${st}.${c}`, inbox, body);
  const deliveries = (sid: string) => fx.w.on(sid).filter((m) => statusOf(m) === "");

  test("rate_limit_bps paces a push consumer (burst = the stream's max_msg_size)", async () => {
    const st = await stream({ max_msg_size: 1000 });
    await put(`${st}.x`, 8, () => "x".repeat(500));
    const sid = fx.w.sub(`push.${st}`);
    const t0 = performance.now();
    const r = await create(st, "c", { deliver_subject: `push.${st}`, ack_policy: "none", rate_limit_bps: 64_000 });
    assert.equal(r.config.rate_limit_bps, 64_000);
    await waitFor("8 deliveries", () => deliveries(sid).length === 8, 15_000);
    const took = deliveries(sid).at(-1)!.recvAt - t0;
    // 8 x ~550 bytes at 8000 bytes/s, less a 1000-byte burst: at least ~0.4 s.
    assert.ok(took >= 350, `8 messages arrived in ${took.toFixed(0)} ms`);
    // Pull consumers cannot have a rate limit.
    assert.equal((await create(st, "p", { ack_policy: "none", rate_limit_bps: 1000 })).error.err_code, 10086);
  });

  test("sample_freq: ack metrics on $JS.EVENT.METRIC.CONSUMER.ACK", async () => {
    const st = await stream();
    await put(`${st}.x`, 3);
    const metrics = fx.w.sub(`$JS.EVENT.METRIC.CONSUMER.ACK.${st}.>`);
    await create(st, "all", { ack_policy: "explicit", sample_freq: "100%" });
    await create(st, "none", { ack_policy: "explicit" });
    for (const c of ["all", "none"]) {
      const inbox = fx.w.sub(`_INBOX.${st}.${c}`);
      pull(st, c, `_INBOX.${st}.${c}`, '{"batch":3}');
      const got = await fx.w.take(inbox, 3);
      const acks = fx.w.sub(`_INBOX.${st}.${c}.acks`);
      for (const m of got) fx.w.pub(m.reply!, `_INBOX.${st}.${c}.acks`, "+ACK");
      await fx.w.take(acks, 3);
    }
    await fx.w.flush();
    const ms = fx.w.on(metrics).map((m) => ({ subject: m.subject, ...JSON.parse(m.data.toString()) }));
    assert.deepEqual(
      ms.map((m) => [m.subject, m.type, m.stream, m.consumer, m.consumer_seq, m.stream_seq, m.deliveries, typeof m.ack_time]),
      [1, 2, 3].map((i) => [`$JS.EVENT.METRIC.CONSUMER.ACK.${st}.all`, "io.nats.jetstream.metric.v1.consumer_ack", st, "all", i, i, 1, "number"]),
    );
  });

  test("replay_policy original keeps the stored spacing", async () => {
    const st = await stream();
    // The gaps are in the stored timestamps.
    for (let i = 1; i <= 3; i++) {
      fx.w.pub(`${st}.x`, null, `m${i}`);
      await fx.w.flush();
      if (i < 3) await new Promise((r) => setTimeout(r, 300));
    }
    const stored = [];
    for (let i = 1; i <= 3; i++) stored.push(Date.parse((await fx.w.request(`$JS.API.STREAM.MSG.GET.${st}`, { seq: i })).message.time));
    const sid = fx.w.sub(`push.${st}`);
    const t0 = performance.now();
    await create(st, "c", { deliver_subject: `push.${st}`, ack_policy: "none", replay_policy: "original" });
    await waitFor("3 deliveries", () => deliveries(sid).length === 3, 10_000);
    // Message k goes out its stored distance from message 1 after the first delivery, which came
    // after the create (a few ms allowed for timer rounding and millisecond timestamps).
    const d = deliveries(sid);
    for (let i = 1; i < 3; i++) {
      const at = d[i]!.recvAt - t0;
      const want = stored[i]! - stored[0]!;
      assert.ok(at >= want - 5, `message ${i + 1} replayed ${at.toFixed(0)} ms after the create, for a stored distance of ${want} ms`);
    }
    // Once caught up, live messages go out as they come.
    fx.w.pub(`${st}.x`, null, "live");
    await waitFor("live", () => deliveries(sid).length === 4, 10_000);
  });

  test("headers_only: stored headers plus Nats-Msg-Size, no payload", async () => {
    const st = await stream();
    fx.w.hpub(`${st}.x`, null, { "X-A": "1" }, "hello");
    fx.w.pub(`${st}.x`, null, "world!");
    await fx.w.flush();
    const sid = fx.w.sub(`push.${st}`);
    await create(st, "c", { deliver_subject: `push.${st}`, ack_policy: "none", headers_only: true });
    const got = await fx.w.take(sid, 2);
    assert.deepEqual(got.map((m) => [m.hdr, m.data.length]), [
      ["NATS/1.0\r\nX-A: 1\r\nNats-Msg-Size: 5\r\n\r\n", 0],
      ["NATS/1.0\r\nNats-Msg-Size: 6\r\n\r\n", 0],
    ]);
  });

  test("max_batch, max_expires, max_bytes and max_waiting bound pull requests", async () => {
    const st = await stream();
    await put(`${st}.x`, 3);
    const r = await create(st, "c", { ack_policy: "none", max_batch: 2, max_expires: 1000 * MS, max_bytes: 1024, max_waiting: 2 });
    assert.deepEqual([r.config.max_batch, r.config.max_expires, r.config.max_bytes, r.config.max_waiting], [2, 1000 * MS, 1024, 2]);
    const inbox = fx.w.sub(`_INBOX.${st}`);
    pull(st, "c", `_INBOX.${st}`, '{"batch":3}');
    pull(st, "c", `_INBOX.${st}`, '{"batch":1,"expires":2000000000}');
    pull(st, "c", `_INBOX.${st}`, '{"batch":1,"max_bytes":2048}');
    pull(st, "c", `_INBOX.${st}`, '{"batch":2,"expires":500000000,"max_bytes":1024}');
    await fx.w.take(inbox, 5);
    assert.deepEqual(fx.w.on(inbox).slice(0, 5).map((m) => statusOf(m) || ackInfo(m.reply!).sseq), ["409 Exceeded MaxRequestBatch of 2", "409 Exceeded MaxRequestExpires of 1s", "409 Exceeded MaxRequestMaxBytes of 1024", 1, 2]);
    // max_waiting 2: a third waiting request is refused.
    const wt = fx.w.sub(`_INBOX.${st}.wait`);
    pull(st, "c", `_INBOX.${st}.wait`, '{"batch":2,"expires":1000000000}');
    pull(st, "c", `_INBOX.${st}.wait`, '{"batch":2,"expires":1000000000}');
    pull(st, "c", `_INBOX.${st}.wait`, '{"batch":2,"expires":1000000000}');
    await fx.w.take(wt, 2);
    const frames = fx.w.on(wt).map((m) => statusOf(m) || `msg ${ackInfo(m.reply!).sseq}`);
    assert.ok(frames.includes("409 Exceeded MaxWaiting"), frames.join(", "));
    assert.ok(frames.includes("msg 3"), frames.join(", "));
  });

  test("filter_subjects: several filters, only their messages, exact pending; invalid sets refused", async () => {
    const st = await stream();
    for (const x of ["a.1", "b.1", "c.1", "a.2", "b.2", "a.1"]) fx.w.pub(`${st}.${x}`, null, x);
    await fx.w.flush();
    const r = await fx.w.request(`$JS.API.CONSUMER.CREATE.${st}`, { stream_name: st, config: { name: "f", ack_policy: "explicit", filter_subjects: [`${st}.a.1`, `${st}.b.*`] } });
    assert.deepEqual(r.config.filter_subjects, [`${st}.a.1`, `${st}.b.*`]);
    assert.equal(r.num_pending, 4);
    const inbox = fx.w.sub(`_INBOX.${st}`);
    pull(st, "f", `_INBOX.${st}`, '{"batch":10,"no_wait":true}');
    await waitFor("done", () => fx.w.on(inbox).some((m) => statusOf(m) !== ""), 10_000);
    const got = deliveries(inbox).map((m) => [m.subject, ackInfo(m.reply!).sseq, ackInfo(m.reply!).pending]);
    assert.deepEqual(got, [
      [`${st}.a.1`, 1, 3],
      [`${st}.b.1`, 2, 2],
      [`${st}.b.2`, 5, 1],
      [`${st}.a.1`, 6, 0],
    ]);
    const bad = async (config: Record<string, unknown>) => (await fx.w.request(`$JS.API.CONSUMER.CREATE.${st}`, { stream_name: st, config: { ack_policy: "none", ...config } })).error?.err_code;
    assert.equal(await bad({ filter_subjects: [`${st}.a.*`, `${st}.a.1`] }), 10138);
    assert.equal(await bad({ filter_subjects: [`${st}.a.1`], filter_subject: `${st}.b.1` }), 10136);
    assert.equal(await bad({ filter_subjects: [""] }), 10139);
    // The filter token form of the create subject does not take filter_subjects.
    assert.equal((await fx.w.request(`$JS.API.CONSUMER.CREATE.${st}.g.${st}.a.1`, { stream_name: st, config: { name: "g", filter_subjects: [`${st}.a.1`] } })).error.err_code, 10137);
  });

  test("deliver_policy by_start_time and last_per_subject", async () => {
    const st = await stream();
    for (const x of ["a", "b", "a", "c", "b", "a"]) fx.w.pub(`${st}.${x}`, null, x);
    await fx.w.flush();
    const t4 = (await fx.w.request(`$JS.API.STREAM.MSG.GET.${st}`, { seq: 4 })).message.time;
    const bt = await create(st, "t", { ack_policy: "none", deliver_policy: "by_start_time", opt_start_time: t4 });
    assert.equal(bt.num_pending, 3);
    assert.deepEqual(bt.delivered, { consumer_seq: 0, stream_seq: 3 });
    const lps = await create(st, "l", { ack_policy: "none", deliver_policy: "last_per_subject", filter_subject: `${st}.>` });
    assert.equal(lps.num_pending, 3);
    const lps2 = await create(st, "l2", { ack_policy: "none", deliver_policy: "last_per_subject", filter_subject: `${st}.b` });
    assert.equal(lps2.num_pending, 1);
    const seqs: Record<string, number[][]> = {};
    for (const c of ["t", "l", "l2"]) {
      const inbox = fx.w.sub(`_INBOX.${st}.${c}`);
      pull(st, c, `_INBOX.${st}.${c}`, '{"batch":10,"no_wait":true}');
      await waitFor("done", () => fx.w.on(inbox).some((m) => statusOf(m) !== ""), 10_000);
      seqs[c] = deliveries(inbox).map((m) => [ackInfo(m.reply!).sseq, ackInfo(m.reply!).pending]);
    }
    // By start time from 4; last per subject in stream order: c (4), b (5), a (6).
    assert.deepEqual(seqs, {
      t: [
        [4, 2],
        [5, 1],
        [6, 0],
      ],
      l: [
        [4, 2],
        [5, 1],
        [6, 0],
      ],
      l2: [[5, 0]],
    });
    // Live messages follow the snapshot.
    fx.w.pub(`${st}.b`, null, "b");
    const inbox = fx.w.sub(`_INBOX.${st}.l2b`);
    pull(st, "l2", `_INBOX.${st}.l2b`, '{"batch":1,"expires":2000000000}');
    assert.equal(ackInfo((await fx.w.take(inbox, 1))[0]!.reply!).sseq, 7);
  });

  test("a durable updated by `name` alone stays durable; over-long names are refused", async () => {
    const st = await stream();
    const made = await fx.w.request(`$JS.API.CONSUMER.CREATE.${st}.d`, { stream_name: st, config: { durable_name: "d", ack_policy: "explicit" } });
    assert.equal(made.error, undefined, JSON.stringify(made));
    const upd = await fx.w.request(`$JS.API.CONSUMER.CREATE.${st}.d`, { stream_name: st, config: { name: "d", ack_policy: "explicit", description: "upd" } });
    assert.equal(upd.error, undefined, JSON.stringify(upd));
    assert.equal(upd.config.description, "upd");
    assert.equal(upd.config.inactive_threshold, undefined, "no ephemeral inactivity threshold for a durable");
    const info = await fx.w.request(`$JS.API.CONSUMER.INFO.${st}.d`);
    assert.equal(info.config.inactive_threshold, undefined);
    const long = "n".repeat(256);
    const bad = await fx.w.request(`$JS.API.CONSUMER.CREATE.${st}.${long}`, { stream_name: st, config: { name: long, ack_policy: "explicit" } });
    assert.equal(bad.error?.err_code, 10102, JSON.stringify(bad));
    // The limit is in bytes, as nats-server counts: 128 two-byte letters are 256.
    const wide = "\u00e9".repeat(128);
    const badWide = await fx.w.request(`$JS.API.CONSUMER.DURABLE.CREATE.${st}.${wide}`, { stream_name: st, config: { durable_name: wide, ack_policy: "explicit" } });
    assert.equal(badWide.error?.err_code, 10102, JSON.stringify(badWide));
  });

  test("a stream's consumer_limits bound max_ack_pending and inactive_threshold", async () => {
    const st = await stream({ consumer_limits: { max_ack_pending: 10, inactive_threshold: 2000 * MS } });
    const mk = (name: string, extra: Record<string, unknown>) => fx.w.request(`$JS.API.CONSUMER.CREATE.${st}.${name}`, { stream_name: st, config: { name, ack_policy: "explicit", ...extra } });
    assert.deepEqual((await mk("a", { max_ack_pending: 50 })).error, { code: 400, err_code: 10121, description: "consumer max ack pending exceeds system limit of 10" });
    assert.deepEqual((await mk("b", { inactive_threshold: 60_000 * MS })).error, { code: 400, err_code: 10153, description: "consumer inactive threshold exceeds system limit of 2s" });
    const ok = await mk("c", { max_ack_pending: 10, inactive_threshold: 1000 * MS });
    assert.equal(ok.error, undefined, JSON.stringify(ok));
    const dflt = await mk("d", {});
    assert.deepEqual([dflt.config.max_ack_pending, dflt.config.inactive_threshold], [10, 2000 * MS], "the limits are the defaults");
    // Durables and ack-none consumers take them too (nats-server 2.10+).
    const dur = await fx.w.request(`$JS.API.CONSUMER.CREATE.${st}.dur`, { stream_name: st, config: { durable_name: "dur", ack_policy: "none" } });
    assert.deepEqual([dur.config.max_ack_pending, dur.config.inactive_threshold], [10, 2000 * MS], JSON.stringify(dur));
    const big = await stream({ consumer_limits: { max_ack_pending: 5000 } });
    const b = await fx.w.request(`$JS.API.CONSUMER.CREATE.${big}.b`, { stream_name: big, config: { durable_name: "b", ack_policy: "explicit" } });
    assert.equal(b.config.max_ack_pending, 5000, "a limit above the usual default is the default");
  });

  test("pedantic mode refuses the defaults that would change the request, and creates nothing", async () => {
    const st = await stream({ consumer_limits: { max_ack_pending: 10, inactive_threshold: 2000 * MS } });
    const mk = (name: string, extra: Record<string, unknown>, pedantic: boolean) =>
      fx.w.request(`$JS.API.CONSUMER.CREATE.${st}.${name}`, { stream_name: st, config: { name, ack_policy: "explicit", ...extra }, pedantic });
    const pedanticErr = (err: string) => ({ code: 400, err_code: 10157, description: `pedantic mode: ${err}` });
    const given = { max_ack_pending: 5, inactive_threshold: 1000 * MS };
    assert.deepEqual((await mk("a", { inactive_threshold: 1000 * MS }, true)).error, pedanticErr("max_ack_pending must be set if it's configured in stream limits"));
    assert.deepEqual((await mk("b", { max_ack_pending: 5 }, true)).error, pedanticErr("inactive_threshold must be set if it's configured in stream limits"));
    assert.deepEqual((await mk("c", { ...given, backoff: [1000 * MS, 2000 * MS], max_deliver: 5 }, true)).error, pedanticErr("first backoff value has to equal batch AckWait"));
    assert.deepEqual((await mk("d", { ...given, max_deliver: -2 }, true)).error, pedanticErr("max_deliver must be set to -1"));
    assert.deepEqual((await mk("e", { ...given, max_expires: -1 }, true)).error, pedanticErr("max_expires must not be negative"));
    const names = await fx.w.request(`$JS.API.CONSUMER.NAMES.${st}`);
    assert.deepEqual(names.consumers, [], "a refused request creates nothing");
    // The same requests without pedantic get the defaults; a complete one passes pedantic mode.
    const lax = await mk("a", { inactive_threshold: 1000 * MS }, false);
    assert.equal(lax.config?.max_ack_pending, 10, JSON.stringify(lax));
    const full = await mk("f", { ...given, ack_wait: 1000 * MS, backoff: [1000 * MS, 2000 * MS], max_deliver: 5 }, true);
    assert.equal(full.error, undefined, JSON.stringify(full));
    assert.deepEqual([full.config.max_ack_pending, full.config.ack_wait], [5, 1000 * MS]);
  });

  test("metadata, description and num_replicas are kept and echoed", async () => {
    const st = await stream();
    const r = await create(st, "m", { durable_name: "m", ack_policy: "none", metadata: { team: "core", tier: "1" }, description: "a consumer", num_replicas: 1 });
    assert.deepEqual([r.config.metadata, r.config.description, r.config.num_replicas], [{ team: "core", tier: "1" }, "a consumer", 1]);
    const i = await fx.w.request(`$JS.API.CONSUMER.INFO.${st}.m`);
    assert.deepEqual(i.config.metadata, { team: "core", tier: "1" });
    const big = await create(st, "big", { ack_policy: "none", metadata: { k: "x".repeat(130 * 1024) } });
    assert.equal(big.error.err_code, 10135);
    assert.equal((await create(st, "r3", { ack_policy: "none", num_replicas: 3 })).error?.err_code !== undefined, true);
  });
});

describe("consumer state across a restart", () => {
  test("durables keep their state; mem_storage consumers do not survive", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cstate-"));
    try {
      let s = await startJs({}, dir);
      let w = await Wire.connect(s.port);
      await w.request("$JS.API.STREAM.CREATE.R", { name: "R", subjects: ["r.>"] });
      for (let i = 1; i <= 6; i++) w.pub("r.x", null, `m${i}`);
      await w.flush();
      await w.request("$JS.API.CONSUMER.CREATE.R.d", { stream_name: "R", config: { durable_name: "d", ack_policy: "explicit", ack_wait: 1000 * MS, metadata: { k: "v" } } });
      await w.request("$JS.API.CONSUMER.CREATE.R.mem", { stream_name: "R", config: { durable_name: "mem", ack_policy: "explicit", mem_storage: true } });
      const inbox = w.sub("_INBOX.d");
      w.pub("$JS.API.CONSUMER.MSG.NEXT.R.d", "_INBOX.d", '{"batch":4}');
      const got = await w.take(inbox, 4);
      const acks = w.sub("_INBOX.acks");
      w.pub(got[0]!.reply!, "_INBOX.acks", "+ACK");
      w.pub(got[2]!.reply!, "_INBOX.acks", "+ACK");
      await w.take(acks, 2);
      const before = await w.request("$JS.API.CONSUMER.INFO.R.d");
      w.close();
      await s.stop();
      s = await startJs({}, dir);
      w = await Wire.connect(s.port);
      const after = await w.request("$JS.API.CONSUMER.INFO.R.d");
      const keep = (ci: any) => [ci.delivered.consumer_seq, ci.delivered.stream_seq, ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq, ci.num_ack_pending, ci.num_pending, ci.config, ci.created];
      assert.deepEqual(keep(after), keep(before));
      assert.deepEqual(keep(after).slice(0, 6), [4, 4, 1, 1, 2, 2]);
      const names = await w.request("$JS.API.CONSUMER.NAMES.R");
      assert.deepEqual(names.consumers, ["d"]);
      // 5 and 6 are next; the unacked 2 and 4 come back once their ack wait has run out.
      const in2 = w.sub("_INBOX.d2");
      w.pub("$JS.API.CONSUMER.MSG.NEXT.R.d", "_INBOX.d2", '{"batch":4,"expires":5000000000}');
      const next = await w.take(in2, 4, 10_000);
      assert.deepEqual(next.map((m) => ackInfo(m.reply!).sseq).sort(), [2, 4, 5, 6]);
      assert.deepEqual(
        next.filter((m) => ackInfo(m.reply!).sseq < 5).map((m) => ackInfo(m.reply!).dc),
        [2, 2],
      );
      w.close();
      await s.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
