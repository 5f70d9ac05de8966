// Deterministic simulation, seeds 2001..4000 (split over two files so they run in parallel; `npm run
// sim:raft -- --soak` is the long run).
import { test } from "node:test";
import { assertSeedRange } from "./sim/seeds.js";

for (let chunk = 0; chunk < 4; chunk++) {
  const start = 2001 + chunk * 500;
  test(`raft simulation: seeds ${start}..${start + 499} keep every invariant, stay live and linearizable`, () => {
    assertSeedRange(start, 500);
  });
}
