// Stream mirrors and sources. A mirror holds what its origin holds, at the same sequences and times,
// and can answer direct gets for it (mirror_direct). With sources, a stream copies the messages of the streams its config names (filters, subject
// transforms, start positions), with Nats-Stream-Source headers; it follows new messages, waits
// for origins that do not exist yet, retries a message it refused once there is room, shows each
// source in STREAM.INFO, and after a SIGKILL resumes exactly where its store says it was.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v3 from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { spawnServer, type ChildServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { api, errCode, jsClientFixture, pub, type Json } from "./helpers.js";

const info = (nc: v3.NatsConnection, name: string, body: unknown = undefined): Promise<Json> => api(nc, `$JS.API.STREAM.INFO.${name}`, body);
const create = (nc: v3.NatsConnection, cfg: Record<string, unknown>): Promise<Json> => api(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, cfg);
const get = (nc: v3.NatsConnection, name: string, seq: number): Promise<Json> => api(nc, `$JS.API.STREAM.MSG.GET.${name}`, { seq });

function headersOf(m: Json): Map<string, string> {
  const out = new Map<string, string>();
  if (!m.message?.hdrs) return out;
  const lines = Buffer.from(m.message.hdrs, "base64").toString("latin1").split("\r\n").slice(1);
  for (const l of lines) {
    const i = l.indexOf(":");
    if (i > 0) out.set(l.slice(0, i), l.slice(i + 1).trim());
  }
  return out;
}

async function countIs(nc: v3.NatsConnection, name: string, n: number): Promise<Json> {
  return waitFor(`${name} to hold ${n} messages`, async () => {
    const i = await info(nc, name);
    return i.state?.messages === n ? i : false;
  });
}

