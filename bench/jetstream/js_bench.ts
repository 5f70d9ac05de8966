// JetStream stream benchmarks, tsnats beside nats-server -js in one run: async publish with acks
// into a file stream (tsnats with its default fsync-on-commit and with a lazy sync interval) and
// into a memory stream (the publish path without the file store), a publisher that waits for
// each PubAck, MSG.GET and DIRECT.GET rates, KV put/get, and start-up time and RSS with
// 1,000,000 stored messages. Each figure is the median of a few rounds; the targets take turns
// within a round so that background load on the machine falls on all of them alike.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiCall, asyncPublish, Conn, directGetError, jsonError, pipelinedRequests, syncPublish, type Rate } from "./js_load.js";
import { fmtRate, launch, median, referenceBinary, table, type BenchServer } from "../lib/servers.js";

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

function msgGet(i: number): string {
  const body = `{"seq":${(i % 1000) + 1}}`;
  return `PUB $JS.API.STREAM.MSG.GET.P16 rep.${i} ${body.length}\r\n${body}\r\n`;
}

function directGet(i: number): string {
  const body = `{"seq":${(i % 1000) + 1}}`;
  return `PUB $JS.API.DIRECT.GET.P16 rep.${i} ${body.length}\r\n${body}\r\n`;
}

/** One round of every rate scenario against a fresh server. */
async function round(t: Target, scale: number): Promise<Map<string, Rate>> {
  const out = new Map<string, Rate>();
  await withServer(t, async (srv) => {
    // Memory streams show what the publish path costs without the file store (sync settings do
    // not apply there, so the two tsnats columns measure the same thing twice).
    for (const [storage, name, label] of [["file", "P", ""], ["memory", "M", ", memory stream"]] as const) {
      for (const size of [16, 1024]) {
        const subject = `${name.toLowerCase()}${size}`;
        await createStream(srv.port, { name: `${name}${size}`, subjects: [subject], storage, allow_direct: true });
        const n = Math.round((size === 16 ? 200_000 : 100_000) * scale);
        out.set(`async publish with acks, ${size} B${label}`, await asyncPublish(srv.port, subject, size, n, 2000));
      }
    }
    // One publisher that waits for each PubAck: the sync publish of every client library.
    await createStream(srv.port, { name: "SYNC", subjects: ["sync"], storage: "file" });
    out.set("publish one at a time (each waits for its PubAck), 16 B", await syncPublish(srv.port, "sync", 16, Math.round(5000 * scale)));
    // Gets of the first 1000 messages of the 16 B stream filled above.
    const n = Math.round(50_000 * scale);
    out.set("STREAM.MSG.GET by seq", await pipelinedRequests(srv.port, msgGet, n, 500, jsonError));
    out.set("DIRECT.GET by seq", await pipelinedRequests(srv.port, directGet, n, 500, directGetError));
    // The bucket @nats-io/kv creates (history 1).
    await createStream(srv.port, { name: "KV_b", subjects: ["$KV.b.>"], allow_direct: true, max_msgs_per_subject: 1, allow_rollup_hdrs: true, discard: "new" });
    out.set("KV put (1 key)", await asyncPublish(srv.port, "$KV.b.key", 16, n, 2000));
    out.set("KV get (DIRECT.GET.<stream>.<key>)", await pipelinedRequests(srv.port, (i) => `PUB $JS.API.DIRECT.GET.KV_b.$KV.b.key rep.${i} 0\r\n\r\n`, n, 500, directGetError));
  });
  return out;
}

