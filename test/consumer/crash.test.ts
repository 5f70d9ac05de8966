// Consumer state through crashes, with real processes: publishers and consumers work against
// bin/nats-server while it is killed with SIGKILL at random moments, again and again, over the
// same store. Consumers ack with double acks (+ACK with a reply), so the test knows which acks the
// server confirmed, and leave one message in ten unacked on its first delivery. At the end:
//  - every message whose publish was confirmed was delivered;
//  - every message left unacked was delivered again (its pending state survived);
//  - no message whose ack was confirmed was delivered again in a later life of the server;
//  - the limits stream's consumer has nothing pending and its floor at the end of the stream;
//  - the workqueue stream is empty.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v3 from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { spawnServer, type ChildServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const KILLS = Number(process.env.CONSUMER_CRASH_KILLS ?? 5);
const DRAIN_MS = Number(process.env.CONSUMER_CRASH_DRAIN_MS ?? 120_000);
const PER_STREAM = Number(process.env.CONSUMER_CRASH_MSGS ?? 1500);
const STREAMS = ["LIM", "WQ"] as const;

interface Books {
  /** Payloads whose PubAck arrived, per stream. */
  published: Record<string, Set<string>>;
  /** Stream sequence -> payload, per stream, as delivered. */
  payloadOf: Record<string, Map<number, string>>;
  /** Stream sequence -> the server life in which its ack was confirmed. */
  ackedIn: Record<string, Map<number, number>>;
  /** Payloads whose ack was confirmed. */
  ackedPayloads: Record<string, Set<string>>;
  /** Payload -> deliveries seen. */
  seen: Record<string, Map<string, number>>;
  /** Payloads deliberately not acked on their first delivery. */
  skipped: Record<string, Set<string>>;
  violations: string[];
  deliveries: number;
}

function books(): Books {
  const per = <T>(f: () => T) => Object.fromEntries(STREAMS.map((s) => [s, f()])) as Record<string, T>;
  return { published: per(() => new Set()), payloadOf: per(() => new Map()), ackedIn: per(() => new Map()), ackedPayloads: per(() => new Set()), seen: per(() => new Map()), skipped: per(() => new Set()), violations: [], deliveries: 0 };
}

/** Publishes ids to both streams until `target` per stream are confirmed or the connection dies. */
async function publisher(nc: v3.NatsConnection, b: Books, next: { id: number }, target: number, stop: { done: boolean }): Promise<void> {
  const js = jetstream(nc, { timeout: 5000 });
  while (!stop.done && Math.min(...STREAMS.map((s) => b.published[s]!.size)) < target) {
    const batch = [];
    for (let i = 0; i < 25; i++) {
      const id = `id-${next.id++}`;
      for (const s of STREAMS) batch.push(js.publish(`${s.toLowerCase()}.x`, id).then(() => b.published[s]!.add(id)));
    }
    const r = await Promise.allSettled(batch);
    if (r.some((x) => x.status === "rejected") && nc.isClosed()) return;
  }
}

/** Fetches and double-acks until the connection dies or stop is set. */
async function consumer(nc: v3.NatsConnection, stream: string, life: number, b: Books, stop: { done: boolean }): Promise<void> {
  const js = jetstream(nc, { timeout: 5000 });
  const c = await js.consumers.get(stream, "c");
  while (!stop.done && !nc.isClosed()) {
    const got: JsMsg[] = [];
    try {
      for await (const m of await c.fetch({ max_messages: 50, expires: 1000 })) got.push(m);
    } catch {
      // the server went away mid-fetch
    }
    const acks = [];
    for (const m of got) {
      b.deliveries++;
      const seq = m.seq;
      const payload = m.string();
      const prevPayload = b.payloadOf[stream]!.get(seq);
      if (prevPayload !== undefined && prevPayload !== payload) b.violations.push(`${stream} seq ${seq} held ${prevPayload}, now ${payload}`);
      b.payloadOf[stream]!.set(seq, payload);
      const ackedLife = b.ackedIn[stream]!.get(seq);
      if (ackedLife !== undefined && ackedLife < life) b.violations.push(`${stream} seq ${seq} (ack confirmed in life ${ackedLife}) delivered again in life ${life}, dc ${m.info.deliveryCount}`);
      const n = (b.seen[stream]!.get(payload) ?? 0) + 1;
      b.seen[stream]!.set(payload, n);
      if (n === 1 && Number(payload.slice(3)) % 10 === 0) {
        b.skipped[stream]!.add(payload);
        continue;
      }
      acks.push(
        m.ackAck({ timeout: 5000 }).then((ok) => {
          if (!ok) return;
          if (!b.ackedIn[stream]!.has(seq)) b.ackedIn[stream]!.set(seq, life);
          b.ackedPayloads[stream]!.add(payload);
        }),
      );
    }
    await Promise.allSettled(acks);
    if (got.length === 0 && nc.isClosed()) return;
  }
}

