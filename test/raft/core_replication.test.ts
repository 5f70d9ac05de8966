// Log replication (Raft §5.3, §5.4.2): appends, consistency check, conflict repair with hints,
// commit rules, batching and pipelining.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftCore } from "../../raft/core.js";
import { MemoryStorage } from "../../raft/memory_storage.js";
import { type Message, MessageType, Role, emptyMessage } from "../../raft/types.js";
import { CommitPreviousTermCore } from "./sim/mutants.js";
import { TestCluster, ent } from "./harness.js";

test("proposals are replicated, committed and applied in order on every node", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  for (let i = 0; i < 20; i++) c.propose("a", `x${i}`);
  c.settle();
  c.tickAll(2);
  const want = Array.from({ length: 20 }, (_, i) => `x${i}`);
  for (const id of ["a", "b", "c"]) assert.deepEqual(c.appliedData(id), want, id);
});

test("proposals to a follower are refused (the caller forwards to the leader)", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  const r = c.core("b").propose(new Uint8Array([1]));
  assert.deepEqual(r, { ok: false, reason: "not-leader" });
});

test("a lone leader counts its own entry only once it is persisted", () => {
  const c = new TestCluster(["a"]);
  c.elect("a");
  const a = c.core("a");
  const idx = c.propose("a", "x");
  const rd = a.ready();
  assert.deepEqual(
    rd.entries.map((e) => e.index),
    [idx],
  );
  assert.equal(a.log.committed, idx - 1, "not committed before the Ready is acknowledged");
  c.storages.get("a")!.save(rd.hardState, rd.entries, rd.snapshot);
  a.advance(rd);
  assert.equal(a.log.committed, idx);
});

test("proposals made in one turn go to each follower in one batched append", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.tickAll(1);
  c.sent = [];
  for (let i = 0; i < 10; i++) c.propose("a", `x${i}`);
  c.flush();
  const apps = c.sent.filter((m) => m.type === MessageType.App && m.entries.length > 0);
  assert.equal(apps.length, 2);
  for (const m of apps) assert.equal(m.entries.length, 10);
});

test("pipelining stops at maxInflightMsgs unacknowledged appends", () => {
  const c = new TestCluster(["a", "b"], { maxMsgBytes: 1, maxInflightMsgs: 3 });
  c.elect("a");
  c.tickAll(1);
  c.sent = [];
  c.filter = (m) => m.type === MessageType.AppResp;
  for (let i = 0; i < 10; i++) c.propose("a", `x${i}`);
  c.settle();
  const apps = c.sent.filter((m) => m.type === MessageType.App && m.to === "b" && m.entries.length > 0);
  assert.equal(apps.length, 3);
  c.filter = null;
  c.tickAll(3);
  assert.equal(c.core("b").log.lastIndex(), c.core("a").log.lastIndex());
});

test("a follower's divergent suffix is replaced by the leader's log (figure 7)", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false });
  // Leader-to-be: 1..10 with terms 1,1,1,4,4,5,5,6,6,6. b is missing entries; c has extra ones of old terms.
  const lead = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  c.storages.get("a")!.append(lead.map((t, i) => ent(i + 1, t, `a${i + 1}`)));
  c.storages.get("b")!.append([1, 1, 1, 4].map((t, i) => ent(i + 1, t, `a${i + 1}`)));
  c.storages.get("c")!.append([1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3].map((t, i) => ent(i + 1, t, i < 3 ? `a${i + 1}` : `c${i + 1}`)));
  for (const id of ["a", "b", "c"]) c.restart(id);
  c.core("a").term = 6;
  c.elect("a");
  c.propose("a", "new");
  c.settle();
  c.tickAll(2);
  const want = [...lead.map((_, i) => `a${i + 1}`), "new"];
  for (const id of ["a", "b", "c"]) assert.deepEqual(c.appliedData(id), want, id);
});

test("conflict hints repair a long divergent log in a few round trips", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false });
  const n = 200;
  c.storages.get("a")!.append(Array.from({ length: n }, (_, i) => ent(i + 1, i < 10 ? 1 : 3)));
  c.storages.get("b")!.append(Array.from({ length: n }, (_, i) => ent(i + 1, i < 10 ? 1 : 2)));
  c.storages.get("c")!.append(Array.from({ length: n }, (_, i) => ent(i + 1, i < 10 ? 1 : 3)));
  for (const id of ["a", "b", "c"]) c.restart(id);
  c.core("a").term = 3;
  c.elect("a");
  c.settle();
  const rejects = c.sent.filter((m) => m.type === MessageType.AppResp && m.reject && m.from === "b");
  assert.ok(rejects.length <= 2, `${rejects.length} rejections`);
  assert.equal(c.core("b").log.term(n), 3);
});

