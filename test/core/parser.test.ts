import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Parser, ParseErrorKind, type ProtocolHandler, type ParseError } from "../../server/protocol/parser.js";

type Ev = (string | number | null)[];

class Recorder implements ProtocolHandler {
  events: Ev[] = [];
  parser!: Parser;
  onConnect(arg: string) {
    this.events.push(["CONNECT", arg]);
    this.parser.headers = true;
  }
  onPub(subject: string, reply: string | null, hdrLen: number, buf: Buffer, start: number, end: number) {
    this.events.push(["PUB", subject, reply, hdrLen, buf.toString("latin1", start, end)]);
  }
  onSub(subject: string, queue: string | null, sid: string) {
    this.events.push(["SUB", subject, queue, sid]);
  }
  onUnsub(sid: string, max: number) {
    this.events.push(["UNSUB", sid, max]);
  }
  onPing() {
    this.events.push(["PING"]);
  }
  onPong() {
    this.events.push(["PONG"]);
  }
  onInfo(arg: string) {
    this.events.push(["INFO", arg]);
  }
  onOk() {
    this.events.push(["OK"]);
  }
  onErr(arg: string) {
    this.events.push(["ERR", arg]);
  }
  onOpBeforeConnect() {
    return true;
  }
}

function run(chunks: Buffer[], opts = { maxControlLine: 4096, maxPayload: 1 << 20 }): { events: Ev[]; err: ParseError | null } {
  const r = new Recorder();
  const p = new Parser(r, opts);
  r.parser = p;
  let err: ParseError | null = null;
  for (const c of chunks) {
    err = p.parse(c);
    if (err) break;
  }
  return { events: r.events, err };
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

const word = fc.stringMatching(/^[a-zA-Z0-9_$]{1,8}$/);
const subjectArb = fc.array(word, { minLength: 1, maxLength: 4 }).map((t) => t.join("."));
const payloadArb = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString("latin1"));

type Op = { wire: string; ev: Ev };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(subjectArb, fc.option(subjectArb, { nil: null }), payloadArb).map(([s, r, p]) => ({
    wire: `PUB ${s}${r ? " " + r : ""} ${Buffer.byteLength(p, "latin1")}\r\n${p}\r\n`,
    ev: ["PUB", s, r, -1, p],
  })),
  fc.tuple(subjectArb, fc.option(subjectArb, { nil: null }), fc.constantFrom("", "A: b\r\n", "X-Y: 1\r\nX-Y: 2\r\n"), payloadArb).map(([s, r, h, p]) => {
    const hdr = h === "" ? "" : `NATS/1.0\r\n${h}\r\n`;
    const total = hdr + p;
    return {
      wire: `HPUB ${s}${r ? " " + r : ""} ${hdr.length} ${Buffer.byteLength(total, "latin1")}\r\n${total}\r\n`,
      ev: ["PUB", s, r, hdr.length, total],
    };
  }),
  fc.tuple(subjectArb, fc.option(word, { nil: null }), fc.nat(999)).map(([s, q, sid]) => ({
    wire: `SUB ${s}${q ? " " + q : ""} ${sid}\r\n`,
    ev: ["SUB", s, q, String(sid)],
  })),
  fc.tuple(fc.nat(999), fc.option(fc.nat(99), { nil: null })).map(([sid, max]) => ({
    wire: `UNSUB ${sid}${max !== null ? " " + max : ""}\r\n`,
    ev: ["UNSUB", String(sid), max ?? -1],
  })),
  fc.constant<Op>({ wire: "PING\r\n", ev: ["PING"] }),
  fc.constant<Op>({ wire: "pong\r\n", ev: ["PONG"] }),
  fc.constant<Op>({ wire: "+OK\r\n", ev: ["OK"] }),
  fc.constant<Op>({ wire: 'CONNECT {"verbose":false}\r\n', ev: ["CONNECT", '{"verbose":false}'] }),
);

test("parser: any chunking of a valid stream gives the same ops as the stream describes", () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 20 }), (ops, cuts) => {
      const connect = 'CONNECT {"headers":true}\r\n';
      const wire = Buffer.from(connect + ops.map((o) => o.wire).join(""), "latin1");
      const want: Ev[] = [["CONNECT", '{"headers":true}'], ...ops.map((o) => o.ev)];
      const whole = run([wire]);
      assert.equal(whole.err, null);
      assert.deepEqual(whole.events, want);
      const split = run(splitAt(wire, cuts));
      assert.equal(split.err, null);
      assert.deepEqual(split.events, want);
    }),
    { numRuns: 300 },
  );
});

