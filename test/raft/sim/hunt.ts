// Runs mutant cores through seeds until the simulator catches each:
// `node hunt.js [mutant ...] [--max N] [--critical]` (all mutants when none is named).
import { runSimulation } from "./cluster.js";
import { mutants } from "./mutants.js";

const args = process.argv.slice(2);
const maxAt = args.indexOf("--max");
const max = maxAt >= 0 ? Number(args[maxAt + 1]) : 2000;
const world = args.includes("--critical") ? "critical" : "mixed";
const names = args.filter((a, i) => !a.startsWith("--") && (maxAt < 0 || i !== maxAt + 1));
let missed = 0;
for (const name of names.length ? names : Object.keys(mutants)) {
  const mutant = mutants[name];
  if (!mutant) throw new Error(`unknown mutant ${name}; one of ${Object.keys(mutants).join(", ")}`);
  const t0 = Date.now();
  let caught = false;
  for (let s = 1; s <= max && !caught; s++) {
    const r = runSimulation({ seed: s, ...mutant, world });
    if (!r.ok) {
      caught = true;
      console.log(`${name} (${world}): caught at seed ${s} after ${Date.now() - t0}ms: ${r.error?.split("\n")[0]}`);
    }
  }
  if (!caught) {
    missed++;
    console.log(`${name} (${world}): NOT caught in ${max} seeds`);
  }
}
process.exitCode = missed ? 1 : 0;
