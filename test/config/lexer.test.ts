import { test } from "node:test";
import assert from "node:assert/strict";
import { lex } from "../../server/config/lexer.js";

// Tokens as [type, value], comments left out.
function toks(input: string): [string, string][] {
  const r = lex(input);
  assert.equal(r.error, undefined, `unexpected lex error: ${r.error?.message}`);
  return r.tokens.filter((t) => t.type !== "commentStart" && t.type !== "text").map((t) => [t.type, t.value]);
}

function lexError(input: string): { message: string; offset: number } {
  const r = lex(input);
  assert.ok(r.error, `expected a lex error for ${JSON.stringify(input)}`);
  return r.error;
}

test("key/value separators: colon, equals, whitespace", () => {
  for (const input of ["port: 4222", "port = 4222", "port 4222", "port:4222", "port=4222", "port\t4222"]) {
    assert.deepEqual(toks(input), [["key", "port"], ["integer", "4222"], ["eof", ""]], input);
  }
});

test("a key and its value may be on different lines", () => {
  assert.deepEqual(toks("port\n\n  4222\n"), [["key", "port"], ["integer", "4222"], ["eof", ""]]);
});

test("quoted keys", () => {
  assert.deepEqual(toks(`"my key": 1\n'other key' = 2`), [["key", "my key"], ["integer", "1"], ["key", "other key"], ["integer", "2"], ["eof", ""]]);
});

test("nested blocks with and without separators", () => {
  const expected = [["key", "a"], ["mapStart", ""], ["key", "b"], ["integer", "1"], ["key", "c"], ["mapStart", ""], ["key", "d"], ["string", "x"], ["mapEnd", ""], ["mapEnd", ""], ["eof", ""]];
  assert.deepEqual(toks("a { b: 1, c { d: x } }"), expected);
  assert.deepEqual(toks("a {\n  b = 1\n  c: {\n    d x\n  }\n}\n"), expected);
  assert.deepEqual(toks("a: { b: 1; c { d: x }}"), expected);
});

test("arrays separated by commas or new lines, with comments inside", () => {
  const expected = [["key", "a"], ["arrayStart", ""], ["integer", "1"], ["string", "two"], ["string", "three"], ["arrayEnd", ""], ["eof", ""]];
  assert.deepEqual(toks('a: [1, two, "three"]'), expected);
  assert.deepEqual(toks('a: [\n  1 # one\n  two // two\n  "three"\n]'), expected);
  assert.deepEqual(toks("a = [1,\ntwo,\n'three' ]"), expected);
});

test("comments with # and //", () => {
  assert.deepEqual(toks("# a comment\n// another\nport: 1 # trailing\nhost: h // trailing\n"), [
    ["key", "port"],
    ["integer", "1"],
    ["key", "host"],
    ["string", "h"],
    ["eof", ""],
  ]);
});

test("double-quoted strings interpret escapes; single-quoted strings are raw", () => {
  assert.deepEqual(toks('a: "t\\tn\\nq\\"b\\\\x\\x41\\x42"'), [["key", "a"], ["string", 't\tn\nq"b\\xAB'], ["eof", ""]]);
  assert.deepEqual(toks("a: 'raw \\t $x'"), [["key", "a"], ["string", "raw \\t $x"], ["eof", ""]]);
  // \x escapes are bytes: two of them can spell one UTF-8 character, as in Go.
  assert.deepEqual(toks('a: "\\xc3\\xa9"'), [["key", "a"], ["string", "é"], ["eof", ""]]);
});

test("unquoted strings end at whitespace, new line, ; , ] } and take escapes", () => {
  assert.deepEqual(toks("a: nats://host:4222/path?x=1"), [["key", "a"], ["string", "nats://host:4222/path?x=1"], ["eof", ""]]);
  assert.deepEqual(toks("a: foo\\tbar"), [["key", "a"], ["string", "foo\tbar"], ["eof", ""]]);
  assert.deepEqual(toks("a: foo#bar"), [["key", "a"], ["string", "foo#bar"], ["eof", ""]]);
});

test("booleans are recognised case-insensitively in Go's six spellings", () => {
  for (const b of ["true", "false", "yes", "no", "on", "off", "TRUE", "Yes", "oFF"]) {
    assert.deepEqual(toks(`a: ${b}`), [["key", "a"], ["bool", b], ["eof", ""]], b);
  }
  assert.deepEqual(toks("a: truex"), [["key", "a"], ["string", "truex"], ["eof", ""]]);
  assert.deepEqual(toks('a: "true"'), [["key", "a"], ["string", "true"], ["eof", ""]]);
});

