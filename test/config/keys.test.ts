import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultOptions, loadConfigText, securityRefusals, type ServerOptions } from "../../server/config/load.js";
import { isValidPublicNkey } from "../../server/config/nkey.js";
import { configError, writeFiles } from "./helpers.js";
import { TEST_CERT, TEST_KEY } from "./fixtures.js";

function load(text: string, argv: string[] = []): { options: ServerOptions; warnings: string[] } {
  return loadConfigText(text, { file: "k.conf", argv, env: {} });
}
function opts(text: string, argv: string[] = []): ServerOptions {
  return load(text, argv).options;
}
function get(o: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
}

test("defaults are nats-server's", () => {
  const o = opts("");
  assert.deepEqual(o, defaultOptions());
  assert.equal(o.host, "0.0.0.0");
  assert.equal(o.port, 4222);
  assert.equal(o.maxPayload, 1024 * 1024);
  assert.equal(o.maxControlLine, 4096);
  assert.equal(o.maxConnections, 65536);
  assert.equal(o.maxPending, 64 * 1024 * 1024);
  assert.equal(o.writeDeadlineMs, 10_000);
  assert.equal(o.pingIntervalMs, 120_000);
  assert.equal(o.pingMax, 2);
  assert.equal(o.authTimeoutMs, 2000);
  assert.equal(o.lameDuckDurationMs, 120_000);
  assert.equal(o.lameDuckGracePeriodMs, 10_000);
  assert.equal(o.logtime, true);
  assert.equal(o.http, undefined);
  assert.equal(o.jetstream, undefined);
});

// [config text, option path, expected value]
const P0: [string, string, unknown][] = [
  ["host: 127.0.0.1", "host", "127.0.0.1"],
  ["net: 10.0.0.1", "host", "10.0.0.1"],
  ['listen: "127.0.0.1:4333"', "host", "127.0.0.1"],
  ['listen: "127.0.0.1:4333"', "port", 4333],
  ["listen: 127.0.0.1:4333", "port", 4333],
  ["listen: 4333", "port", 4333],
  ['listen: "[::1]:4333"', "host", "::1"],
  ["port: 4333", "port", 4333],
  ["port: -1", "port", -1],
  ["port: 0", "port", 4222],
  ['http: "127.0.0.1:8222"', "http", { host: "127.0.0.1", port: 8222, basePath: "/" }],
  ["http: 8222", "http", { host: "0.0.0.0", port: 8222, basePath: "/" }],
  ["host: 127.0.0.1\nhttp: -1", "http", { host: "127.0.0.1", port: -1, basePath: "/" }],
  ["http_port: 8333", "http.port", 8333],
  ["monitor_port: -1", "http.port", -1],
  ["http_port: 0", "http", undefined],
  ["http_port: 8222\nhttp_base_path: mon/", "http.basePath", "/mon"],
  ["server_name: n1", "serverName", "n1"],
  ["max_payload: 2MB", "maxPayload", 2 * 1024 * 1024],
  ["max_payload: 65536", "maxPayload", 65536],
  ["max_control_line: 8KB", "maxControlLine", 8192],
  ["max_connections: 100", "maxConnections", 100],
  ["max_conn: 100", "maxConnections", 100],
  ["max_subscriptions: 10", "maxSubscriptions", 10],
  ["max_subs: 10", "maxSubscriptions", 10],
  ["max_pending: 32MB", "maxPending", 32 * 1024 * 1024],
  ['write_deadline: "2s"', "writeDeadlineMs", 2000],
  ["write_deadline: 3", "writeDeadlineMs", 3000],
  ['ping_interval: "30s"', "pingIntervalMs", 30_000],
  ['ping_interval: "1h30m"', "pingIntervalMs", 5_400_000],
  ["ping_interval: 45", "pingIntervalMs", 45_000],
  ["ping_max: 5", "pingMax", 5],
  ["debug: true", "debug", true],
  ["trace: on", "trace", true],
  ["trace_verbose: yes", "traceVerbose", true],
  ["trace_verbose: yes", "trace", true],
  ["logtime: false", "logtime", false],
  ["log_json: true", "logJson", true],
  ["client_advertise: \"nats.example.com:4222\"", "clientAdvertise", "nats.example.com:4222"],
  ["no_header_support: true", "noHeaderSupport", true],
  ["system_account: SYS", "systemAccount", "SYS"],
  ["system: SYS", "systemAccount", "SYS"],
  ["no_system_account: true", "noSystemAccount", true],
  ["no_sys_acc: true", "noSystemAccount", true],
  ['lame_duck_duration: "45s"', "lameDuckDurationMs", 45_000],
  ['lame_duck_grace_period: "5s"', "lameDuckGracePeriodMs", 5000],
  ["pid_file: /tmp/n.pid", "pidFile", "/tmp/n.pid"],
  ["pidfile: /tmp/n.pid", "pidFile", "/tmp/n.pid"],
  ["log_file: /tmp/n.log", "logFile", "/tmp/n.log"],
  ["logfile: /tmp/n.log", "logFile", "/tmp/n.log"],
  ["ports_file_dir: /tmp", "portsFileDir", "/tmp"],
  ["server_tags: [az:1, \"tier:gold\"]", "serverTags", ["az:1", "tier:gold"]],
  ["server_tags: solo", "serverTags", ["solo"]],
  ["max_sub_tokens: 16", "maxSubTokens", 16],
  ["PORT: 4555\nport: $PORT", "port", 4555],
  ["Port: 4555", "port", 4555],
];

