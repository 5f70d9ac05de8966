// Model-based property test: random command sequences run against a store and the naive model
// (model.ts); after every command the full state must agree, and read commands compare every kind
// of lookup. The same commands run against the memory store and the SQLite store; for SQLite they
// also include mid-run commits and close/reopen, so recovery is checked against the model too.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DiscardNewError, PurgeArgError } from "../../jetstream/store/errors.js";
import { StoreManager } from "../../jetstream/store/manager.js";
import { fileStoreMsgSize, memStoreMsgSize } from "../../jetstream/store/msg_size.js";
import type { RemovedMsg, StorageKind, StoreLimits, StreamStore } from "../../jetstream/store/store.js";
import { assertSameMsg, tempDir, testSeed } from "./harness.js";
import { StoreModel, type ModelMsg } from "./model.js";

interface Universe {
  subjects: string[];
  filters: string[];
}

const FEW: Universe = {
  subjects: ["a", "a.b", "a.c", "b.x.y", "b.y.x", "c", "d.\u00e9"],
  filters: [">", "", "a", "a.b", "a.*", "*.b", "b.>", "*.*.*", "b.*.x", "c.>", "*", "nomatch", "a.>", "d.*"],
};

// More subjects than the SQLite store resolves one by one, so wildcard lookups take the scan path.
const MANY: Universe = {
  subjects: [...Array.from({ length: 90 }, (_, i) => `k.${i}`), ...Array.from({ length: 6 }, (_, i) => `z.${i}.q`)],
  filters: [">", "k.*", "k.>", "*.*", "z.>", "z.*.q", "k.7", "*.*.q"],
};
const HDR = Buffer.from("NATS/1.0\r\nNats-Msg-Id: x\r\n\r\n");
// A subject delete marker's headers: expire() reports such removals as markers.
const MARKER = Buffer.from("NATS/1.0\r\nNats-Marker-Reason: MaxAge\r\nNats-TTL: 1s\r\n\r\n");
const HDRS = [null, HDR, MARKER] as const;

interface Model {
  m: StoreModel;
  now: bigint;
}

interface Real {
  kind: StorageKind;
  dir: string | null;
  manager: StoreManager;
  store: StreamStore;
  removals: RemovedMsg[];
}

function attach(r: Real, store: StreamStore): void {
  r.store = store;
  store.onLimitRemoval((seq, subject) => r.removals.push({ seq, subject }));
}

const bySeq = (a: RemovedMsg, b: RemovedMsg) => a.seq - b.seq;

function checkState(m: Model, r: Real): void {
  const st = r.store.state({ deleted: true });
  assert.deepEqual(st, m.m.state(), "state");
  assert.deepEqual(r.store.subjectsState(">"), m.m.subjectsState(">"), "subjectsState(>)");
  assert.deepEqual([...r.removals].sort(bySeq), [...m.m.limitRemovals].sort(bySeq), "limit removals");
  r.removals.length = 0;
  m.m.limitRemovals.length = 0;
}

/** Maps a fraction in [0, 1) onto sequences around the stream's current range. */
function pickSeq(m: StoreModel, f: number, below = 1, above = 2): number {
  const lo = Math.max(0, m.first - below);
  const hi = m.last + above;
  return lo + Math.floor(f * (hi - lo + 1));
}

type Cmd = fc.Command<Model, Real>;

class StoreCmd implements Cmd {
  constructor(
    readonly subject: string,
    readonly hdr: 0 | 1 | 2,
    readonly data: Uint8Array,
    readonly ttl: number,
    readonly dt: number,
    readonly skipDnp: boolean,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.now += BigInt(this.dt);
    const seq = m.m.last + 1;
    const msg: ModelMsg = { seq, ts: m.now, subject: this.subject, hdr: HDRS[this.hdr], data: Buffer.from(this.data), ttl: this.ttl };
    const expected = m.m.store(msg, this.skipDnp);
    let got: string | null = null;
    try {
      // Buffers and bare Uint8Arrays (whose empty form has no backing store) both reach the store.
      const data = this.ttl === 0 ? this.data : Buffer.from(this.data);
      r.store.storeMsg(seq, m.now, this.subject, HDRS[this.hdr], data, this.ttl, this.skipDnp ? 1 : 0);
    } catch (e) {
      if (!(e instanceof DiscardNewError)) throw e;
      got = e.limit;
    }
    assert.equal(got, expected, "discard new outcome");
    checkState(m, r);
  }
  toString = () => `store(${this.subject},hdr=${this.hdr},len=${this.data.length},ttl=${this.ttl},dt=${this.dt},skipDnp=${this.skipDnp})`;
}

