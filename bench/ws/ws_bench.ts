// WebSocket and monitoring benchmarks, tsnats and nats-server side by side in one run:
// pub/sub throughput and request/reply latency through each server's websocket listener, and what
// a /connz request costs with 10,000 client connections open.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WsRawClient } from "./wsclient.js";
import { idleConnections, msgBytes, pubBatch } from "../core/loadgen.js";
import { fmtRate, launch, referenceBinary, table, type BenchServer } from "../lib/servers.js";

type Name = "tsnats" | "nats-server";

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
  const batch = pubBatch(subject, Buffer.alloc(size, 97), per);
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
  const req = pubBatch("bench.svc", payload, 1, "bench.inbox");
  const resp = pubBatch("bench.inbox", payload, 1);
  const reqBytes = msgBytes("bench.svc", "1", size, "bench.inbox");
  const respBytes = msgBytes("bench.inbox", "1", size);
  responder.countOnly();
  requester.countOnly();
  const lat: number[] = [];
  const warm = Math.min(300, n);
  for (let i = 0; i < n + warm; i++) {
    const t = process.hrtime.bigint();
    requester.send(req);
    await responder.waitBytes((i + 1) * reqBytes);
    responder.send(resp);
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

export async function wsBench(opts: { quick: boolean }): Promise<string> {
  const scale = opts.quick ? 0.1 : 1;
  const servers: Name[] = referenceBinary() ? ["tsnats", "nats-server"] : ["tsnats"];
  const rows: Record<string, Partial<Record<Name, number>>> = {};
  const put = (k: string, name: Name, v: number) => ((rows[k] ??= {})[name] = v);
  const connzRows: (string | number)[][] = [["server", "connections", "query", "returned", "response", "median per request"]];
  const idleConns = opts.quick ? 2000 : 10_000;

  for (const name of servers) {
    const s = await start(name);
    try {
      for (const size of [16, 1024]) {
        const n = Math.round((size === 16 ? 1_000_000 : 200_000) * scale);
        put(`pub/sub 1:1|${size}`, name, await wsPubSub(s.ws, size, n));
      }
      const rr = await wsRequestReply(s.ws, 16, Math.round(5000 * scale));
      put("request/reply p50|16", name, rr.p50);
      put("request/reply p99|16", name, rr.p99);

      const idle = await idleConnections(s.srv.port, idleConns, 1);
      try {
        for (const q of ["", "?limit=100&sort=msgs_from", `?limit=${idleConns}`, "?subs=detail&limit=1024"]) {
          const c = await connzCost(s.http, q, opts.quick ? 5 : 15);
          connzRows.push([name, idle.opened, `/connz${q}`, c.conns, `${(c.bytes / 1024).toFixed(0)} KiB`, `${c.ms.toFixed(1)} ms`]);
        }
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
  return `WebSocket (msgs/s delivered; latency per round trip)\n${table(out)}\n\n/connz with idle connections open (1 subscription each)\n${table(connzRows)}\n`;
}
