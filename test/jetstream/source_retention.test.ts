// Sources and mirrors of interest and workqueue streams. nats-server copies through a consumer on
// the origin, which counts for retention: a message a source will copy is stored and kept for
// it, and goes once it is copied and nothing else needs it. tsnats keeps it until the copy is
// durable, so a copy that the sourcing stream refuses (full, discard new) waits in the origin
// instead of being lost. A source that goes for good lets its interest origin drop what only it
// still needed.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v3 from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { waitFor } from "../helpers/wait.js";
import { api, jsClientFixture, pub, startJs, type Json } from "./helpers.js";
import type { JetStream } from "../../jetstream/jetstream.js";

const info = (nc: v3.NatsConnection, name: string): Promise<Json> => api(nc, `$JS.API.STREAM.INFO.${name}`);
const create = async (nc: v3.NatsConnection, cfg: Record<string, unknown>): Promise<Json> => {
  const r = await api(nc, `$JS.API.STREAM.CREATE.${cfg.name}`, cfg);
  assert.equal(r.error, undefined, JSON.stringify(r));
  return r;
};
const update = async (nc: v3.NatsConnection, cfg: Record<string, unknown>): Promise<Json> => {
  const r = await api(nc, `$JS.API.STREAM.UPDATE.${cfg.name}`, cfg);
  assert.equal(r.error, undefined, JSON.stringify(r));
  return r;
};

/** [messages, first_seq, last_seq] of a stream. */
async function state(nc: v3.NatsConnection, name: string): Promise<number[]> {
  const s = (await info(nc, name)).state;
  return [s.messages, s.first_seq, s.last_seq];
}

async function stateIs(nc: v3.NatsConnection, name: string, want: number[]): Promise<void> {
  let last: number[] = [];
  await waitFor(`${name} to be ${JSON.stringify(want)} (messages, first, last)`, async () => {
    last = await state(nc, name);
    return JSON.stringify(last) === JSON.stringify(want);
  }).catch((e: Error) => {
    throw new Error(`${e.message}; last seen ${JSON.stringify(last)}`);
  });
}

/** Waits until the stream's only source reports a refused message (it is stuck). */
async function stuck(nc: v3.NatsConnection, name: string): Promise<Json> {
  return waitFor(`${name}'s source to report a refusal`, async () => {
    const i = await info(nc, name);
    return i.sources?.[0]?.error ? i : false;
  });
}

/** The origin sequences a sourcing stream holds copies of, from their Nats-Stream-Source headers. */
async function copiedSeqs(nc: v3.NatsConnection, name: string): Promise<number[]> {
  const st = (await info(nc, name)).state;
  const out: number[] = [];
  for (let seq = st.first_seq; seq <= st.last_seq; seq++) {
    const m = await api(nc, `$JS.API.STREAM.MSG.GET.${name}`, { seq });
    if (m.error) continue;
    const h = Buffer.from(m.message.hdrs, "base64").toString("latin1");
    out.push(Number(/Nats-Stream-Source: \S+ (\d+)/.exec(h)![1]));
  }
  return out;
}