test("P0 keys map onto the options", () => {
  for (const [text, path, value] of P0) assert.deepEqual(get(opts(text), path), value, `${JSON.stringify(text)} -> ${path}`);
});

test("jetstream: enabled/disabled, block form, top-level store_dir", () => {
  assert.deepEqual(opts("jetstream: enabled").jetstream, { enabled: true, maxMemoryStore: -1, maxFileStore: -1, syncInterval: "always" });
  assert.equal(opts("jetstream: disabled").jetstream?.enabled, false);
  assert.equal(opts("jetstream: true").jetstream?.enabled, true);
  assert.deepEqual(
    opts('jetstream {\n store_dir: "/data/js"\n max_mem: 1G\n max_file_store: "10G"\n domain: hub\n sync_interval: "2m"\n}').jetstream,
    { enabled: true, storeDir: "/data/js", maxMemoryStore: 1e9, maxFileStore: 10 * 2 ** 30, domain: "hub", syncInterval: 120_000 },
  );
  assert.equal(opts("jetstream { store: /d, max_memory_store: 512MB }").jetstream?.maxMemoryStore, 512 * 2 ** 20);
  assert.equal(opts("jetstream { max_mem_store: 1K }").jetstream?.maxMemoryStore, 1000);
  assert.equal(opts("jetstream { enabled: false, store_dir: /d }").jetstream?.enabled, false);
  assert.equal(opts("jetstream { sync_interval: always }").jetstream?.syncInterval, "always");
  assert.deepEqual(opts("store_dir: /top").jetstream, { enabled: false, storeDir: "/top", maxMemoryStore: -1, maxFileStore: -1, syncInterval: "always" });
  assert.equal(opts("store_dir: /top\njetstream: enabled").jetstream?.storeDir, "/top");
  assert.match(configError(() => opts("store_dir: /a\njetstream { store_dir: /b }")).message, /^k\.conf:2:13: jetstream\.store_dir: duplicate 'store_dir'/);
  assert.match(configError(() => opts("jetstream: maybe")).message, /^k\.conf:1:1: jetstream: expected 'enabled' or 'disabled'/);
  assert.match(configError(() => opts('jetstream { max_mem: "1GB" }')).message, /jetstream\.max_mem: sizes written as strings must end in K, M, G or T/);
});

