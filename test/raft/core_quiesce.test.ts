// Quiescence of idle groups (RaftConfig.quiesce): an idle group stops ticking and sending; anything new
// wakes it; late or duplicated messages do not; a follower is woken by its driver when the leader's node
// falls silent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftCore } from "../../raft/core.js";
import { MemoryStorage } from "../../raft/memory_storage.js";
import { MessageType, Role, emptyMessage } from "../../raft/types.js";
import { TestCluster, ent } from "./harness.js";

function idle(c: TestCluster, ids: string[], maxTicks = 30): void {
  for (let i = 0; i < maxTicks && !ids.every((id) => c.core(id).quiesced); i++) c.tickAll(1);
  for (const id of ids) assert.equal(c.core(id).quiesced, true, `${id} quiesced`);
}

test("an idle group quiesces: after that, ticks send nothing", () => {
  const c = new TestCluster(["a", "b", "c"], { quiesce: true });
  c.elect("a");
  c.propose("a", "x");
  c.settle();
  idle(c, ["a", "b", "c"]);
  c.sent = [];
  c.tickAll(100);
  assert.deepEqual(c.sent, [], "no messages from an idle group");
  assert.equal(c.core("a").role, Role.Leader);
  assert.deepEqual(c.appliedData("b"), ["x"]);
});

test("without the option nothing quiesces", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.tickAll(30);
  assert.equal(c.core("a").quiesced, false);
  c.sent = [];
  c.tickAll(1);
  assert.ok(c.sent.some((m) => m.type === MessageType.Heartbeat));
});

test("a proposal wakes the group; it commits, then the group quiesces again", () => {
  const c = new TestCluster(["a", "b", "c"], { quiesce: true });
  c.elect("a");
  idle(c, ["a", "b", "c"]);
  c.propose("a", "y");
  assert.equal(c.core("a").quiesced, false);
  c.settle();
  for (const id of ["b", "c"]) assert.equal(c.core(id).quiesced, false, `${id} woken by new entries`);
  c.tickAll(1);
  assert.deepEqual(c.appliedData("c"), ["y"]);
  idle(c, ["a", "b", "c"]);
});

test("late and duplicated messages of the leader do not wake a quiesced follower", () => {
  const c = new TestCluster(["a", "b", "c"], { quiesce: true });
  c.elect("a");
  c.propose("a", "x");
  c.settle();
  c.tickAll(1);
  const old = c.sent.filter((m) => m.to === "b" && (m.type === MessageType.App || m.type === MessageType.Heartbeat));
  assert.ok(old.length > 0);
  idle(c, ["a", "b", "c"]);
  // b's state machine snapshots and compacts its log: the late appends now refer to entries it no longer has.
  const b = c.core("b");
  const st = c.storages.get("b")!;
  st.createSnapshot(b.log.applied, b.confStateAt(b.log.applied), new Uint8Array());
  st.compact(b.log.applied);
  for (const m of old) c.deliver({ ...m });
  c.settle();
  assert.equal(c.core("b").quiesced, true);
  assert.equal(c.core("a").quiesced, true);
});

test("the leader waits until every member quiesced: a lost Quiesce is sent again", () => {
  const c = new TestCluster(["a", "b", "c"], { quiesce: true });
  c.elect("a");
  c.settle();
  let dropped = 0;
  c.filter = (m) => m.type === MessageType.Quiesce && m.to === "c" && dropped++ < 2;
  idle(c, ["a", "b", "c"]);
  assert.equal(dropped, 3, "c got the third attempt");
});

test("a member behind the leader keeps the group awake", () => {
  const c = new TestCluster(["a", "b", "c"], { quiesce: true });
  c.elect("a");
  c.isolate("c");
  c.propose("a", "x");
  for (let i = 0; i < 30; i++) c.tickAll(1);
  assert.equal(c.core("a").quiesced, false);
  assert.equal(c.core("b").quiesced, false);
  c.heal();
  idle(c, ["a", "b", "c"]);
  assert.deepEqual(c.appliedData("c"), ["x"]);
});

test("a quiesced follower sleeps through its leader's death until its driver wakes it; then a new leader is elected", () => {
  const c = new TestCluster(["a", "b", "c"], { quiesce: true });
  c.elect("a");
  idle(c, ["a", "b", "c"]);
  c.down.add("a");
  c.tickAll(100);
  assert.equal(c.leaders().length, 0);
  assert.equal(c.core("b").role, Role.Follower);
  c.core("b").unquiesce();
  c.core("c").unquiesce();
  for (let i = 0; i < 60 && c.leaders().length === 0; i++) c.tickAll(1);
  assert.equal(c.leaders().length, 1);
  assert.notEqual(c.leaders()[0]!.id, "a");
});