describe("sources of interest and workqueue streams", () => {
  const fx = jsClientFixture();

  test("an interest origin with no consumers keeps for its source what the source's filter takes, and lets each go once copied", async () => {
    const nc = fx.nc;
    await create(nc, { name: "OI", subjects: ["oi.*"], retention: "interest" });
    await create(nc, { name: "SI", sources: [{ name: "OI", filter_subject: "oi.a" }] });
    for (let i = 0; i < 5; i++) {
      await pub(nc, "oi.a", `a${i}`);
      await pub(nc, "oi.b", `b${i}`);
    }
    await stateIs(nc, "SI", [5, 1, 5]);
    assert.deepEqual(await copiedSeqs(nc, "SI"), [1, 3, 5, 7, 9]);
    // oi.b had no interest at all; each oi.a went once its copy was durable.
    await stateIs(nc, "OI", [0, 11, 10]);
  });

  test("with a consumer too, a message goes only once the consumer has acked it and the source has copied it", async () => {
    const nc = fx.nc;
    const jsm = await jetstreamManager(nc);
    await create(nc, { name: "OC", subjects: ["oc"], retention: "interest" });
    await jsm.consumers.add("OC", { durable_name: "d", ack_policy: AckPolicy.Explicit });
    // The source takes two and then is refused: the rest wait in the origin for it.
    await create(nc, { name: "SC", sources: [{ name: "OC" }], max_msgs: 2, discard: "new" });
    for (let i = 1; i <= 5; i++) await pub(nc, "oc", `m${i}`);
    await stuck(nc, "SC");
    assert.deepEqual(await state(nc, "SC"), [2, 1, 2]);
    assert.deepEqual(await state(nc, "OC"), [5, 1, 5], "the consumer has acked nothing yet");
    const c = await jetstream(nc).consumers.get("OC", "d");
    let n = 0;
    for await (const m of await c.fetch({ max_messages: 5, expires: 5000 })) {
      await m.ackAck();
      if (++n === 5) break;
    }
    assert.equal(n, 5);
    // Acked, but 3..5 are not copied yet (1 and 2 go once their copies' commit is done).
    await stateIs(nc, "OC", [3, 3, 5]);
    await update(nc, { name: "SC", sources: [{ name: "OC" }], max_msgs: 10, discard: "new" });
    await stateIs(nc, "SC", [5, 1, 5]);
    await stateIs(nc, "OC", [0, 6, 5]);
    assert.deepEqual(await copiedSeqs(nc, "SC"), [1, 2, 3, 4, 5]);
  });

  test("a workqueue origin: its source drains it; with a worker as well, a message goes once both have it", async () => {
    const nc = fx.nc;
    const jsm = await jetstreamManager(nc);
    await create(nc, { name: "OW", subjects: ["ow"], retention: "workqueue" });
    await jsm.consumers.add("OW", { durable_name: "w", ack_policy: AckPolicy.Explicit });
    // SW has a subject of its own: a PubAck from it comes after the commits of earlier copies.
    await create(nc, { name: "SW", subjects: ["sw.own"], sources: [{ name: "OW" }], max_msgs: 1, discard: "new" });
    for (let i = 1; i <= 4; i++) await pub(nc, "ow", `m${i}`);
    await stuck(nc, "SW");
    const c = await jetstream(nc).consumers.get("OW", "w");
    let n = 0;
    for await (const m of await c.fetch({ max_messages: 4, expires: 5000 })) {
      await m.ackAck();
      if (++n === 4) break;
    }
    // The worker acked all four, the source has copied one.
    await stateIs(nc, "OW", [3, 2, 4]);
    await update(nc, { name: "SW", subjects: ["sw.own"], sources: [{ name: "OW" }], max_msgs: 100, discard: "new" });
    await stateIs(nc, "SW", [4, 1, 4]);
    await stateIs(nc, "OW", [0, 5, 4]);
    // Now the other way round: copied, not yet worked on.
    await pub(nc, "ow", "m5");
    await stateIs(nc, "SW", [5, 1, 5]);
    assert.equal((await pub(nc, "sw.own", "barrier")).seq, 6);
    assert.deepEqual(await state(nc, "OW"), [1, 5, 5], "copied, but the worker has not acked it");
    for await (const m of await c.fetch({ max_messages: 1, expires: 5000 })) {
      assert.equal(m.seq, 5);
      await m.ackAck();
      break;
    }
    assert.deepEqual(await state(nc, "OW"), [0, 6, 5]);
    // With no worker left, the source alone drains it.
    await jsm.consumers.delete("OW", "w");
    await pub(nc, "ow", "m6");
    await stateIs(nc, "SW", [7, 1, 7]);
    await stateIs(nc, "OW", [0, 7, 6]);
  });

  test("a mirror of an interest stream gets every message the origin took, and the origin lets them go", async () => {
    const nc = fx.nc;
    await create(nc, { name: "OM", subjects: ["om.>"], retention: "interest" });
    await create(nc, { name: "MM", mirror: { name: "OM" } });
    for (let i = 1; i <= 6; i++) await pub(nc, `om.${i % 2}`, `m${i}`);
    await stateIs(nc, "MM", [6, 1, 6]);
    await stateIs(nc, "OM", [0, 7, 6]);
  });

  test("a source taken out by an update, or a sourcing stream deleted, lets the interest origin drop what only it needed", async () => {
    const nc = fx.nc;
    for (const how of ["update", "delete"]) {
      const o = `OG${how}`;
      const s = `SG${how}`;
      await create(nc, { name: o, subjects: [`og.${how}`], retention: "interest" });
      await create(nc, { name: s, subjects: [`sg.${how}`], sources: [{ name: o }], max_msgs: 2, discard: "new" });
      for (let i = 1; i <= 5; i++) await pub(nc, `og.${how}`, `m${i}`);
      await stuck(nc, s);
      // 3..5 wait for the source (1 and 2 go once their copies' commit is done).
      await stateIs(nc, o, [3, 3, 5]);
      if (how === "update") await update(nc, { name: s, subjects: [`sg.${how}`], max_msgs: 2, discard: "new" });
      else assert.equal((await api(nc, `$JS.API.STREAM.DELETE.${s}`)).success, true);
      assert.deepEqual(await state(nc, o), [0, 6, 5], `${how}: nothing needs them any more`);
      // And nothing new is kept for it.
      await pub(nc, `og.${how}`, "later");
      assert.deepEqual(await state(nc, o), [0, 7, 6], how);
    }
  });
});

/** What a crash leaves of a running server's store: each database with its write-ahead log. */
function crashImage(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) {
    const src = join(from, f);
    if (statSync(src).isDirectory()) crashImage(src, join(to, f));
    else if (f.endsWith(".db") || f.endsWith(".db-wal")) copyFileSync(src, join(to, f));
  }
}