/** Many stores in one command (round-robin subjects), to grow streams past the small-set paths. */
class BurstCmd implements Cmd {
  constructor(
    readonly subjects: readonly string[],
    readonly n: number,
    readonly offset: number,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const firstSeq = m.m.last + 1;
    for (let i = 0; i < this.n; i++) {
      m.now += 1000n;
      const seq = m.m.last + 1;
      const subject = this.subjects[(this.offset + i * 7) % this.subjects.length]!;
      const data = Buffer.from([i & 0xff]);
      const expected = m.m.store({ seq, ts: m.now, subject, hdr: null, data, ttl: 0 });
      let got: string | null = null;
      try {
        r.store.storeMsg(seq, m.now, subject, null, data);
      } catch (e) {
        if (!(e instanceof DiscardNewError)) throw e;
        got = e.limit;
      }
      assert.equal(got, expected, "discard new outcome");
    }
    // Reads right after the writes of the same transaction, before anything else touches the
    // database: the store must see what it has just been given (rows may still be held for a
    // multi-row insert). Alternate which read comes first.
    const reads = [
      () => {
        const got = r.store.loadNextMsgs(">", firstSeq, 64, 1 << 20);
        const want: (ModelMsg | null)[] = [];
        for (let from = firstSeq; want.length < 64; ) {
          const x = m.m.loadNext([">"], from);
          if (x === null) break;
          want.push(x);
          from = x.seq + 1;
        }
        assert.equal(got.length, want.length, `loadNextMsgs(>, ${firstSeq}) after a burst: count`);
        for (let i = 0; i < want.length; i++) assertSameMsg(got[i]!, want[i]!, `loadNextMsgs(>, ${firstSeq})[${i}] after a burst`);
      },
      () => assertSameMsg(r.store.loadMsg(m.m.last), m.m.get(m.m.last), `loadMsg(${m.m.last}) after a burst`),
    ];
    if (this.offset % 2 === 1) reads.reverse();
    for (const read of reads) read();
    checkState(m, r);
  }
  toString = () => `burst(${this.n},${this.offset})`;
}

class SkipCmd implements Cmd {
  constructor(
    readonly count: number,
    readonly dt: number,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.now += BigInt(this.dt);
    const seq = m.m.last + 1;
    m.m.skip(seq, this.count, m.now);
    r.store.skipMsgs(seq, this.count, m.now);
    checkState(m, r);
  }
  toString = () => `skip(${this.count})`;
}

class RemoveCmd implements Cmd {
  constructor(
    readonly f: number,
    readonly erase: boolean,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const seq = pickSeq(m.m, this.f);
    const expected = m.m.remove(seq);
    assert.equal(this.erase ? r.store.eraseMsg(seq) : r.store.removeMsg(seq), expected, `remove(${seq})`);
    checkState(m, r);
  }
  toString = () => `${this.erase ? "erase" : "remove"}(${this.f.toFixed(3)})`;
}

class PurgeCmd implements Cmd {
  check = () => true;
  run(m: Model, r: Real): void {
    assert.equal(r.store.purge(), m.m.purge(), "purge count");
    checkState(m, r);
  }
  toString = () => "purge()";
}

