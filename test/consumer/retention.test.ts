// Interest and workqueue retention as properties: random publishes, pulls, acks, naks, terms,
// ack-all acks, consumers added and deleted, on streams with several consumers and overlapping
// (interest) or disjoint (workqueue) filters. A naive model says which messages must still be in
// the stream (interest: some live consumer whose filter matches has not acked it; workqueue: its
// consumer has not acked it); after every step the stream holds exactly that many, and at the end
// exactly those sequences: nothing left behind, nothing removed early.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { waitFor } from "../helpers/wait.js";
import { jsWireFixture } from "./helpers.js";
import { ackInfo, statusOf, type WireMsg } from "./wire.js";

type Op =
  | { k: "pub"; sub: number }
  | { k: "pull"; c: number; n: number }
  | { k: "ack"; c: number; i: number; how: "+ACK" | "-NAK" | "+TERM" }
  | { k: "add" }
  | { k: "del"; c: number };

const SUBJECTS = ["a.1", "a.2", "b.1", "b.2"];

interface ModelConsumer {
  name: string;
  filter: string | null;
  ackAll: boolean;
  alive: boolean;
  acked: Set<number>;
  /** Deliveries not yet acknowledged, oldest first. */
  outstanding: WireMsg[];
}

function matches(subject: string, filter: string | null): boolean {
  if (filter === null) return true;
  return filter.endsWith(".*") ? subject.startsWith(filter.slice(0, -1)) && !subject.slice(filter.length - 1).includes(".") : subject === filter;
}

const opArb = fc.oneof(
  { weight: 5, arbitrary: fc.nat(SUBJECTS.length - 1).map((sub) => ({ k: "pub" as const, sub })) },
  { weight: 3, arbitrary: fc.record({ c: fc.nat(5), n: fc.integer({ min: 1, max: 4 }) }).map((r) => ({ k: "pull" as const, ...r })) },
  { weight: 5, arbitrary: fc.record({ c: fc.nat(5), i: fc.nat(10), how: fc.constantFrom("+ACK" as const, "+ACK" as const, "-NAK" as const, "+TERM" as const) }).map((r) => ({ k: "ack" as const, ...r })) },
  { weight: 1, arbitrary: fc.constant({ k: "add" as const }) },
  { weight: 1, arbitrary: fc.nat(5).map((c) => ({ k: "del" as const, c })) },
);