test("numbers, floats, size suffixes, IP addresses and number-like strings", () => {
  const value = (input: string) => toks(`a: ${input}`)[1];
  assert.deepEqual(value("42"), ["integer", "42"]);
  assert.deepEqual(value("-42"), ["integer", "-42"]);
  assert.deepEqual(value("1.5"), ["float", "1.5"]);
  assert.deepEqual(value("-0.25"), ["float", "-0.25"]);
  for (const s of ["1k", "1K", "1kb", "1KB", "1Ki", "1KiB", "64GB", "10TB", "2m", "3Mi", "1P", "1e", "1EB"]) assert.deepEqual(value(s), ["integer", s]);
  assert.deepEqual(value("127.0.0.1"), ["string", "127.0.0.1"]);
  assert.deepEqual(value("127.0.0.1:4222"), ["string", "127.0.0.1:4222"]);
  assert.deepEqual(value("0.0.0.0:-1"), ["string", "0.0.0.0:-1"]);
  assert.deepEqual(value("4222abc"), ["string", "4222abc"]);
  assert.deepEqual(value("10KBx"), ["string", "10KBx"]);
});

test("ISO 8601 Zulu datetimes", () => {
  assert.deepEqual(toks("a: 2020-01-02T03:04:05Z")[1], ["datetime", "2020-01-02T03:04:05Z"]);
  assert.match(lexError("a: 2020-01-02").message, /ISO 8601/);
  assert.match(lexError("a: 12-01").message, /ISO 8601/);
});

test("variables and the include keyword", () => {
  assert.deepEqual(toks("a: $FOO"), [["key", "a"], ["variable", "FOO"], ["eof", ""]]);
  assert.deepEqual(toks('include "x.conf"\ninclude y.conf\ninclude \'z.conf\''), [
    ["include", "x.conf"],
    ["include", "y.conf"],
    ["include", "z.conf"],
    ["eof", ""],
  ]);
  assert.deepEqual(toks("a { include b.conf }"), [["key", "a"], ["mapStart", ""], ["include", "b.conf"], ["mapEnd", ""], ["eof", ""]]);
  // `include:` with a separator is an ordinary key, as in nats-server.
  assert.deepEqual(toks("include: x"), [["key", "include"], ["string", "x"], ["eof", ""]]);
});

test("a block ( ... ) holds raw text until ')' alone on a line", () => {
  assert.deepEqual(toks("a: (\nline one\n  (x) y)\n)\nb: 1"), [["key", "a"], ["string", "\nline one\n  (x) y)\n"], ["key", "b"], ["integer", "1"], ["eof", ""]]);
  assert.match(lexError("a: (no end)").message, /block/);
});

test("top-level values may end with ; , or }", () => {
  assert.deepEqual(toks("a: 1; b: 2, c: 3}"), [["key", "a"], ["integer", "1"], ["key", "b"], ["integer", "2"], ["key", "c"], ["integer", "3"], ["eof", ""]]);
  assert.deepEqual(toks("{ a: 1 }"), [["key", "a"], ["integer", "1"], ["eof", ""]]);
});

test("errors point at the offending character", () => {
  const e1 = lexError("a: [1, 2\n");
  assert.match(e1.message, /array/);
  assert.equal(e1.offset, 9);
  const e2 = lexError('a: "abc');
  assert.match(e2.message, /end of input/);
  assert.equal(e2.offset, 7);
  const e3 = lexError("a = b = c");
  assert.match(e3.message, /top-level value/);
  assert.equal(e3.offset, 6);
  const e4 = lexError('a: "\\q"');
  assert.match(e4.message, /invalid escape character 'q'/);
  assert.equal(e4.offset, 5);
  const e5 = lexError("a: .5");
  assert.match(e5.message, /digit/);
});

test("quirks kept for compatibility with nats-server", () => {
  // A NUL reads as end of input, so one inside a quoted string leaves it unterminated.
  assert.match(lex('a: "x\u0000y"').error?.message ?? "", /end of input/);
  // A number directly followed by ']' swallows it (nats-server rejects `[1]` the same way).
  assert.ok(lex("a: [1]").error);
  assert.deepEqual(toks("a: [1 ]")[2], ["integer", "1"]);
  // A key with no value at the end of input is dropped, not an error.
  assert.deepEqual(toks("port: 1\nfoo"), [["key", "port"], ["integer", "1"], ["key", "foo"], ["eof", ""]]);
});