class PurgeExCmd implements Cmd {
  constructor(
    readonly filter: string,
    readonly upToF: number | null,
    readonly keep: number,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const upTo = this.upToF === null ? 0 : pickSeq(m.m, this.upToF);
    const expected = m.m.purgeEx(this.filter, upTo, this.keep);
    let got: number | null;
    try {
      got = r.store.purgeEx(this.filter, upTo, this.keep);
    } catch (e) {
      if (!(e instanceof PurgeArgError)) throw e;
      got = null;
    }
    assert.equal(got, expected, `purgeEx(${this.filter}, ${upTo}, ${this.keep})`);
    checkState(m, r);
  }
  toString = () => `purgeEx(${JSON.stringify(this.filter)},${this.upToF?.toFixed(3)},${this.keep})`;
}

class CompactCmd implements Cmd {
  constructor(readonly f: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const seq = pickSeq(m.m, this.f, m.m.first, 3);
    assert.equal(r.store.compact(seq), m.m.compact(seq), `compact(${seq})`);
    checkState(m, r);
  }
  toString = () => `compact(${this.f.toFixed(3)})`;
}

class TruncateCmd implements Cmd {
  constructor(readonly f: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const seq = Math.floor(this.f * (m.m.last + 2));
    m.m.truncate(seq);
    r.store.truncate(seq);
    checkState(m, r);
  }
  toString = () => `truncate(${this.f.toFixed(3)})`;
}

class ExpireCmd implements Cmd {
  constructor(readonly dt: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    assert.equal(r.store.nextExpiry(), m.m.nextExpiry(), "nextExpiry");
    m.now += BigInt(this.dt);
    const got = r.store.expire(m.now).sort(bySeq);
    assert.deepEqual(got, m.m.expire(m.now).sort(bySeq), "expired");
    checkState(m, r);
  }
  toString = () => `expire(+${this.dt})`;
}

class LimitsCmd implements Cmd {
  constructor(readonly l: Partial<StoreLimits>) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.m.setLimits(this.l);
    r.store.setLimits(this.l);
    assert.deepEqual(r.store.limits(), m.m.limits, "limits");
    checkState(m, r);
  }
  toString = () => `limits(${JSON.stringify(this.l, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))})`;
}

class CommitCmd implements Cmd {
  check = () => true;
  run(m: Model, r: Real): void {
    r.manager.commit.runNow();
    checkState(m, r);
  }
  toString = () => "commit()";
}

/** Close everything and recover from disk (file stores); limits are the stream layer's to re-apply. */
class ReopenCmd implements Cmd {
  check = () => true;
  run(m: Model, r: Real): void {
    if (r.kind !== "file") return;
    r.manager.close();
    r.manager = StoreManager.open(r.dir, { verify: "full" });
    const rec = r.manager.recover();
    assert.deepEqual(rec.failures, []);
    assert.equal(rec.streams.length, 1);
    attach(r, rec.streams[0]!.store);
    r.store.setLimits(m.m.limits);
    checkState(m, r);
  }
  toString = () => "reopen()";
}

