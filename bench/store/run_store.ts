// The store benchmark (store_bench.ts) as a bench/run.ts suite. It runs in a child process of its
// own: it measures RSS, and it runs on import.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export async function storeBench(quick: boolean): Promise<string> {
  const script = join(import.meta.dirname, "store_bench.js");
  const r = spawnSync(process.execPath, ["--expose-gc", script, quick ? "store" : "all"], { encoding: "utf8", maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`store bench failed: ${r.stderr}`);
  return r.stdout;
}
