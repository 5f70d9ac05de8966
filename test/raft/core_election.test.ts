// Leader election (Raft §5.2, §5.4.1; thesis §9.6 PreVote, §6.2 CheckQuorum), scripted with TestCluster.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Message, MessageType, NONE, Role, emptyMessage } from "../../raft/types.js";
import { TestCluster, ent } from "./harness.js";

test("a single voter elects itself on its first election timeout", () => {
  const c = new TestCluster(["a"]);
  c.tickAll(20);
  assert.equal(c.core("a").role, Role.Leader);
  assert.equal(c.core("a").term, 1);
});

test("the election timeout is randomized within [electionTick, 2*electionTick)", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const c = new TestCluster(["a", "b", "c"], { electionTick: 10, preVote: false }, seed);
    let ticks = 0;
    while (c.core("a").role === Role.Follower) {
      c.tick("a");
      ticks++;
      assert.ok(ticks < 20, `seed ${seed}: no campaign after ${ticks} ticks`);
    }
    assert.ok(ticks >= 10, `seed ${seed}: campaigned after ${ticks} ticks`);
  }
});

test("three nodes elect exactly one leader, and it appends an empty entry of its term", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  assert.equal(c.leaders().length, 1);
  assert.equal(c.core("b").lead, "a");
  assert.equal(c.core("a").log.lastIndex(), 1);
  assert.equal(c.core("a").log.term(1), c.core("a").term);
  assert.equal(c.core("a").log.committed, 1);
});

test("a node grants at most one vote per term", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false });
  const b = c.core("b");
  const vote = (from: string): Message => {
    const m = emptyMessage(MessageType.Vote, from, "b", 1);
    return m;
  };
  b.step(vote("a"));
  b.step(vote("c"));
  c.flush();
  const resps = c.queue.filter((m) => m.type === MessageType.VoteResp);
  assert.deepEqual(
    resps.map((m) => [m.to, m.reject]),
    [
      ["a", false],
      ["c", true],
    ],
  );
  // A repeated request from the candidate it voted for is granted again (the response may have been lost).
  c.queue = [];
  b.step(vote("a"));
  c.flush();
  assert.equal(c.queue.find((m) => m.type === MessageType.VoteResp)?.reject, false);
});

test("the vote survives a restart: a restarted node does not vote twice in a term", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false });
  c.core("b").step(emptyMessage(MessageType.Vote, "a", "b", 1));
  c.flush();
  const b = c.restart("b");
  assert.equal(b.vote, "a");
  c.queue = [];
  b.step(emptyMessage(MessageType.Vote, "c", "b", 1));
  c.flush();
  assert.equal(c.queue.find((m) => m.type === MessageType.VoteResp)?.reject, true);
});

test("votes are refused to candidates whose log is less up to date (§5.4.1)", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false });
  c.storages.get("b")!.append([ent(1, 1), ent(2, 2)]);
  const b = c.restart("b");
  const cases: [number, number, boolean][] = [
    // [candidate last index, candidate last term, granted]
    [1, 1, false],
    [2, 1, false],
    [1, 2, false],
    [2, 2, true],
    [3, 2, true],
    [1, 3, true],
  ];
  let term = 3;
  for (const [idx, t, granted] of cases) {
    const m = emptyMessage(MessageType.Vote, "a", "b", term++);
    m.index = idx;
    m.logTerm = t;
    c.queue = [];
    b.step(m);
    c.flush();
    const r = c.queue.find((x) => x.type === MessageType.VoteResp)!;
    assert.equal(!r.reject, granted, `candidate last ${idx}/${t}`);
  }
});

test("a candidate that loses the vote returns to follower", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false });
  c.storages.get("b")!.append([ent(1, 5)]);
  c.storages.get("c")!.append([ent(1, 5)]);
  c.restart("b");
  c.restart("c");
  c.core("a").campaign();
  c.settle();
  assert.notEqual(c.core("a").role, Role.Leader);
  assert.notEqual(c.core("a").role, Role.Candidate);
});

test("PreVote: a partitioned node does not inflate its term and does not disrupt the leader when it returns", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  const term = c.core("a").term;
  c.isolate("c");
  c.tickAll(100);
  assert.equal(c.core("c").term, term, "pre-votes failed, so the term stayed");
  assert.equal(c.core("c").role, Role.PreCandidate);
  c.heal();
  c.tickAll(5);
  assert.equal(c.core("a").role, Role.Leader);
  assert.equal(c.core("a").term, term);
  assert.equal(c.core("c").lead, "a");
});

