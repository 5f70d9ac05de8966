// Raft benchmarks: an in-process 3-node group with a no-op state machine.
//   1. throughput: committed proposals per second with many proposals in flight (batching, pipelining);
//   2. commit latency in ticks: the pure core, one network hop per tick;
//   3. commit latency in milliseconds: RaftHost with real timers and the in-memory transport;
//   4. SQLite storage with fsync (synchronous=FULL): committed entries per second with group commit.
// Run: `npm run bench -- raft [--quick]` (or node dist/bench/raft/raft_bench.js [--quick]).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { RaftCore } from "../../raft/core.js";
import { type GroupOptions, RaftHost, type RaftGroup, type StateMachine } from "../../raft/host.js";
import { MemoryStorage } from "../../raft/memory_storage.js";
import { SqliteRaftStore } from "../../raft/sqlite_storage.js";
import { InMemoryNetwork } from "../../raft/transport.js";
import { type Message, type NodeId, Role } from "../../raft/types.js";

const noop: StateMachine = { apply() {}, snapshot: () => new Uint8Array(0), restore() {} };
const payload = new Uint8Array(64);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function waitFor(cond: () => boolean, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("benchmark setup timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
}

interface Cluster {
  groups: RaftGroup[];
  hosts: RaftHost[];
  close: () => void;
}

function cluster(storageFor: (id: NodeId, ids: NodeId[]) => { storage: GroupOptions["storage"]; transaction?: (fn: () => void) => void }, tickMs: number): Cluster {
  const net = new InMemoryNetwork();
  const ids = ["a", "b", "c"];
  const hosts: RaftHost[] = [];
  const groups: RaftGroup[] = [];
  for (const id of ids) {
    const { storage, transaction } = storageFor(id, ids);
    const host = new RaftHost({ id, transport: net.transportFor(id), tickMs, transaction });
    net.attach(id, host);
    groups.push(host.addGroup({ group: "bench", storage, stateMachine: noop, snapshotEvery: 50000 }));
    host.start();
    hosts.push(host);
  }
  return { groups, hosts, close: () => hosts.forEach((h) => h.stop()) };
}

/** Keeps `window` proposals in flight until `total` have committed; returns proposals per second. */
async function throughput(c: Cluster, total: number, window: number): Promise<number> {
  await waitFor(() => c.groups.some((g) => g.isLeader));
  const leader = c.groups.find((g) => g.isLeader)!;
  let started = 0;
  let done = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const launch = () => {
      while (started < total && started - done < window) {
        started++;
        leader.propose(payload, 30000).then(
          () => {
            done++;
            if (done === total) resolve();
            else launch();
          },
          reject,
        );
      }
    };
    launch();
  });
  return total / ((performance.now() - t0) / 1000);
}

/** One proposal at a time; returns per-proposal commit latencies in ms. */
async function latencyMs(c: Cluster, n: number): Promise<number[]> {
  await waitFor(() => c.groups.some((g) => g.isLeader));
  const leader = c.groups.find((g) => g.isLeader)!;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await leader.propose(payload);
    out.push(performance.now() - t0);
  }
  return out;
}

/** The pure core: messages sent during tick k are delivered at tick k+1; proposals arrive at random ticks. */
function latencyTicks(n: number): number[] {
  const ids = ["a", "b", "c"];
  let seed = 42;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const storages = new Map(ids.map((id) => [id, new MemoryStorage({ voters: ids, learners: [] })]));
  const cores = new Map(ids.map((id) => [id, new RaftCore({ id, storage: storages.get(id)!, random: rnd })]));
  let inflight: Message[] = [];
  const pending = new Map<number, number>();
  const lat: number[] = [];
  const leader = () => [...cores.values()].find((c) => c.role === Role.Leader);
  for (let tick = 0; lat.length < n && tick < n * 100; tick++) {
    const deliver = inflight;
    inflight = [];
    for (const m of deliver) cores.get(m.to)!.step(m);
    for (const c of cores.values()) c.tick();
    const l = leader();
    if (l && pending.size < 4 && rnd() < 0.5) {
      const r = l.propose(payload);
      if (r.ok) pending.set(r.index, tick);
    }
    for (const [id, c] of cores) {
      while (c.hasReady()) {
        const rd = c.ready();
        storages.get(id)!.save(rd.hardState, rd.entries, rd.snapshot);
        inflight.push(...rd.messages);
        if (c === l) {
          for (const e of rd.committedEntries) {
            const t = pending.get(e.index);
            if (t !== undefined) {
              lat.push(tick - t);
              pending.delete(e.index);
            }
          }
        }
        c.advance(rd);
      }
    }
  }
  return lat;
}

