// Consumer benchmarks, tsnats beside nats-server -js in one run, on a file stream of 16-byte
// messages: pull fetches with explicit acks (batches of 100 and 1000, the next fetch once a batch
// is in, every message acked), a push consumer with explicit acks to one subscriber, an ordered
// push consumer (flow control, no acks) replaying 1,000,000 messages, and a pull consumer at the
// tail of a stream while it is being published to. A fetch or push run ends when the last
// message's ack is confirmed (an ack with a reply), so the acks' cost is inside the figure.
// All servers run at once and the scenarios alternate between them, each repeated: on a shared
// machine that keeps a burst of outside load from landing on one server only. Each cell is the
// median of the rounds, with their lowest and highest; the ratio is that of the medians (the best
// round would favour whichever server varies most).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asyncPublish } from "../jetstream/js_load.js";
import { fmtSpread, launch, median, referenceBinary, table, type BenchServer } from "../lib/servers.js";
import { ConsumerConn, request } from "./consumer_load.js";

type Target = { label: string; name: "tsnats" | "nats-server"; conf: (dir: string) => string };

const TARGETS: Target[] = [
  { label: "tsnats (sync always)", name: "tsnats", conf: (d) => `jetstream { store_dir: "${d}" }\n` },
  { label: "tsnats (sync 2m)", name: "tsnats", conf: (d) => `jetstream { store_dir: "${d}", sync_interval: "2m" }\n` },
  { label: "nats-server 2.9 (default)", name: "nats-server", conf: (d) => `jetstream { store_dir: "${d}" }\n` },
];

async function start(t: Target): Promise<{ srv: BenchServer; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "cbench-"));
  const conf = join(dir, "server.conf");
  writeFileSync(conf, t.conf(join(dir, "store")));
  return { srv: await launch(t.name, ["-c", conf]), dir };
}

async function createStream(c: ConsumerConn, name: string, subject: string): Promise<void> {
  const r = await request(c, `$JS.API.STREAM.CREATE.${name}`, { name, subjects: [subject], storage: "file" });
  if (r.error) throw new Error(`stream create: ${JSON.stringify(r.error)}`);
}

async function createConsumer(c: ConsumerConn, stream: string, name: string, config: Record<string, unknown>): Promise<void> {
  const r = await request(c, `$JS.API.CONSUMER.CREATE.${stream}.${name}`, { stream_name: stream, config: { name, ...config } });
  if (r.error) throw new Error(`consumer create: ${JSON.stringify(r.error)}`);
}

/**
 * Pulls n messages with `ask` (a CONSUMER.MSG.NEXT publish replying to sid 1), acking each and
 * asking again after every `batch`; resolves once the n-th is in, or with confirmLast once its
 * ack is confirmed (the reply to an ack with a reply subject, on sid 2).
 */
function pullAndAck(c: ConsumerConn, ask: string, n: number, batch: number, confirmLast: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    let received = 0;
    let inBatch = 0;
    c.onFrame = (f) => {
      if (f.sid === 2) return resolve();
      if (f.sid !== 1) return;
      if (f.status !== 0) {
        // The request ended early (a timeout): ask again.
        if (f.status >= 400 && received < n) {
          inBatch = 0;
          c.send(ask);
        }
        return;
      }
      received++;
      inBatch++;
      const last = received === n;
      c.send(last && confirmLast ? `PUB ${f.reply} ackack 4\r\n+ACK\r\n` : `PUB ${f.reply} 4\r\n+ACK\r\n`);
      if (last && !confirmLast) return resolve();
      if (inBatch === batch && !last) {
        inBatch = 0;
        c.send(ask);
      }
    };
    c.send(ask);
    c.flush();
  });
}

/** Fetches batches of `batch` with explicit acks until n messages are in and the last ack is confirmed. */
async function fetchWithAcks(port: number, stream: string, n: number, batch: number, rep: number): Promise<number> {
  const c = await ConsumerConn.open(port);
  const name = `fetch${batch}_${rep}`;
  await createConsumer(c, stream, name, { durable_name: name, ack_policy: "explicit" });
  const body = JSON.stringify({ batch, expires: 5_000_000_000 });
  const ask = `PUB $JS.API.CONSUMER.MSG.NEXT.${stream}.${name} fetch.in ${body.length}\r\n${body}\r\n`;
  c.send("SUB fetch.in 1\r\nSUB ackack 2\r\n");
  await c.ping();
  const t0 = process.hrtime.bigint();
  await pullAndAck(c, ask, n, batch, true);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  c.close();
  return n / secs;
}

/** A push consumer with explicit acks to one subscriber. */
async function pushWithAcks(port: number, stream: string, n: number, rep: number): Promise<number> {
  const c = await ConsumerConn.open(port);
  const inbox = `push.in.${rep}`;
  c.send(`SUB ${inbox} 1\r\nSUB ackack 2\r\n`);
  await c.ping();
  let received = 0;
  let t0 = 0n;
  const done = new Promise<void>((resolve) => {
    c.onFrame = (f) => {
      if (f.sid === 2) return resolve();
      if (f.sid !== 1 || f.status !== 0) return;
      received++;
      c.send(received === n ? `PUB ${f.reply} ackack 4\r\n+ACK\r\n` : `PUB ${f.reply} 4\r\n+ACK\r\n`);
    };
  });
  t0 = process.hrtime.bigint();
  await createConsumer(c, stream, `push_${rep}`, { durable_name: `push_${rep}`, deliver_subject: inbox, ack_policy: "explicit" });
  await done;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  c.close();
  return n / secs;
}