describe("retention with several consumers", () => {
  const fx = jsWireFixture();
  let run = 0;

  async function state(stream: string): Promise<{ messages: number; first_seq: number; last_seq: number }> {
    return (await fx.w.request(`$JS.API.STREAM.INFO.${stream}`)).state;
  }

  async function createConsumer(stream: string, c: ModelConsumer): Promise<void> {
    const r = await fx.w.request(`$JS.API.CONSUMER.CREATE.${stream}.${c.name}`, {
      stream_name: stream,
      config: { durable_name: c.name, ack_policy: c.ackAll ? "all" : "explicit", ...(c.filter ? { filter_subject: `${stream}.${c.filter}` } : {}) },
    });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
  }

  async function pull(stream: string, c: ModelConsumer, n: number): Promise<void> {
    const inbox = `_INBOX.r${run}.${c.name}.${Math.random().toString(36).slice(2)}`;
    const sid = fx.w.sub(inbox);
    fx.w.pub(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${c.name}`, inbox, JSON.stringify({ batch: n, no_wait: true }));
    await waitFor("pull done", () => fx.w.on(sid).length >= n || fx.w.on(sid).some((m) => statusOf(m) !== ""), 10_000, 1);
    await fx.w.flush();
    fx.w.unsub(sid);
    c.outstanding.push(...fx.w.on(sid).filter((m) => statusOf(m) === ""));
  }

  async function runProperty(kind: "interest" | "workqueue", ops: Op[], filters: (string | null)[], ackAll: boolean[]): Promise<void> {
    const stream = `R${++run}`;
    const r = await fx.w.request(`$JS.API.STREAM.CREATE.${stream}`, { name: stream, subjects: [`${stream}.>`], retention: kind, storage: run % 2 ? "file" : "memory" });
    assert.equal(r.error, undefined);
    const consumers: ModelConsumer[] = [];
    const add = async (filter: string | null, all: boolean) => {
      const c: ModelConsumer = { name: `c${consumers.length}`, filter, ackAll: all, alive: true, acked: new Set(), outstanding: [] };
      consumers.push(c);
      await createConsumer(stream, c);
    };
    for (let i = 0; i < filters.length; i++) await add(filters[i]!, kind === "interest" && ackAll[i]!);
    // seq -> subject, for what the stream stored.
    const stored = new Map<number, string>();
    let lastSeq = 0;
    const retained = (seq: number, subject: string): boolean => {
      const live = consumers.filter((c) => c.alive && matches(subject, c.filter));
      if (kind === "workqueue") return live.every((c) => !c.acked.has(seq));
      return live.some((c) => !c.acked.has(seq));
    };
    const expected = () => [...stored].filter(([seq, subj]) => retained(seq, subj)).map(([seq]) => seq);
    for (const [step, op] of ops.entries()) {
      const live = consumers.filter((c) => c.alive);
      switch (op.k) {
        case "pub": {
          const subj = SUBJECTS[op.sub]!;
          const ack = await fx.w.request(`${stream}.${subj}`, "x");
          assert.equal(ack.seq, lastSeq + 1, "every publish takes a sequence");
          lastSeq = ack.seq;
          // An interest stream keeps nothing nobody wants.
          if (kind === "workqueue" || live.some((c) => matches(subj, c.filter))) stored.set(ack.seq, subj);
          break;
        }
        case "pull":
          if (live.length > 0) await pull(stream, live[op.c % live.length]!, op.n);
          break;
        case "ack": {
          if (live.length === 0) break;
          const c = live[op.c % live.length]!;
          if (c.outstanding.length === 0) break;
          const m = c.outstanding[op.i % c.outstanding.length]!;
          const a = ackInfo(m.reply!);
          fx.w.pub(m.reply!, null, op.how);
          await fx.w.flush();
          if (op.how === "-NAK") break;
          if (c.ackAll) {
            // Everything this consumer was given up to it (a TERM too, as in nats-server).
            for (const [seq, subj] of stored) if (seq <= a.sseq && matches(subj, c.filter)) c.acked.add(seq);
            c.outstanding = c.outstanding.filter((x) => ackInfo(x.reply!).sseq > a.sseq);
          } else {
            c.acked.add(a.sseq);
            c.outstanding = c.outstanding.filter((x) => ackInfo(x.reply!).sseq !== a.sseq);
          }
          break;
        }
        case "add":
          // A late consumer (deliver all) wants every matching message still stored.
          if (kind === "interest" && consumers.length < 6) await add(consumers.length % 2 ? "b.*" : null, false);
          break;
        case "del": {
          if (live.length === 0) break;
          const c = live[op.c % live.length]!;
          assert.equal((await fx.w.request(`$JS.API.CONSUMER.DELETE.${stream}.${c.name}`)).success, true);
          c.alive = false;
          break;
        }
      }
      // Removed messages are gone for good.
      for (const [seq, subj] of [...stored]) if (!retained(seq, subj)) stored.delete(seq);
      const st = await state(stream);
      assert.equal(st.messages, stored.size, `step ${step} ${JSON.stringify(op)}: the stream holds ${st.messages}, expected ${stored.size} (${expected().join(",")})`);
    }
    // Exactly the expected sequences.
    const present: number[] = [];
    for (let seq = 1; seq <= lastSeq; seq++) {
      const g = await fx.w.request(`$JS.API.STREAM.MSG.GET.${stream}`, { seq });
      if (!g.error) present.push(seq);
    }
    assert.deepEqual(present, expected());
    // Acking everything that is left empties the stream of what the consumers cover.
    for (const c of consumers.filter((x) => x.alive)) {
      await pull(stream, c, 100);
      for (const m of c.outstanding) fx.w.pub(m.reply!, null, "+ACK");
      for (const m of c.outstanding) c.acked.add(ackInfo(m.reply!).sseq);
      c.outstanding = [];
    }
    await fx.w.flush();
    for (const [seq, subj] of [...stored]) if (!retained(seq, subj)) stored.delete(seq);
    assert.equal((await state(stream)).messages, stored.size, "after acking everything");
    if (kind === "interest") assert.equal(stored.size, 0, "nothing is left behind once every consumer acked");
  }

  test("interest streams keep a message until every interested consumer acked it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 5, maxLength: 40 }),
        fc.array(fc.constantFrom<string | null>(null, "a.*", "a.1", "b.*", "b.2"), { minLength: 1, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        async (ops, filters, ackAll) => runProperty("interest", ops, filters, ackAll),
      ),
      { numRuns: 25 },
    );
  });

  test("workqueue streams remove a message when its consumer acks it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 5, maxLength: 40 }),
        fc.constantFrom<(string | null)[]>([null], ["a.*", "b.*"], ["a.1", "a.2", "b.*"], ["a.*", "b.1"]),
        async (ops, filters) => runProperty("workqueue", ops.filter((o) => o.k !== "del"), filters, [false, false, false, false]),
      ),
      { numRuns: 20 },
    );
  });

  test("workqueue streams refuse overlapping or a second unfiltered consumer, and non-explicit acks", async () => {
    const st = "WQX";
    await fx.w.request(`$JS.API.STREAM.CREATE.${st}`, { name: st, subjects: [`${st}.>`], retention: "workqueue" });
    const mk = (name: string, config: Record<string, unknown>) => fx.w.request(`$JS.API.CONSUMER.CREATE.${st}.${name}`, { stream_name: st, config: { durable_name: name, ack_policy: "explicit", ...config } });
    assert.equal((await mk("a", { filter_subject: `${st}.a.>` })).error, undefined);
    assert.equal((await mk("b", { filter_subject: `${st}.a.x` })).error.err_code, 10100);
    assert.equal((await mk("c", {})).error.err_code, 10099);
    assert.equal((await mk("d", { filter_subject: `${st}.b`, ack_policy: "none" })).error.err_code, 10084);
    assert.equal((await mk("e", { filter_subject: `${st}.b`, ack_policy: "all" })).error.err_code, 10098);
    assert.equal((await mk("f", { filter_subject: `${st}.b`, deliver_policy: "new" })).error.err_code, 10101);
    assert.equal((await mk("g", { filter_subject: `${st}.b` })).error, undefined);
    // Deleting a consumer frees its subjects for another.
    await fx.w.request(`$JS.API.CONSUMER.DELETE.${st}.a`);
    assert.equal((await mk("b", { filter_subject: `${st}.a.x` })).error, undefined);
  });
});
