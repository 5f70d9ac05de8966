// Many groups per host: idle groups quiesce, so a tick of a host costs nothing per idle group and the
// network carries one liveness ping per pair of nodes; when a leader's node dies, every group that
// waited on it wakes and elects a new leader. Time is driven by hand (tick()), so counts are exact.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftHost, type RaftGroup, type StateMachine } from "../../raft/host.js";
import { MemoryStorage } from "../../raft/memory_storage.js";
import { HOST_GROUP, InMemoryNetwork } from "../../raft/transport.js";
import type { Entry } from "../../raft/types.js";

class Counter implements StateMachine {
  n = 0;
  apply(e: Entry): void {
    if (e.data.length) this.n++;
  }
  snapshot(): Uint8Array {
    return new Uint8Array([this.n]);
  }
  restore(data: Uint8Array): void {
    this.n = data[0] ?? 0;
  }
}

const settle = async () => {
  for (let k = 0; k < 4; k++) await new Promise((r) => setImmediate(r));
};

async function world(nGroups: number, opts: { quiesce?: boolean } = {}) {
  const net = new InMemoryNetwork();
  const ids = ["a", "b", "c"];
  const hosts = ids.map((id) => {
    const h = new RaftHost({ id, transport: net.transportFor(id), quiesce: opts.quiesce });
    net.attach(id, h);
    return h;
  });
  const groups = new Map<string, RaftGroup[]>();
  for (let i = 0; i < nGroups; i++) {
    groups.set(
      `g${i}`,
      hosts.map((h) => h.addGroup({ group: `g${i}`, storage: new MemoryStorage({ voters: ids, learners: [] }), stateMachine: new Counter() })),
    );
  }
  const live = new Set(hosts);
  const tick = async (n = 1) => {
    for (let t = 0; t < n; t++) {
      for (const h of live) h.tick();
      await settle();
    }
  };
  const leaderOf = (name: string) => groups.get(name)!.find((g, i) => live.has(hosts[i]!) && g.isLeader);
  return { net, hosts, groups, live, tick, leaderOf };
}

test("idle groups quiesce: ticks then touch no group, and only one ping per pair of nodes travels", async () => {
  const w = await world(300);
  for (let t = 0; t < 200 && [...w.groups.keys()].some((n) => !w.leaderOf(n)); t++) await w.tick();
  for (const n of w.groups.keys()) assert.ok(w.leaderOf(n), `${n} has a leader`);
  for (let t = 0; t < 100 && w.hosts.some((h) => h.activeGroups > 0); t++) await w.tick();
  for (const h of w.hosts) assert.equal(h.activeGroups, 0, `${h.id}: every group quiesced`);
  const sent = w.net.sent;
  await w.tick(20);
  // Each host pings the peers of the groups it leads: at most 3 x 2 pings per tick, whatever the number of groups.
  assert.ok(w.net.sent - sent <= 20 * 6, `${w.net.sent - sent} messages in 20 idle ticks`);
  for (const h of w.hosts) assert.equal(h.activeGroups, 0);
});

test("without quiescence every idle group heartbeats every tick (the cost quiescence removes)", async () => {
  const w = await world(50, { quiesce: false });
  for (let t = 0; t < 200 && [...w.groups.keys()].some((n) => !w.leaderOf(n)); t++) await w.tick();
  const sent = w.net.sent;
  await w.tick(5);
  assert.ok(w.net.sent - sent >= 50 * 2 * 5, `${w.net.sent - sent} messages in 5 ticks`);
  for (const h of w.hosts) assert.equal(h.activeGroups, 50);
});

test("a proposal wakes only its group, which quiesces again once everyone has it", async () => {
  const w = await world(20);
  for (let t = 0; t < 300 && w.hosts.some((h) => h.activeGroups > 0); t++) await w.tick();
  const l = w.leaderOf("g7")!;
  const p = l.propose(new Uint8Array([1]));
  await settle();
  assert.ok(w.hosts.every((h) => h.activeGroups <= 1));
  await w.tick(2);
  await p;
  for (let t = 0; t < 30 && w.hosts.some((h) => h.activeGroups > 0); t++) await w.tick();
  for (const h of w.hosts) assert.equal(h.activeGroups, 0);
});

test("when a leader's node dies, the groups waiting on it wake and elect new leaders", async () => {
  const w = await world(30);
  for (let t = 0; t < 300 && w.hosts.some((h) => h.activeGroups > 0); t++) await w.tick();
  for (const h of w.hosts) assert.equal(h.activeGroups, 0);
  // The host that leads most groups dies.
  const count = (h: RaftHost) => [...w.groups.values()].filter((gs) => gs[w.hosts.indexOf(h)]!.isLeader).length;
  const victim = [...w.hosts].sort((x, y) => count(y) - count(x))[0]!;
  assert.ok(count(victim) > 0);
  w.live.delete(victim);
  w.net.detach(victim.id);
  for (let t = 0; t < 200 && [...w.groups.keys()].some((n) => !w.leaderOf(n)); t++) await w.tick();
  for (const n of w.groups.keys()) assert.ok(w.leaderOf(n), `${n} elected a new leader`);
  const props = [...w.groups.keys()].map((n) => w.leaderOf(n)!.propose(new Uint8Array([1]), 60000));
  for (let t = 0; t < 20; t++) await w.tick();
  await Promise.all(props);
});

test("the host's own pings are never taken for a group", () => {
  const net = new InMemoryNetwork();
  const h = new RaftHost({ id: "a", transport: net.transportFor("a") });
  assert.throws(() => h.addGroup({ group: HOST_GROUP, storage: new MemoryStorage({ voters: ["a"], learners: [] }), stateMachine: new Counter() }), /needs a name/);
});

test("a leader whose group stops on its host hands leadership over, although the host keeps pinging for its other groups", async () => {
  const w = await world(2);
  const a = w.hosts[0]!;
  const settleIdle = async () => {
    for (let t = 0; t < 300 && w.hosts.some((h) => h.activeGroups > 0); t++) await w.tick();
    for (const h of w.hosts) assert.equal(h.activeGroups, 0);
  };
  await settleIdle();
  // Both groups led by a, so a goes on pinging its peers once g0 is gone.
  for (const name of ["g0", "g1"]) {
    const l = w.leaderOf(name)!;
    if (l !== w.groups.get(name)![0]) {
      assert.ok(l.transferLeadership("a"));
      for (let t = 0; t < 50 && !w.groups.get(name)![0]!.isLeader; t++) await w.tick();
    }
    assert.ok(w.groups.get(name)![0]!.isLeader);
  }
  await settleIdle();
  a.removeGroup("g0");
  const others = w.groups.get("g0")!.slice(1);
  for (let t = 0; t < 100 && !others.some((g) => g.isLeader); t++) await w.tick();
  assert.ok(others.some((g) => g.isLeader), "b or c took over g0");
  assert.ok(w.groups.get("g1")![0]!.isLeader, "g1 undisturbed");
});
