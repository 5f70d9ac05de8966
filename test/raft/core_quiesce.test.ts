// Quiescence of idle groups (RaftConfig.quiesce): an idle group stops ticking and sending; anything new
// wakes it; late or duplicated messages do not; a follower is woken by its driver when the leader's node
// falls silent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageType, Role } from "../../raft/types.js";
import { TestCluster } from "./harness.js";

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