test("authorization: token, user/password, users with permissions, timeout", () => {
  assert.deepEqual(opts("authorization { token: s3cr3t }").authorization, { token: "s3cr3t" });
  assert.deepEqual(opts("authorization { user: a, password: b, timeout: 5 }").authorization, { user: "a", password: "b", timeoutMs: 5000 });
  assert.equal(opts("authorization { user: a, password: b, timeout: 0.5 }").authTimeoutMs, 500);
  assert.equal(opts('authorization { token: t, timeout: "3s" }').authTimeoutMs, 3000);
  const bcrypt = "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG";
  assert.equal(opts(`authorization { user: a, password: ${bcrypt} }`).authorization?.password, bcrypt);
  assert.equal(opts(`authorization { user: a, password: "${bcrypt}" }`).authorization?.password, bcrypt);

  const o = opts(`
    authorization {
      default_permissions: { subscribe: "public.>" }
      users: [
        { user: alice, password: pa, permissions: { publish: "a.>", subscribe: ["b", "c.*"] } }
        { user: bob, password: pb, permissions: { publish: { allow: ["x"], deny: "x.secret" }, subscribe: { deny: ">" } } }
        { user: carol, password: pc, permissions: { allow_responses: true } }
        { user: dave, password: pd, permissions: { publish: "req", allow_responses: { max: 5, expires: "1m" } } }
        { username: erin, pass: pe, allowed_connection_types: ["standard", "WEBSOCKET"] }
      ]
    }`);
  const users = o.authorization?.users ?? [];
  assert.deepEqual(users[0], { user: "alice", password: "pa", permissions: { publish: { allow: ["a.>"] }, subscribe: { allow: ["b", "c.*"] } } });
  assert.deepEqual(users[1]?.permissions, { publish: { allow: ["x"], deny: ["x.secret"] }, subscribe: { deny: [">"] } });
  // allow_responses without a publish allow list limits publishing to replies, as in nats-server.
  assert.deepEqual(users[2]?.permissions, { publish: { allow: [] }, allowResponses: { maxMsgs: 1, expiresMs: 120_000 } });
  assert.deepEqual(users[3]?.permissions, { publish: { allow: ["req"] }, allowResponses: { maxMsgs: 5, expiresMs: 60_000 } });
  // Users without permissions get the default ones.
  assert.deepEqual(users[4], { user: "erin", password: "pe", permissions: { subscribe: { allow: ["public.>"] } }, allowedConnectionTypes: ["STANDARD", "WEBSOCKET"] });
  assert.deepEqual(o.authorization?.permissions, { subscribe: { allow: ["public.>"] } });
});

test("authorization conflicts and bad permissions are fatal with positions", () => {
  assert.match(configError(() => opts("authorization { user: a, password: b, token: c }")).message, /^k\.conf:1:1: authorization: cannot have a user\/pass and a token/);
  assert.match(configError(() => opts("authorization { user: a, users: [ {user: b} ] }")).message, /single user\/pass and a users array/);
  assert.match(configError(() => opts("authorization { users: [ {user: a}, {user: a} ] }")).message, /^k\.conf:1:38: authorization\.users\[1\]\.user: duplicate user "a"/);
  assert.match(configError(() => opts("authorization { users: [ {password: a} ] }")).message, /users\[0\]: user entry requires a user/);
  assert.match(
    configError(() => opts("authorization {\n  users: [\n    { user: a, permissions: { publish: { allw: x } } }\n  ]\n}")).message,
    /^k\.conf:3:42: authorization\.users\[0\]\.permissions\.publish\.allw: unknown field in subject permissions/,
  );
  assert.match(configError(() => opts("authorization { users: [ {user: a, permissions: { publsh: x } } ] }")).message, /permissions\.publsh: unknown field in permissions/);
  assert.match(configError(() => opts('authorization { users: [ {user: a, permissions: { publish: "a..b" } } ] }')).message, /not a valid subject/);
  assert.match(configError(() => opts("authorization { users: [ {user: a, allowed_connection_types: [bogus] } ] }")).message, /unknown connection type/);
  assert.match(configError(() => opts("no_auth_user: ghost")).message, /no_auth_user "ghost" present, but users are not defined/);
  assert.match(configError(() => opts("no_auth_user: ghost\nauthorization { users: [ {user: a} ] }")).message, /not present as user/);
  assert.equal(opts("no_auth_user: a\nauthorization { users: [ {user: a} ] }").noAuthUser, "a");
});

