// parseAckSubject against a plain split-based reading of the v1 ack subject, on runs of subjects
// where keys repeat, change, and are prefixes of one another (the parser remembers the last key).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseAckSubject } from "../../jetstream/consumer/ack.js";

function reference(subject: string): { key: string; dc: number; sseq: number; dseq: number } | null {
  const t = subject.split(".");
  if (t.length !== 9 || t[0] !== "$JS" || t[1] !== "ACK" || t[2] === "" || t[3] === "") return null;
  for (let i = 4; i < 9; i++) if (!/^[0-9]+$/.test(t[i]!)) return null;
  return { key: `${t[2]}.${t[3]}`, dc: Number(t[4]), sseq: Number(t[5]), dseq: Number(t[6]) };
}

const names = fc.constantFrom("S", "SS", "S2", "C", "CC", "C1", "C12", "C.x", "", "a-b");
const num = fc.oneof(fc.nat(1_000_000).map(String), fc.constantFrom("", "x", "1x", "1783000000000000000", "007"));
const subject = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(names, names, fc.array(num, { minLength: 5, maxLength: 5 })).map(([s, c, n]) => `$JS.ACK.${s}.${c}.${n.join(".")}`) },
  { weight: 1, arbitrary: fc.tuple(names, names, fc.array(num, { minLength: 3, maxLength: 7 })).map(([s, c, n]) => `$JS.ACK.${s}.${c}.${n.join(".")}`) },
  { weight: 1, arbitrary: fc.tuple(names, fc.array(num, { minLength: 5, maxLength: 5 })).map(([s, n]) => `$JS.ACK.${s}.${n.join(".")}`) },
  { weight: 1, arbitrary: fc.constantFrom("$JS.ACK.", "$JS.ACK.S.C", "$JS.ACK.S.C.", "$JS.NAK.S.C.1.2.3.4.5", "$JS.ACK.S.C.1.2.3.4.5.") },
);

test("ack subjects parse as their tokens say, whatever came before", () => {
  fc.assert(
    fc.property(fc.array(subject, { minLength: 1, maxLength: 20 }), (subjects) => {
      for (const s of subjects) {
        const got = parseAckSubject(s);
        const want = reference(s);
        assert.deepEqual(got === null ? null : { key: got.key, dc: got.dc, sseq: got.sseq, dseq: got.dseq }, want, s);
      }
    }),
    { numRuns: 2000 },
  );
});

test("a key that merely starts with the last one is read whole", () => {
  for (const [s, want] of [
    ["$JS.ACK.S.C.1.2.3.4.5", { key: "S.C", dc: 1, sseq: 2, dseq: 3 }],
    ["$JS.ACK.S.C12.1.2.3.4", null],
    ["$JS.ACK.S.C.1.2.3.4.5", { key: "S.C", dc: 1, sseq: 2, dseq: 3 }],
    ["$JS.ACK.S.C12.6.7.8.9.10", { key: "S.C12", dc: 6, sseq: 7, dseq: 8 }],
  ] as const) {
    const got = parseAckSubject(s);
    assert.deepEqual(got === null ? null : { key: got.key, dc: got.dc, sseq: got.sseq, dseq: got.dseq }, want, s);
  }
});
