// WebSocket and monitoring benchmarks, tsnats and nats-server side by side in one run:
// pub/sub throughput and request/reply latency through each server's websocket listener, and what
// a /connz request costs with 10,000 client connections open.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { WsRawClient, binaryFrame } from "./wsclient.js";
import { RawClient, idleConnections, msgBytes, pubBatch } from "../core/loadgen.js";
import { fmtRate, launch, referenceBinary, table, type BenchServer } from "../lib/servers.js";

type Name = "tsnats" | "nats-server";

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSecondsOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** Runs `fn` and reports how busy the load generator (this process) and the server were, in % of one core. */
async function withCpu<T>(pid: number, fn: () => Promise<T>): Promise<{ r: T; client: number; server: number }> {
  const c0 = process.cpuUsage();
  const s0 = cpuSecondsOf(pid);
  const t0 = performance.now();
  const r = await fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { r, client: ((c.user + c.system) / 1e6 / wall) * 100, server: ((cpuSecondsOf(pid) - s0) / wall) * 100 };
}

const CONF = 'http: "127.0.0.1:-1"\nwebsocket { listen: "127.0.0.1:-1", no_tls: true }\n';

async function start(name: Name): Promise<{ srv: BenchServer; ws: string; http: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "bench-ws-conf-"));
  const conf = join(dir, "ws.conf");
  writeFileSync(conf, CONF);
  const srv = await launch(name, ["-c", conf]);
  return { srv, ws: srv.ports.websocket![0]!, http: srv.ports.monitoring![0]!, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function batchFor(payload: number): number {
  // Batches a browser client would plausibly send in one WebSocket message.
  return Math.max(1, Math.floor((32 * 1024) / (payload + 30)));
}

/** One WebSocket publisher to one WebSocket subscriber: messages/second delivered. */
async function wsPubSub(url: string, size: number, n: number): Promise<number> {
  const subject = "bench.ws";
  const sub = await WsRawClient.connect(url);
  sub.send(`SUB ${subject} 1\r\n`);
  await sub.sync();
  const pub = await WsRawClient.connect(url);
  const per = batchFor(size);
  const rounds = Math.ceil(n / per);
  const total = rounds * per;
  const batch = binaryFrame(pubBatch(subject, Buffer.alloc(size, 97), per));
  sub.countOnly();
  const t0 = process.hrtime.bigint();
  const done = sub.waitBytes(total * msgBytes(subject, "1", size));
  await pub.sendAll(batch, rounds);
  await done;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  pub.close();
  sub.close();
  return total / s;
}

/** Request/reply round trips over WebSocket, one at a time: p50 and p99 in microseconds. */
async function wsRequestReply(url: string, size: number, n: number): Promise<{ p50: number; p99: number }> {
  const responder = await WsRawClient.connect(url);
  responder.send("SUB bench.svc 1\r\n");
  await responder.sync();
  const requester = await WsRawClient.connect(url);
  requester.send("SUB bench.inbox 1\r\n");
  await requester.sync();
  const payload = Buffer.alloc(size, 97);
  const req = binaryFrame(pubBatch("bench.svc", payload, 1, "bench.inbox"));
  const resp = binaryFrame(pubBatch("bench.inbox", payload, 1));
  const reqBytes = msgBytes("bench.svc", "1", size, "bench.inbox");
  const respBytes = msgBytes("bench.inbox", "1", size);
  responder.countOnly();
  requester.countOnly();
  const lat: number[] = [];
  const warm = Math.min(300, n);
  for (let i = 0; i < n + warm; i++) {
    const t = process.hrtime.bigint();
    requester.write(req);
    await responder.waitBytes((i + 1) * reqBytes);
    responder.write(resp);
    await requester.waitBytes((i + 1) * respBytes);
    if (i >= warm) lat.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  responder.close();
  requester.close();
  lat.sort((a, b) => a - b);
  return { p50: lat[Math.floor(lat.length * 0.5)]!, p99: lat[Math.floor(lat.length * 0.99)]! };
}

/** Milliseconds per /connz request (median of `n`), and the response size. */
async function connzCost(http: string, query: string, n: number): Promise<{ ms: number; bytes: number; conns: number }> {
  const times: number[] = [];
  let bytes = 0;
  let conns = 0;
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = await fetch(`${http}/connz${query}`);
    const body = await r.text();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    bytes = body.length;
    conns = (JSON.parse(body) as { num_connections: number }).num_connections;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, bytes, conns };
}

/**
 * How long the server leaves a NATS client waiting while it builds a large /connz: PING round
 * trips on a TCP connection, sent back to back while `query` is being answered. The largest one
 * is the stall a client sees (tsnats builds /connz on its one event loop; nats-server elsewhere).
 */
async function pingDuringConnz(port: number, http: string, query: string, n: number): Promise<{ baseline: number; worst: number }> {
  const c = await RawClient.connect(port);
  const rtt = async () => {
    const t = performance.now();
    await c.sync();
    return performance.now() - t;
  };
  const base: number[] = [];
  for (let i = 0; i < 200; i++) base.push(await rtt());
  base.sort((a, b) => a - b);
  const worst: number[] = [];
  for (let i = 0; i < n; i++) {
    let done = false;
    const req = fetch(`${http}/connz${query}`).then((r) => r.text()).then(() => (done = true));
    let max = 0;
    while (!done) max = Math.max(max, await rtt());
    await req;
    worst.push(max);
  }
  c.close();
  worst.sort((a, b) => a - b);
  return { baseline: base[Math.floor(base.length / 2)]!, worst: worst[Math.floor(worst.length / 2)]! };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function wsBench(opts: { quick: boolean }): Promise<string> {
  const scale = opts.quick ? 0.1 : 1;
  const runs = opts.quick ? 1 : 3;
  const servers: Name[] = referenceBinary() ? ["tsnats", "nats-server"] : ["tsnats"];
  const rows: Record<string, Partial<Record<Name, number>>> = {};
  const put = (k: string, name: Name, v: number) => ((rows[k] ??= {})[name] = v);
  const cpuRows: (string | number)[][] = [["server", "scenario", "load generator CPU", "server CPU"]];
  const cpu = (name: Name, scenario: string, ms: Array<{ client: number; server: number }>) =>
    cpuRows.push([name, scenario, `${median(ms.map((m) => m.client)).toFixed(0)}%`, `${median(ms.map((m) => m.server)).toFixed(0)}%`]);
  const idleConns = opts.quick ? 2000 : 10_000;

  // Both servers run at once and take turns, so drift in the machine's load hits both alike.
  const started = await Promise.all(servers.map((n) => start(n)));
  const byName = new Map(servers.map((n, i) => [n, started[i]!]));
  try {
    for (const size of [16, 1024]) {
      const n = Math.round((size === 16 ? 1_000_000 : 200_000) * scale);
      const got = new Map<Name, Array<{ r: number; client: number; server: number }>>(servers.map((x) => [x, []]));
      // One short warm-up each (JIT, socket buffers), then `runs` alternating measured runs.
      for (const name of servers) await wsPubSub(byName.get(name)!.ws, size, Math.round(n / 10));
      for (let r = 0; r < runs; r++) {
        for (const name of servers) {
          const s = byName.get(name)!;
          got.get(name)!.push(await withCpu(s.srv.proc.pid!, () => wsPubSub(s.ws, size, n)));
        }
      }
      for (const name of servers) {
        put(`pub/sub 1:1|${size}`, name, median(got.get(name)!.map((m) => m.r)));
        cpu(name, `pub/sub ${size} B`, got.get(name)!);
      }
    }
    for (const name of servers) {
      const s = byName.get(name)!;
      const m = await withCpu(s.srv.proc.pid!, () => wsRequestReply(s.ws, 16, Math.round(5000 * scale)));
      cpu(name, "request/reply 16 B", [m]);
      put("request/reply p50|16", name, m.r.p50);
      put("request/reply p99|16", name, m.r.p99);
    }
  } finally {
    for (const s of started) {
      await s.srv.stop();
      s.cleanup();
    }
  }

  // /connz with many connections, one server at a time (each side needs a file descriptor per connection).
  const queries = ["", "?limit=100&sort=msgs_from", `?limit=100&offset=${idleConns - 1000}`, `?limit=${idleConns}`, "?subs=detail&limit=1024"];
  const connz = new Map<string, Partial<Record<Name, { ms: number; bytes: number; conns: number }>>>();
  const stall = new Map<Name, { baseline: number; worst: number }>();
  let opened = 0;
  for (const name of servers) {
    const s = await start(name);
    try {
      const idle = await idleConnections(s.srv.port, idleConns, 1);
      opened = idle.opened;
      try {
        for (const q of queries) {
          const c = await connzCost(s.http, q, opts.quick ? 5 : 15);
          connz.set(q, { ...connz.get(q), [name]: c });
        }
        stall.set(name, await pingDuringConnz(s.srv.port, s.http, `?limit=${idleConns}`, opts.quick ? 3 : 9));
      } finally {
        idle.close();
      }
    } finally {
      await s.srv.stop();
      s.cleanup();
    }
  }

  const out: (string | number)[][] = [["scenario", "payload", "tsnats", "nats-server", "ratio (tsnats/nats-server)"]];
  for (const [key, r] of Object.entries(rows)) {
    const [scenario, size] = key.split("|");
    const latency = scenario!.startsWith("request");
    const fmt = (v: number | undefined) => (v === undefined ? "-" : latency ? `${v.toFixed(0)}us` : fmtRate(v));
    const a = r.tsnats;
    const b = r["nats-server"];
    out.push([scenario!, `${size} B`, fmt(a), fmt(b), a !== undefined && b !== undefined ? (a / b).toFixed(2) : "-"]);
  }
  const connzRows: (string | number)[][] = [["query", "returned", "response", "tsnats", "nats-server", "ratio (time)"]];
  for (const q of queries) {
    const r = connz.get(q)!;
    const a = r.tsnats;
    const b = r["nats-server"];
    connzRows.push([`/connz${q}`, a?.conns ?? "-", `${((a?.bytes ?? 0) / 1024).toFixed(0)} KiB`, a ? `${a.ms.toFixed(1)} ms` : "-", b ? `${b.ms.toFixed(1)} ms` : "-", a && b ? (a.ms / b.ms).toFixed(2) : "-"]);
  }
  const stallRows: (string | number)[][] = [["server", "PING round trip, idle", `worst PING round trip while /connz?limit=${idleConns} is answered`]];
  for (const [name, v] of stall) stallRows.push([name, `${v.baseline.toFixed(2)} ms`, `${v.worst.toFixed(1)} ms`]);
  const mode = opts.quick ? "quick: 1 run each" : `median of ${runs} alternating runs each, after a warm-up`;
  return (
    `WebSocket (msgs/s delivered, ${mode}; latency per round trip)\n${table(out)}\n\n` +
    `CPU during each scenario (100% = one core; the machine has ${availableParallelism()})\n${table(cpuRows)}\n\n` +
    `/connz with ${opened} connections open (1 subscription each), median per request\n${table(connzRows)}\n\n` +
    `A NATS client's wait while /connz is built\n${table(stallRows)}\n`
  );
}
