// The simulator's invariant checker on hand-made node states: each invariant it claims to check must
// fail on a state that breaks it, and must not fail on states Raft allows.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RaftCore } from "../../raft/core.js";
import { type Entry, EntryType, Role } from "../../raft/types.js";
import { InvariantChecker, InvariantViolation } from "./sim/checker.js";
import { encodePut } from "./sim/kv.js";

/** Just what the checker reads of a core: role, term and the log (terms of entries 1..n). */
function node(role: Role, term: number, terms: number[], committed: number): RaftCore {
  const log = {
    committed,
    firstIndex: () => 1,
    lastIndex: () => terms.length,
    lastTerm: () => terms[terms.length - 1] ?? 0,
    term: (i: number) => (i === 0 ? 0 : terms[i - 1]),
  };
  return { role, term, log } as unknown as RaftCore;
}

const violation = (fn: () => void, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof InvariantViolation && re.test(e.message));

test("leader completeness binds leaders of later terms only", () => {
  const k = new InvariantChecker();
  k.afterStep("a", node(Role.Leader, 2, [1, 2, 2], 3));
  // A candidate of term 1 that collected its votes before term 2 began may still win, lacking the
  // entries committed in term 2: Raft allows it (it cannot commit anything), so this is no violation.
  k.afterStep("b", node(Role.Leader, 1, [1], 1));
  violation(() => k.afterStep("c", node(Role.Leader, 3, [1], 1)), /leader completeness: c leads term 3 with last index 1/);
  violation(() => k.afterStep("d", node(Role.Leader, 4, [1, 3, 3], 1)), /leader completeness: d leads term 4 with term 3 at committed index 2/);
  k.afterStep("e", node(Role.Leader, 5, [1, 2, 2, 5], 1));
});

test("election safety, leader append-only and state machine safety fail when broken", () => {
  const k = new InvariantChecker();
  k.afterStep("a", node(Role.Leader, 1, [1, 1], 2));
  violation(() => k.afterStep("b", node(Role.Leader, 1, [1, 1], 0)), /election safety: a and b are both leaders of term 1/);
  violation(() => k.afterStep("a", node(Role.Leader, 1, [1], 2)), /leader append-only/);
  const k2 = new InvariantChecker();
  k2.afterStep("a", node(Role.Follower, 1, [1, 1], 2));
  violation(() => k2.afterStep("b", node(Role.Follower, 2, [1, 2], 2)), /state machine safety: b commits term 2 at index 2/);
});

test("log matching, overwritten committed entries, apply gaps and double application fail", () => {
  const e = (index: number, term: number, data: string): Entry => ({ index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) });
  const k = new InvariantChecker();
  k.persisting("a", [e(1, 1, "x"), e(2, 1, "y")], 0, () => undefined);
  violation(() => k.persisting("b", [e(2, 1, "other")], 1, () => undefined), /log matching: b has a different entry at index 2 term 1/);
  violation(() => k.persisting("b", [e(2, 1, "y")], 7, () => undefined), /log matching: b has entry 2\/1 after term 7/);
  k.afterStep("a", node(Role.Follower, 1, [1, 1], 2));
  violation(() => k.persisting("c", [e(2, 3, "z")], 1, () => 1), /committed entry lost: c overwrites committed entry 2/);

  const put = (index: number, opId: number): Entry => ({ index, term: 1, type: EntryType.Normal, data: encodePut({ opId, key: "k", value: opId }) });
  const k2 = new InvariantChecker();
  k2.applied("a", put(1, 10), 1);
  violation(() => k2.applied("a", put(3, 11), 2), /apply stream has a gap/);
  k2.applied("a", put(2, 11), 2);
  violation(() => k2.applied("b", { ...put(1, 10), data: encodePut({ opId: 10, key: "k", value: 99 }) }, 1), /applied different data at index 1/);
  const k3 = new InvariantChecker();
  k3.applied("a", put(1, 10), 1);
  violation(() => k3.applied("a", put(2, 10), 2), /exactly-once: proposal 10 applied at index 1 and again at 2/);
});