export async function jsBench(quick: boolean): Promise<string> {
  const scale = quick ? 0.1 : 1;
  const rounds = quick ? 1 : 3;
  const targets = referenceBinary() ? TARGETS : TARGETS.filter((t) => t.name === "tsnats");
  const results = new Map<string, Rate[][]>();
  for (let r = 0; r < rounds; r++) {
    for (let ti = 0; ti < targets.length; ti++) {
      const got = await round(targets[ti]!, scale);
      for (const [k, v] of got) {
        if (!results.has(k)) results.set(k, targets.map(() => []));
        results.get(k)![ti]!.push(v);
      }
    }
  }
  const ref = targets.findIndex((t) => t.name === "nats-server");
  const header = ["scenario", ...targets.map((t) => t.label)];
  if (ref >= 0) header.push("sync always / nats-server", "sync 2m / nats-server");
  const rows: (string | number)[][] = [header];
  const notes: string[] = [];
  for (const [k, perTarget] of results) {
    const med = perTarget.map((rs) => median(rs.map((x) => x.rate)));
    const cells = perTarget.map((rs, i) => {
      const errs = rs.reduce((a, x) => a + x.errors, 0);
      if (errs > 0) notes.push(`${targets[i]!.label}, ${k}: ${errs} error replies, first: ${rs.find((x) => x.errors > 0)!.firstError}`);
      return fmtRate(med[i]!) + (errs > 0 ? ` (${errs} errors)` : "");
    });
    const row: (string | number)[] = [k, ...cells];
    if (ref >= 0) row.push((med[0]! / med[ref]!).toFixed(2) + "x", (med[1]! / med[ref]!).toFixed(2) + "x");
    rows.push(row);
  }
  let out = `JetStream streams (operations per second, median of ${rounds} round(s))\n${table(rows)}\n`;
  if (notes.length) out += notes.join("\n") + "\n";
  out += "\n" + (await startupBench(targets.filter((t) => t.label !== "tsnats (sync 2m)"), quick ? 100_000 : 1_000_000));
  return out;
}

/** Fills a stream with `count` messages (RSS sampled while it grows), restarts, times the restart. */
async function startupBench(targets: Target[], count: number): Promise<string> {
  const rows: (string | number)[][] = [["server", "messages", "fill rate", "RSS at 10% / 50% / 100% filled", "restart until STREAM.INFO answers", "RSS after restart", "RSS after reading 10,000 random msgs"]];
  for (const t of targets) {
    const dir = mkdtempSync(join(tmpdir(), "jsstart-"));
    const conf = join(dir, "server.conf");
    // Fill with lazy sync on both: this measures recovery, not the fill.
    writeFileSync(conf, t.name === "tsnats" ? `jetstream { store_dir: "${join(dir, "store")}", sync_interval: "2m" }\n` : `jetstream { store_dir: "${join(dir, "store")}" }\n`);
    try {
      let srv = await launch(t.name, ["-c", conf]);
      await createStream(srv.port, { name: "BIG", subjects: ["big.*"], storage: "file", allow_direct: true });
      const rss: number[] = [];
      let fillSecs = 0;
      let filled = 0;
      for (const frac of [0.1, 0.5, 1]) {
        const n = Math.round(count * frac) - filled;
        const r = await asyncPublish(srv.port, "big.x", 16, n, 5000);
        fillSecs += n / r.rate;
        filled += n;
        rss.push(srv.rssKb());
      }
      await srv.stop();
      const t0 = Date.now();
      srv = await launch(t.name, ["-c", conf]);
      const c = await Conn.open(srv.port);
      const info = (await apiCall(c, "$JS.API.STREAM.INFO.BIG", "")) as { state?: { messages: number } };
      const ready = Date.now() - t0;
      c.close();
      const rssRestart = srv.rssKb();
      let x = 12345;
      const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) % count;
      const reads = await pipelinedRequests(srv.port, (i) => {
        const body = `{"seq":${rnd() + 1}}`;
        return `PUB $JS.API.DIRECT.GET.BIG rep.${i} ${body.length}\r\n${body}\r\n`;
      }, 10_000, 200, directGetError);
      const rssRead = srv.rssKb();
      await srv.stop();
      const mbs = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
      rows.push([t.label, info?.state?.messages ?? 0, fmtRate(filled / fillSecs), rss.map(mbs).join(" / "), `${ready} ms`, mbs(rssRestart), `${mbs(rssRead)}${reads.errors ? ` (${reads.errors} errors)` : ""}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return `Start-up and memory with a large stream (16 B messages)\n${table(rows)}\n`;
}
