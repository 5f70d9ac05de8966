// The simulator must be able to fail: deliberately broken cores (and a broken driver) are caught within
// a bounded number of seeds. Committing earlier-term entries by counting only loses data in a
// choreography (Raft's figure 8) that needs leaders to die at exact moments, so that mutant also runs
// in the simulator's "critical moments" world (core_replication.test.ts scripts the choreography).
import assert from "node:assert/strict";
import { test } from "node:test";
import { runSimulation, type SimOptions } from "./sim/cluster.js";
import { mutants } from "./sim/mutants.js";

const cases: { name: string; maxSeeds: number; world: SimOptions["world"] }[] = [
  { name: "commit-previous-term", maxSeeds: 1500, world: "mixed" },
  { name: "commit-previous-term", maxSeeds: 1500, world: "critical" },
  { name: "forget-vote", maxSeeds: 300, world: "mixed" },
  { name: "unconfirmed-read", maxSeeds: 300, world: "mixed" },
  { name: "early-read", maxSeeds: 600, world: "mixed" },
  { name: "vote-for-stale-log", maxSeeds: 300, world: "mixed" },
  { name: "recovering-votes", maxSeeds: 300, world: "mixed" },
  { name: "no-consistency-check", maxSeeds: 300, world: "mixed" },
  { name: "unclamped-heartbeat", maxSeeds: 300, world: "mixed" },
  { name: "send-before-persist", maxSeeds: 1500, world: "mixed" },
  { name: "deaf-quiesced", maxSeeds: 300, world: "mixed" },
];

for (const { name, maxSeeds, world } of cases) {
  test(`the simulator catches the "${name}" mutant within ${maxSeeds} seeds (${world} world)`, () => {
    const mutant = mutants[name]!;
    for (let seed = 1; seed <= maxSeeds; seed++) {
      const r = runSimulation({ seed, world, ...mutant });
      if (!r.ok) {
        console.log(`# ${name}: caught at seed ${seed}: ${r.error?.split("\n")[0]}`);
        return;
      }
    }
    assert.fail(`${name} survived ${maxSeeds} seeds: the simulator lost its teeth`);
  });
}

test("every mutant has a case", () => {
  assert.deepEqual(new Set(cases.map((c) => c.name)), new Set(Object.keys(mutants)));
});