test("without PreVote a returning partitioned node forces a new election (the baseline PreVote fixes)", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false, checkQuorum: false });
  c.elect("a");
  const term = c.core("a").term;
  c.isolate("c");
  c.tickAll(100);
  assert.ok(c.core("c").term > term + 2);
  c.heal();
  c.tickAll(3);
  assert.ok(c.core("a").term > term, "the leader was deposed by the higher term");
});

test("CheckQuorum: a leader that cannot hear a quorum steps down", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.isolate("a");
  for (let i = 0; i < 25 && c.core("a").role === Role.Leader; i++) c.tickAll(1);
  assert.equal(c.core("a").role, Role.Follower);
});

test("leader lease: with CheckQuorum, vote requests are ignored while a leader was heard from recently", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false });
  c.elect("a");
  const term = c.core("b").term;
  const m = emptyMessage(MessageType.Vote, "c", "b", term + 1);
  m.index = 100;
  m.logTerm = 100;
  c.core("b").step(m);
  assert.equal(c.core("b").term, term);
  assert.equal(c.core("b").vote, "a");
});

test("a stale leader steps down when it hears of a higher term", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  const oldTerm = c.core("a").term;
  c.isolate("a");
  // Only b and c tick: a keeps believing it leads.
  for (let i = 0; i < 60 && c.core("b").role !== Role.Leader && c.core("c").role !== Role.Leader; i++) {
    c.tick("b");
    c.tick("c");
    c.settle();
  }
  const newLeader = c.core("b").role === Role.Leader ? "b" : "c";
  assert.equal(c.core(newLeader).role, Role.Leader);
  assert.equal(c.core("a").role, Role.Leader, "the isolated leader does not know yet");
  c.heal();
  c.tick(newLeader);
  c.settle();
  assert.equal(c.core("a").role, Role.Follower);
  assert.ok(c.core("a").term > oldTerm);
  assert.equal(c.core("a").lead, newLeader);
  assert.equal(c.leaders().length, 1);
});

test("learning a higher term from a candidate does not restart the election timer", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false, checkQuorum: false, electionTick: 10 });
  const b = c.core("b");
  c.tick("b", 9);
  const m = emptyMessage(MessageType.Vote, "a", "b", 5);
  m.index = 0;
  m.logTerm = 0;
  // A candidate that will be refused: b has a longer log.
  c.storages.get("b")!.append([ent(1, 1)]);
  c.restart("b");
  const b2 = c.core("b");
  c.tick("b", 9);
  b2.step(m);
  assert.equal(b2.term, 5);
  assert.equal(b2.vote, NONE);
  c.tick("b", 11);
  assert.equal(b2.role, Role.Candidate, "b campaigned on its original schedule");
  void b;
});

test("PreVote with CheckQuorum: a node cut off from the leader only cannot win its peers over while they hear the leader", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  const term = c.core("a").term;
  c.cutLink("a", "c");
  c.cutLink("c", "a");
  for (let i = 0; i < 60; i++) c.tickAll(1);
  assert.equal(c.core("a").role, Role.Leader, "a still hears b: a quorum");
  assert.equal(c.core("a").term, term);
  assert.equal(c.core("b").lead, "a", "b ignored c's pre-votes");
  assert.equal(c.core("c").term, term, "c's failed pre-votes left its term alone");
  c.propose("a", "x");
  c.settle();
  assert.ok(c.core("a").log.committed >= 2);
  c.heal();
  c.tickAll(2);
  assert.equal(c.core("c").lead, "a");
  assert.equal(c.core("a").term, term, "c rejoined without an election");
});

test("without PreVote, a candidate stuck at a higher term is freed: the leader learns its term, steps down, and an up-to-date node wins", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false });
  c.elect("a");
  c.isolate("c");
  c.propose("a", "x");
  c.settle();
  for (let i = 0; i < 80; i++) c.tickAll(1);
  const stuck = c.core("c").term;
  assert.ok(stuck > c.core("a").term + 1, "c campaigned again and again");
  assert.equal(c.core("c").role, Role.Candidate);
  c.heal();
  for (let i = 0; i < 60 && !(c.leaders().length === 1 && c.leaders()[0]!.term > stuck); i++) c.tickAll(1);
  const l = c.leaders();
  assert.equal(l.length, 1);
  assert.ok(l[0]!.term > stuck);
  assert.notEqual(l[0]!.id, "c", "c's log lacks x: it cannot win");
  assert.equal(c.core("c").lead, l[0]!.id);
});