class ReadCmd implements Cmd {
  constructor(
    readonly f1: number,
    readonly f2: number,
    readonly filter: string,
    readonly filter2: string,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const s = r.store;
    const mm = m.m;
    const seq = pickSeq(mm, this.f1);
    assertSameMsg(s.loadMsg(seq), mm.get(seq), `loadMsg(${seq})`);
    assertSameMsg(s.loadLastMsg(this.filter), mm.loadLast(this.filter), `loadLastMsg(${this.filter})`);
    assert.deepEqual(s.subjectsState(this.filter), mm.subjectsState(this.filter), `subjectsState(${this.filter})`);
    // Starts on, just after and around stored sequences hit the boundary cases of every lookup.
    const starts = [pickSeq(mm, this.f2, 3, 2)];
    if (mm.msgs.length > 0) {
      const at = mm.msgs[Math.floor(this.f2 * mm.msgs.length)]!.seq;
      starts.push(at, at + 1);
    }
    for (const start of starts) {
      assertSameMsg(s.loadNextMsg(this.filter, start), mm.loadNext([this.filter], start), `loadNextMsg(${this.filter}, ${start})`);
      assertSameMsg(s.loadNextWithHeaders(start), mm.loadNextWithHeaders(start), `loadNextWithHeaders(${start})`);
      // A batch is what a loop of loadNextMsg gives; the byte bounds cut it before, on and after a message.
      for (const [max, maxBytes] of [[1, 1 << 20], [3, 1 << 20], [64, 1 << 20], [64, 1], [64, 40 + Math.floor(this.f1 * 200)]] as const) {
        const got = s.loadNextMsgs(this.filter, start, max, maxBytes);
        let from = start;
        let bytes = 0;
        let i = 0;
        for (; i < max && bytes < maxBytes; i++) {
          const want = mm.loadNext([this.filter], from);
          if (want === null) break;
          assertSameMsg(got[i] ?? null, want, `loadNextMsgs(${this.filter}, ${start}, ${max}, ${maxBytes})[${i}]`);
          bytes += want.data.length + (want.hdr === null ? 0 : want.hdr.length);
          from = want.seq + 1;
        }
        assert.equal(got.length, i, `loadNextMsgs(${this.filter}, ${start}, ${max}, ${maxBytes}): count`);
      }
      assertSameMsg(
        s.loadNextMsgMulti([this.filter, this.filter2], start),
        mm.loadNext([this.filter, this.filter2], start),
        `loadNextMsgMulti(${this.filter}, ${this.filter2}, ${start})`,
      );
      assertSameMsg(s.loadPrevMsg(start, this.filter), mm.loadPrev(start, this.filter), `loadPrevMsg(${start}, ${this.filter})`);
      assert.deepEqual(s.filteredState(start, this.filter), mm.filteredState(start, this.filter), `filteredState(${start}, ${this.filter})`);
      for (const lps of [false, true]) {
        assert.equal(s.numPending(start, this.filter, lps), mm.numPending(start, this.filter, lps), `numPending(${start}, ${this.filter}, ${lps})`);
      }
    }
    for (const subj of new Set(mm.msgs.map((x) => x.subject).concat(["a", "k.1", "nomatch"]))) {
      const want = mm.subjectsState(subj).get(subj) ?? null;
      assert.deepEqual(s.subjectState(subj), want, `subjectState(${subj})`);
    }
    const times = [0n, m.now + 1n, ...mm.msgs.map((x) => x.ts), ...mm.msgs.map((x) => x.ts + 1n)];
    const t = times[Math.floor(this.f1 * times.length)]!;
    assert.equal(s.seqFromTime(t), mm.seqFromTime(t), `seqFromTime(${t})`);
    assert.equal(s.nextExpiry(), mm.nextExpiry(), "nextExpiry");
  }
  toString = () => `read(${this.f1.toFixed(3)},${this.f2.toFixed(3)},${JSON.stringify(this.filter)},${JSON.stringify(this.filter2)})`;
}

const frac = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
// Whole seconds often, so deadlines land exactly on "now" and the <= boundaries get exercised.
const dtArb = fc.oneof(fc.constantFrom(0, 1_000_000_000, 2_000_000_000), fc.integer({ min: 1, max: 3_000_000_000 }));

const limitsArb: fc.Arbitrary<Partial<StoreLimits>> = fc.record(
  {
    maxMsgs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })),
    maxBytes: fc.oneof(fc.constant(0), fc.integer({ min: 60, max: 600 })),
    maxMsgsPerSubject: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
    maxAgeNanos: fc.oneof(fc.constant(0n), fc.constantFrom(2_000_000_000n, 5_000_000_000n), fc.bigInt({ min: 2_000_000_000n, max: 8_000_000_000n })),
    discardNew: fc.boolean(),
    discardNewPerSubject: fc.boolean(),
  },
  { requiredKeys: [] },
);

