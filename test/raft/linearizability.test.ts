// The linearizability checker against hand-made histories and against brute force on small random ones.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type Operation, checkLinearizable } from "./sim/linearizability.js";

const put = (clientId: number, value: number, call: number, ret: number, key = "k"): Operation => ({ clientId, kind: "put", key, value, call, ret });
const get = (clientId: number, value: number | undefined, call: number, ret: number, key = "k"): Operation => ({ clientId, kind: "get", key, value, call, ret });

test("sequential and concurrent histories that have a linearization pass", () => {
  assert.ok(checkLinearizable([put(0, 1, 1, 2), get(1, 1, 3, 4)]).ok);
  // A read concurrent with a write may see either value.
  assert.ok(checkLinearizable([put(0, 1, 1, 2), put(0, 2, 3, 6), get(1, 1, 4, 5)]).ok);
  assert.ok(checkLinearizable([put(0, 1, 1, 2), put(0, 2, 3, 6), get(1, 2, 4, 5)]).ok);
  assert.ok(checkLinearizable([get(1, undefined, 1, 2), put(0, 1, 3, 4)]).ok);
});

test("stale reads and reads from the future are caught", () => {
  assert.equal(checkLinearizable([put(0, 1, 1, 2), put(0, 2, 3, 4), get(1, 1, 5, 6)]).ok, false);
  assert.equal(checkLinearizable([get(1, 1, 1, 2), put(0, 1, 3, 4)]).ok, false);
  // Two readers see the writes in opposite orders.
  const h = [put(0, 1, 1, 10), put(1, 2, 1, 10), get(2, 1, 11, 12), get(3, 2, 13, 14), get(2, 1, 15, 16)];
  assert.equal(checkLinearizable(h).ok, false);
  assert.equal(checkLinearizable(h).key, "k");
});

test("a put with unknown outcome may or may not have happened", () => {
  assert.ok(checkLinearizable([put(0, 1, 1, Infinity), get(1, undefined, 2, 3), get(1, 1, 4, 5)]).ok);
  assert.ok(checkLinearizable([put(0, 1, 1, Infinity), get(1, undefined, 2, 3)]).ok);
  assert.equal(checkLinearizable([put(0, 1, 1, Infinity), get(1, 1, 2, 3), get(1, undefined, 4, 5)]).ok, false);
});

test("keys are checked independently", () => {
  const h = [put(0, 1, 1, 2, "a"), put(0, 2, 3, 4, "b"), get(1, 1, 5, 6, "a"), get(1, 1, 7, 8, "b")];
  const r = checkLinearizable(h);
  assert.equal(r.ok, false);
  assert.equal(r.key, "b");
});

/** Brute force: try every permutation consistent with real time. */
function bruteForce(ops: Operation[]): boolean {
  const n = ops.length;
  const used = new Array<boolean>(n).fill(false);
  const rec = (depth: number, state: number | undefined): boolean => {
    if (depth === n) return true;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      // i may go next only if no unused op returned before i was called.
      if (ops.some((o, j) => !used[j] && j !== i && o.ret < ops[i]!.call)) continue;
      const op = ops[i]!;
      if (op.kind === "get" && op.value !== state) continue;
      used[i] = true;
      if (rec(depth + 1, op.kind === "put" ? op.value : state)) return true;
      used[i] = false;
    }
    return false;
  };
  return rec(0, undefined);
}

test("agrees with brute force on small random histories", () => {
  const opArb = fc.record({
    kind: fc.constantFrom<"put" | "get">("put", "get"),
    value: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    call: fc.integer({ min: 0, max: 20 }),
    len: fc.integer({ min: 1, max: 8 }),
  });
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 6 }), (raw) => {
      const ops: Operation[] = raw.map((r, i) => ({
        clientId: i,
        kind: r.kind,
        key: "k",
        value: r.kind === "put" ? (r.value ?? 1) : r.value,
        call: r.call * 2,
        ret: r.call * 2 + r.len * 2 + 1,
      }));
      assert.equal(checkLinearizable(ops).ok, bruteForce(ops), JSON.stringify(ops));
    }),
    { numRuns: 2000 },
  );
});