/** A way to collect garbage before reading heap figures, also without node --expose-gc. */
function forceGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

/**
 * Many idle groups on three hosts (each hosting a replica of every group): heap per group replica, and
 * what one tick of all hosts costs once the groups are idle, with and without quiescence.
 */
export async function idleGroups(n: number, quiesce: boolean): Promise<string> {
  const net = new InMemoryNetwork();
  const ids = ["a", "b", "c"];
  const hosts = ids.map((id) => {
    const h = new RaftHost({ id, transport: net.transportFor(id), tickMs: 50, quiesce });
    net.attach(id, h);
    return h;
  });
  const groups: RaftGroup[] = [];
  const gc = forceGc();
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) {
    for (const h of hosts) groups.push(h.addGroup({ group: `g${i}`, storage: new MemoryStorage({ voters: ids, learners: [] }), stateMachine: noop }));
  }
  // Drive time by hand (no timers) so the measurement is of the work alone.
  const settle = async () => {
    for (let k = 0; k < 3; k++) await new Promise((r) => setImmediate(r));
  };
  const idle = () => (quiesce ? hosts.every((h) => h.activeGroups === 0) : groups.filter((g) => g.isLeader).length === n);
  let setup = 0;
  for (; setup < 400 && !idle(); setup++) {
    for (const h of hosts) h.tick();
    await settle();
  }
  if (!idle()) throw new Error(`${n} groups did not settle in ${setup} ticks`);
  gc?.();
  const perGroupBytes = (process.memoryUsage().heapUsed - heapBefore) / (n * 3);
  const sent0 = net.sent;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ticks = 40;
  for (let t = 0; t < ticks; t++) {
    for (const h of hosts) h.tick();
    await settle();
  }
  const ms = (performance.now() - t0) / ticks;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / ticks;
  const msgs = (net.sent - sent0) / ticks;
  const heap = gc ? `, ${(perGroupBytes / 1024).toFixed(1)} KiB heap per group replica` : "";
  return `${n} idle groups x 3 nodes, ${quiesce ? "quiesced" : "not quiesced"} (after ${setup} ticks): ${ms.toFixed(3)} ms wall, ${cpuMs.toFixed(3)} ms CPU per tick of all 3 hosts, ${Math.round(msgs)} messages per tick${heap}`;
}

/**
 * Many groups on three hosts sharing one SQLite database per host (synchronous=FULL): every host turn
 * persists the Readies of all its groups in one transaction, so the fsyncs are shared across groups.
 */
async function sqliteGroups(dir: string, nGroups: number, window: number, total: number): Promise<string> {
  const net = new InMemoryNetwork();
  const ids = ["a", "b", "c"];
  const stores = ids.map((id) => new SqliteRaftStore(join(dir, `multi-${id}.db`), { synchronous: "full" }));
  const hosts = ids.map((id, i) => {
    const store = stores[i]!;
    const h = new RaftHost({ id, transport: net.transportFor(id), tickMs: 50, transaction: (fn) => store.transaction(fn) });
    net.attach(id, h);
    return h;
  });
  const groups: RaftGroup[][] = [];
  for (let g = 0; g < nGroups; g++) {
    groups.push(hosts.map((h, i) => h.addGroup({ group: `m${g}`, storage: stores[i]!.group(`m${g}`, { voters: ids, learners: [] }), stateMachine: noop, snapshotEvery: 50000 })));
  }
  for (const h of hosts) h.start();
  try {
    await waitFor(() => groups.every((gs) => gs.some((g) => g.isLeader)), 60000);
    const leaders = groups.map((gs) => gs.find((g) => g.isLeader)!);
    const tx0 = hosts.reduce((n, h) => n + h.counters.persistBatches, 0);
    const per = Math.ceil(total / nGroups);
    const t0 = performance.now();
    await Promise.all(
      leaders.map(async (l) => {
        let started = 0;
        let done = 0;
        await new Promise<void>((resolve, reject) => {
          const launch = () => {
            while (started < per && started - done < window) {
              started++;
              l.propose(payload, 60000).then(() => {
                if (++done === per) resolve();
                else launch();
              }, reject);
            }
          };
          launch();
        });
      }),
    );
    const rate = (per * nGroups) / ((performance.now() - t0) / 1000);
    const tx = hosts.reduce((n, h) => n + h.counters.persistBatches, 0) - tx0;
    return `SQLite synchronous=FULL, ${nGroups} groups x ${window} in flight, ${per * nGroups} entries: ${Math.round(rate).toLocaleString("en-US")} committed entries/s (${tx} transactions on 3 nodes)`;
  } finally {
    for (const h of hosts) h.stop();
    for (const s of stores) s.close();
  }
}