test("a leader never commits an entry of an earlier term by counting replicas (figure 8)", () => {
  for (const broken of [false, true]) {
    const c = new TestCluster(["a", "b", "c"], { maxMsgBytes: 1, preVote: false, checkQuorum: false });
    // a holds (2, t2) that nobody else has; c holds a different (2, t3); all share (1, t1).
    c.storages.get("a")!.append([ent(1, 1, "one"), ent(2, 2, "a-two")]);
    c.storages.get("b")!.append([ent(1, 1, "one")]);
    c.storages.get("c")!.append([ent(1, 1, "one"), ent(2, 3, "c-two")]);
    for (const id of ["a", "b", "c"]) c.restart(id);
    if (broken) {
      const storage = c.storages.get("a")!;
      c.cores.set("a", new CommitPreviousTermCore({ id: "a", storage, random: () => 0.5, maxMsgBytes: 1, preVote: false, checkQuorum: false }));
    }
    c.core("a").term = 3;
    // The new leader's own entry (index 3, term 4) never reaches anyone.
    c.filter = (m: Message) => {
      if (m.type === MessageType.App) m.entries = m.entries.filter((e) => e.index !== 3);
      return false;
    };
    // c does not hear from a at all. b votes for a (its log is behind).
    c.cutLink("a", "c");
    c.cutLink("c", "a");
    c.elect("a");
    assert.equal(c.core("a").term, 4);
    c.tickAll(3);
    assert.equal(c.core("b").log.term(2), 2, "b now holds a's old-term entry, a majority has it");
    assert.equal(c.core("a").log.committed, broken ? 2 : 0, broken ? "the broken core commits it" : "but it is not committed");
    // a disappears; c (last entry term 3) wins b's vote.
    c.down.add("a");
    c.filter = null;
    c.heal();
    // c learned of term 4 meanwhile (say, from a heartbeat of b's era).
    c.core("c").term = c.core("b").term;
    for (let i = 0; i < 3 && c.core("c").role !== Role.Leader; i++) {
      c.core("c").campaign();
      c.flush();
      const q = c.queue;
      c.queue = [];
      for (const m of q) c.deliver(m);
      c.flush();
      c.queue = c.queue.filter((m) => m.type === MessageType.VoteResp);
      for (const m of c.queue.splice(0)) c.deliver(m);
    }
    assert.equal(c.core("c").role, Role.Leader);
    // The new leader lacks index 2 of term 2. Harmless for the correct core, which never committed it;
    // for the broken core a committed entry is now missing from a leader's log (leader completeness).
    assert.equal(c.core("c").log.term(2), 3);
    assert.equal(c.core("a").log.committed >= 2, broken);
  }
});

test("heartbeats never carry a commit index beyond what the follower matched", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.isolate("c");
  for (let i = 0; i < 5; i++) c.propose("a", `x${i}`);
  c.settle();
  c.heal();
  c.sent = [];
  c.filter = (m) => m.type === MessageType.App;
  c.core("a").tick();
  c.flush();
  const hb = c.sent.find((m) => m.type === MessageType.Heartbeat && m.to === "c")!;
  assert.ok(hb.commit <= 1, `heartbeat commit ${hb.commit}`);
  assert.ok(c.core("a").log.committed >= 6);
});

test("stale append responses and duplicate messages are harmless", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  for (let i = 0; i < 5; i++) c.propose("a", `x${i}`);
  c.flush();
  const msgs = [...c.queue];
  c.settle();
  for (const m of msgs) c.deliver(m);
  for (const m of msgs) c.deliver(m);
  c.settle();
  c.tickAll(2);
  for (const id of ["a", "b", "c"]) assert.deepEqual(c.appliedData(id), ["x0", "x1", "x2", "x3", "x4"]);
});

test("a RaftCore restarted from its storage keeps term, vote, log and commit", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.propose("a", "x");
  c.settle();
  c.tickAll(1);
  const before = c.core("b").status();
  const b = new RaftCore({ id: "b", storage: c.storages.get("b") as MemoryStorage, random: () => 0.5 });
  const after = b.status();
  assert.equal(after.term, before.term);
  assert.equal(after.vote, before.vote);
  assert.equal(after.lastIndex, before.lastIndex);
  assert.equal(after.commit, before.commit);
});

test("a late rejection from before a follower caught up does not move its match back; a shortened log does", () => {
  const c = new TestCluster(["a", "b", "c"]);
  const a = c.elect("a");
  for (let i = 0; i < 6; i++) c.propose("a", `x${i}`);
  c.settle();
  const last = a.log.lastIndex();
  const pr = () => a.status(true).progress!.get("b")!;
  assert.equal(pr().match, last);
  // A rejection of an append at index 2, sent when b's log ended at 1, delivered only now.
  const late = emptyMessage(MessageType.AppResp, "b", "a", a.term);
  Object.assign(late, { reject: true, index: 2, rejectHint: 1, logTerm: a.log.term(1) });
  a.step(late);
  assert.equal(pr().match, last, "stale: the match stands");
  // b's log lost its tail (corruption, it is recovering): it rejects an append at its match.
  const shortened = emptyMessage(MessageType.AppResp, "b", "a", a.term);
  Object.assign(shortened, { reject: true, index: last, rejectHint: 3, logTerm: a.log.term(3) });
  a.step(shortened);
  assert.equal(pr().match, 3, "the leader starts over from what b still has");
});