test("accounts: users, jetstream, exports, imports, mappings", () => {
  const o = opts(`
    accounts {
      A {
        users: [ { user: a1, password: p } ]
        jetstream: enabled
        exports: [ { stream: "events.>" }, { service: "api.>", response_type: stream, accounts: [B] } ]
      }
      B {
        users: [ { user: b1, password: p, permissions: { publish: "x" } } ]
        jetstream: { max_mem: 1G, max_streams: 10 }
        imports: [ { stream: { account: A, subject: "events.>" }, prefix: a }, { service: { account: A, subject: "api.>" }, to: "a.api.>" } ]
        mappings: { "in.*": "out.$1" }
        limits: { max_connections: 10 }
      }
      SYS: {}
    }
    system_account: SYS`);
  const a = o.accounts?.A;
  const b = o.accounts?.B;
  assert.deepEqual(a?.users, [{ user: "a1", password: "p", account: "A" }]);
  assert.deepEqual(a?.jetstream, { enabled: true });
  assert.deepEqual(a?.exports, [{ stream: "events.>" }, { service: "api.>", responseType: "stream", accounts: ["B"] }]);
  assert.deepEqual(b?.users[0]?.account, "B");
  assert.equal(b?.jetstream?.limits?.maxMemory, 1e9);
  assert.equal(b?.jetstream?.limits?.maxStreams, 10);
  assert.equal(b?.jetstream?.limits?.maxConsumers, -1);
  assert.deepEqual(b?.imports, [{ stream: { account: "A", subject: "events.>" }, prefix: "a" }, { service: { account: "A", subject: "api.>" }, to: "a.api.>" }]);
  assert.deepEqual(b?.mappings, { "in.*": [{ destination: "out.$1", weight: 100 }] });
  assert.deepEqual(b?.limits, { maxConnections: 10 });
  assert.deepEqual(o.accounts?.SYS, { users: [] });
  assert.deepEqual(opts("accounts: [X, Y]").accounts, { X: { users: [] }, Y: { users: [] } });

  assert.match(configError(() => opts("accounts { A { imports: [ { stream: { account: Z, subject: x } } ] } }")).message, /"Z" account not defined for stream import/);
  assert.match(configError(() => opts("accounts { A { users: [{user: u}] }, B { users: [{user: u}] } }")).message, /duplicate user "u"/);
  assert.match(configError(() => opts("accounts { $G { } }")).message, /reserved account/);
  assert.match(configError(() => opts("authorization { token: t }\naccounts { A { users: [{user: u}] } }")).message, /token and a users array/);
});

test("mappings", () => {
  assert.deepEqual(opts('mappings { "foo.*": "bar.$1", baz: [ { destination: q1, weight: 40% }, { destination: q2, weight: 60 } ] }').mappings, {
    "foo.*": [{ destination: "bar.$1", weight: 100 }],
    baz: [
      { destination: "q1", weight: 40 },
      { destination: "q2", weight: 60 },
    ],
  });
  assert.match(configError(() => opts("mappings { a: [ {destination: x, weight: 60}, {destination: y, weight: 60} ] }")).message, /total weight/);
  assert.match(configError(() => opts("mappings { a: { destination: x } }")).message, /missing weight/);
  assert.match(configError(() => opts('mappings { "a..b": c }')).message, /not a valid subject/);
});

