// Consumer state persistence: random delivery/ack/snapshot sequences applied to a SQLite consumer
// store and to the plain state machine (ConsumerStateCore with no persistence) must agree, and
// after close + reopen the saved state must equal the live one.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ConsumerStateCore } from "../../jetstream/store/consumer_state.js";
import { ConsumerExistsError, InvalidConsumerStateError, NoAckPolicyError, StoreClosedError } from "../../jetstream/store/errors.js";
import { StoreManager } from "../../jetstream/store/manager.js";
import type { AckPolicy, ConsumerStore, StorageKind, StreamStore } from "../../jetstream/store/store.js";
import { tempDir, testSeed } from "./harness.js";

type Op =
  | { k: "deliver" }
  | { k: "redeliver"; f: number }
  | { k: "ack"; f: number }
  | { k: "ackRandom"; seq: number }
  | { k: "snapshot" }
  | { k: "store" }
  | { k: "commit" }
  | { k: "reopen" };

const frac = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ k: "deliver" as const }) },
  { weight: 2, arbitrary: frac.map((f) => ({ k: "redeliver" as const, f })) },
  { weight: 4, arbitrary: frac.map((f) => ({ k: "ack" as const, f })) },
  { weight: 1, arbitrary: fc.nat(60).map((seq) => ({ k: "ackRandom" as const, seq })) },
  { weight: 1, arbitrary: fc.constant({ k: "snapshot" as const }) },
  { weight: 1, arbitrary: fc.constant({ k: "store" as const }) },
  { weight: 1, arbitrary: fc.constant({ k: "commit" as const }) },
  { weight: 1, arbitrary: fc.constant({ k: "reopen" as const }) },
);

function runConsumerModel(ackPolicy: AckPolicy, seed: number, numRuns: number): void {
  const root = tempDir(`consumer-${ackPolicy}`);
  let n = 0;
  try {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120, size: "max" }), (ops) => {
        const dir = `${root.path}/run${n++}`;
        let manager = StoreManager.open(dir, { verify: "full" });
        let stream = manager.createStream("ACC", "S", "file");
        let c = stream.createConsumer("C", '{"durable_name":"C"}', ackPolicy);
        const model = new ConsumerStateCore(ackPolicy, null);
        let dseq = 0;
        let sseq = 0;
        let ts = 1_700_000_000_000_000_000n;
        try {
          for (const op of ops) {
            ts += 1_000_000n;
            switch (op.k) {
              case "deliver":
                dseq++;
                sseq += 1 + (dseq % 3);
                model.updateDelivered(dseq, sseq, 1, ts);
                c.updateDelivered(dseq, sseq, 1, ts);
                break;
              case "redeliver": {
                const pend = [...model.pending.keys()];
                if (pend.length === 0 || ackPolicy === "none") break;
                const s = pend[Math.floor(op.f * pend.length)]!;
                dseq++;
                const dc = (model.redelivered.get(s) ?? 0) + 2;
                model.updateDelivered(dseq, s, dc, ts);
                c.updateDelivered(dseq, s, dc, ts);
                break;
              }
              case "ack": {
                const pend = [...model.pending.entries()];
                if (pend.length === 0 || ackPolicy === "none") break;
                const [s, p] = pend[Math.floor(op.f * pend.length)]!;
                assert.equal(c.updateAcks(p.consumerSeq, s), model.updateAcks(p.consumerSeq, s));
                break;
              }
              case "ackRandom":
                // Acks of sequences that are not pending must change nothing.
                if (model.pending.has(op.seq)) break;
                if (ackPolicy === "none") {
                  assert.throws(() => c.updateAcks(op.seq, op.seq), NoAckPolicyError);
                  break;
                }
                assert.equal(c.updateAcks(op.seq, op.seq), model.updateAcks(op.seq, op.seq));
                break;
              case "snapshot": {
                const snap = model.snapshot();
                model.update(snap);
                c.update(snap);
                break;
              }
              case "store":
                // Stream writes share the consumer's transaction.
                stream.storeMsg(stream.state().lastSeq + 1, ts, "s", null, Buffer.from("x"));
                break;
              case "commit":
                manager.commit.runNow();
                break;
              case "reopen":
                manager.close();
                manager = StoreManager.open(dir, { verify: "full" });
                stream = manager.openStream("ACC", "S");
                c = stream.consumer("C")!;
                assert.ok(c !== null);
                assert.equal(c.ackPolicy(), ackPolicy);
                assert.equal(c.config(), '{"durable_name":"C"}');
                break;
            }
            assert.deepEqual(c.state(), model.snapshot(), `after ${op.k}`);
          }
        } finally {
          manager.close();
        }
      }),
      { seed, numRuns },
    );
  } finally {
    root.remove();
  }
}