test("parser: input is borrowed: overwriting the read buffer after every call changes nothing, pauses included", () => {
  // TCP connections read into one shared buffer; the parser must keep copies, never views.
  class Pausing extends Recorder {
    pauses: boolean[] = [];
    override onPub(subject: string, reply: string | null, hdrLen: number, buf: Buffer, start: number, end: number) {
      super.onPub(subject, reply, hdrLen, buf, start, end);
      if (this.pauses[this.events.length % this.pauses.length]) this.parser.paused = true;
    }
  }
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 20 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }), (ops, cuts, pauses) => {
      const wire = Buffer.from('CONNECT {"headers":true}\r\n' + ops.map((o) => o.wire).join(""), "latin1");
      const want: Ev[] = [["CONNECT", '{"headers":true}'], ...ops.map((o) => o.ev)];
      const r = new Pausing();
      r.pauses = pauses;
      const p = new Parser(r, { maxControlLine: 4096, maxPayload: 1 << 20 });
      r.parser = p;
      const shared = Buffer.alloc(wire.length);
      for (const c of splitAt(wire, cuts)) {
        c.copy(shared);
        assert.equal(p.parse(shared.subarray(0, c.length)), null);
        shared.fill(0x58);
        while (p.paused) {
          assert.equal(p.resume(), null);
          shared.fill(0x59);
        }
      }
      assert.deepEqual(r.events, want);
    }),
    { numRuns: 300 },
  );
});

test("parser: one byte at a time", () => {
  const wire = Buffer.from('CONNECT {"headers":true}\r\nSUB a.b q 1\r\nPUB a.b r 5\r\nhello\r\nHPUB x 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\nUNSUB 1 3\r\n');
  const bytes = [...wire].map((b) => Buffer.from([b]));
  assert.deepEqual(run(bytes).events, run([wire]).events);
  assert.equal(run(bytes).events.length, 6);
});

test("parser: garbage is refused at its first byte, with no newline needed", () => {
  for (const bad of ["XYZ", "PUX", "PUBX", "SUBS", "HMSG", "\r\n", "MSG foo 1 2\r\n", "+OX"]) {
    const { err } = run([Buffer.from(bad)]);
    assert.equal(err?.kind, ParseErrorKind.UnknownOp, JSON.stringify(bad));
  }
});

test("parser: a payload longer than declared is a protocol error, not a hang", () => {
  const r = run([Buffer.from("PUB foo 2\r\nhiX\r\n")]);
  assert.equal(r.err?.kind, ParseErrorKind.UnknownOp);
  const split = run([Buffer.from("PUB foo 2\r\nh"), Buffer.from("iX")]);
  assert.equal(split.err?.kind, ParseErrorKind.UnknownOp);
});

test("parser: limits and malformed arguments", () => {
  assert.equal(run([Buffer.from("PUB foo 2000000\r\n")]).err?.kind, ParseErrorKind.MaxPayload);
  assert.equal(run([Buffer.from(`SUB ${"a".repeat(5000)} 1\r\n`)]).err?.kind, ParseErrorKind.MaxControlLine);
  // Refused before the newline arrives, so a peer cannot make the server buffer without bound.
  assert.equal(run([Buffer.from(`SUB ${"a".repeat(5000)}`)]).err?.kind, ParseErrorKind.MaxControlLine);
  assert.equal(run([Buffer.from("PUB foo\r\n")]).err?.kind, ParseErrorKind.BadArgs);
  assert.equal(run([Buffer.from("PUB foo bar\r\n")]).err?.kind, ParseErrorKind.BadArgs);
  assert.equal(run([Buffer.from("PUB foo 1234567890\r\n")]).err?.kind, ParseErrorKind.BadArgs);
  assert.equal(run([Buffer.from("SUB foo\r\n")]).err?.kind, ParseErrorKind.BadArgs);
  assert.equal(run([Buffer.from("UNSUB\r\n")]).err?.kind, ParseErrorKind.UnknownOp);
  assert.equal(run([Buffer.from("UNSUB 1 2 3\r\n")]).err?.kind, ParseErrorKind.BadArgs);
  assert.equal(run([Buffer.from("HPUB foo 2 4\r\nhi\r\n")]).err?.kind, ParseErrorKind.HeadersNotSupported);
  assert.equal(run([Buffer.from('CONNECT {"headers":true}\r\nHPUB foo 5 4\r\n')]).err?.kind, ParseErrorKind.BadArgs);
});

test("parser: arbitrary bytes never throw and never return an unknown error kind", () => {
  const kinds = new Set<number>([ParseErrorKind.UnknownOp, ParseErrorKind.MaxControlLine, ParseErrorKind.MaxPayload, ParseErrorKind.BadArgs, ParseErrorKind.AuthViolation, ParseErrorKind.HeadersNotSupported]);
  const prefix = fc.constantFrom("", "PUB ", "SUB ", "HPUB ", "CONNECT ", "PING", "UNSUB ", "PUB a 3\r\n");
  fc.assert(
    fc.property(prefix, fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 10 }), (p, bytes, cuts) => {
      const buf = Buffer.concat([Buffer.from(p), Buffer.from(bytes)]);
      const r = run(splitAt(buf, cuts), { maxControlLine: 64, maxPayload: 100 });
      if (r.err) assert.ok(kinds.has(r.err.kind));
    }),
    { numRuns: 3000 },
  );
});
