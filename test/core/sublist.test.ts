import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Sublist, InvalidSubjectError, type SublistEntry } from "../../server/subjects/sublist.js";
import { isValidSubject, isValidLiteralSubject, subjectHasWildcard, subjectsCollide, isSubsetMatch, subjectMatchesFilter } from "../../server/subjects/subject.js";

class Entry implements SublistEntry {
  constructor(
    readonly subject: string,
    readonly queue: string | null,
    readonly id: number,
  ) {}
}

/** The model: a literal subject matches a filter token by token, '*' one token, '>' the rest. */
function naiveMatch(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  if (s.some((t) => t === "")) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== "*" && f[i] !== s[i]) return false;
  }
  return s.length === f.length;
}

const token = fc.constantFrom("a", "b", "c", "dd");
const filterToken = fc.constantFrom("a", "b", "c", "dd", "*");
const filterArb = fc
  .tuple(fc.array(filterToken, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([ts, fwc]) => (fwc ? [...ts, ">"] : ts).join("."));
const literalArb = fc.array(token, { minLength: 1, maxLength: 5 }).map((ts) => ts.join("."));

type Cmd = { op: "insert"; subject: string; queue: string | null } | { op: "remove"; index: number } | { op: "match"; subject: string };
const cmdsOf = (literal: fc.Arbitrary<string>): fc.Arbitrary<Cmd> =>
  fc.oneof(
    fc.record({ op: fc.constant("insert" as const), subject: filterArb, queue: fc.option(fc.constantFrom("q1", "q2"), { nil: null }) }),
    fc.record({ op: fc.constant("remove" as const), index: fc.nat() }),
    fc.record({ op: fc.constant("match" as const), subject: literal }),
  );
/** Few distinct literals: with a tiny cache, matches keep hitting both cache generations. */
const fewLiteralsArb = fc.array(token, { minLength: 1, maxLength: 2 }).map((ts) => ts.join("."));

for (const [cacheMax, literal] of [[undefined, literalArb], [4, fewLiteralsArb]] as const) test(`sublist matches exactly what a naive matcher does, across inserts and removes (cache of ${cacheMax ?? "default"} size included)`, () => {
  fc.assert(
    fc.property(fc.array(cmdsOf(literal), { minLength: 1, maxLength: 120 }), (cmds) => {
      const sl = new Sublist<Entry>({ cacheMax });
      const live: Entry[] = [];
      let id = 0;
      for (const c of cmds) {
        if (c.op === "insert") {
          const e = new Entry(c.subject, c.queue, id++);
          sl.insert(e);
          live.push(e);
        } else if (c.op === "remove") {
          if (live.length === 0) continue;
          const [e] = live.splice(c.index % live.length, 1);
          assert.equal(sl.remove(e!), true);
          assert.equal(sl.remove(e!), false, "second remove of the same entry reports false");
        } else {
          const r = sl.match(c.subject);
          const got = [...r.psubs, ...r.qsubs.flat()].map((e) => e.id).sort((a, b) => a - b);
          const want = live.filter((e) => naiveMatch(e.subject, c.subject)).map((e) => e.id).sort((a, b) => a - b);
          assert.deepEqual(got, want, `match(${c.subject})`);
          for (const group of r.qsubs) {
            assert.ok(group.length > 0);
            assert.ok(group.every((e) => e.queue === group[0]!.queue), "a queue group holds one queue's members");
          }
          assert.equal(new Set(r.qsubs.map((g) => g[0]!.queue)).size, r.qsubs.length, "one group per queue name");
          assert.ok(r.psubs.every((e) => e.queue === null));
        }
      }
      assert.equal(sl.size, live.length);
      assert.equal(sl.all().length, live.length);
    }),
    { numRuns: 400 },
  );
});

test("removing everything leaves an empty trie", () => {
  fc.assert(
    fc.property(fc.array(filterArb, { minLength: 1, maxLength: 40 }), (subjects) => {
      const sl = new Sublist<Entry>();
      const es = subjects.map((s, i) => new Entry(s, null, i));
      for (const e of es) sl.insert(e);
      for (const e of es) sl.remove(e);
      assert.equal(sl.size, 0);
      assert.deepEqual(sl.all(), []);
      for (const s of subjects) assert.equal(sl.match(s.replace(/[*>]/g, "a")).psubs.length, 0);
    }),
  );
});

test("invalid subscription subjects are refused by the index", () => {
  const sl = new Sublist<Entry>();
  for (const s of ["", "a..b", ".a", "a.", "a.>.b", ">.a"]) {
    assert.throws(() => sl.insert(new Entry(s, null, 0)), InvalidSubjectError, s);
  }
  assert.equal(sl.size, 0);
});

test("published subjects with empty tokens match nothing", () => {
  const sl = new Sublist<Entry>();
  sl.insert(new Entry(">", null, 1));
  for (const bad of ["a..b", ".a", "a.", ".", "", "a.b..", "..a"]) assert.equal(sl.match(bad).psubs.length, 0, JSON.stringify(bad));
  assert.equal(sl.match("a.b").psubs.length, 1);
});

test("the cache stays bounded", () => {
  const sl = new Sublist<Entry>();
  sl.insert(new Entry(">", null, 1));
  // A literal branch under u: the last token of u.<n> decides its match, so each is cached apart.
  sl.insert(new Entry("u.x", null, 2));
  for (let i = 0; i < 5000; i++) sl.match(`u.${i}`);
  assert.ok(sl.cacheSize <= 1024, `cache size ${sl.cacheSize}`);
  // A subject matched often stays cached while unique subjects stream past.
  const before = sl.stats.cacheHits;
  for (let i = 0; i < 5000; i++) {
    sl.match("hot");
    sl.match(`u.${5000 + i}`);
  }
  assert.equal(sl.stats.cacheHits - before, 4999);
});

/** An index of plain subscriptions with ids 1, 2, ... and the sorted ids a subject matches. */
function indexOf(...subjects: string[]): { sl: Sublist<Entry>; ids: (subject: string) => number[] } {
  const sl = new Sublist<Entry>();
  subjects.forEach((s, i) => sl.insert(new Entry(s, null, i + 1)));
  return { sl, ids: (subject) => sl.match(subject).psubs.map((e) => e.id).sort() };
}

test("unique last tokens under a wildcard share one cached result until the index changes", () => {
  const { sl, ids } = indexOf("_INBOX.abc.*", "_INBOX.>");
  const before = sl.stats.cacheHits;
  for (let i = 0; i <= 3000; i++) assert.deepEqual(ids(`_INBOX.abc.${i}`), [1, 2]);
  // Two misses with the same prefix give it a slot; every later sibling is a hit.
  assert.equal(sl.stats.cacheHits - before, 2999);
  // Those two subjects, cached by themselves, and the slot.
  assert.equal(sl.cacheSize, 3);
  // Subjects unique before their last token come and go without taking the slot.
  sl.insert(new Entry("acks.*.*.*", null, 5));
  assert.deepEqual(ids("_INBOX.abc.100"), [1, 2]);
  assert.deepEqual(ids("_INBOX.abc.101"), [1, 2]);
  for (let i = 0; i < 100; i++) assert.deepEqual(ids(`acks.${i}.${i}.${i}`), [5]);
  const mid = sl.stats.cacheHits;
  for (let i = 102; i < 150; i++) assert.deepEqual(ids(`_INBOX.abc.${i}`), [1, 2]);
  assert.equal(sl.stats.cacheHits - mid, 48);
  // Neither an empty last token nor more tokens take the shared result.
  assert.deepEqual(ids("_INBOX.abc."), []);
  assert.deepEqual(ids("_INBOX.abc.1.2"), [2]);
  // A literal subscription where the last token is looked up: that token matters again.
  const lit = new Entry("_INBOX.abc.7", null, 3);
  sl.insert(lit);
  assert.deepEqual(ids("_INBOX.abc.7"), [1, 2, 3]);
  assert.deepEqual(ids("_INBOX.abc.8"), [1, 2]);
  sl.remove(lit);
  assert.deepEqual(ids("_INBOX.abc.7"), [1, 2]);
  // No interest is shared the same way, and a new subscription ends it.
  assert.deepEqual(ids("other.1"), []);
  assert.deepEqual(ids("other.2"), []);
  sl.insert(new Entry("other.*", null, 4));
  assert.deepEqual(ids("other.3"), [4]);
});

test("subjects under a > past their looked-up tokens (JetStream acks) share one cached result until the index changes", () => {
  const { sl, ids } = indexOf("$JS.ACK.>", "$JS.API.>");
  const before = sl.stats.cacheHits;
  for (let i = 0; i < 1000; i++) assert.deepEqual(ids(`$JS.ACK.S.C.1.${i}.${i}.1733000000${i}.${1000 - i}`), [1]);
  assert.equal(sl.stats.cacheHits - before, 998);
  // Too few tokens, or empty ones, never take the shared result.
  assert.deepEqual(ids("$JS.ACK"), []);
  assert.deepEqual(ids("$JS.ACK."), []);
  assert.deepEqual(ids("$JS.ACK.S..1"), []);
  assert.deepEqual(ids("$JS.ACK.S.1."), []);
  assert.deepEqual(ids("$JS.ACK.x"), [1]);
  // A subscription below the shared prefix: the tokens after it matter again.
  const deeper = new Entry("$JS.ACK.S.*.1.>", null, 3);
  sl.insert(deeper);
  assert.deepEqual(ids("$JS.ACK.S.C.1.5.5"), [1, 3]);
  assert.deepEqual(ids("$JS.ACK.S.C.2.5.5"), [1]);
  assert.deepEqual(ids("$JS.ACK.T.C.1.5.5"), [1]);
  sl.remove(deeper);
  assert.deepEqual(ids("$JS.ACK.S.C.1.6.6"), [1]);
  // A `*` the walk met counts as looked up: under q.*, q.<a>.<b> shares nothing with q.<a>.
  sl.insert(new Entry("q.*", null, 4));
  for (const subject of ["q.a.b", "q.c.d", "q.e.f"]) assert.deepEqual(ids(subject), []);
  assert.deepEqual(ids("q.z"), [4]);
});

test("subject validation follows nats-server", () => {
  for (const s of ["a", "a.b", "a.*", "a.>", "*", ">", "a.*.c", "foo*", "foo>.bar", "a.b*c"]) assert.equal(isValidSubject(s), true, s);
  for (const s of ["", "a..b", "a.", ".a", "a.>.b", "a b", "a\tb", "a\nb", ">.a"]) assert.equal(isValidSubject(s), false, JSON.stringify(s));
  assert.equal(isValidLiteralSubject("a.b"), true);
  assert.equal(isValidLiteralSubject("a.*"), false);
  assert.equal(isValidLiteralSubject("a.>"), false);
  assert.equal(isValidLiteralSubject("a*.b"), true);
  assert.equal(subjectHasWildcard("a.*.b"), true);
  assert.equal(subjectHasWildcard("a*.b"), false);
  assert.equal(subjectHasWildcard(">"), true);
});

test("collide and subset agree with brute force over a small universe", () => {
  const universe: string[] = [];
  const toks = ["a", "b"];
  for (const x of toks) {
    universe.push(x);
    for (const y of toks) {
      universe.push(`${x}.${y}`);
      for (const z of toks) universe.push(`${x}.${y}.${z}`);
    }
  }
  const filters = ["a", "*", ">", "a.*", "*.b", "a.>", "*.>", "a.b", "*.*", "a.*.b", "*.*.*", "b.>"];
  for (const f of filters) {
    for (const g of filters) {
      const both = universe.some((s) => naiveMatch(f, s) && naiveMatch(g, s));
      assert.equal(subjectsCollide(f, g), both, `collide(${f}, ${g})`);
      const subset = universe.filter((s) => naiveMatch(f, s)).every((s) => naiveMatch(g, s));
      // ">" reaches beyond the 3-token universe, so only claim subset where the universe decides it.
      if (!f.includes(">") || g.endsWith(">")) assert.equal(isSubsetMatch(f, g), subset, `subset(${f}, ${g})`);
    }
    for (const s of universe) assert.equal(subjectMatchesFilter(s, f), naiveMatch(f, s), `${s} ~ ${f}`);
  }
});