for (const ap of ["explicit", "all", "none"] as const) {
  test(`sqlite consumer state (ack ${ap}) matches the state machine and survives reopen`, (t) => {
    const seed = testSeed();
    t.diagnostic(`seed=${seed} (rerun with STORE_TEST_SEED=${seed})`);
    runConsumerModel(ap, seed, ap === "none" ? 15 : 40);
  });
}

test("nats-server ack floor rules for explicit acks", () => {
  const c = new ConsumerStateCore("explicit", null);
  for (let i = 1; i <= 4; i++) c.updateDelivered(i, i * 10, 1, BigInt(i));
  assert.equal(c.updateAcks(2, 20), true);
  assert.deepEqual(c.ackFloor, { consumerSeq: 0, streamSeq: 0 }, "out-of-order ack leaves the floor");
  assert.equal(c.updateAcks(1, 10), true);
  assert.deepEqual(c.ackFloor, { consumerSeq: 2, streamSeq: 29 }, "the floor moves to just below the next pending message");
  assert.equal(c.updateAcks(3, 30), true);
  assert.equal(c.updateAcks(3, 30), false, "second ack of the same message");
  assert.equal(c.updateAcks(4, 40), true);
  assert.deepEqual(c.ackFloor, { consumerSeq: 4, streamSeq: 40 }, "no pending: floor = delivered");
  assert.equal(c.pending.size, 0);

  const all = new ConsumerStateCore("all", null);
  for (let i = 1; i <= 5; i++) all.updateDelivered(i, i, i === 3 ? 1 : 1, BigInt(i));
  all.updateDelivered(6, 3, 2, 9n);
  assert.equal(all.redelivered.get(3), 1);
  assert.equal(all.updateAcks(4, 4), true);
  assert.deepEqual([...all.pending.keys()], [5]);
  assert.equal(all.redelivered.size, 0);
  assert.deepEqual(all.ackFloor, { consumerSeq: 4, streamSeq: 4 });

  assert.throws(() => all.update({ ...all.snapshot(), ackFloor: { consumerSeq: 9, streamSeq: 9 } }), InvalidConsumerStateError);
});

for (const kind of ["memory", "file"] as const satisfies readonly StorageKind[]) {
  test(`${kind} stream: consumer create, config update, list, delete`, async () => {
    const dir = tempDir(`consumer-life-${kind}`);
    const manager = StoreManager.open(kind === "file" ? dir.path : null);
    try {
      const s: StreamStore = manager.createStream("ACC", "S", kind);
      const a: ConsumerStore = s.createConsumer("a", "{}", "explicit");
      s.createConsumer("b", "{}", "none");
      assert.throws(() => s.createConsumer("a", "{}", "explicit"), ConsumerExistsError);
      assert.deepEqual(s.consumerNames(), ["a", "b"]);
      a.updateConfig('{"max_deliver":3}', "all");
      assert.equal(a.config(), '{"max_deliver":3}');
      assert.equal(a.ackPolicy(), "all");
      assert.equal(s.consumer("a"), a, "one handle per consumer");
      assert.equal(s.deleteConsumer("b"), true);
      assert.equal(s.deleteConsumer("b"), false);
      assert.equal(s.consumer("b"), null);
      await a.flush();
      if (kind === "file") {
        manager.close();
        const m2 = StoreManager.open(dir.path);
        try {
          const s2 = m2.openStream("ACC", "S");
          assert.deepEqual(s2.consumerNames(), ["a"]);
          assert.equal(s2.consumer("a")!.config(), '{"max_deliver":3}');
          assert.equal(s2.consumer("a")!.ackPolicy(), "all");
          s2.consumer("a")!.delete();
          assert.throws(() => a.setStarting(1), StoreClosedError, "handle of a closed store");
        } finally {
          m2.close();
        }
      } else {
        a.delete();
        assert.throws(() => a.setStarting(1), StoreClosedError, "handle of a deleted consumer");
      }
    } finally {
      manager.close();
      dir.remove();
    }
  });
}
