// Snapshots and compaction, membership changes, leadership transfer, ReadIndex and corruption recovery.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftCore } from "../../raft/core.js";
import { MemoryStorage } from "../../raft/memory_storage.js";
import { MessageType, Role } from "../../raft/types.js";
import { TestCluster, ent } from "./harness.js";

function compact(c: TestCluster, id: string): void {
  const core = c.core(id);
  const s = c.storages.get(id)!;
  const applied = core.log.applied;
  s.createSnapshot(applied, core.confStateAt(applied), new TextEncoder().encode(c.appliedData(id).join(",")));
  s.compact(applied);
}

test("a follower behind the leader's compacted log catches up through InstallSnapshot", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.isolate("c");
  for (let i = 0; i < 10; i++) c.propose("a", `x${i}`);
  c.settle();
  c.tickAll(1);
  compact(c, "a");
  assert.ok(c.storages.get("a")!.firstIndex() > 2);
  c.heal();
  c.sent = [];
  c.tickAll(3);
  assert.ok(c.sent.some((m) => m.type === MessageType.Snap && m.to === "c"));
  const cs = c.storages.get("c")!.snapshot();
  assert.equal(new TextDecoder().decode(cs.data), Array.from({ length: 10 }, (_, i) => `x${i}`).join(","));
  assert.equal(c.core("c").log.committed, c.core("a").log.committed);
  // And replication continues normally after the snapshot.
  c.propose("a", "after");
  c.settle();
  c.tickAll(1);
  assert.deepEqual(c.appliedData("c"), ["after"]);
});

test("a snapshot the follower's log already covers only advances its commit", () => {
  const c = new TestCluster(["a", "b"]);
  c.elect("a");
  for (let i = 0; i < 3; i++) c.propose("a", `x${i}`);
  c.settle();
  const b = c.core("b");
  const before = b.log.lastIndex();
  const snap = { meta: { index: 2, term: b.log.term(2)!, conf: { voters: ["a", "b"], learners: [] } }, data: new Uint8Array() };
  const m = { ...c.sent[0]!, type: MessageType.Snap, from: "a", to: "b", term: b.term, snapshot: snap, entries: [] };
  b.step(m);
  assert.equal(b.log.lastIndex(), before, "log kept");
});

test("restart from a snapshot plus log tail restores committed state and configuration", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  for (let i = 0; i < 5; i++) c.propose("a", `x${i}`);
  c.settle();
  c.tickAll(1);
  compact(c, "b");
  c.propose("a", "tail");
  c.settle();
  c.tickAll(1);
  const b = c.restart("b");
  assert.equal(b.log.firstIndex(), c.storages.get("b")!.snapshot().meta.index + 1);
  assert.deepEqual(b.currentConf().voters, ["a", "b", "c"]);
  c.tickAll(2);
  assert.deepEqual(c.appliedData("b").slice(-1), ["tail"]);
});

test("membership: a learner catches up, does not vote, and is promoted only once caught up", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  for (let i = 0; i < 5; i++) c.propose("a", `x${i}`);
  c.settle();
  c.tickAll(1);
  c.add("d");
  const a = c.core("a");
  c.isolate("d");
  const r = a.proposeConfChange({ type: "addLearner", nodeId: "d" });
  assert.ok(r.ok);
  c.settle();
  c.tickAll(1);
  assert.deepEqual(a.currentConf().learners, ["d"]);
  const early = a.proposeConfChange({ type: "addVoter", nodeId: "d" });
  assert.equal(early.ok, false, "promotion refused while the learner lags");
  c.heal();
  c.tickAll(3);
  assert.deepEqual(c.appliedData("d"), c.appliedData("a"));
  assert.equal(c.core("d").role, Role.Follower);
  c.tick("d", 100);
  assert.equal(c.core("d").role, Role.Follower, "a learner never campaigns");
  const promote = a.proposeConfChange({ type: "addVoter", nodeId: "d" });
  assert.ok(promote.ok, JSON.stringify(promote));
  c.settle();
  c.tickAll(2);
  assert.deepEqual(c.core("d").currentConf().voters, ["a", "b", "c", "d"]);
  // Four voters: a majority is three, so losing two stops commits.
  c.down.add("b");
  c.down.add("c");
  const idx = c.propose("a", "needs-three");
  c.settle();
  assert.ok(a.log.committed < idx);
});

test("membership: one change at a time, and not before the leader committed an entry of its term", () => {
  const c = new TestCluster(["a", "b", "c"]);
  const a = c.core("a");
  a.campaign();
  c.flush();
  // Leader now, but its empty entry is not committed yet.
  c.settle();
  const c1 = new TestCluster(["a", "b", "c"]);
  // Win the election, but let no append through: the leader's empty entry stays uncommitted.
  c1.filter = (m) => m.type === MessageType.App;
  c1.elect("a");
  assert.equal(c1.core("a").proposeConfChange({ type: "addLearner", nodeId: "d" }).ok, false);
  const first = a.proposeConfChange({ type: "addLearner", nodeId: "d" });
  assert.ok(first.ok);
  const second = a.proposeConfChange({ type: "addLearner", nodeId: "e" });
  assert.deepEqual(second, { ok: false, reason: "conf-change-pending" });
  c.settle();
  assert.ok(a.proposeConfChange({ type: "addLearner", nodeId: "e" }).ok);
});

