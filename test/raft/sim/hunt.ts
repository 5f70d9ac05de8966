// Runs a mutant core through seeds until the simulator catches it: `node hunt.js <mutant> [maxSeeds]`.
import { runSimulation } from "./cluster.js";
import { mutants } from "./mutants.js";

const name = process.argv[2] ?? "";
const max = Number(process.argv[3] ?? 2000);
const factory = mutants[name];
if (!factory) throw new Error(`unknown mutant ${name}; one of ${Object.keys(mutants).join(", ")}`);
const t0 = Date.now();
for (let s = 1; s <= max; s++) {
  const r = runSimulation({ seed: s, coreFactory: factory });
  if (!r.ok) {
    console.log(`${name}: caught at seed ${s} after ${Date.now() - t0}ms: ${r.error?.split("\n")[0]}`);
    process.exit(0);
  }
}
console.log(`${name}: NOT caught in ${max} seeds`);
process.exit(1);
