// Model-based tests of the consumer state machine (ConsumerCore) on a simulated clock; the model,
// the replica and the harness are in model.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { ROOT } from "../helpers/server.js";
import { ConsumerStateCore } from "../../jetstream/store/consumer_state.js";
import { opArb, paramsArb, run } from "./model.js";

test("consumer core against the model, with its replicated state and restarts", () => {
  fc.assert(
    fc.property(paramsArb, fc.array(opArb, { maxLength: 150, size: "max" }), (p, ops) => {
      run(p, ops, true);
    }),
    { numRuns: 400 },
  );
});

test("the core is deterministic: the same inputs give the same deliveries and commands", () => {
  fc.assert(
    fc.property(paramsArb, fc.array(opArb, { maxLength: 150, size: "max" }), (p, ops) => {
      assert.deepEqual(run(p, ops, false), run(p, ops, false));
    }),
    { numRuns: 100 },
  );
});

test("the state machines read no clock and draw no random numbers", () => {
  // Time and names come in as arguments; timers and clocks live in consumer.ts (the edge).
  for (const f of ["core.ts", "waiting.ts", "log.ts", "ack.ts", "pull_request.ts"]) {
    const src = readFileSync(join(ROOT, "jetstream", "consumer", f), "utf8").replace(/\/\/.*$/gm, "");
    for (const banned of ["Date.now", "Math.random", "performance.", "setTimeout", "setInterval", "nowNanos", "clockMs", "randomBytes", "hrtime"]) {
      assert.ok(!src.includes(banned), `${f} uses ${banned}`);
    }
  }
  const st = readFileSync(join(ROOT, "jetstream", "store", "consumer_state.ts"), "utf8").replace(/\/\/.*$/gm, "");
  for (const banned of ["Date.now", "Math.random", "performance.", "nowNanos"]) assert.ok(!st.includes(banned), `consumer_state.ts uses ${banned}`);
});

test("an ack after the floor passed a redelivered message is kept (nats-server's file store lost it)", () => {
  const st = new ConsumerStateCore("explicit", null);
  for (let i = 1; i <= 5; i++) st.updateDelivered(i, i, 1, BigInt(i));
  for (let i = 1; i <= 5; i++) assert.ok(st.updateAcks(i, i));
  for (let i = 6; i <= 8; i++) st.updateDelivered(i, i, 1, BigInt(i));
  // 7 is redelivered as consumer sequence 9; then 6 and 8 are acked.
  st.updateDelivered(9, 7, 2, 10n);
  assert.ok(st.updateAcks(6, 6));
  assert.deepEqual(st.ackFloor, { consumerSeq: 6, streamSeq: 6 });
  assert.ok(st.updateAcks(8, 8), "the ack of 8 is recorded");
  assert.deepEqual([...st.pending.keys()], [7]);
  assert.equal(st.pending.get(7)!.consumerSeq, 7, "a redelivery keeps the first consumer sequence");
});
