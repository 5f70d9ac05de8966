// `npm run sim:raft -- --seeds N --seed-start S [--fault-time T] [--critical] [--mutant NAME] [--verbose]`
// runs N seeds of the cluster simulator; for each failure prints the seed and the tail of its trace;
// ends with `N passed, M failed` and a non-zero exit status on any violation.
// `--soak` is the long run: 10,000 seeds (unless --seeds says otherwise) with 20,000-unit fault phases
// (2,000 ticks; unless --fault-time says otherwise), from seed 1,000,000 (past the seeds CI runs).
import { runSimulation, type SimOptions } from "./cluster.js";
import { mutants } from "./mutants.js";

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

const soak = process.argv.includes("--soak");
const seeds = arg("seeds") ?? (soak ? 10000 : 200);
const start = arg("seed-start") ?? (soak ? 1_000_000 : 1);
const faultTime = arg("fault-time") ?? (soak ? 20000 : undefined);
const verbose = process.argv.includes("--verbose");
const world = process.argv.includes("--critical") ? "critical" : "mixed";
const mi = process.argv.indexOf("--mutant");
const mutantName = mi >= 0 ? process.argv[mi + 1]! : "";
const mutant: Partial<SimOptions> = mutantName ? (mutants[mutantName] ?? {}) : {};
if (mutantName && !mutants[mutantName]) {
  console.error(`unknown mutant ${mutantName}; one of ${Object.keys(mutants).join(", ")}`);
  process.exit(2);
}

const flags = [faultTime !== undefined ? ` --fault-time ${faultTime}` : "", world === "critical" ? " --critical" : "", mutantName ? ` --mutant ${mutantName}` : ""].join("");
let passed = 0;
let failed = 0;
const t0 = Date.now();
for (let s = start; s < start + seeds; s++) {
  const r = runSimulation({ seed: s, faultTime, world, traceLines: verbose ? 400 : 40, ...mutant });
  if (r.ok) {
    passed++;
    if (verbose) console.log(`seed ${s} ok ${JSON.stringify(r.stats)}`);
    continue;
  }
  failed++;
  console.log(`FAIL seed ${s}: ${r.error}`);
  console.log(`  reproduce: npm run sim:raft -- --seeds 1 --seed-start ${s}${flags} --verbose`);
  for (const line of r.trace) console.log(`  | ${line}`);
}
console.error(`simulated ${seeds} seeds from ${start} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
