// JetStream stream benchmarks, tsnats beside nats-server -js in one run: async publish with acks
// into a file stream (tsnats with its default fsync-on-commit and with a lazy sync interval),
// MSG.GET and DIRECT.GET rates, KV put/get, and start-up time with 1,000,000 stored messages.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiCall, asyncPublish, Conn, pipelinedRequests } from "./js_load.js";
import { fmtRate, launch, referenceBinary, table, type BenchServer } from "../lib/servers.js";

type Target = { label: string; name: "tsnats" | "nats-server"; conf: (dir: string) => string };

const TARGETS: Target[] = [
  { label: "tsnats (sync always)", name: "tsnats", conf: (d) => `jetstream { store_dir: "${d}" }\n` },
  { label: "tsnats (sync 2m)", name: "tsnats", conf: (d) => `jetstream { store_dir: "${d}", sync_interval: "2m" }\n` },
  { label: "nats-server 2.9 (default)", name: "nats-server", conf: (d) => `jetstream { store_dir: "${d}" }\n` },
];

async function withServer<T>(t: Target, fn: (srv: BenchServer, dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "jsbench-"));
  const conf = join(dir, "server.conf");
  writeFileSync(conf, t.conf(join(dir, "store")));
  const srv = await launch(t.name, ["-c", conf]);
  try {
    return await fn(srv, dir);
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function createStream(port: number, cfg: Record<string, unknown>): Promise<void> {
  const c = await Conn.open(port);
  const r = (await apiCall(c, `$JS.API.STREAM.CREATE.${cfg.name}`, JSON.stringify(cfg))) as { error?: unknown };
  c.close();
  if (!r || r.error) throw new Error(`stream create failed: ${JSON.stringify(r)}`);
}

export async function jsBench(quick: boolean): Promise<string> {
  const scale = quick ? 0.1 : 1;
  const targets = referenceBinary() ? TARGETS : TARGETS.filter((t) => t.name === "tsnats");
  const rows: (string | number)[][] = [["scenario", ...targets.map((t) => t.label), "ratio (sync always / nats-server)"]];
  const results = new Map<string, number[]>();
  const record = (k: string, v: number) => {
    if (!results.has(k)) results.set(k, []);
    results.get(k)!.push(v);
  };
  for (const t of targets) {
    await withServer(t, async (srv) => {
      for (const size of [16, 1024]) {
        const name = `P${size}`;
        await createStream(srv.port, { name, subjects: [`p${size}`], storage: "file" });
        const n = Math.round((size === 16 ? 200_000 : 100_000) * scale);
        record(`async publish with acks, ${size} B`, await asyncPublish(srv.port, `p${size}`, size, n, 2000));
      }
      // Gets against the 16 B stream filled above.
      const n = Math.round(50_000 * scale);
      record("STREAM.MSG.GET by seq", await pipelinedRequests(srv.port, (i) => msgGet(i), n, 500, 2));
      await createStream(srv.port, { name: "KV_b", subjects: ["$KV.b.>"], allow_direct: true, max_msgs_per_subject: 1, allow_rollup_hdrs: true, discard: "new" });
      record("KV put", await asyncPublish(srv.port, "$KV.b.key", 16, n, 2000));
      // A direct get reply is an HMSG with 6 header lines, then the payload: 8 line breaks.
      record("KV get (DIRECT.GET)", await pipelinedRequests(srv.port, (i) => `PUB $JS.API.DIRECT.GET.KV_b.$KV.b.key rep.${i} 0\r\n\r\n`, n, 500, 8));
      record("DIRECT.GET by seq", await pipelinedRequests(srv.port, (i) => directGet(i), n, 500, 8));
    });
  }
  for (const [k, vs] of results) {
    const ratio = vs.length === 3 ? (vs[0]! / vs[2]!).toFixed(2) : "-";
    rows.push([k, ...vs.map(fmtRate), ratio]);
  }
  let out = `JetStream streams (operations per second)\n${table(rows)}\n`;
  out += "\n" + (await startupBench(targets.filter((t) => t.label !== "tsnats (sync 2m)"), quick ? 100_000 : 1_000_000));
  return out;
}

function msgGet(i: number): string {
  const body = `{"seq":${(i % 1000) + 1}}`;
  return `PUB $JS.API.STREAM.MSG.GET.P16 rep.${i} ${body.length}\r\n${body}\r\n`;
}

function directGet(i: number): string {
  const body = `{"seq":${(i % 1000) + 1}}`;
  return `PUB $JS.API.DIRECT.GET.KV_b rep.${i} ${body.length}\r\n${body}\r\n`;
}

/** Fills a stream with `count` messages, restarts the server, and times the restart. */
async function startupBench(targets: Target[], count: number): Promise<string> {
  const rows: (string | number)[][] = [["server", "messages", "fill rate", "restart to ready", "RSS after restart"]];
  for (const t of targets) {
    const dir = mkdtempSync(join(tmpdir(), "jsstart-"));
    const conf = join(dir, "server.conf");
    // Fill with lazy sync on both: this measures recovery, not the fill.
    writeFileSync(conf, t.name === "tsnats" ? `jetstream { store_dir: "${join(dir, "store")}", sync_interval: "2m" }\n` : `jetstream { store_dir: "${join(dir, "store")}" }\n`);
    try {
      let srv = await launch(t.name, ["-c", conf]);
      await createStream(srv.port, { name: "BIG", subjects: ["big.*"], storage: "file" });
      const fill = await asyncPublish(srv.port, "big.x", 16, count, 5000);
      await srv.stop();
      const t0 = Date.now();
      srv = await launch(t.name, ["-c", conf]);
      const ready = Date.now() - t0;
      const c = await Conn.open(srv.port);
      const info = (await apiCall(c, "$JS.API.STREAM.INFO.BIG", "")) as { state?: { messages: number } };
      c.close();
      const rss = srv.rssKb();
      await srv.stop();
      rows.push([t.label, info?.state?.messages ?? 0, fmtRate(fill), `${ready} ms`, `${(rss / 1024).toFixed(0)} MB`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return `Start-up with a large stream\n${table(rows)}\n`;
}
