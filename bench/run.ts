// `npm run bench [-- suite ...] [--quick]`: runs the benchmark suites, tsnats beside the reference
// nats-server where it is installed, and prints tables with the ratios.
import { coreBench } from "./core/core_bench.js";
import { wsBench } from "./ws/ws_bench.js";
import { jsBench } from "./jetstream/js_bench.js";
import { raftBench } from "./raft/raft_bench.js";
import { storeBench } from "./store/run_store.js";
import { consumerBench } from "./consumer/consumer_bench.js";

const SUITES: Record<string, (quick: boolean) => Promise<string>> = {
  core: (quick) => coreBench({ quick, idle: true }),
  ws: (quick) => wsBench({ quick }),
  jetstream: (quick) => jsBench(quick),
  raft: (quick) => raftBench(quick),
  store: (quick) => storeBench(quick),
  consumer: (quick) => consumerBench(quick),
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const names = args.filter((a) => !a.startsWith("-"));
  const run = names.length ? names : Object.keys(SUITES);
  for (const n of run) {
    const suite = SUITES[n];
    if (!suite) {
      console.error(`unknown suite "${n}"; suites: ${Object.keys(SUITES).join(", ")}`);
      process.exit(1);
    }
    console.log(`\n== ${n} ==`);
    console.log(await suite(quick));
  }
}

void main();