/**
 * Consuming at the tail: a pull consumer (batch 1000, explicit acks) waits on an empty stream
 * while a publisher sends n messages with acks; the figure is n over the time until the last
 * one was received, so storing and delivering share the server.
 */
async function liveTail(port: number, n: number, rep: number): Promise<number> {
  const c = await ConsumerConn.open(port);
  const stream = `LIVE${rep}`;
  const subject = `live${rep}.x`;
  await createStream(c, stream, subject);
  await createConsumer(c, stream, "tail", { durable_name: "tail", ack_policy: "explicit", max_ack_pending: 100_000 });
  const body = JSON.stringify({ batch: 1000, expires: 30_000_000_000 });
  const ask = `PUB $JS.API.CONSUMER.MSG.NEXT.${stream}.tail live.in ${body.length}\r\n${body}\r\n`;
  c.send("SUB live.in 1\r\n");
  await c.ping();
  const done = pullAndAck(c, ask, n, 1000, false);
  const t0 = process.hrtime.bigint();
  await asyncPublish(port, subject, 16, n, 2000);
  await done;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  c.close();
  return n / secs;
}

/** An ordered push consumer (as KV watchers and ordered consumers create it) reading n messages. */
async function orderedReplay(port: number, stream: string, n: number, rep: number): Promise<number> {
  const c = await ConsumerConn.open(port);
  const inbox = `oc.in.${rep}`;
  c.send(`SUB ${inbox} 1\r\n`);
  await c.ping();
  let received = 0;
  let t0 = 0n;
  const done = new Promise<void>((resolve) => {
    c.onFrame = (f) => {
      if (f.sid !== 1) return;
      if (f.status !== 0) {
        // Flow control requests carry a reply to answer.
        if (f.reply !== "") c.send(`PUB ${f.reply} 0\r\n\r\n`);
        return;
      }
      if (++received === n) resolve();
    };
  });
  t0 = process.hrtime.bigint();
  await createConsumer(c, stream, `oc_${rep}`, {
    deliver_subject: inbox,
    ack_policy: "none",
    max_deliver: 1,
    flow_control: true,
    idle_heartbeat: 5_000_000_000,
    mem_storage: true,
    num_replicas: 1,
    deliver_policy: "all",
  });
  await done;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  c.close();
  return n / secs;
}

export async function consumerBench(quick: boolean): Promise<string> {
  const n = quick ? 20_000 : 200_000;
  const replay = quick ? 100_000 : 1_000_000;
  const reps = quick ? 2 : 5;
  const targets = referenceBinary() ? TARGETS : TARGETS.filter((t) => t.name === "tsnats");
  const results = new Map<string, Map<string, number[]>>();
  const record = (k: string, label: string, v: number) => {
    if (!results.has(k)) results.set(k, new Map());
    const m = results.get(k)!;
    m.set(label, [...(m.get(label) ?? []), v]);
  };
  const running: { t: Target; srv: BenchServer; dir: string }[] = [];
  try {
    for (const t of targets) running.push({ t, ...(await start(t)) });
    for (const { srv } of running) {
      const c = await ConsumerConn.open(srv.port);
      await createStream(c, "CB", "cb.x");
      await createStream(c, "REPLAY", "replay.x");
      c.close();
      await asyncPublish(srv.port, "cb.x", 16, n, 2000);
      await asyncPublish(srv.port, "replay.x", 16, replay, 4000);
    }
    const scenarios: [string, (port: number, rep: number) => Promise<number>][] = [
      [`fetch batch 100, explicit acks (${n} msgs)`, (p, r) => fetchWithAcks(p, "CB", n, 100, r)],
      [`fetch batch 1000, explicit acks (${n} msgs)`, (p, r) => fetchWithAcks(p, "CB", n, 1000, r)],
      [`push, explicit acks, 1 subscriber (${n} msgs)`, (p, r) => pushWithAcks(p, "CB", n, r)],
      [`ordered consumer replay (${replay} msgs)`, (p, r) => orderedReplay(p, "REPLAY", replay, r)],
      [`live tail: publish while a pull consumer acks, end to end (${n} msgs)`, (p, r) => liveTail(p, n, r)],
    ];
    for (const [k, run] of scenarios) {
      for (let rep = 0; rep < reps; rep++) for (const { t, srv } of running) record(k, t.label, await run(srv.port, rep));
    }
  } finally {
    for (const { srv, dir } of running) {
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const ref = targets.find((t) => t.name === "nats-server")?.label;
  const ours = targets.filter((t) => t.name === "tsnats").map((t) => t.label);
  const rows: (string | number)[][] = [[`scenario (messages/s, median of ${reps} [lowest-highest])`, ...targets.map((t) => t.label), ...(ref ? ours.map((o) => `ratio ${o.replace("tsnats ", "")}`) : [])]];
  for (const [k, m] of results) {
    const row: (string | number)[] = [k, ...targets.map((t) => fmtSpread(m.get(t.label) ?? []))];
    const med = (label: string) => median(m.get(label) ?? [0]);
    if (ref) for (const o of ours) row.push(`${(med(o) / med(ref)).toFixed(2)}x`);
    rows.push(row);
  }
  return `JetStream consumers, 16 B messages, file storage\n${table(rows)}\n`;
}
