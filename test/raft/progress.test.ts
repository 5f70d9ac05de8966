// Flow control: the inflight ring (grown on demand) and the Probe/Replicate rules for rejections.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Inflights, Progress, ProgressState } from "../../raft/progress.js";

test("the inflight ring keeps order through growth and wrap-around, and is full at its size", () => {
  const f = new Inflights(10);
  let next = 1;
  const live: number[] = [];
  // Add and free in uneven steps so the ring wraps while it grows.
  for (let round = 0; round < 50; round++) {
    while (!f.full() && live.length < 3 + (round % 8)) {
      f.add(next);
      live.push(next++);
    }
    assert.equal(f.count, live.length);
    const upTo = live[Math.min(live.length - 1, round % 3)]!;
    f.freeLE(upTo);
    while (live.length && live[0]! <= upTo) live.shift();
    assert.equal(f.count, live.length);
  }
  while (!f.full()) f.add(next++);
  assert.equal(f.count, 10);
  f.freeFirstOne();
  assert.equal(f.count, 9);
  f.freeLE(Number.MAX_SAFE_INTEGER);
  assert.equal(f.count, 0);
});

test("a stale rejection does not move a probing follower back; a fresh one uses the hint", () => {
  const p = new Progress(11, 4, false);
  p.match = 5;
  p.probeSent = true;
  assert.equal(p.maybeDecrTo(7, 3), false, "not the index we probed at (10)");
  assert.equal(p.next, 11);
  assert.equal(p.maybeDecrTo(10, 8), true);
  assert.equal(p.next, 9);
  assert.equal(p.probeSent, false);
  assert.equal(p.maybeDecrTo(8, 1), true);
  assert.equal(p.next, 6, "never below match + 1");
});

test("in Replicate a rejection above match resets next to match + 1; one at or below match is stale", () => {
  const p = new Progress(1, 4, false);
  p.maybeUpdate(5);
  p.becomeReplicate();
  p.sentEntries(3, 8);
  assert.equal(p.next, 9);
  assert.equal(p.state, ProgressState.Replicate);
  assert.equal(p.maybeDecrTo(5, 2), false);
  assert.equal(p.maybeDecrTo(7, 2), true);
  assert.equal(p.next, 6);
});