describe("stream sources", () => {
  const fx = jsClientFixture();

  test("config: sources are echoed, a sourcing stream needs no subjects, bad sources get nats-server's errors", async () => {
    const nc = fx.nc;
    assert.equal(errCode(await create(nc, { name: "CO", subjects: ["co.>"], max_msg_size: 100 })), undefined);
    const ok = await create(nc, { name: "CS", sources: [{ name: "CO", filter_subject: "co.a" }, { name: "CO", filter_subject: "co.b", opt_start_seq: 3 }] });
    assert.equal(ok.error, undefined, JSON.stringify(ok));
    assert.equal("subjects" in ok.config, false, "no subjects listed, as nats-server shows it");
    assert.deepEqual(ok.config.sources, [{ name: "CO", filter_subject: "co.a" }, { name: "CO", filter_subject: "co.b", opt_start_seq: 3 }]);
    const bad = async (cfg: Record<string, unknown>) => (await create(nc, { name: "CX", ...cfg })).error;
    assert.deepEqual(await bad({ sources: [{ name: "a.b" }] }), { code: 400, err_code: 10141, description: "sourced stream name is invalid" });
    assert.deepEqual(await bad({ sources: [{ name: "CO" }, { name: "CO", filter_subject: ">" }] }), { code: 400, err_code: 10140, description: "duplicate source configuration detected" });
    assert.equal(errCode(await create(nc, { name: "CX", sources: [{ name: "CO", filter_subject: "co.a", subject_transforms: [{ src: "co.b", dest: "x" }] }] })), 10144);
    assert.equal(errCode(await create(nc, { name: "CX", sources: [{ name: "CO", subject_transforms: [{ src: "co.>", dest: "x.>" }, { src: "co.a", dest: "y" }] }] })), 10147);
    assert.equal(errCode(await create(nc, { name: "CX", max_msg_size: 10, sources: [{ name: "CO" }] })), 10046);
    const ext = await bad({ sources: [{ name: "CO", external: { api: "$JS.other.API" } }] });
    assert.equal(ext.err_code, 10052);
    assert.match(ext.description, /external/);
    // A stream that sources itself, or two streams that source each other, would copy forever.
    assert.deepEqual(await bad({ subjects: ["cx"], sources: [{ name: "CX" }] }), { code: 500, err_code: 10052, description: "detected cycle" });
    assert.equal(errCode(await create(nc, { name: "CY", subjects: ["cy"], sources: [{ name: "CZ" }] })), undefined);
    assert.equal((await create(nc, { name: "CZ", subjects: ["cz"], sources: [{ name: "CY" }] })).error?.description, "detected cycle");
    const names = (await api(nc, "$JS.API.STREAM.NAMES")).streams as string[];
    assert.deepEqual(names.filter((n) => n === "CX" || n === "CZ"), [], "refused configs create nothing");
  });

  test("copies what is there and what comes later, with Nats-Stream-Source; filters and transforms pick and rename", async () => {
    const nc = fx.nc;
    await create(nc, { name: "O1", subjects: ["o1.*"] });
    for (let i = 1; i <= 3; i++) {
      await pub(nc, "o1.a", `a${i}`, { "Nats-Msg-Id": `ida${i}`, "X-Trace": `t${i}` });
      await pub(nc, "o1.b", `b${i}`, { "Nats-Expected-Last-Subject-Sequence": String(i === 1 ? 0 : 2 * i - 2) });
    }
    await create(nc, { name: "ALL", sources: [{ name: "O1" }] });
    await create(nc, { name: "ONLYB", sources: [{ name: "O1", filter_subject: "o1.b" }] });
    await create(nc, { name: "RENAMED", sources: [{ name: "O1", subject_transforms: [{ src: "o1.a", dest: "r.a" }] }] });
    await countIs(nc, "ALL", 6);
    await pub(nc, "o1.a", "a4");
    const all = await countIs(nc, "ALL", 7);
    assert.deepEqual(all.sources.map((s: Json) => [s.name, s.lag, s.active >= 0]), [["O1", 0, true]]);
    for (let seq = 1; seq <= 7; seq++) {
      const m = await get(nc, "ALL", seq);
      const o = await get(nc, "O1", seq);
      assert.equal(m.message.subject, o.message.subject);
      assert.equal(m.message.data, o.message.data);
      const h = headersOf(m);
      assert.equal(h.get("Nats-Stream-Source"), `O1 ${seq} > >`, "nats-server's order: stream, sequence, filter, destination");
      assert.equal(h.has("Nats-Expected-Last-Subject-Sequence"), false, "conditions were the origin's to check");
      const oh = headersOf(o);
      for (const k of ["Nats-Msg-Id", "X-Trace"]) assert.equal(h.get(k), oh.get(k));
    }
    const b = await countIs(nc, "ONLYB", 3);
    assert.deepEqual(b.sources[0].filter_subject, "o1.b");
    assert.deepEqual(headersOf(await get(nc, "ONLYB", 1)).get("Nats-Stream-Source"), "O1 2 o1.b >");
    const r = await countIs(nc, "RENAMED", 4);
    assert.equal(r.error, undefined);
    const subjects = (await info(nc, "RENAMED", { subjects_filter: ">" })).state.subjects;
    assert.deepEqual(subjects, { "r.a": 4 });
    assert.equal(headersOf(await get(nc, "RENAMED", 4)).get("Nats-Stream-Source"), "O1 7 o1.a r.a");
  });

  test("a copy of a copy has one Nats-Stream-Source; two sources merge; a Nats-Msg-Id seen twice is stored once", async () => {
    const nc = fx.nc;
    await create(nc, { name: "M1", subjects: ["m1"] });
    await create(nc, { name: "M2", subjects: ["m2"] });
    await pub(nc, "m1", "x", { "Nats-Msg-Id": "same" });
    await pub(nc, "m2", "y", { "Nats-Msg-Id": "same" });
    await pub(nc, "m2", "z");
    await create(nc, { name: "MERGED", sources: [{ name: "M1" }, { name: "M2" }] });
    await create(nc, { name: "SECOND", sources: [{ name: "MERGED" }] });
    await countIs(nc, "MERGED", 2);
    await countIs(nc, "SECOND", 2);
    for (let seq = 1; seq <= 2; seq++) {
      const m = await get(nc, "SECOND", seq);
      const h = Buffer.from(m.message.hdrs, "base64").toString("latin1");
      assert.equal(h.split("Nats-Stream-Source:").length, 2, h);
      assert.match(h, new RegExp(`Nats-Stream-Source: MERGED ${seq} > >\r\n`));
    }
  });

  test("waits for an origin that does not exist yet, and for one deleted and made again", async () => {
    const nc = fx.nc;
    const early = await create(nc, { name: "EARLY", sources: [{ name: "LATER" }] });
    assert.equal(early.error, undefined);
    assert.deepEqual(early.sources, [{ name: "LATER", lag: 0, active: -1 }]);
    await create(nc, { name: "LATER", subjects: ["later"] });
    await pub(nc, "later", "1");
    await pub(nc, "later", "2");
    await countIs(nc, "EARLY", 2);
    await api(nc, "$JS.API.STREAM.DELETE.LATER");
    await create(nc, { name: "LATER", subjects: ["later"] });
    // The new origin starts at 1 again: the source keeps its place (2), as nats-server's does.
    for (let i = 1; i <= 3; i++) await pub(nc, "later", `again ${i}`);
    await countIs(nc, "EARLY", 3);
    assert.equal((await get(nc, "EARLY", 3)).message.data, Buffer.from("again 3").toString("base64"));
  });

  test("opt_start_seq and opt_start_time choose where copying starts", async () => {
    const nc = fx.nc;
    await create(nc, { name: "ST", subjects: ["st"] });
    for (let i = 1; i <= 5; i++) await pub(nc, "st", `m${i}`);
    const third = await get(nc, "ST", 3);
    await create(nc, { name: "FROM4", sources: [{ name: "ST", opt_start_seq: 4 }] });
    await create(nc, { name: "FROMT", sources: [{ name: "ST", opt_start_time: third.message.time }] });
    await countIs(nc, "FROM4", 2);
    await countIs(nc, "FROMT", 3);
    assert.equal(headersOf(await get(nc, "FROMT", 1)).get("Nats-Stream-Source"), "ST 3 > >");
  });

  test("a message the stream refuses (discard new, full) is retried once there is room; the error shows meanwhile", async () => {
    const nc = fx.nc;
    await create(nc, { name: "FULLO", subjects: ["fullo"] });
    for (let i = 1; i <= 4; i++) await pub(nc, "fullo", `m${i}`);
    await create(nc, { name: "FULL", max_msgs: 2, discard: "new", sources: [{ name: "FULLO" }] });
    const stuck = await waitFor("the source to report the refusal", async () => {
      const i = await info(nc, "FULL");
      return i.sources[0].error ? i : false;
    });
    assert.equal(stuck.state.messages, 2);
    assert.equal(stuck.sources[0].lag, 2);
    assert.equal(stuck.sources[0].error.err_code, 10077);
    await api(nc, "$JS.API.STREAM.PURGE.FULL");
    await waitFor("the rest to be copied", async () => {
      const i = await info(nc, "FULL");
      return i.state.last_seq === 4 && i.state.messages === 2 && i.sources[0].error === undefined ? i : false;
    });
    assert.equal(headersOf(await get(nc, "FULL", 4)).get("Nats-Stream-Source"), "FULLO 4 > >");
  });

  test("an update adds and removes sources; a removed source stops, one added back starts over", async () => {
    const nc = fx.nc;
    await create(nc, { name: "U1", subjects: ["u1"] });
    await create(nc, { name: "U2", subjects: ["u2"] });
    await pub(nc, "u1", "1");
    await pub(nc, "u2", "2");
    await create(nc, { name: "UP", sources: [{ name: "U1" }] });
    await countIs(nc, "UP", 1);
    const up = await api(nc, "$JS.API.STREAM.UPDATE.UP", { name: "UP", sources: [{ name: "U1" }, { name: "U2" }] });
    assert.equal(up.error, undefined, JSON.stringify(up));
    await countIs(nc, "UP", 2);
    await api(nc, "$JS.API.STREAM.UPDATE.UP", { name: "UP", sources: [{ name: "U2" }] });
    await pub(nc, "u1", "not copied");
    await pub(nc, "u2", "copied");
    await countIs(nc, "UP", 3);
    assert.equal((await get(nc, "UP", 3)).message.data, Buffer.from("copied").toString("base64"));
    await api(nc, "$JS.API.STREAM.UPDATE.UP", { name: "UP", sources: [{ name: "U1" }, { name: "U2" }] });
    await countIs(nc, "UP", 5);
  });

  test("a workqueue stream fed by a source: acked messages go, the others stay (the @nats-io/jetstream way)", async () => {
    const nc = fx.nc;
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: "WQO", subjects: ["wqo.*"] });
    for (let i = 0; i < 10; i++) {
      await js.publish("wqo.A");
      await js.publish("wqo.B");
    }
    await jsm.streams.add({ name: "WORK", retention: "workqueue" as never, sources: [{ name: "WQO", filter_subject: ">" }] });
    await countIs(nc, "WORK", 20);
    await jsm.consumers.add("WORK", { ack_policy: AckPolicy.Explicit, durable_name: "worker", filter_subject: "wqo.B" });
    const c = await js.consumers.get("WORK", "worker");
    let n = 0;
    for await (const m of await c.fetch({ max_messages: 10, expires: 5000 })) {
      m.ack();
      n++;
    }
    assert.equal(n, 10);
    await countIs(nc, "WORK", 10);
  });
});