test("a read on a quiesced follower wakes the leader and is served", () => {
  const c = new TestCluster(["a", "b", "c"], { quiesce: true });
  c.elect("a");
  c.propose("a", "x");
  c.settle();
  idle(c, ["a", "b", "c"]);
  assert.ok(c.core("b").readIndex("r"));
  c.settle();
  assert.deepEqual(c.readStates.get("b"), [{ index: c.core("a").log.committed, context: "r" }]);
});

test("a vote request wakes quiesced members (a restarted node campaigns)", () => {
  const c = new TestCluster(["a", "b", "c"], { quiesce: true });
  c.elect("a");
  idle(c, ["a", "b", "c"]);
  const b = c.restart("b");
  assert.equal(b.quiesced, false);
  for (let i = 0; i < 40 && c.core("c").quiesced; i++) c.tickAll(1);
  assert.equal(c.core("c").quiesced, false, "b's pre-vote woke c");
  assert.equal(c.leaders().length, 1);
  idle(c, ["a", "b", "c"], 60);
});

test("a recovering member whose watermark lies beyond the leader's log stops recovering once the idle group quiesces", () => {
  for (const quiesce of [false, true]) {
    const ids = ["a", "b", "c"];
    const snap = { meta: { index: 0, term: 0, conf: { voters: ids, learners: [] } }, data: new Uint8Array() };
    const full = [ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2)];
    const c = new TestCluster([], { quiesce }, 1);
    for (const id of ids) {
      // c lost entries 3.. to damage; its log once reached 100 (entries of some old term that never committed).
      const storage = id === "c" ? MemoryStorage.restore({ term: 2, vote: "", commit: 2 }, snap, full.slice(0, 2), 100) : MemoryStorage.restore({ term: 2, vote: "", commit: 2 }, snap, full, 0);
      c.storages.set(id, storage);
      c.applied.set(id, []);
      c.readStates.set(id, []);
      c.cores.set(id, new RaftCore({ id, storage, random: () => c.rng.next(), quiesce }));
    }
    c.elect("a");
    for (let i = 0; i < 40; i++) c.tickAll(1);
    assert.equal(c.core("c").log.lastIndex(), c.core("a").log.lastIndex(), "c caught up with the leader");
    assert.equal(c.core("c").status().recovering, !quiesce, quiesce ? "the Quiesce showed c it holds the leader's whole log" : "still short of its watermark");
    if (quiesce) assert.ok(ids.every((id) => c.core(id).quiesced));
  }
});

test("a learner woken by something the leader does not know of goes back to sleep on its own", () => {
  const c = new TestCluster(["a", "b", "c", "d"], { quiesce: true }, 1, { voters: ["a", "b", "c"], learners: ["d"] });
  c.elect("a");
  idle(c, ["a", "b", "c", "d"]);
  c.core("d").unquiesce();
  for (let i = 0; i < 40 && !c.core("d").quiesced; i++) c.tickAll(1);
  assert.equal(c.core("d").quiesced, true);
  assert.equal(c.core("a").quiesced, true, "the leader was never disturbed");
});

test("a member woken because its leader's node fell silent, or asleep again after a silent timeout, no longer honours the leader's lease", () => {
  const preVote = (c: TestCluster, from: string, to: string) => {
    const m = emptyMessage(MessageType.PreVote, from, to, c.core(from).term + 1);
    m.index = c.core(from).log.lastIndex();
    m.logTerm = c.core(from).log.lastTerm();
    c.queue = [];
    c.core(to).step(m);
    c.flush();
    return c.queue.find((x) => x.type === MessageType.PreVoteResp && x.to === from);
  };
  for (const driverWoke of [false, true]) {
    const c = new TestCluster(["a", "b", "c"], { quiesce: true });
    c.elect("a");
    idle(c, ["a", "b", "c"]);
    c.down.add("a");
    // Once b's driver stops hearing from a, b answers c's pre-vote at once; before, it trusts a.
    if (driverWoke) c.core("b").unquiesce();
    const r = preVote(c, "c", "b");
    if (driverWoke) assert.equal(r?.reject, false);
    else assert.equal(r, undefined, "b still trusts a: the pre-vote is ignored");
  }

  // d, a learner, woke (for nothing the leader knew of) and slept again after a silent election timeout.
  const k = new TestCluster(["a", "b", "c", "d"], { quiesce: true }, 1, { voters: ["a", "b", "c"], learners: ["d"] });
  k.elect("a");
  idle(k, ["a", "b", "c", "d"]);
  k.down.add("a");
  k.core("d").step(emptyMessage(MessageType.TimeoutNow, "a", "d", k.core("a").term));
  assert.equal(k.core("d").quiesced, false);
  for (let i = 0; i < 40 && !k.core("d").quiesced; i++) k.tickAll(1);
  assert.equal(k.core("d").quiesced, true);
  assert.equal(preVote(k, "c", "d")?.reject, false, "d grants: its lease on a ran out");
});