test("membership: a removed leader commits its removal, then steps down; the rest elect a new leader", () => {
  const c = new TestCluster(["a", "b", "c", "d"]);
  c.elect("a");
  const r = c.core("a").proposeConfChange({ type: "removeNode", nodeId: "a" });
  assert.ok(r.ok);
  c.settle();
  c.tickAll(2);
  assert.equal(c.core("a").role, Role.Follower);
  assert.deepEqual(c.core("b").currentConf().voters, ["b", "c", "d"]);
  c.down.add("a");
  c.tickAll(40);
  assert.equal(c.leaders().length, 1);
  assert.notEqual(c.leaders()[0]!.id, "a");
});

test("membership: a configuration entry takes effect when appended and is undone if truncated", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false, checkQuorum: false });
  c.elect("a");
  c.isolate("a");
  assert.ok(c.core("a").proposeConfChange({ type: "addLearner", nodeId: "z" }).ok);
  c.flush();
  assert.deepEqual(c.core("a").currentConf().learners, ["z"]);
  c.elect("b");
  c.propose("b", "b-entry");
  c.settle();
  c.heal();
  c.tickAll(3);
  assert.deepEqual(c.core("a").currentConf().learners, [], "the uncommitted change was overwritten");
});

test("leadership transfer: to an up-to-date voter, proposals refused meanwhile", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.propose("a", "x");
  c.settle();
  assert.ok(c.core("a").transferLeadership("b"));
  assert.equal(c.core("a").propose(new Uint8Array([1])).ok, false);
  c.settle();
  assert.equal(c.core("b").role, Role.Leader);
  assert.equal(c.core("a").role, Role.Follower);
});

test("leadership transfer: a lagging transferee is caught up first; an unreachable one is abandoned", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.isolate("c");
  for (let i = 0; i < 5; i++) c.propose("a", `x${i}`);
  c.settle();
  c.heal();
  assert.ok(c.core("a").transferLeadership("c"));
  c.tickAll(3);
  assert.equal(c.core("c").role, Role.Leader);
  assert.deepEqual(c.appliedData("c").slice(0, 5), ["x0", "x1", "x2", "x3", "x4"]);

  const d = new TestCluster(["a", "b", "c"]);
  d.elect("a");
  d.isolate("c");
  assert.ok(d.core("a").transferLeadership("c"));
  d.tickAll(25);
  assert.equal(d.core("a").role, Role.Leader);
  assert.equal(d.core("a").leadTransferee, "");
  assert.ok(d.core("a").propose(new Uint8Array([1])).ok, "proposals accepted again");
});

test("ReadIndex: served after a quorum confirms leadership; forwarded from followers", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.propose("a", "x");
  c.settle();
  c.isolate("a");
  assert.ok(c.core("a").readIndex("r1"));
  c.settle();
  assert.deepEqual(c.readStates.get("a"), [], "no quorum, no read");
  c.heal();
  c.tickAll(1);
  assert.deepEqual(c.readStates.get("a"), [{ index: c.core("a").log.committed, context: "r1" }]);
  assert.ok(c.core("b").readIndex("r2"));
  c.settle();
  assert.deepEqual(c.readStates.get("b"), [{ index: c.core("a").log.committed, context: "r2" }]);
});

test("ReadIndex: a new leader answers only after committing an entry of its term", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.filter = (m) => m.type === MessageType.App;
  c.elect("a");
  c.filter = null;
  c.core("a").readIndex("early");
  c.flush();
  assert.deepEqual(c.readStates.get("a"), []);
  c.settle();
  c.tickAll(1);
  assert.equal(c.readStates.get("a")!.length, 1);
  assert.equal(c.readStates.get("a")![0]!.index, c.core("a").log.committed);
});

test("corruption: a node whose log was cut short neither votes nor campaigns until it catches up", () => {
  const ids = ["a", "b", "c"];
  const conf = { meta: { index: 0, term: 0, conf: { voters: ids, learners: [] } }, data: new Uint8Array() };
  const full = [ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2), ent(5, 2), ent(6, 2)];
  const c = new TestCluster([], {}, 1);
  for (const id of ids) {
    // c acknowledged entries up to 6 before its disk lost 4..6: its recovery watermark is 6.
    const storage = id === "c" ? MemoryStorage.restore({ term: 2, vote: "", commit: 3 }, conf, full.slice(0, 3), 6) : MemoryStorage.restore({ term: 2, vote: "", commit: 3 }, conf, full, 0);
    c.storages.set(id, storage);
    c.applied.set(id, []);
    c.readStates.set(id, []);
    c.cores.set(id, new RaftCore({ id, storage, random: () => c.rng.next() }));
  }
  const core = c.core("c");
  assert.equal(core.status().recovering, true);
  for (let i = 0; i < 100; i++) core.tick();
  assert.equal(core.role, Role.Follower, "never campaigns");
  // With a down, b needs c's vote: c withholds it, although b's log is more up to date than c's.
  c.down.add("a");
  c.core("b").campaign();
  c.settle();
  assert.notEqual(c.core("b").role, Role.Leader, "c's vote is withheld");
  c.down.delete("a");
  for (let i = 0; i < 60 && c.leaders().length === 0; i++) c.tickAll(1);
  assert.equal(c.leaders().length, 1);
  c.tickAll(2);
  assert.equal(core.status().recovering, false, "caught up past the watermark");
  assert.equal(core.log.term(6), 2);
});
