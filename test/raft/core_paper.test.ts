// The Raft paper's cases, one rule per test (the etcd-raft test suite served as a checklist): terms and
// roles, elections with partial votes, the append consistency check and conflict truncation, commit by
// majority, learners, removal and snapshots at the edges.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RaftCore } from "../../raft/core.js";
import { type Message, MessageType, NONE, Role, emptyMessage } from "../../raft/types.js";
import { TestCluster, ent } from "./harness.js";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i + 1}`);

function resp(type: MessageType, from: string, to: string, term: number, reject: boolean): Message {
  const m = emptyMessage(type, from, to, term);
  m.reject = reject;
  return m;
}

function app(from: string, to: string, term: number, index: number, logTerm: number, entries: ReturnType<typeof ent>[], commit = 0): Message {
  const m = emptyMessage(MessageType.App, from, to, term);
  m.index = index;
  m.logTerm = logTerm;
  m.entries = entries;
  m.commit = commit;
  return m;
}

/** The messages a core emits in its next Ready (persisting it, as the harness does). */
function drain(c: TestCluster): Message[] {
  c.queue = [];
  c.flush();
  const q = c.queue;
  c.queue = [];
  return q;
}

test("leader election with partial votes: a quorum of grants wins, a quorum of refusals loses, otherwise the candidate waits (§5.2)", () => {
  const cases: { size: number; votes: Record<string, boolean>; role: Role }[] = [
    { size: 1, votes: {}, role: Role.Leader },
    { size: 3, votes: { n2: true, n3: true }, role: Role.Leader },
    { size: 3, votes: { n2: true }, role: Role.Leader },
    { size: 3, votes: {}, role: Role.Candidate },
    { size: 3, votes: { n2: false }, role: Role.Candidate },
    { size: 3, votes: { n2: false, n3: false }, role: Role.Follower },
    { size: 5, votes: { n2: true, n3: true, n4: true, n5: true }, role: Role.Leader },
    { size: 5, votes: { n2: true, n3: true }, role: Role.Leader },
    { size: 5, votes: { n2: true }, role: Role.Candidate },
    { size: 5, votes: { n2: true, n3: false, n4: false }, role: Role.Candidate },
    { size: 5, votes: { n2: true, n3: false, n4: false, n5: false }, role: Role.Follower },
    { size: 5, votes: { n2: false, n3: false, n4: false }, role: Role.Follower },
  ];
  for (const { size, votes, role } of cases) {
    const c = new TestCluster(ids(size), { preVote: false });
    const a = c.core("n1");
    a.campaign();
    const reqs = drain(c);
    if (size > 1) {
      assert.equal(reqs.filter((m) => m.type === MessageType.Vote).length, size - 1, "asks every other voter");
      for (const m of reqs) assert.deepEqual([m.term, m.index, m.logTerm], [1, 0, 0], "with its term and last entry");
    }
    for (const [from, granted] of Object.entries(votes)) a.step(resp(MessageType.VoteResp, from, "n1", a.term, !granted));
    // A second response from the same voter changes nothing.
    for (const [from, granted] of Object.entries(votes)) a.step(resp(MessageType.VoteResp, from, "n1", a.term, granted));
    assert.equal(a.role, role, `${size} nodes, votes ${JSON.stringify(votes)}`);
  }
});

test("on its election timeout a follower becomes candidate: next term, votes for itself, persists that before asking", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false, electionTick: 10 });
  const a = c.core("a");
  for (let i = 0; i < 20 && a.role === Role.Follower; i++) a.tick();
  assert.equal(a.role, Role.Candidate);
  assert.equal(a.term, 1);
  assert.equal(a.vote, "a");
  const rd = a.ready();
  assert.deepEqual(rd.hardState, { term: 1, vote: "a", commit: 0 });
  assert.equal(rd.mustSync, true, "the vote is synced before the requests leave");
  assert.deepEqual(rd.messages.map((m) => [m.type, m.to]).sort(), [
    [MessageType.Vote, "b"],
    [MessageType.Vote, "c"],
  ]);
  c.storages.get("a")!.save(rd.hardState, rd.entries, rd.snapshot);
  a.advance(rd);
  // A candidate whose election times out starts another, in a new term.
  for (let i = 0; i < 20 && a.term === 1; i++) a.tick();
  assert.equal(a.role, Role.Candidate);
  assert.equal(a.term, 2);
});

test("a node of any role becomes a follower on a message of a higher term (§5.1)", () => {
  const roles: [string, (c: TestCluster) => RaftCore][] = [
    ["follower", (c) => c.core("a")],
    [
      "candidate",
      (c) => {
        c.core("a").campaign();
        return c.core("a");
      },
    ],
    ["leader", (c) => c.elect("a")],
  ];
  for (const [name, make] of roles) {
    for (const type of [MessageType.App, MessageType.Heartbeat, MessageType.Vote]) {
      const c = new TestCluster(["a", "b", "c"], { preVote: false, checkQuorum: false });
      const a = make(c);
      c.flush();
      const term = a.term + 3;
      const m = emptyMessage(type, "b", "a", term);
      a.step(m);
      assert.equal(a.role, Role.Follower, `${name} on ${MessageType[type]}`);
      assert.equal(a.term, term);
      assert.equal(a.lead, type === MessageType.Vote ? NONE : "b", "an append or heartbeat comes from the leader; a vote request does not");
    }
  }
});

test("messages of an older term are ignored; appends and heartbeats are answered with the current term", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false, checkQuorum: false });
  c.elect("a");
  c.elect("b");
  c.settle();
  const a = c.core("a");
  const term = a.term;
  const last = a.log.lastIndex();
  const commit = a.log.committed;
  // Traffic of a leader of an older term, arriving late.
  a.step(app("c", "a", term - 1, last, a.log.lastTerm(), [ent(last + 1, term - 1, "stale")], last + 1));
  const hb = emptyMessage(MessageType.Heartbeat, "c", "a", term - 1);
  hb.commit = last + 1;
  a.step(hb);
  const out = drain(c);
  assert.equal(a.log.lastIndex(), last, "no entry appended");
  assert.equal(a.log.committed, commit, "no commit moved");
  assert.equal(a.term, term);
  assert.equal(a.lead, "b");
  assert.deepEqual(
    out.map((m) => [m.type, m.to, m.term]),
    [
      [MessageType.AppResp, "c", term],
      [MessageType.AppResp, "c", term],
    ],
  );
  // A candidate does not count votes granted in an older term.
  const k = new TestCluster(["a", "b", "c"], { preVote: false });
  k.core("a").campaign();
  k.core("a").campaign();
  const cand = k.core("a");
  assert.equal(cand.term, 2);
  cand.step(resp(MessageType.VoteResp, "b", "a", 1, false));
  assert.equal(cand.role, Role.Candidate, "the grant of term 1 does not elect it in term 2");
  cand.step(resp(MessageType.VoteResp, "b", "a", 2, false));
  assert.equal(cand.role, Role.Leader);
});

test("a candidate returns to follower on an append or heartbeat from the leader of its term", () => {
  for (const type of [MessageType.App, MessageType.Heartbeat]) {
    const c = new TestCluster(["a", "b", "c"], { preVote: false });
    const a = c.core("a");
    a.campaign();
    c.flush();
    const m = emptyMessage(type, "b", "a", a.term);
    a.step(m);
    assert.equal(a.role, Role.Follower);
    assert.equal(a.lead, "b");
    assert.equal(a.vote, "a", "its vote of this term is kept");
  }
});

test("the append consistency check: a follower rejects entries whose predecessor it does not hold (§5.3)", () => {
  const c = new TestCluster(["a", "b"], { preVote: false });
  c.storages.get("b")!.append([ent(1, 1), ent(2, 2)]);
  c.storages.get("b")!.save({ term: 2, vote: "", commit: 0 }, [], null);
  const b = c.restart("b");
  const cases: [number, number, boolean][] = [
    // [prev index, prev term, accepted]
    [0, 0, true],
    [1, 1, true],
    [2, 2, true],
    [1, 2, false],
    [2, 1, false],
    [3, 2, false],
  ];
  for (const [index, logTerm, ok] of cases) {
    b.step(app("a", "b", 2, index, logTerm, []));
    const r = drain(c).find((m) => m.type === MessageType.AppResp)!;
    assert.equal(!r.reject, ok, `prev ${index}/${logTerm}`);
    if (!ok) assert.ok(r.rejectHint <= 2, "the hint points into the follower's log");
  }
});

test("conflict truncation: a follower deletes a conflicting entry and all that follow, and keeps entries that agree (§5.3)", () => {
  const cases: { index: number; logTerm: number; ents: [number, number][]; want: [number, number][] }[] = [
    { index: 2, logTerm: 2, ents: [[3, 3]], want: [[1, 1], [2, 2], [3, 3]] },
    { index: 1, logTerm: 1, ents: [[2, 3], [3, 4]], want: [[1, 1], [2, 3], [3, 4]] },
    { index: 0, logTerm: 0, ents: [[1, 1]], want: [[1, 1], [2, 2]] },
    { index: 0, logTerm: 0, ents: [[1, 3]], want: [[1, 3]] },
    { index: 1, logTerm: 1, ents: [[2, 2]], want: [[1, 1], [2, 2]] },
  ];
  for (const { index, logTerm, ents, want } of cases) {
    const c = new TestCluster(["a", "b"], { preVote: false });
    c.storages.get("b")!.append([ent(1, 1), ent(2, 2)]);
    const b = c.restart("b");
    b.step(app("a", "b", 4, index, logTerm, ents.map(([i, t]) => ent(i, t, `${i}/${t}`))));
    drain(c);
    const got: [number, number][] = [];
    for (let i = 1; i <= b.log.lastIndex(); i++) got.push([i, b.log.term(i)!]);
    assert.deepEqual(got, want, JSON.stringify({ index, logTerm, ents }));
    const st = c.storages.get("b")!;
    assert.equal(st.lastIndex(), want.length, "the storage was truncated too");
  }
});

test("a leader commits an entry once a majority holds it, and with it every entry before it (§5.3, §5.4.2)", () => {
  for (const [size, acks] of [
    [3, 0],
    [3, 1],
    [3, 2],
    [5, 1],
    [5, 2],
    [5, 4],
  ] as [number, number][]) {
    const c = new TestCluster(ids(size));
    c.elect("n1");
    const followers = ids(size).slice(1);
    for (const f of followers.slice(acks)) c.isolate(f);
    const idx = c.propose("n1", "x");
    c.settle();
    const committed = c.core("n1").log.committed >= idx;
    assert.equal(committed, acks + 1 > size / 2, `${size} nodes, ${acks} acknowledgements`);
  }
  // Entries of earlier terms commit when an entry of the current term above them does.
  const c = new TestCluster(["a", "b", "c"], { preVote: false });
  for (const id of ["a", "b"]) c.storages.get(id)!.append([ent(1, 1, "old1"), ent(2, 1, "old2")]);
  for (const id of ["a", "b", "c"]) c.restart(id);
  c.elect("a");
  assert.equal(c.core("a").log.term(3), c.core("a").term);
  assert.equal(c.core("a").log.committed, 3);
  c.tickAll(1);
  assert.deepEqual(c.appliedData("c"), ["old1", "old2"]);
});

test("a learner's vote does not count, it never campaigns (not even when told to), and leadership cannot be transferred to it", () => {
  const conf = { voters: ["a", "b", "c"], learners: ["d"] };
  const c = new TestCluster(["a", "b", "c", "d"], { preVote: false }, 1, conf);
  const a = c.core("a");
  a.campaign();
  const reqs = drain(c);
  assert.ok(!reqs.some((m) => m.to === "d"), "no vote is asked of a learner");
  a.step(resp(MessageType.VoteResp, "d", "a", a.term, false));
  assert.equal(a.role, Role.Candidate, "a learner's grant is not counted");
  a.step(resp(MessageType.VoteResp, "b", "a", a.term, false));
  assert.equal(a.role, Role.Leader);
  c.settle();
  const d = c.core("d");
  for (let i = 0; i < 100; i++) d.tick();
  assert.equal(d.role, Role.Follower);
  d.step(emptyMessage(MessageType.TimeoutNow, "a", "d", a.term));
  assert.equal(d.role, Role.Follower);
  assert.deepEqual(drain(c).filter((m) => m.type === MessageType.Vote || m.type === MessageType.PreVote), []);
  assert.equal(a.transferLeadership("d"), false, "not to a learner");
  assert.equal(a.transferLeadership("zz"), false, "not to a stranger");
  assert.equal(a.transferLeadership("a"), false, "not to itself");
});

test("the leader heartbeats every heartbeatTick, never carrying a commit index beyond the follower's match", () => {
  const c = new TestCluster(["a", "b", "c"], { heartbeatTick: 3, electionTick: 12 });
  const a = c.elect("a");
  c.settle();
  const beats: number[] = [];
  for (let t = 1; t <= 9; t++) {
    a.tick();
    const out = drain(c).filter((m) => m.type === MessageType.Heartbeat);
    if (out.length) beats.push(t);
    for (const m of out) assert.ok(m.commit <= a.log.committed);
  }
  assert.deepEqual(beats, [3, 6, 9]);
});

test("removing an unresponsive voter lets the entries waiting for it commit", () => {
  const c = new TestCluster(["a", "b"]);
  c.elect("a");
  c.isolate("b");
  const idx = c.propose("a", "x");
  c.settle();
  assert.ok(c.core("a").log.committed < idx, "two voters: the leader alone is no majority");
  const r = c.core("a").proposeConfChange({ type: "removeNode", nodeId: "b" });
  assert.ok(r.ok);
  c.settle();
  assert.ok(c.core("a").log.committed >= r.index, "one voter now: the leader alone commits both");
  assert.deepEqual(c.appliedData("a"), ["x"]);
});

test("snapshots: a follower ignores one at or behind its commit index; the leader sends one only to a follower it heard from", () => {
  const c = new TestCluster(["a", "b", "c"], { preVote: false });
  c.elect("a");
  for (let i = 0; i < 5; i++) c.propose("a", `x${i}`);
  c.settle();
  c.tickAll(1);
  const b = c.core("b");
  const commit = b.log.committed;
  const old = { meta: { index: 2, term: b.log.term(2)!, conf: { voters: ["a", "b", "c"], learners: [] } }, data: new Uint8Array() };
  const m = emptyMessage(MessageType.Snap, "a", "b", b.term);
  m.snapshot = old;
  b.step(m);
  const out = drain(c);
  assert.equal(b.log.firstIndex(), 1, "nothing restored");
  assert.equal(out.find((x) => x.type === MessageType.AppResp)!.index, commit, "answers with its commit index");

  // c falls behind a compacted log while partitioned; the leader stops hearing from it.
  const d = new TestCluster(["a", "b", "c"]);
  d.elect("a");
  d.isolate("c");
  for (let i = 0; i < 5; i++) d.propose("a", `y${i}`);
  d.settle();
  const la = d.core("a");
  const st = d.storages.get("a")!;
  st.createSnapshot(la.log.applied, la.confStateAt(la.log.applied), new Uint8Array());
  st.compact(la.log.applied);
  d.sent = [];
  // Two CheckQuorum rounds: c is no longer recently active, and no snapshot goes out to it.
  d.tickAll(25);
  assert.ok(!d.sent.some((x) => x.type === MessageType.Snap), "no snapshot to a silent follower");
  d.heal();
  d.tickAll(3);
  assert.ok(d.sent.some((x) => x.type === MessageType.Snap && x.to === "c"), "once it answers a heartbeat, it gets one");
  assert.equal(d.core("c").log.committed, la.log.committed);
});

test("leadership transfer: a second request for another node replaces the first", () => {
  const c = new TestCluster(["a", "b", "c"]);
  c.elect("a");
  c.isolate("b");
  const a = c.core("a");
  assert.ok(a.transferLeadership("b"));
  assert.equal(a.leadTransferee, "b");
  c.settle();
  assert.equal(a.role, Role.Leader, "b never heard of it");
  assert.ok(a.transferLeadership("c"));
  assert.equal(a.leadTransferee, "c");
  c.settle();
  assert.equal(c.core("c").role, Role.Leader);
  assert.equal(a.role, Role.Follower);
  assert.equal(a.leadTransferee, NONE);
});
