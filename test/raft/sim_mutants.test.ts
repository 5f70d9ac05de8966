// The simulator must be able to fail: deliberately broken cores are caught within a bounded number
// of seeds. Committing earlier-term entries by counting only loses data in a choreography (Raft's
// figure 8) that needs leaders to die at exact moments, so that mutant runs in the simulator's
// "critical moments" world, where about one seed in two hundred reaches it (core_replication.test.ts
// also scripts the choreography directly).
import assert from "node:assert/strict";
import { test } from "node:test";
import { runSimulation, type SimOptions } from "./sim/cluster.js";
import { mutants } from "./sim/mutants.js";

const cases: { name: string; maxSeeds: number; world: SimOptions["world"] }[] = [
  { name: "forget-vote", maxSeeds: 1000, world: "mixed" },
  { name: "unconfirmed-read", maxSeeds: 600, world: "mixed" },
  { name: "commit-previous-term", maxSeeds: 1500, world: "critical" },
];

for (const { name, maxSeeds, world } of cases) {
  test(`the simulator catches the "${name}" mutant within ${maxSeeds} seeds`, () => {
    const factory = mutants[name]!;
    for (let seed = 1; seed <= maxSeeds; seed++) {
      const r = runSimulation({ seed, world, coreFactory: factory });
      if (!r.ok) {
        console.log(`# ${name}: caught at seed ${seed}: ${r.error?.split("\n")[0]}`);
        return;
      }
    }
    assert.fail(`${name} survived ${maxSeeds} seeds: the simulator lost its teeth`);
  });
}
