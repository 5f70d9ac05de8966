import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseFile, parseText, type ConfMap, type ConfNode } from "../../server/config/parser.js";
import { configError, writeFiles } from "./helpers.js";

// The parsed tree as plain values, to compare with deepEqual.
function plain(node: ConfNode): unknown {
  switch (node.kind) {
    case "array":
      return node.value.map(plain);
    case "map":
      return plainMap(node.value);
    default:
      return node.value;
  }
}
function plainMap(m: ConfMap): Record<string, unknown> {
  return Object.fromEntries([...m].map(([k, e]) => [k, plain(e.node)]));
}
function parse(text: string, env: NodeJS.ProcessEnv = {}): Record<string, unknown> {
  return plainMap(parseText(text, "t.conf", { env }).root);
}

test("scalar values get their types", () => {
  assert.deepEqual(parse('s: "x"\nu: unquoted\ni: 42\nn: -7\nf: 2.5\nb1: yes\nb2: OFF\nb3: true'), {
    s: "x",
    u: "unquoted",
    i: 42,
    n: -7,
    f: 2.5,
    b1: true,
    b2: false,
    b3: true,
  });
});

test("size suffixes: k/m/g/t/p/e are powers of 1000, with b, i or ib powers of 1024, any case", () => {
  const cases: [string, number][] = [
    ["1k", 1000],
    ["1K", 1000],
    ["1kb", 1024],
    ["1KB", 1024],
    ["1Ki", 1024],
    ["1KiB", 1024],
    ["2m", 2_000_000],
    ["1MB", 1024 ** 2],
    ["1mi", 1024 ** 2],
    ["1G", 1e9],
    ["64GB", 64 * 1024 ** 3],
    ["10TB", 10 * 1024 ** 4],
    ["1T", 1e12],
    ["1P", 1e15],
    ["1PB", 1024 ** 5],
    ["-5k", -5000],
  ];
  for (const [text, n] of cases) assert.equal(parse(`v: ${text}`).v, n, text);
  const e = configError(() => parse("v: 1kbb"));
  assert.match(e.message, /^t\.conf:1:4: .*unknown size suffix/);
});

test("integers out of int64 range are errors; in-range sizes wrap like Go's int64", () => {
  assert.match(configError(() => parse("v: 9223372036854775808")).message, /out of range/);
  assert.equal(parse("v: 9223372036854775807").v, 9223372036854775807);
  // 8 EiB = 2^63 wraps to -2^63 in Go.
  assert.equal(parse("v: 8EB").v, -(2 ** 63));
});

test("datetimes are validated", () => {
  assert.deepEqual(parse("d: 2020-02-29T23:59:59Z").d, new Date(Date.UTC(2020, 1, 29, 23, 59, 59)));
  assert.match(configError(() => parse("d: 2021-02-29T00:00:00Z")).message, /Zulu/);
  assert.match(configError(() => parse("d: 2020-13-01T00:00:00Z")).message, /^t\.conf:1:4: /);
});

test("blocks, arrays and nesting", () => {
  assert.deepEqual(parse("a { b: [1, { c: [x, y] }], d { e: f } }\ng: []\nh: {}"), {
    a: { b: [1, { c: ["x", "y"] }], d: { e: "f" } },
    g: [],
    h: {},
  });
});

test("a key defined twice keeps the last value", () => {
  assert.deepEqual(parse("a: 1\nb: 2\na: 3"), { b: 2, a: 3 });
});

test("variables: defined in an enclosing block, before use", () => {
  assert.deepEqual(parse("x: 1\na { x: 2, y: $x }\nb { y: $x }\nc: [ { y: $x } ]"), {
    x: 1,
    a: { x: 2, y: 2 },
    b: { y: 1 },
    c: [{ y: 1 }],
  });
  assert.match(configError(() => parse("a: $later\nlater: 1")).message, /^t\.conf:1:4: variable reference for 'later' can not be found/);
});

test("a variable may hold a block or an array", () => {
  const out = parse("PERMS { publish: [a, b] }\nLIST: [1, 2 ]\nuser { permissions: $PERMS, list: $LIST }");
  assert.deepEqual(out.user, { permissions: { publish: ["a", "b"] }, list: [1, 2] });
});

test("variables used as references are marked used; unused ones are not", () => {
  const root = parseText("A: 1\nB: 2\nport: $A", "t.conf", { env: {} }).root;
  assert.equal(root.get("A")!.used, true);
  assert.equal(root.get("B")!.used, false);
});