describe("stream mirrors", () => {
  const fx = jsClientFixture();

  test("config: the mirror is echoed without subjects; what a mirror may not have gets nats-server's errors", async () => {
    const nc = fx.nc;
    await create(nc, { name: "MO", subjects: ["mo.>"], allow_direct: true });
    const ok = await create(nc, { name: "MM", mirror: { name: "MO", filter_subject: "mo.a" } });
    assert.equal(ok.error, undefined, JSON.stringify(ok));
    assert.deepEqual([ok.config.subjects, ok.config.duplicate_window, ok.config.mirror, ok.config.mirror_direct], [undefined, undefined, { name: "MO", filter_subject: "mo.a" }, true], "no subjects and no duplicate window of its own");
    const bad = async (cfg: Record<string, unknown>) => (await create(nc, { name: "MX", ...cfg })).error;
    assert.deepEqual(await bad({ subjects: ["mx"], mirror: { name: "MO" } }), { code: 400, err_code: 10034, description: "stream mirrors can not contain subjects" });
    assert.deepEqual(await bad({ mirror: { name: "MO" }, sources: [{ name: "MO" }] }), { code: 400, err_code: 10031, description: "stream mirrors can not also contain other sources" });
    assert.equal(errCode(await create(nc, { name: "MX", mirror: { name: "MO" }, first_seq: 5 })), 10143);
    assert.equal(errCode(await create(nc, { name: "MX", mirror: { name: "MO", opt_start_seq: 2, opt_start_time: "2026-01-01T00:00:00Z" } })), 10032);
    assert.equal(errCode(await create(nc, { name: "MX", mirror: { name: "a.b" } })), 10142);
    assert.equal(errCode(await create(nc, { name: "MX", mirror: { name: "MX" } })), 10052, "a stream can not mirror itself");
    assert.deepEqual(await bad({ subjects: ["mx"], mirror_direct: true }), { code: 500, err_code: 10052, description: "stream has no mirror but does have mirror direct" });
    // The mirror can not be changed, only taken away (the stream becomes an ordinary one).
    const upd = await api(nc, "$JS.API.STREAM.UPDATE.MM", { ...ok.config, mirror: { name: "MO" } });
    assert.equal(errCode(upd), 10055);
    const promoted = await api(nc, "$JS.API.STREAM.UPDATE.MM", { ...ok.config, mirror: undefined, mirror_direct: false, subjects: ["promoted"] });
    assert.equal(promoted.error, undefined, JSON.stringify(promoted));
    assert.equal((await pub(nc, "promoted", "now a stream of its own")).stream, "MM");
    assert.equal((await info(nc, "MM")).mirror, undefined);
  });

  test("holds the origin's messages at their sequences and times, gaps and all, and follows new ones", async () => {
    const nc = fx.nc;
    await create(nc, { name: "SRC", subjects: ["src.*"], allow_direct: true });
    for (let i = 1; i <= 6; i++) await pub(nc, `src.${i % 2 ? "odd" : "even"}`, `m${i}`, { "X-N": String(i) });
    await api(nc, "$JS.API.STREAM.MSG.DELETE.SRC", { seq: 3 });
    await api(nc, "$JS.API.STREAM.PURGE.SRC", { seq: 2 });
    const full = await create(nc, { name: "FULLM", mirror: { name: "SRC" } });
    assert.deepEqual(Object.keys(full.mirror), ["name", "lag", "active"]);
    assert.ok(full.mirror.name === "SRC" && full.mirror.lag <= 4 && full.mirror.active >= 0, JSON.stringify(full.mirror));
    const odd = await create(nc, { name: "ODDM", mirror: { name: "SRC", filter_subject: "src.odd" } });
    assert.equal(odd.error, undefined);
    await pub(nc, "src.even", "m7");
    const src = await waitFor("the mirror to catch up", async () => {
      const [a, b] = [await info(nc, "SRC"), await info(nc, "FULLM")];
      return a.state.last_seq === 7 && b.state.last_seq === 7 ? a : false;
    });
    const m = await info(nc, "FULLM");
    for (const k of ["messages", "bytes", "first_seq", "first_ts", "last_seq", "last_ts", "num_deleted"]) assert.deepEqual(m.state[k], src.state[k], k);
    for (const seq of [4, 5, 6, 7]) assert.deepEqual((await get(nc, "FULLM", seq)).message, (await get(nc, "SRC", seq)).message, `message ${seq}`);
    assert.equal(errCode(await get(nc, "FULLM", 3)), 10037);
    const o = await waitFor("the filtered mirror", async () => {
      const i = await info(nc, "ODDM");
      return i.state.messages === 1 ? i : false;
    });
    // Sequence 5 is the only odd one left at the origin: it keeps its number.
    assert.deepEqual([o.state.first_seq, o.state.last_seq], [5, 5]);
    assert.deepEqual((await get(nc, "ODDM", 5)).message, (await get(nc, "SRC", 5)).message);
  });

  test("memory streams: erasing a message at the origin or at its mirror leaves the other's copy whole", async () => {
    // A memory mirror may hold the very bytes its origin holds; an erase must not scrub them.
    const nc = fx.nc;
    await create(nc, { name: "MEMO", subjects: ["memo.*"], storage: "memory" });
    await create(nc, { name: "MEMM", mirror: { name: "MEMO" }, storage: "memory" });
    for (let i = 1; i <= 3; i++) await pub(nc, `memo.${i}`, `payload ${i}`, { "X-N": String(i) });
    await countIs(nc, "MEMM", 3);
    const before = [(await get(nc, "MEMM", 1)).message, (await get(nc, "MEMO", 2)).message];
    assert.equal(Buffer.from(before[0].data, "base64").toString(), "payload 1");
    assert.equal((await api(nc, "$JS.API.STREAM.MSG.DELETE.MEMO", { seq: 1 })).success, true, "erase at the origin");
    assert.equal((await api(nc, "$JS.API.STREAM.MSG.DELETE.MEMM", { seq: 2 })).success, true, "erase at the mirror");
    assert.deepEqual((await get(nc, "MEMM", 1)).message, before[0], "the mirror's message 1");
    assert.deepEqual((await get(nc, "MEMO", 2)).message, before[1], "the origin's message 2");
    assert.equal(errCode(await get(nc, "MEMO", 1)), 10037);
    assert.equal(errCode(await get(nc, "MEMM", 2)), 10037);
  });

  test("mirror_direct: a mirror answers direct gets for its origin once the origin is gone", async () => {
    const nc = fx.nc;
    await create(nc, { name: "DO", subjects: ["do.*"], allow_direct: true });
    await pub(nc, "do.k", "value");
    const dm = await create(nc, { name: "DM", mirror: { name: "DO" } });
    assert.equal(dm.config.mirror_direct, true, "follows the origin's allow_direct");
    await waitFor("the mirror", async () => ((await info(nc, "DM")).state.messages === 1 ? true : false));
    await api(nc, "$JS.API.STREAM.DELETE.DO");
    const r = await nc.request("$JS.API.DIRECT.GET.DO.do.k", "", { timeout: 2000 });
    assert.equal(r.string(), "value");
    assert.equal(r.headers?.get("Nats-Stream"), "DM");
    assert.equal(r.headers?.get("Nats-Sequence"), "1");
    // An origin without allow_direct makes a mirror without mirror_direct.
    await create(nc, { name: "NODIRECT", subjects: ["nd"] });
    assert.equal((await create(nc, { name: "NDM", mirror: { name: "NODIRECT" }, mirror_direct: true })).config.mirror_direct, false);
  });
});

