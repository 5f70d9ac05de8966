// RaftHost end to end with real timers: in-memory network, memory and SQLite storage, many groups.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { RaftHost, type RaftGroup, type StateMachine } from "../../raft/host.js";
import { MemoryStorage } from "../../raft/memory_storage.js";
import { SqliteRaftStore } from "../../raft/sqlite_storage.js";
import { InMemoryNetwork } from "../../raft/transport.js";
import { CorruptionError, type Entry, EntryType, type NodeId } from "../../raft/types.js";

class ListMachine implements StateMachine {
  items: string[] = [];
  apply(e: Entry): void {
    if (e.type === EntryType.Normal && e.data.length) this.items.push(new TextDecoder().decode(e.data));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }
  restore(data: Uint8Array): void {
    // Empty data: the initial state (a damaged log was cut back to before any snapshot).
    this.items = data.length ? (JSON.parse(new TextDecoder().decode(data)) as string[]) : [];
  }
}

async function waitFor(what: string, cond: () => boolean, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const enc = (s: string) => new TextEncoder().encode(s);

interface Member {
  host: RaftHost;
  group: RaftGroup;
  sm: ListMachine;
}

function memberOf(net: InMemoryNetwork, id: NodeId, voters: NodeId[], storage = new MemoryStorage({ voters, learners: [] })): Member {
  const host = new RaftHost({ id, transport: net.transportFor(id), tickMs: 5 });
  net.attach(id, host);
  const sm = new ListMachine();
  const group = host.addGroup({ group: "g", storage, stateMachine: sm, snapshotEvery: 20 });
  host.start();
  return { host, group, sm };
}

function leaderOf(ms: Member[]): Member | undefined {
  return ms.find((m) => m.group.isLeader);
}

test("three hosts elect a leader, commit proposals, serve linearizable reads, transfer leadership", async () => {
  const net = new InMemoryNetwork();
  const ids = ["a", "b", "c"];
  const ms = ids.map((id) => memberOf(net, id, ids));
  try {
    await waitFor("a leader", () => leaderOf(ms) !== undefined);
    const l = leaderOf(ms)!;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => l.group.propose(enc(`x${i}`))));
    assert.equal(new Set(results.map((r) => r.index)).size, 50);
    const want = Array.from({ length: 50 }, (_, i) => `x${i}`);
    assert.deepEqual(l.sm.items, want);
    const follower = ms.find((m) => m !== l)!;
    await assert.rejects(follower.group.propose(enc("nope")), /not-leader/);
    // A read on a follower sees everything committed before it started.
    await follower.group.readIndex();
    assert.deepEqual(follower.sm.items, want);
    const to = follower.host.id;
    assert.ok(l.group.transferLeadership(to));
    await waitFor("the transfer", () => follower.group.isLeader);
    await follower.group.propose(enc("after-transfer"));
    await waitFor("all to apply", () => ms.every((m) => m.sm.items.length === 51));
  } finally {
    for (const m of ms) m.host.stop();
  }
});

test("a learner joins, catches up (through a snapshot), and is promoted", async () => {
  const net = new InMemoryNetwork();
  const ids = ["a", "b", "c"];
  const ms = ids.map((id) => memberOf(net, id, ids));
  try {
    await waitFor("a leader", () => leaderOf(ms) !== undefined);
    const l = leaderOf(ms)!;
    for (let i = 0; i < 60; i++) await l.group.propose(enc(`x${i}`));
    const d = memberOf(net, "d", [], new MemoryStorage());
    ms.push(d);
    await l.group.proposeConfChange({ type: "addLearner", nodeId: "d" });
    await waitFor("the learner to catch up", () => d.sm.items.length === 60);
    await l.group.proposeConfChange({ type: "addVoter", nodeId: "d" });
    await waitFor("d to be a voter", () => d.group.status().conf.voters.includes("d"));
    assert.deepEqual(l.group.status().conf.voters, ["a", "b", "c", "d"]);
  } finally {
    for (const m of ms) m.host.stop();
  }
});

