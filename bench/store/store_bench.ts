// Storage-layer benchmark.
//
//   node .build/store/bench/store/store_bench.js [store|load|big|all]   (default all)
//
// store: msgs/s for 16 B and 1 KiB payloads, group commits of 1/100/1000 messages per turn,
//        each turn waiting for its commit (fsync with sync "always"), like PubAcks would.
// load:  loadMsg by random seq, loadNextMsg with literal and wildcard filters, numPending.
// big:   a 1,000,000-message stream: build time, RSS, close, open time per verify level, RSS.
// BENCH_DIR picks the directory (default: the OS temp dir); results depend on its file system.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { StoreManager } from "../../jetstream/store/manager.js";
import type { StorageKind, StreamStore, SyncInterval, VerifyLevel } from "../../jetstream/store/store.js";

const BASE_TS = 1_700_000_000_000_000_000n;

function tmp(): string {
  return mkdtempSync(join(process.env["BENCH_DIR"] ?? tmpdir(), "tsnats-bench-"));
}

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function nextTurn(s: StreamStore): Promise<void> {
  return s.flush();
}

async function storeRate(kind: StorageKind, sync: SyncInterval, size: number, batch: number, seconds: number): Promise<number> {
  const dir = tmp();
  const m = StoreManager.open(kind === "file" ? dir : null, { syncInterval: sync });
  try {
    const s = m.createStream("B", "S", kind);
    const data = Buffer.alloc(size, 0x61);
    let seq = 0;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let ts = BASE_TS;
    while (performance.now() < end) {
      for (let i = 0; i < batch; i++) s.storeMsg(++seq, ++ts, "bench.orders", null, data);
      await nextTurn(s);
    }
    return seq / ((performance.now() - t0) / 1000);
  } finally {
    m.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchStore(): Promise<void> {
  console.log("## store rate (each batch = one event-loop turn, waits for its commit)");
  console.log("| storage | sync | payload | batch | msgs/s |");
  console.log("|---|---|---|---|---|");
  for (const [kind, sync] of [
    ["file", "always"],
    ["file", 120000],
    ["memory", "always"],
  ] as [StorageKind, SyncInterval][]) {
    for (const size of [16, 1024]) {
      for (const batch of [1, 100, 1000]) {
        const r = await storeRate(kind, sync, size, batch, batch === 1 ? 1.5 : 2.5);
        const syncLabel = kind === "memory" ? "-" : sync === "always" ? "always (FULL)" : "2m (NORMAL)";
        console.log(`| ${kind} | ${syncLabel} | ${size} B | ${batch} | ${fmt(r)} |`);
      }
    }
  }
}

function time(label: string, n: number, fn: () => void): void {
  const t0 = performance.now();
  fn();
  const dt = (performance.now() - t0) / 1000;
  console.log(`| ${label} | ${fmt(n / dt)} /s |`);
}

async function benchLoad(): Promise<void> {
  const N = 200_000;
  console.log(`\n## reads (file store, ${fmt(N)} msgs of 1 KiB over 10 subjects a.0-a.4, b.0-b.4; + 100 subjects k.*)`);
  const dir = tmp();
  const m = StoreManager.open(dir);
  try {
    const s = m.createStream("B", "R", "file");
    const data = Buffer.alloc(1024, 0x62);
    for (let seq = 1; seq <= N; seq++) {
      const subj = seq % 2 === 0 ? `a.${seq % 5}` : seq % 3 === 0 ? `k.${seq % 100}` : `b.${seq % 5}`;
      s.storeMsg(seq, BASE_TS + BigInt(seq), subj, null, data);
      if (seq % 1000 === 0) await s.flush();
    }
    await s.flush();
    console.log("| operation | rate |");
    console.log("|---|---|");
    let x = 12345;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    time("loadMsg(random seq)", 200_000, () => {
      for (let i = 0; i < 200_000; i++) s.loadMsg(1 + Math.floor(rnd() * N));
    });
    const iterate = (filter: string) => {
      let n = 0;
      for (let msg = s.loadNextMsg(filter, 1); msg !== null; msg = s.loadNextMsg(filter, msg.seq + 1)) n++;
      return n;
    };
    for (const f of [">", "a.3", "a.*", "k.*"]) {
      let count = 0;
      const t0 = performance.now();
      count = iterate(f);
      const dt = (performance.now() - t0) / 1000;
      console.log(`| loadNextMsg("${f}") walking the stream (${fmt(count)} hits) | ${fmt(count / dt)} msgs/s |`);
    }
    time('numPending(random start, ">")', 100_000, () => {
      for (let i = 0; i < 100_000; i++) s.numPending(1 + Math.floor(rnd() * N), ">", false);
    });
    time('numPending(random start, "a.3")', 20_000, () => {
      for (let i = 0; i < 20_000; i++) s.numPending(1 + Math.floor(rnd() * N), "a.3", false);
    });
    time('loadLastMsg("a.3")', 200_000, () => {
      for (let i = 0; i < 200_000; i++) s.loadLastMsg("a.3");
    });
  } finally {
    m.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function rss(): number {
  globalThis.gc?.();
  return process.memoryUsage().rss;
}

async function benchBig(): Promise<void> {
  const N = 1_000_000;
  const size = Number(process.env["BIG_PAYLOAD"] ?? 128);
  console.log(`\n## ${fmt(N)}-message stream (${size} B payloads, 1000 subjects, batches of 1000, sync always)`);
  const dir = tmp();
  try {
    const rss0 = rss();
    let m = StoreManager.open(dir);
    let s = m.createStream("B", "BIG", "file");
    const data = Buffer.alloc(size, 0x63);
    const t0 = performance.now();
    for (let seq = 1; seq <= N; seq++) {
      s.storeMsg(seq, BASE_TS + BigInt(seq), `big.${seq % 1000}`, null, data);
      if (seq % 1000 === 0) await s.flush();
    }
    await s.flush();
    const buildS = (performance.now() - t0) / 1000;
    console.log(`| build | ${buildS.toFixed(1)} s (${fmt(N / buildS)} msgs/s) |`);
    console.log(`| RSS after build (baseline ${mb(rss0)}) | ${mb(rss())} |`);
    const path = s.path!;
    m.close();
    console.log(`| file size | ${mb(statSync(path).size)} |`);
    for (const verify of ["light", "quick", "full"] as VerifyLevel[]) {
      const t1 = performance.now();
      m = StoreManager.open(dir, { verify });
      s = m.openStream("B", "BIG");
      const openMs = performance.now() - t1;
      const t2 = performance.now();
      const pending = s.numPending(N / 2, ">", false);
      const firstPendingMs = performance.now() - t2;
      console.log(`| open, verify ${verify} | ${openMs.toFixed(0)} ms; RSS ${mb(rss())}; first numPending(">") ${firstPendingMs.toFixed(0)} ms (${fmt(pending)}) |`);
      m.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const what = process.argv[2] ?? "all";
  console.log(`# tsnats store bench: node ${process.version}, dir ${process.env["BENCH_DIR"] ?? tmpdir()}`);
  if (what === "store" || what === "all") await benchStore();
  if (what === "load" || what === "all") await benchLoad();
  if (what === "big") await benchBig();
  if (what === "all") {
    // A fresh process, so RSS is the big stream's alone.
    const r = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "big"], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
    process.stdout.write(r.stdout.split("\n").slice(1).join("\n"));
  }
}

await main();