/** How many distinct Nats-Stream-Source values the first n messages of a copy carry (read with a pull consumer). */
async function distinctSources(c: v3.NatsConnection, stream: string, n: number): Promise<number> {
  const jsm = await jetstreamManager(c);
  await jsm.consumers.add(stream, { durable_name: "check", ack_policy: AckPolicy.None });
  const cons = await jetstream(c).consumers.get(stream, "check");
  const seen = new Set<string>();
  for await (const m of await cons.fetch({ max_messages: n, expires: 10_000 })) {
    seen.add(m.headers!.get("Nats-Stream-Source"));
    if (seen.size === n) break;
  }
  return seen.size;
}

/**
 * A real server: the stream `origin` gets 3000 messages on subject(i), the copying stream `copy` is made
 * (before the messages with copyFirst), and once it holds anything the server is SIGKILLed;
 * restarted on the same store, `after` gets a connection to check what the copy became.
 */
async function killMidCopy(origin: Record<string, unknown>, subject: (i: number) => string, copy: Record<string, unknown>, after: (c: v3.NatsConnection) => Promise<void>, copyFirst = false): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-copy-"));
  const conf = `port: -1\nhost: 127.0.0.1\njetstream { store_dir: "${join(dir, "store")}" }\n`;
  let srv: ChildServer | null = null;
  let nc: v3.NatsConnection | null = null;
  const open = async (round: string) => {
    srv = await spawnServer(conf, { dir: mkdtempSync(join(dir, `${round}-`)) });
    nc = await v3.connect({ servers: srv.ports.nats![0]!, reconnect: false });
    return nc;
  };
  try {
    const c = await open("a");
    await create(c, origin);
    if (copyFirst) await create(c, copy);
    const js = jetstream(c);
    const acks = [];
    for (let i = 0; i < 3000; i++) acks.push(js.publish(subject(i), `m${i}`));
    await Promise.all(acks);
    if (!copyFirst) await create(c, copy);
    // Kill while the copy is under way (it goes in batches, one event-loop turn each).
    await waitFor("copying to start", async () => ((await info(c, copy.name as string)).state.messages > 0 ? true : false));
    srv!.kill("SIGKILL");
    await srv!.exited;
    await c.close().catch(() => {});
    await after(await open("b"));
  } finally {
    await (nc as v3.NatsConnection | null)?.close().catch(() => {});
    (srv as ChildServer | null)?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a mirror SIGKILLed in the middle of catching up comes back and ends equal to its origin", async () => {
  await killMidCopy({ name: "ORIG", subjects: ["orig.*"] }, (i) => `orig.${i % 5}`, { name: "MIR", mirror: { name: "ORIG" } }, async (c) => {
    for (let i = 3000; i < 3050; i++) await pub(c, `orig.${i % 5}`, `m${i}`);
    const o = await info(c, "ORIG");
    const m = await waitFor("the mirror to catch up", async () => {
      const i = await info(c, "MIR");
      return i.state.last_seq === 3050 ? i : false;
    });
    for (const k of ["messages", "bytes", "first_seq", "first_ts", "last_seq", "last_ts"]) assert.deepEqual(m.state[k], o.state[k], k);
    for (const seq of [1, 1499, 3000, 3050]) assert.deepEqual((await get(c, "MIR", seq)).message, (await get(c, "ORIG", seq)).message);
  });
});