test("with SQLite storage a host restarts with its log and state; groups share one fsync per turn", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-raft-host-"));
  const net = new InMemoryNetwork();
  const ids = ["a", "b", "c"];
  const stores = new Map(ids.map((id) => [id, new SqliteRaftStore(join(dir, `${id}.db`))]));
  const hosts = new Map<NodeId, RaftHost>();
  const groups = new Map<string, RaftGroup>();
  const machines = new Map<string, ListMachine>();
  const start = (id: NodeId) => {
    const store = stores.get(id)!;
    const host = new RaftHost({ id, transport: net.transportFor(id), tickMs: 5, transaction: (fn) => store.transaction(fn) });
    net.attach(id, host);
    for (const name of ["s1", "s2", "s3"]) {
      const sm = new ListMachine();
      machines.set(`${id}/${name}`, sm);
      groups.set(`${id}/${name}`, host.addGroup({ group: name, storage: store.group(name, { voters: ids, learners: [] }), stateMachine: sm, snapshotEvery: 15 }));
    }
    host.start();
    hosts.set(id, host);
  };
  try {
    for (const id of ids) start(id);
    const leaderFor = (name: string) => ids.map((id) => groups.get(`${id}/${name}`)!).find((g) => g.isLeader);
    for (const name of ["s1", "s2", "s3"]) await waitFor(`a leader of ${name}`, () => leaderFor(name) !== undefined);
    await Promise.all(["s1", "s2", "s3"].flatMap((name) => Array.from({ length: 20 }, (_, i) => leaderFor(name)!.propose(enc(`${name}-${i}`)))));
    const h = hosts.get("a")!;
    assert.ok(h.counters.persistBatches < h.counters.readies, "several groups' Readies shared a transaction");
    await waitFor("a to apply everything", () => ["s1", "s2", "s3"].every((n) => machines.get(`a/${n}`)!.items.length === 20));
    // Restart a: its groups come back from the database (snapshot + log tail).
    h.stop();
    net.detach("a");
    stores.get("a")!.close();
    stores.set("a", new SqliteRaftStore(join(dir, "a.db")));
    start("a");
    await waitFor("a to re-apply", () => ["s1", "s2", "s3"].every((n) => machines.get(`a/${n}`)!.items.length === 20));
    for (const n of ["s1", "s2", "s3"]) assert.deepEqual(machines.get(`a/${n}`)!.items, Array.from({ length: 20 }, (_, i) => `${n}-${i}`));
  } finally {
    for (const h of hosts.values()) h.stop();
    for (const s of stores.values()) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a group whose storage reports corruption while serving stops alone and fails its callers", async () => {
  const net = new InMemoryNetwork();
  const ids = ["a"];
  const storage = new MemoryStorage({ voters: ids, learners: [] });
  let damaged = false;
  const realEntries = storage.entries.bind(storage);
  storage.entries = (lo, hi, max) => {
    if (damaged) throw new CorruptionError("entry damaged (test)", lo);
    return realEntries(lo, hi, max);
  };
  const host = new RaftHost({ id: "a", transport: net.transportFor("a"), tickMs: 5 });
  net.attach("a", host);
  const failures: Error[] = [];
  const g = host.addGroup({ group: "bad", storage, stateMachine: new ListMachine(), onFailure: (e) => failures.push(e) });
  const other = host.addGroup({ group: "good", storage: new MemoryStorage({ voters: ids, learners: [] }), stateMachine: new ListMachine() });
  host.start();
  try {
    await waitFor("leaders", () => g.isLeader && other.isLeader);
    await g.propose(enc("fine"));
    damaged = true;
    // Stable entries are read back to be applied: with the storage damaged that read fails.
    const p = g.propose(enc("x"));
    await assert.rejects(p, CorruptionError);
    await waitFor("the failure report", () => failures.length === 1);
    await assert.rejects(g.propose(enc("y")), CorruptionError);
    await other.propose(enc("still works"));
  } finally {
    host.stop();
  }
});

test("a leader that finds a damaged entry while serving cuts its log back, steps aside and catches up from the new leader", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-raft-rot-"));
  const net = new InMemoryNetwork();
  const ids = ["a", "b", "c"];
  // A tiny entry cache, so that catching a follower up reads old entries back from the database.
  const stores = new Map(ids.map((id) => [id, new SqliteRaftStore(join(dir, `${id}.db`), { cacheEntries: 4 })]));
  const corruptions: string[] = [];
  const ms = ids.map((id) => {
    const store = stores.get(id)!;
    const host = new RaftHost({ id, transport: net.transportFor(id), tickMs: 5, transaction: (fn) => store.transaction(fn) });
    net.attach(id, host);
    const sm = new ListMachine();
    const group = host.addGroup({
      group: "g",
      storage: store.group("g", { voters: ids, learners: [] }),
      stateMachine: sm,
      snapshotEvery: 0,
      onCorruption: () => corruptions.push(`${id}:${group.status().recovering ? "recovering" : "not recovering"}:${group.status().role}`),
    });
    host.start();
    return { host, group, sm };
  });
  try {
    await waitFor("a leader", () => leaderOf(ms) !== undefined);
    const l = leaderOf(ms)!;
    const lagging = ms.find((m) => m !== l)!;
    net.drop = (from, to) => from === lagging.host.id || to === lagging.host.id;
    for (let i = 0; i < 30; i++) await l.group.propose(enc(`x${i}`));
    // Rot in the leader's copy of entry 5 (its checksum no longer matches).
    const store = stores.get(l.host.id)!;
    assert.equal(store.db.prepare("UPDATE raft_entry SET data = X'00' WHERE grp = 'g' AND idx = 5").run().changes, 1);
    // The lagging follower comes back: sending it entry 5 means reading the damaged row.
    net.drop = null;
    await waitFor("the damage to be found", () => corruptions.length === 1);
    assert.deepEqual(corruptions, [`${l.host.id}:recovering:follower`]);
    await waitFor("a new leader", () => leaderOf(ms) !== undefined && leaderOf(ms) !== l);
    const want = Array.from({ length: 30 }, (_, i) => `x${i}`);
    await waitFor("everyone to apply everything", () => ms.every((m) => m.sm.items.length === 30));
    for (const m of ms) assert.deepEqual(m.sm.items, want, m.host.id);
    await waitFor("the old leader to finish recovering", () => !l.group.status().recovering);
    await leaderOf(ms)!.group.propose(enc("after"));
    await waitFor("the old leader to apply new entries", () => l.sm.items.length === 31);
    const row = store.db.prepare("SELECT length(data) AS n FROM raft_entry WHERE grp = 'g' AND idx = 5").get() as { n: number };
    assert.equal(row.n, 2, "entry 5 was written again from the new leader's copy");
  } finally {
    for (const m of ms) m.host.stop();
    for (const s of stores.values()) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
