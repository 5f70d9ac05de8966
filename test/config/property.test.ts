// Whatever the input, the config parser and loader fail only with ConfigError: no TypeError,
// RangeError (stack overflow) or hang on garbage.

import { test } from "node:test";
import fc from "fast-check";
import { parseText } from "../../server/config/parser.js";
import { loadConfigText } from "../../server/config/load.js";
import { ConfigError } from "../../server/config/errors.js";

// Fragments that steer random input into the lexer's interesting states.
const FRAGMENTS = [
  "port", "cluster", "authorization", "users", "permissions", "jetstream", "websocket", "tls", "accounts", "mappings", "include",
  "listen", "http", "routes", "store_dir", "max_payload", "ping_interval", "$port", "$X", "$2a$", "a", "b.c", "x:y",
  ":", "=", " ", "\t", "\n", "\r\n", "{", "}", "[", "]", "(", ")", ",", ";", "#", "//", "/", "\"", "'", "\\", "\\x4", "\\n",
  "0", "1", "-1", "42", "1.5", "1.2.3.4", "127.0.0.1:4222", "1k", "2MB", "3Gi", "8EB", "2020-01-02T03:04:05Z", "2020-", "true", "no",
  "\u0000", "é", "日", "\u00a0", "\u2028", "\ud83d\ude00", "nats://h:1", "\"2s\"", "\"1h30m\"", "-", ".",
];

// Well-formed configs with real key names and values of random shapes, to reach the key mapping.
const KEYS = [
  "port", "host", "listen", "http", "http_port", "server_name", "max_payload", "max_pending", "ping_interval", "write_deadline",
  "lame_duck_duration", "authorization", "users", "user", "password", "token", "timeout", "permissions", "publish", "subscribe",
  "allow", "deny", "allow_responses", "accounts", "exports", "imports", "stream", "service", "account", "subject", "jetstream",
  "store_dir", "max_mem", "sync_interval", "cluster", "routes", "name", "websocket", "no_tls", "tls", "cert_file", "mappings",
  "destination", "weight", "no_auth_user", "server_tags", "resolver", "operator", "trusted", "limits", "latency", "nkey",
];
const configText = fc.letrec<{ value: string; map: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.integer().map(String),
    fc.constantFrom("-1", "0", "1MB", "2.5", "true", "off", '"10s"', '"1h30m"', '"x"', "'a.b.>'", "127.0.0.1:4222", '"nats://h:1"', "$port"),
    tie("map"),
    fc.array(tie("value"), { maxLength: 4 }).map((xs) => `[${xs.join(", ")} ]`),
  ),
  map: fc
    .array(fc.tuple(fc.constantFrom(...KEYS), tie("value")), { maxLength: 5 })
    .map((kvs) => `{ ${kvs.map(([k, v]) => `${k}: ${v}`).join("\n")} }`),
}));

function quietly(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
  }
}

const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

test(`random input fails only with ConfigError (seed ${seed}; rerun with FC_SEED=${seed})`, (t) => {
  t.diagnostic(`fast-check seed ${seed}`);
  const env = { X: "{ a: [1, 2 ] }", port: "4222" };
  const input = fc.oneof(
    fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 60 }).map((parts) => parts.join("")),
    configText.map.map((m) => m.slice(1, -1)),
    fc.string({ unit: "grapheme", maxLength: 200 }),
    fc.string({ unit: "binary", maxLength: 200 }),
  );
  fc.assert(
    fc.property(input, (text) => {
      quietly(() => parseText(text, "fuzz.conf", { env }));
      quietly(() => loadConfigText(text, { file: "fuzz.conf", env }));
    }),
    { seed, numRuns: 3000 },
  );
});

test("deep nesting does not overflow the stack", () => {
  const depth = 200_000;
  quietly(() => parseText("a: " + "[".repeat(depth) + "]".repeat(depth), "deep.conf"));
  quietly(() => parseText("a: " + "{b: ".repeat(depth) + "}".repeat(depth), "deep.conf"));
  quietly(() => loadConfigText("cluster: " + "[".repeat(depth), { file: "deep.conf" }));
});
