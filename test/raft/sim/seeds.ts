// Shared by the simulation test files: runs a range of seeds as one test, reporting every failing
// seed with the command that reproduces it and the tail of its trace.
import assert from "node:assert/strict";
import { runSimulation, type SimStats } from "./cluster.js";

export function runSeedRange(start: number, count: number): { failures: string[]; ms: number; totals: Record<string, number> } {
  const t0 = Date.now();
  const failures: string[] = [];
  const totals: Record<string, number> = {};
  for (let s = start; s < start + count; s++) {
    const r = runSimulation({ seed: s });
    for (const [k, v] of Object.entries(r.stats as unknown as Record<keyof SimStats, number>)) totals[k] = (totals[k] ?? 0) + v;
    if (!r.ok) {
      failures.push(
        `seed ${s}: ${r.error}\n  reproduce: npm run sim:raft -- --seeds 1 --seed-start ${s} --verbose\n${r.trace.map((l) => `  | ${l}`).join("\n")}`,
      );
    }
  }
  return { failures, ms: Date.now() - t0, totals };
}

/** Runs the seeds; every one must pass, and every kind of fault must actually have been injected. */
export function assertSeedRange(start: number, count: number): void {
  const { failures, totals } = runSeedRange(start, count);
  assert.equal(failures.length, 0, `${failures.length} of ${count} seeds failed:\n${failures.slice(0, 3).join("\n\n")}`);
  const injected = ["crashes", "tornWrites", "rots", "snapshotRots", "snapshotRecoveries", "recoveries", "snapshotsSent", "confChanges", "transfers", "partitions", "oneWayCuts", "heals", "drops", "duplicates", "skews", "leaderKills", "writeCrashes", "acked"];
  assert.equal(totals.linUnknown ?? 0, 0, "the linearizability search gave up on some history: its verdict is vacuous there");
  for (const k of injected) assert.ok((totals[k] ?? 0) > 0, `no ${k} in seeds ${start}..${start + count - 1}: a fault is no longer injected`);
}