test("copies whose removal at the origin was lost (a crash between the two commits) go when the sources start again; what a consumer needs stays", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-srcret-"));
  try {
    const s1 = await startJs({}, join(dir, "a"));
    // The lost removal, injected: the origin is never told that copies are durable.
    s1.server.extension<JetStream>("jetstream")!.copied = () => {};
    let nc = await v3.connect({ servers: s1.url });
    await create(nc, { name: "LO", subjects: ["lo.*"], retention: "interest" });
    const jsm = await jetstreamManager(nc);
    // Consumers that ack nothing: b takes what no source copies, c what one does.
    for (const f of ["b", "c"]) await jsm.consumers.add("LO", { durable_name: f, filter_subject: `lo.${f}`, ack_policy: AckPolicy.Explicit });
    await create(nc, { name: "LS", sources: [{ name: "LO", filter_subject: "lo.a" }, { name: "LO", filter_subject: "lo.c" }] });
    for (const subj of ["lo.a", "lo.b", "lo.c", "lo.a", "lo.b", "lo.c"]) await pub(nc, subj, subj);
    await stateIs(nc, "LS", [4, 1, 4]);
    assert.deepEqual(await state(nc, "LO"), [6, 1, 6]);
    crashImage(join(dir, "a"), join(dir, "b"));
    await nc.close();
    await s1.stop();

    const s2 = await startJs({}, join(dir, "b"));
    try {
      nc = await v3.connect({ servers: s2.url });
      // Consumers are recovered after the sources: only then can anything be judged unneeded.
      assert.deepEqual(await state(nc, "LO"), [4, 2, 6], "the copied lo.a messages went; lo.b and the copied lo.c stay for their consumers");
      assert.deepEqual((await copiedSeqs(nc, "LS")).sort((x, y) => x - y), [1, 3, 4, 6], "nothing copied twice");
      await nc.close();
    } finally {
      await s2.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("at shutdown a copy still committing, and an ack taken while the stores flush, keep what another source has still to copy", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-srcstop-"));
  try {
    const s1 = await startJs({}, dir);
    const js = s1.server.extension<JetStream>("jetstream")!;
    let nc = await v3.connect({ servers: s1.url });
    await create(nc, { name: "HO", subjects: ["ho"], retention: "interest" });
    await jetstreamManager(nc).then((m) => m.consumers.add("HO", { durable_name: "d", ack_policy: AckPolicy.Explicit }));
    await create(nc, { name: "HS1", sources: [{ name: "HO" }] });
    // HS2 is full (discard new): it cannot copy until after the restart.
    await create(nc, { name: "HS2", subjects: ["hs2.own"], sources: [{ name: "HO" }], max_msgs: 1, discard: "new" });
    await pub(nc, "hs2.own", "fill");
    // HS1's commit callbacks are held: its copy is "still committing" when the shutdown starts.
    const held: (() => void)[] = [];
    let holding = true;
    const hs1 = js.registry.get("HS1")!.store;
    const afterCommit = hs1.afterCommit.bind(hs1);
    hs1.afterCommit = (cb) => afterCommit((err) => (holding ? held.push(() => cb(err)) : cb(err)));
    await pub(nc, "ho", "m1");
    await stateIs(nc, "HS1", [1, 1, 1]);
    await stuck(nc, "HS2");
    const c = await jetstream(nc).consumers.get("HO", "d");
    const msgs = await c.fetch({ max_messages: 1, expires: 5000 });
    let delivered: { ack(): void } | null = null;
    for await (const m of msgs) {
      delivered = m;
      break;
    }
    // The origin's flush at shutdown waits until the held callbacks have run and the ack is in.
    const ho = js.registry.get("HO")!.store;
    const flush = ho.flush.bind(ho);
    let flushing!: () => void;
    const flushStarted = new Promise<void>((r) => (flushing = r));
    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    ho.flush = () => {
      flushing();
      return gate.then(flush);
    };
    const stopping = s1.stop();
    await flushStarted;
    holding = false;
    for (const f of held.splice(0)) f();
    delivered!.ack();
    await nc.flush();
    assert.deepEqual(js.registry.get("HO")!.store.state().msgs, 1, "copied by HS1 and acked by d, but HS2 has still to copy it");
    go();
    await stopping;
    await nc.close().catch(() => {});

    const s2 = await startJs({}, dir);
    try {
      nc = await v3.connect({ servers: s2.url });
      assert.deepEqual(await state(nc, "HO"), [1, 1, 1]);
      await update(nc, { name: "HS2", subjects: ["hs2.own"], sources: [{ name: "HO" }], max_msgs: 10, discard: "new" });
      await stateIs(nc, "HS2", [2, 1, 2]);
      await stateIs(nc, "HO", [0, 2, 1]);
      assert.deepEqual(await state(nc, "HS1"), [1, 1, 1], "HS1 did not copy it again");
      await nc.close();
    } finally {
      await s2.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