test("cluster", () => {
  const o = opts(`
    cluster {
      name: c1
      listen: "127.0.0.1:6222"
      routes: [ nats://127.0.0.1:6223, "nats://u:p@127.0.0.1:6224" ]
      authorization { user: ru, password: rp, timeout: 2 }
      permissions { import: "a.>", export: { deny: "secret.>" } }
      no_advertise: true
      connect_retries: 3
      advertise: "10.0.0.1:6222"
    }`);
  assert.deepEqual(o.cluster, {
    name: "c1",
    host: "127.0.0.1",
    port: 6222,
    routes: ["nats://127.0.0.1:6223", "nats://u:p@127.0.0.1:6224"],
    authorization: { user: "ru", password: "rp", timeoutMs: 2000 },
    permissions: { import: { allow: ["a.>"] }, export: { deny: ["secret.>"] } },
    noAdvertise: true,
    connectRetries: 3,
    advertise: "10.0.0.1:6222",
  });
  assert.deepEqual(opts("cluster { port: 6222 }").cluster?.host, "0.0.0.0");
  const dup = load("cluster { port: 6222, routes: [nats://a:1, nats://a:1] }");
  assert.deepEqual(dup.options.cluster?.routes, ["nats://a:1"]);
  assert.match(dup.warnings.join("\n"), /k\.conf:1:44: cluster\.routes\[1\]: duplicate route/);
  assert.match(configError(() => opts('cluster { routes: "nats://a:1" }')).message, /cluster\.routes: expected an array/);
  assert.match(configError(() => opts('cluster { routes: ["nats://a:x"] }')).message, /invalid port/);
  assert.match(configError(() => opts("cluster { authorization { token: t } }")).message, /does not support tokens/);
});

test("websocket", () => {
  assert.deepEqual(opts('websocket { port: 8080, no_tls: true, compression: true, same_origin: true, allowed_origins: ["https://a.example"], handshake_timeout: "5s" }').websocket, {
    host: "0.0.0.0",
    port: 8080,
    noTls: true,
    compression: true,
    sameOrigin: true,
    allowedOrigins: ["https://a.example"],
    handshakeTimeoutMs: 5000,
  });
  assert.equal(opts('ws { listen: "127.0.0.1:-1", no_tls: true }').websocket?.port, -1);
  assert.match(configError(() => opts("websocket { port: 8080 }")).message, /^k\.conf:1:1: websocket: websocket requires TLS/);
});

test("tls: files are checked when loaded; unknown tls keys are fatal", () => {
  const dir = writeFiles({ "cert.pem": TEST_CERT, "key.pem": TEST_KEY, "bad.pem": "not a certificate" });
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const o = opts(`tls { cert_file: "${cert}", key_file: "${key}", ca_file: "${cert}", verify: true, timeout: 3, handshake_first: true }`);
  assert.deepEqual(o.tls, { certFile: cert, keyFile: key, caFile: cert, verify: true, insecure: false, timeoutMs: 3000, handshakeFirst: true });
  // With TLS the default auth timeout is the TLS timeout plus a second, as in nats-server.
  assert.equal(o.authTimeoutMs, 4000);
  assert.match(configError(() => opts(`tls { cert_file: "${cert}" }`)).message, /missing 'key_file'/);
  assert.match(configError(() => opts(`tls { cert_file: "${join(dir, "bad.pem")}", key_file: "${key}" }`)).message, /tls\.cert_file: cannot parse certificate/);
  assert.match(configError(() => opts(`tls {\n cert_file: "${join(dir, "none.pem")}", key_file: "${key}" }`)).message, /^k\.conf:2:2: tls\.cert_file: cannot read certificate/);
  assert.match(configError(() => opts("tls { verfy: true }")).message, /^k\.conf:1:7: tls\.verfy: unknown field in tls/);
});

test("a known key with a wrong type is fatal, naming file:line:column and the key", () => {
  const cases: [string, RegExp][] = [
    ['port: "4222"', /^k\.conf:1:1: port: expected an integer, got string "4222"$/],
    ["debug: 1", /^k\.conf:1:1: debug: expected a boolean/],
    ["max_payload: 1.5", /^k\.conf:1:1: max_payload: expected an integer, got float 1\.5/],
    ["a: 1\ncluster {\n  name: c\n  port: [1 ]\n}", /^k\.conf:4:3: cluster\.port: expected an integer, got an array/],
    ["ping_interval: true", /^k\.conf:1:1: ping_interval: expected a duration/],
    ['ping_interval: "1x"', /^k\.conf:1:1: ping_interval: unknown unit "x"/],
    ["lame_duck_duration: 40", /lame_duck_duration: expected a duration/],
    ['lame_duck_duration: "10s"', /minimum is 30 seconds/],
    ['listen: "localhost"', /^k\.conf:1:1: listen: could not parse address string "localhost": missing port/],
    ["port: 70000", /^k\.conf:1:1: port: .*65535/],
    ["max_control_line: 3000000000", /^k\.conf:1:1: max_control_line: /],
    ["max_sub_tokens: 300", /too big/],
    ["server_tags: [a, 1 ]", /server_tags\[1\]: expected a string/],
    ["authorization: 5", /authorization: expected a map/],
    ["max_payload: 100MB", /max_payload \(104857600\) cannot be higher than max_pending/],
    ['lame_duck_grace_period: "3m"', /grace period .* should be strictly lower than lame duck duration/],
  ];
  for (const [text, re] of cases) assert.match(configError(() => opts(text)).message, re, text);
});