test("after a SIGKILL in the middle of copying, every origin message is there exactly once", async () => {
  await killMidCopy({ name: "BIG", subjects: ["big.*"] }, (i) => `big.${i % 7}`, { name: "COPY", sources: [{ name: "BIG" }] }, async (c) => {
    for (let i = 3000; i < 3100; i++) await pub(c, `big.${i % 7}`, `m${i}`);
    await countIs(c, "COPY", 3100);
    const st = await info(c, "COPY");
    assert.deepEqual([st.state.first_seq, st.state.last_seq], [1, 3100]);
    for (const seq of [1, 2, 1500, 2999, 3000, 3001, 3100]) {
      const m = await get(c, "COPY", seq);
      assert.equal(headersOf(m).get("Nats-Stream-Source"), `BIG ${seq} > >`, `message ${seq} is origin message ${seq}`);
    }
    assert.equal(await distinctSources(c, "COPY", 3100), 3100, "no origin message copied twice or missed");
  });
});

test("an interest origin SIGKILLed while its source copies: after the restart each message is copied once and the origin lets all go", async () => {
  await killMidCopy(
    { name: "INT", subjects: ["int.*"], retention: "interest" },
    (i) => `int.${i % 3}`,
    { name: "ICOPY", sources: [{ name: "INT" }] },
    async (c) => {
      for (let i = 3000; i < 3010; i++) await pub(c, `int.${i % 3}`, `m${i}`);
      await countIs(c, "ICOPY", 3010);
      // Everything is copied, so the origin keeps nothing (whichever commit the kill cut short).
      await countIs(c, "INT", 0);
      assert.equal(await distinctSources(c, "ICOPY", 3010), 3010, "every acknowledged origin message copied, none twice");
    },
    true,
  );
});
