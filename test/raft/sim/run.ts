// `npm run sim:raft -- --seeds N --seed-start S [--fault-time T] [--critical] [--verbose]`: runs N seeds of the
// cluster simulator; for each failure prints the seed and the tail of its trace; ends with
// `N passed, M failed` and a non-zero exit status on any violation.
import { runSimulation } from "./cluster.js";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

const seeds = arg("seeds", 200);
const start = arg("seed-start", 1);
const faultTime = process.argv.includes("--fault-time") ? arg("fault-time", 0) : undefined;
const verbose = process.argv.includes("--verbose");
const world = process.argv.includes("--critical") ? "critical" : "mixed";
let passed = 0;
let failed = 0;
const t0 = Date.now();
for (let s = start; s < start + seeds; s++) {
  const r = runSimulation({ seed: s, faultTime, world, traceLines: verbose ? 400 : 40 });
  if (r.ok) {
    passed++;
    if (verbose) console.log(`seed ${s} ok ${JSON.stringify(r.stats)}`);
    continue;
  }
  failed++;
  console.log(`FAIL seed ${s}: ${r.error}`);
  console.log(`  reproduce: npm run sim:raft -- --seeds 1 --seed-start ${s}${faultTime ? ` --fault-time ${faultTime}` : ""} --verbose`);
  for (const line of r.trace) console.log(`  | ${line}`);
}
console.error(`simulated ${seeds} seeds in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