test("consumers ack through repeated SIGKILLs: nothing is lost, nothing confirmed comes back", { timeout: 240_000 }, async (t) => {
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`seed=${seed} (rerun with CRASH_SEED=${seed})`);
  let rng = seed;
  const rand = (n: number) => {
    rng = (rng * 1103515245 + 12345) % 2147483648;
    return rng % n;
  };
  const dir = mkdtempSync(join(tmpdir(), "tsnats-ccrash-"));
  const conf = `port: -1\nhost: 127.0.0.1\njetstream { store_dir: "${join(dir, "store")}" }\n`;
  const b = books();
  const next = { id: 1 };
  let srv: ChildServer | null = null;
  try {
    for (let life = 0; life <= KILLS; life++) {
      srv = await spawnServer(conf, { dir: mkdtempSync(join(dir, `life${life}-`)) });
      const nc = await v3.connect({ servers: srv.ports.nats![0]!, reconnect: false });
      nc.closed().catch(() => {});
      if (life === 0) {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({ name: "LIM", subjects: ["lim.>"] });
        await jsm.streams.add({ name: "WQ", subjects: ["wq.>"], retention: "workqueue" as never });
        for (const s of STREAMS) await jsm.consumers.add(s, { durable_name: "c", ack_policy: AckPolicy.Explicit, ack_wait: 2_000_000_000, max_ack_pending: 2000 });
      }
      const stop = { done: false };
      const last = life === KILLS;
      const work = [publisher(nc, b, next, PER_STREAM, stop), ...STREAMS.map((s) => consumer(nc, s, life, b, stop))];
      if (!last) {
        // Kill once the consumers are busy: after a random number of further deliveries.
        const until = b.deliveries + 100 + rand(400);
        await waitFor("deliveries before the kill", () => b.deliveries >= until || Math.min(...STREAMS.map((s) => b.published[s]!.size)) >= PER_STREAM, 60_000, 1);
        srv.kill("SIGKILL");
        await srv.exited;
        stop.done = true;
        await nc.close().catch(() => {});
        await Promise.allSettled(work);
        continue;
      }
      // The last life: everything confirmed must be delivered and acked; the consumers drain.
      const jsm = await jetstreamManager(nc);
      let status = "";
      const missing = (s: string) => [...b.published[s]!].filter((id) => !b.seen[s]!.has(id));
      const notAgain = (s: string) => [...b.skipped[s]!].filter((id) => b.seen[s]!.get(id)! < 2);
      await waitFor(
        "everything published delivered, and the server done with it",
        async () => {
          const infos = await Promise.all(STREAMS.map((s) => jsm.consumers.info(s, "c")));
          status = STREAMS.map((s, i) => `${s}: published ${b.published[s]!.size}, missing ${missing(s).slice(0, 5)}, skipped but not redelivered ${notAgain(s).slice(0, 5)}, info ${JSON.stringify({ d: infos[i]!.delivered, a: infos[i]!.ack_floor, ap: infos[i]!.num_ack_pending, p: infos[i]!.num_pending })}`).join("; ");
          if (Math.min(...STREAMS.map((s) => b.published[s]!.size)) < PER_STREAM) return false;
          if (infos.some((ci) => ci.num_pending > 0 || ci.num_ack_pending > 0)) return false;
          return STREAMS.every((s) => missing(s).length === 0 && notAgain(s).length === 0);
        },
        DRAIN_MS,
        200,
      ).catch((e: Error) => {
        throw new Error(`${e.message}: ${status}`);
      });
      stop.done = true;
      await Promise.allSettled(work);
      const lim = await jsm.streams.info("LIM");
      const ci = await jsm.consumers.info("LIM", "c");
      assert.equal(ci.num_ack_pending, 0);
      assert.equal(ci.num_pending, 0);
      assert.equal(ci.delivered.stream_seq, lim.state.last_seq);
      assert.equal(ci.ack_floor.stream_seq, lim.state.last_seq);
      const wq = await jsm.streams.info("WQ");
      assert.equal(wq.state.messages, 0, "the workqueue stream ends empty");
      const wci = await jsm.consumers.info("WQ", "c");
      assert.equal(wci.num_ack_pending, 0);
      assert.equal(wci.num_pending, 0);
      await nc.close();
    }
    assert.deepEqual(b.violations, []);
    for (const s of STREAMS) {
      assert.deepEqual([...b.published[s]!].filter((id) => !b.seen[s]!.has(id)), [], `${s}: confirmed publishes never delivered`);
      assert.deepEqual([...b.skipped[s]!].filter((id) => b.seen[s]!.get(id)! < 2), [], `${s}: unacked deliveries not delivered again`);
      assert.ok(b.ackedPayloads[s]!.size > 0);
    }
    t.diagnostic(`${b.deliveries} deliveries, ${next.id - 1} ids published over ${KILLS} kills`);
  } finally {
    srv?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