/** Runs every measurement; returns the report (one line per figure). */
export async function raftBench(quick: boolean): Promise<string> {
  const mem = () => ({ storage: new MemoryStorage({ voters: ["a", "b", "c"], learners: [] }) });
  const rows: string[] = [];

  const total = quick ? 20000 : 200000;
  let c = cluster(mem, 50);
  const tput = await throughput(c, total, 4096);
  c.close();
  rows.push(`memory storage, ${total} proposals, 4096 in flight: ${Math.round(tput).toLocaleString("en-US")} committed proposals/s`);

  const lt = latencyTicks(quick ? 500 : 5000);
  rows.push(`commit latency in ticks (pure core, 1 hop = 1 tick): p50 ${pct(lt, 50)} p99 ${pct(lt, 99)} (n=${lt.length})`);

  c = cluster(mem, 10);
  const lm = await latencyMs(c, quick ? 500 : 5000);
  c.close();
  // Commits do not wait for ticks (every message is processed on the next event-loop turn): in ticks of 10 ms they are a fraction of one.
  rows.push(`commit latency in ms (RaftHost, real timers of 10 ms ticks, in-memory transport, 1 in flight): p50 ${pct(lm, 50).toFixed(3)} p99 ${pct(lm, 99).toFixed(3)} (p50 ${(pct(lm, 50) / 10).toFixed(3)} p99 ${(pct(lm, 99) / 10).toFixed(3)} ticks)`);

  const dir = mkdtempSync(join(tmpdir(), "tsnats-raft-bench-"));
  const stores: SqliteRaftStore[] = [];
  try {
    const sqlite = (id: NodeId, ids: NodeId[]) => {
      const store = new SqliteRaftStore(join(dir, `${id}.db`), { synchronous: "full" });
      stores.push(store);
      return { storage: store.group("bench", { voters: ids, learners: [] }), transaction: (fn: () => void) => store.transaction(fn) };
    };
    c = cluster(sqlite, 50);
    const stotal = quick ? 5000 : 50000;
    const st = await throughput(c, stotal, 4096);
    const fsyncs = c.hosts.reduce((n, h) => n + h.counters.persistBatches, 0);
    c.close();
    rows.push(`SQLite synchronous=FULL, ${stotal} entries, 4096 in flight: ${Math.round(st).toLocaleString("en-US")} committed entries/s (${fsyncs} transactions on 3 nodes)`);
    const sl = await (async () => {
      const c2 = cluster((id, ids) => {
        const store = new SqliteRaftStore(join(dir, `lat-${id}.db`), { synchronous: "full" });
        stores.push(store);
        return { storage: store.group("bench", { voters: ids, learners: [] }), transaction: (fn: () => void) => store.transaction(fn) };
      }, 10);
      const r = await latencyMs(c2, quick ? 200 : 1000);
      c2.close();
      return r;
    })();
    rows.push(`SQLite synchronous=FULL commit latency in ms (1 in flight): p50 ${pct(sl, 50).toFixed(3)} p99 ${pct(sl, 99).toFixed(3)}`);
    rows.push(await sqliteGroups(dir, quick ? 20 : 100, 64, quick ? 5000 : 50000));
  } finally {
    for (const s of stores) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const n of quick ? [1000] : [1000, 10000]) {
    rows.push(await idleGroups(n, true));
    rows.push(await idleGroups(n, false));
  }
  return [`raft bench (node ${process.version})`, ...rows.map((r) => `  ${r}`)].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  raftBench(process.argv.includes("--quick")).then(
    (report) => console.log(report),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