test("unknown keys warn with their position and are otherwise ignored", () => {
  const r = load("port: 4333\nbogus: 1\ncluster {\n  port: 6222\n  pool_size: 3\n}\nUNUSED_VAR: x\nUSED_VAR: 5\nping_max: $USED_VAR");
  assert.equal(r.options.port, 4333);
  assert.equal(r.options.pingMax, 5);
  assert.deepEqual(r.warnings, [
    'k.conf:2:1: unknown field "bogus" ignored',
    'k.conf:5:3: unknown field "cluster.pool_size" ignored',
    'k.conf:7:1: unknown field "UNUSED_VAR" ignored',
  ]);
});

test("parsed but unimplemented keys are listed in `unsupported`, flagged when ignoring them weakens security", () => {
  const o = opts(`
leafnodes { listen: "127.0.0.1:-1" }
gateway { name: g }
mqtt { port: 1883 }
resolver: MEMORY
authorization { users: [ { nkey: UC6NLCN7AS34YOJVCYD4PJ3QB7QGLYG5B5IMBT25VW5K4TNUJODM7BOX } ] }
jetstream { key: "secret" }
syslog: true`);
  // nkey users are implemented: they are users, not unsupported.
  assert.deepEqual(o.authorization?.users, [{ user: "UC6NLCN7AS34YOJVCYD4PJ3QB7QGLYG5B5IMBT25VW5K4TNUJODM7BOX", nkey: "UC6NLCN7AS34YOJVCYD4PJ3QB7QGLYG5B5IMBT25VW5K4TNUJODM7BOX" }]);
  assert.deepEqual(
    o.unsupported.map((u) => [u.path, u.where, u.weakensSecurity]),
    [
      ["leafnodes", "k.conf:2:1", false],
      ["gateway", "k.conf:3:1", false],
      ["mqtt", "k.conf:4:1", false],
      ["resolver", "k.conf:5:1", true],
      ["jetstream.key", "k.conf:7:13", true],
      ["syslog", "k.conf:8:1", false],
    ],
  );
  assert.equal(o.resolver, "MEMORY");
  const refusals = securityRefusals(o);
  assert.equal(refusals.length, 2);
  assert.match(refusals[0]!, /^k\.conf:5:1: resolver: not supported by tsnats yet/);
  assert.deepEqual(securityRefusals(opts("leafnodes { listen: 7422 }")), []);
});

test("nkey validation accepts real public keys and rejects corrupted ones", () => {
  assert.equal(isValidPublicNkey("UC6NLCN7AS34YOJVCYD4PJ3QB7QGLYG5B5IMBT25VW5K4TNUJODM7BOX", "user"), true);
  assert.equal(isValidPublicNkey("UC6NLCN7AS34YOJVCYD4PJ3QB7QGLYG5B5IMBT25VW5K4TNUJODM7BOY", "user"), false);
  assert.equal(isValidPublicNkey("AD2VB6C25DQPEUUQ7KJBUFX2J4ZNVBPOHSCBISC7VFZXVWXZA7VASQZG", "account"), true);
  assert.equal(isValidPublicNkey("AD2VB6C25DQPEUUQ7KJBUFX2J4ZNVBPOHSCBISC7VFZXVWXZA7VASQZG", "user"), false);
  assert.match(configError(() => opts("authorization { users: [ { nkey: UBOGUS } ] }")).message, /not a valid public nkey for a user/);
});