test("environment variables are parsed as config values", () => {
  const env = { PORT: "4333", SIZE: "1MB", FLAG: "true", BLOCK: "{ a: 1, b: [x] }", TEXT: "hello", SPACED: "hello world", EMPTY: "", CHAIN: "$PORT" };
  assert.deepEqual(parse("p: $PORT\ns: $SIZE\nf: $FLAG\nb: $BLOCK\nt: $TEXT\ne: $EMPTY\nc: $CHAIN", env), {
    p: 4333,
    s: 1024 * 1024,
    f: true,
    b: { a: 1, b: ["x"] },
    t: "hello",
    e: "",
    c: 4333,
  });
  // A variable defined in the file wins over the environment.
  assert.equal(parse("PORT: 1\np: $PORT", env).p, 1);
  // The value is read as `pk=<value>`, so text with spaces must be quoted inside the variable.
  assert.match(configError(() => parse("t: $SPACED", env)).message, /could not be parsed/);
  const bad = configError(() => parse("p: $BAD", { BAD: "[1" }));
  assert.match(bad.message, /^t\.conf:1:4: variable reference for 'BAD' could not be parsed/);
  assert.match(configError(() => parse("p: $LOOP", { LOOP: "$LOOP" })).message, /too deeply/);
});

test("an unquoted $2a$ bcrypt hash is a string, not a variable", () => {
  assert.equal(parse("pw: $2a$11$abcdefg").pw, "$2a$11$abcdefg");
});

test("positions: keys and values carry file:line:column", () => {
  const root = parseText("a: 1\n  b {\n    c: [x,\n      y]\n  }", "p.conf").root;
  const b = root.get("b")!;
  assert.deepEqual(b.keyPos, { file: "p.conf", line: 2, col: 3 });
  const bm = b.node.value as ConfMap;
  const c = bm.get("c")!;
  assert.deepEqual(c.keyPos, { file: "p.conf", line: 3, col: 5 });
  const items = c.node.value as ConfNode[];
  assert.deepEqual(items[1]!.pos, { file: "p.conf", line: 4, col: 7 });
});

test("parse errors name file:line:column", () => {
  assert.equal(configError(() => parseText("a: 1\nb: [1, 2\n", "e.conf")).message.split(":").slice(0, 3).join(":"), "e.conf:3:1");
  assert.match(configError(() => parseText("a {\n  b: 1\n  c = = 2\n}", "e.conf")).message, /^e\.conf:3:9: /);
});

test("keys without values and unterminated blocks are dropped with a warning, as nats-server drops them", () => {
  const r = parseText("port: 1\nfoo", "w.conf");
  assert.deepEqual(plainMap(r.root), { port: 1 });
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /^w\.conf:2:1: key "foo" has no value/);
  const r2 = parseText("a { b: '", "w.conf");
  assert.deepEqual(plainMap(r2.root), {});
  assert.match(r2.warnings.join("\n"), /w\.conf:1:3: input ends inside this block/);
});

test("include: relative to the including file, nested, inside blocks", () => {
  const dir = writeFiles({
    "main.conf": 'port: 1\ninclude "sub/a.conf"\ncluster { include sub/c.conf }\nlast: $fromA',
    "sub/a.conf": "fromA: 2\ninclude 'b.conf'",
    "sub/b.conf": "fromB: 3",
    "sub/c.conf": "name: c1",
  });
  const r = parseFile(join(dir, "main.conf"));
  assert.deepEqual(plainMap(r.root), { port: 1, fromA: 2, fromB: 3, cluster: { name: "c1" }, last: 2 });
  assert.deepEqual(r.files, ["main.conf", "sub/a.conf", "sub/b.conf", "sub/c.conf"].map((f) => join(dir, f)));
  assert.deepEqual(r.root.get("fromB")!.keyPos, { file: join(dir, "sub/b.conf"), line: 1, col: 1 });
});

test("include errors: missing file, cycle, and errors inside the included file", () => {
  const dir = writeFiles({
    "missing.conf": "a: 1\ninclude nope.conf",
    "cycle1.conf": "include cycle2.conf",
    "cycle2.conf": "x: 1\ninclude cycle1.conf",
    "self.conf": "include self.conf",
    "outer.conf": "include bad.conf",
    "bad.conf": "ok: 1\nbroken: [",
  });
  assert.match(configError(() => parseFile(join(dir, "missing.conf"))).message, /missing\.conf:2:9: cannot read include file 'nope\.conf'/);
  const cyc = configError(() => parseFile(join(dir, "cycle1.conf")));
  assert.match(cyc.message, /cycle2\.conf:2:9: include cycle: .*cycle1\.conf -> .*cycle2\.conf -> .*cycle1\.conf/);
  assert.match(configError(() => parseFile(join(dir, "self.conf"))).message, /include cycle/);
  assert.match(configError(() => parseFile(join(dir, "outer.conf"))).message, /bad\.conf:2:\d+: /);
});

test("variables do not cross into included files, but included keys are visible after the include", () => {
  const dir = writeFiles({
    "main.conf": "X: 1\ninclude inc.conf",
    "inc.conf": "y: $X",
    "main2.conf": "include def.conf\nport: $P",
    "def.conf": "P: 4333",
  });
  assert.match(configError(() => parseFile(join(dir, "main.conf"), { env: {} })).message, /inc\.conf:1:4: variable reference for 'X'/);
  assert.equal(parseFile(join(dir, "main2.conf")).root.get("port")!.node.value, 4333);
});