function commandsArb(kind: StorageKind, u: Universe) {
  const filterArb = fc.constantFrom(...u.filters);
  const subjectArb = fc.constantFrom(...u.subjects);
  const store = fc
    .record({
      subject: subjectArb,
      hdr: fc.constantFrom(0 as const, 1 as const, 2 as const),
      data: fc.uint8Array({ maxLength: 40 }),
      ttl: fc.constantFrom(0, 0, 0, -1, 1, 4),
      dt: dtArb,
      skipDnp: fc.boolean(),
    })
    .map((x) => new StoreCmd(x.subject, x.hdr, x.data, x.ttl, x.dt, x.skipDnp));
  const plainStore = fc
    .record({ subject: subjectArb, data: fc.uint8Array({ maxLength: 8 }) })
    .map((x) => new StoreCmd(x.subject, 0, x.data, 0, 1000, false));
  const read = fc
    .record({ f1: frac, f2: frac, filter: filterArb, filter2: filterArb })
    .map((x) => new ReadCmd(x.f1, x.f2, x.filter, x.filter2));
  const remove = fc.record({ f: frac, erase: fc.boolean() }).map((x) => new RemoveCmd(x.f, x.erase));
  // Repeats weight the choice: mostly stores and reads, so streams grow before being cut.
  const arbs: fc.Arbitrary<Cmd>[] = [
    store,
    store,
    store,
    plainStore,
    plainStore,
    plainStore,
    read,
    read,
    read,
    remove,
    remove,
    fc.record({ n: fc.integer({ min: 1, max: 150 }), offset: fc.nat(1000) }).map((x) => new BurstCmd(u.subjects, x.n, x.offset)),
    // Long skips carry the stream across 1024-sequence block boundaries.
    fc.record({ count: fc.constantFrom(1, 2, 3, 700, 1100), dt: dtArb }).map((x) => new SkipCmd(x.count, x.dt)),
    fc.constant(new PurgeCmd()),
    fc
      .record({ filter: filterArb, upTo: fc.option(frac, { nil: null }), keep: fc.constantFrom(0, 0, 1, 2, 3) })
      .map((x) => new PurgeExCmd(x.filter, x.upTo, x.keep)),
    frac.map((f) => new CompactCmd(f)),
    frac.map((f) => new TruncateCmd(f)),
    fc.oneof(fc.constantFrom(0, 1_000_000_000, 3_000_000_000), fc.integer({ min: 0, max: 6_000_000_000 })).map((dt) => new ExpireCmd(dt)),
    limitsArb.map((l) => new LimitsCmd(l)),
    fc.constant(new CommitCmd()),
  ];
  if (kind === "file") arbs.push(fc.constant(new ReopenCmd()));
  return fc.commands(arbs, { maxCommands: 80, size: "max" });
}

function runModel(kind: StorageKind, u: Universe, numRuns: number, seed: number): void {
  const root = tempDir(`model-${kind}`);
  let n = 0;
  try {
    fc.assert(
      fc.property(commandsArb(kind, u), (cmds) => {
        const dir = kind === "file" ? `${root.path}/run${n++}` : null;
        const manager = StoreManager.open(dir, { verify: "full" });
        const real: Real = { kind, dir, manager, store: null as unknown as StreamStore, removals: [] };
        attach(real, manager.createStream("ACC", "S", kind));
        const model: Model = { m: new StoreModel(kind === "file" ? fileStoreMsgSize : memStoreMsgSize), now: 1_700_000_000_000_000_000n };
        try {
          fc.modelRun(() => ({ model, real }), cmds);
        } finally {
          real.manager.close();
        }
      }),
      { seed, numRuns },
    );
  } finally {
    root.remove();
  }
}

test("memory store agrees with the model", (t) => {
  const seed = testSeed();
  t.diagnostic(`seed=${seed} (rerun with STORE_TEST_SEED=${seed})`);
  runModel("memory", FEW, 400, seed);
});

test("memory store agrees with the model, many subjects", (t) => {
  const seed = testSeed();
  t.diagnostic(`seed=${seed} (rerun with STORE_TEST_SEED=${seed})`);
  runModel("memory", MANY, 150, seed);
});

test("sqlite store agrees with the model, across commits and reopens", (t) => {
  const seed = testSeed();
  t.diagnostic(`seed=${seed} (rerun with STORE_TEST_SEED=${seed})`);
  runModel("file", FEW, 200, seed);
});

test("sqlite store agrees with the model, many subjects", (t) => {
  const seed = testSeed();
  t.diagnostic(`seed=${seed} (rerun with STORE_TEST_SEED=${seed})`);
  runModel("file", MANY, 80, seed);
});
