// The store's small data structures against naive equivalents, over random operation sequences.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SeqBlocks, BLOCK_SIZE } from "../../jetstream/store/seq_blocks.js";
import { SeqList } from "../../jetstream/store/seq_list.js";
import { hasWildcard, subjectMatches } from "../../jetstream/store/subject_match.js";
import { SubjectEntry, SubjectIndex } from "../../jetstream/store/subject_index.js";
import { TtlHeap } from "../../jetstream/store/ttl_heap.js";
import { matches } from "./model.js";
import { testSeed } from "./harness.js";

test("SeqList and SeqBlocks agree with a sorted array", (t) => {
  const seed = testSeed();
  t.diagnostic(`seed=${seed}`);
  const op = fc.oneof(
    fc.record({ k: fc.constant("push" as const), gap: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3000 })) }),
    fc.record({ k: fc.constant("remove" as const), f: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), head: fc.boolean() }),
    fc.record({ k: fc.constant("query" as const), f: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300, size: "max" }), (ops) => {
      const list = new SeqList();
      const blocks = new SeqBlocks();
      let arr: number[] = [];
      let last = 0;
      for (const o of ops) {
        if (o.k === "push") {
          last += o.gap;
          list.push(last);
          blocks.add(last);
          arr.push(last);
        } else if (o.k === "remove") {
          if (arr.length === 0) continue;
          const s = o.head ? arr[0]! : arr[Math.floor(o.f * arr.length)]!;
          assert.equal(list.remove(s), true);
          assert.equal(list.remove(s), false);
          blocks.remove(s);
          arr = arr.filter((x) => x !== s);
        } else {
          const q = Math.floor(o.f * (last + 2));
          assert.equal(list.countFrom(q), arr.filter((x) => x >= q).length, "countFrom");
          assert.equal(list.nextFrom(q), arr.find((x) => x >= q) ?? 0, "nextFrom");
          assert.equal(list.prevFrom(q), [...arr].reverse().find((x) => x <= q) ?? 0, "prevFrom");
          const b = Math.floor(q / BLOCK_SIZE);
          assert.equal(blocks.count(b), arr.filter((x) => Math.floor(x / BLOCK_SIZE) === b).length, "block count");
          assert.equal(blocks.sumAfter(b), arr.filter((x) => Math.floor(x / BLOCK_SIZE) > b).length, "sumAfter");
          const next = arr.find((x) => Math.floor(x / BLOCK_SIZE) >= b);
          assert.equal(blocks.nextNonEmpty(b), next === undefined ? -1 : Math.floor(next / BLOCK_SIZE), "nextNonEmpty");
          const prev = [...arr].reverse().find((x) => Math.floor(x / BLOCK_SIZE) <= b);
          assert.equal(blocks.prevNonEmpty(b), prev === undefined ? -1 : Math.floor(prev / BLOCK_SIZE), "prevNonEmpty");
        }
        assert.equal(list.size, arr.length);
        assert.equal(blocks.size, arr.length);
        assert.equal(list.first(), arr[0] ?? 0);
        assert.equal(list.last(), arr[arr.length - 1] ?? 0);
        for (let i = 0; i < Math.min(3, arr.length); i++) assert.equal(list.at(i), arr[i]);
      }
    }),
    { seed, numRuns: 300 },
  );
});

const token = fc.constantFrom("a", "b", "c", "*", ">", "ab");

test("subjectMatches agrees with token-by-token matching; SubjectIndex.match tracks adds and deletes", (t) => {
  const seed = testSeed();
  t.diagnostic(`seed=${seed}`);
  const literal = fc.array(fc.constantFrom("a", "b", "c", "ab"), { minLength: 1, maxLength: 4 }).map((x) => x.join("."));
  const filter = fc.array(token, { minLength: 1, maxLength: 4 }).map((x) => x.join("."));
  fc.assert(
    fc.property(fc.array(fc.record({ add: fc.boolean(), s: literal }), { maxLength: 40, size: "max" }), fc.array(filter, { minLength: 1, maxLength: 5 }), (ops, filters) => {
      const idx = new SubjectIndex();
      const present = new Set<string>();
      for (const f of filters) idx.match(f); // warm the cache so it must be maintained
      for (const o of ops) {
        if (o.add && !present.has(o.s)) {
          idx.add(new SubjectEntry(o.s, 0, o.s.length));
          present.add(o.s);
        } else if (!o.add && present.has(o.s)) {
          idx.delete(idx.get(o.s)!);
          present.delete(o.s);
        }
        for (const f of filters) {
          const got = [...idx.match(f)].map((e) => e.subject).sort();
          const want = [...present].filter((s) => matches(s, f)).sort();
          assert.deepEqual(got, want, `match(${f})`);
          for (const s of present) assert.equal(subjectMatches(s, f), matches(s, f), `${s} vs ${f}`);
        }
      }
    }),
    { seed, numRuns: 300 },
  );
  assert.equal(hasWildcard("a.*"), true);
  assert.equal(hasWildcard("a.b*"), false);
  assert.equal(hasWildcard(">"), true);
  assert.equal(subjectMatches("a.b", "a.b*"), false);
  assert.equal(subjectMatches("a", "a.>"), false);
  assert.equal(subjectMatches("a.b.c", "a.>"), true);
});

test("TtlHeap pops deadlines in order", (t) => {
  const seed = testSeed();
  t.diagnostic(`seed=${seed}`);
  fc.assert(
    fc.property(fc.array(fc.bigInt({ min: 0n, max: 50n }), { maxLength: 100 }), (ds) => {
      const h = new TtlHeap();
      ds.forEach((d, i) => h.push(d, i + 1));
      const out: bigint[] = [];
      const seqs = new Set<number>();
      while (h.peekDeadline() !== null) {
        out.push(h.peekDeadline()!);
        seqs.add(h.peekSeq());
        h.pop();
      }
      assert.deepEqual(out, [...ds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      assert.equal(seqs.size, ds.length);
    }),
    { seed, numRuns: 200 },
  );
});
