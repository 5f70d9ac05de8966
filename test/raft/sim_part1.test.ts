// Deterministic simulation, seeds 1..1500 (split in two files so they run in parallel).
import { test } from "node:test";
import { assertSeedRange } from "./sim/seeds.js";

for (let chunk = 0; chunk < 6; chunk++) {
  const start = 1 + chunk * 250;
  test(`raft simulation: seeds ${start}..${start + 249} keep every invariant, stay live and linearizable`, () => {
    assertSeedRange(start, 250);
  });
}
