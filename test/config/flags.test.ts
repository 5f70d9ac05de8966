import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadOptions, usageText, versionText, type ServerOptions } from "../../server/config/load.js";
import { parseFlags, parseGoInt } from "../../server/config/flags.js";
import { VERSION } from "../../server/version.js";
import { configError, writeFiles } from "./helpers.js";
import { TEST_CERT, TEST_KEY } from "./fixtures.js";

function run(...argv: string[]): ServerOptions {
  const r = loadOptions(argv, {});
  assert.equal(r.action, "run");
  return r.options;
}

test("one or two dashes, `-f v` and `-f=v` are the same", () => {
  for (const argv of [["-p", "4333"], ["--p", "4333"], ["-port", "4333"], ["--port", "4333"], ["-p=4333"], ["--port=4333"]]) {
    assert.equal(run(...argv).port, 4333, argv.join(" "));
  }
  assert.equal(run("-p", "-1").port, -1);
  assert.equal(run("--port=-1").port, -1);
});

test("integers follow Go's strconv.ParseInt base 0", () => {
  assert.equal(parseGoInt("0x10"), 16);
  assert.equal(parseGoInt("010"), 8);
  assert.equal(parseGoInt("0o17"), 15);
  assert.equal(parseGoInt("0b101"), 5);
  assert.equal(parseGoInt("1_000"), 1000);
  assert.equal(parseGoInt("-42"), -42);
  assert.equal(parseGoInt("08"), "syntax");
  assert.equal(parseGoInt("1__0"), "syntax");
  assert.equal(parseGoInt("abc"), "syntax");
  assert.equal(parseGoInt("9223372036854775808"), "range");
});

test("boolean flags take no value, but accept =true/=false", () => {
  assert.equal(run("-D").debug, true);
  assert.equal(run("--debug").debug, true);
  assert.equal(run("-D=false").debug, false);
  assert.equal(run("-D=1").debug, true);
  assert.equal(run("-V").trace, true);
  assert.equal(run("--trace=true").trace, true);
  assert.deepEqual(parseFlags(["-D", "-p", "1"]).settings.map((s) => s.name), ["debug", "port"]);
});

test("-T/--logtime defaults to true and is turned off with =false", () => {
  assert.equal(run().logtime, true);
  assert.equal(run("-T").logtime, true);
  assert.equal(run("-T=false").logtime, false);
  assert.equal(run("--logtime=f").logtime, false);
  // As in Go, a separate "false" is not the flag's value but a stray command word.
  assert.equal(configError(() => loadOptions(["-T", "false"])).message, 'unrecognized command: "false"');
});

test("-DV, -VV, -DVV", () => {
  const dv = run("-DV");
  assert.deepEqual([dv.debug, dv.trace, dv.traceVerbose], [true, true, false]);
  const vv = run("-VV");
  assert.deepEqual([vv.debug, vv.trace, vv.traceVerbose], [false, true, true]);
  const dvv = run("-DVV");
  assert.deepEqual([dvv.debug, dvv.trace, dvv.traceVerbose], [true, true, true]);
  // The combined flags win over -D/-V whatever the order, as in nats-server.
  assert.equal(run("-DV=false", "-D").debug, false);
});

test("server, logging and auth flags", () => {
  const o = run(
    "-a", "127.0.0.1", "-m", "8333", "-n", "srv", "-P", "/tmp/x.pid", "--ports_file_dir", "/tmp/ports",
    "--client_advertise", "nats.example:4222", "-l", "/tmp/x.log", "--log_json", "--user", "u", "--pass", "p",
  );
  assert.equal(o.host, "127.0.0.1");
  // The monitoring listener binds to the client host unless told otherwise.
  assert.deepEqual(o.http, { host: "127.0.0.1", port: 8333, basePath: "/" });
  assert.equal(o.serverName, "srv");
  assert.equal(o.pidFile, "/tmp/x.pid");
  assert.equal(o.portsFileDir, "/tmp/ports");
  assert.equal(o.clientAdvertise, "nats.example:4222");
  assert.equal(o.logFile, "/tmp/x.log");
  assert.equal(o.logJson, true);
  assert.deepEqual(o.authorization, { user: "u", password: "p" });
  assert.deepEqual(run("--auth", "tok").authorization, { token: "tok" });
  assert.equal(run("--net", "10.0.0.1").host, "10.0.0.1");
  assert.equal(run("--addr=10.0.0.2").host, "10.0.0.2");
  assert.equal(run("--name", "a").serverName, "a");
  assert.equal(run("--server_name", "b").serverName, "b");
  assert.equal(run("--http_port", "-1").http?.port, -1);
  assert.equal(run("--pid", "/p").pidFile, "/p");
  assert.equal(run("--log", "/l").logFile, "/l");
});

test("jetstream flags", () => {
  assert.deepEqual(run("-js").jetstream, { enabled: true, maxMemoryStore: -1, maxFileStore: -1, syncInterval: "always" });
  assert.equal(run("--jetstream", "-sd", "/data").jetstream?.storeDir, "/data");
  assert.equal(run("--store_dir=/data").jetstream?.enabled, false);
});

test("cluster flags", () => {
  const o = run("--cluster", "nats://127.0.0.1:6222", "--cluster_name", "c", "--routes", "nats://127.0.0.1:6223, nats://127.0.0.1:6224");
  assert.deepEqual(o.cluster, {
    host: "127.0.0.1",
    port: 6222,
    name: "c",
    routes: ["nats://127.0.0.1:6223", "nats://127.0.0.1:6224"],
    noAdvertise: false,
    connectRetries: 0,
  });
  assert.equal(run("--cluster_listen", "nats://0.0.0.0:-1").cluster?.port, -1);
  assert.deepEqual(run("--cluster", "nats://ru:rp@[::1]:6222").cluster?.authorization, { user: "ru", password: "rp" });
  assert.match(configError(() => loadOptions(["--cluster", "127.0.0.1:6222"])).message, /^flag --cluster: invalid cluster URL/);
  assert.match(configError(() => loadOptions(["--cluster", "nats://u@h:1"])).message, /expected cluster password/);
  assert.equal(configError(() => loadOptions(["--routes", "nats://a:1"])).message, "solicited routes require cluster capabilities, e.g. --cluster");
});

test("tls flags", () => {
  const dir = writeFiles({ "cert.pem": TEST_CERT, "key.pem": TEST_KEY });
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  assert.deepEqual(run("--tls", "--tlscert", cert, "--tlskey", key).tls, {
    certFile: cert,
    keyFile: key,
    verify: false,
    insecure: false,
    timeoutMs: 2000,
    handshakeFirst: false,
  });
  const v = run("--tlsverify", "--tlscert", cert, "--tlskey", key, "--tlscacert", cert).tls;
  assert.equal(v?.verify, true);
  assert.equal(v?.caFile, cert);
  assert.match(configError(() => loadOptions(["--tls", "--tlskey", key])).message, /^flag --tls(key)?: TLS server certificate/);
  assert.match(configError(() => loadOptions(["--tlscert", join(dir, "none.pem"), "--tlskey", key])).message, /cannot read certificate/);
});

test("flags override the config file", () => {
  const dir = writeFiles({
    "f.conf": 'port: 4444\nhost: 0.0.0.0\nserver_name: fromfile\ndebug: true\nlogtime: false\nhttp_port: 8444\njetstream { store_dir: "/file" }\ncluster { listen: "127.0.0.1:6444", routes: [nats://x:1] }\nauthorization { user: fu, password: fp }',
  });
  const f = join(dir, "f.conf");
  const base = run("-c", f);
  assert.equal(base.port, 4444);
  assert.equal(base.logtime, false);
  const o = run("-c", f, "-p", "5555", "-a", "127.0.0.1", "-n", "fromflag", "-D=false", "-T", "-m", "9555", "-js", "-sd", "/flag", "--user", "flaguser", "--routes", "nats://y:2");
  assert.equal(o.port, 5555);
  assert.equal(o.host, "127.0.0.1");
  assert.equal(o.serverName, "fromflag");
  assert.equal(o.debug, false);
  assert.equal(o.logtime, true);
  assert.equal(o.http?.port, 9555);
  assert.deepEqual([o.jetstream?.enabled, o.jetstream?.storeDir], [true, "/flag"]);
  assert.deepEqual(o.authorization, { user: "flaguser", password: "fp" });
  assert.deepEqual(o.cluster?.routes, ["nats://y:2"]);
  assert.equal(o.configFile, f);
  // `--config` and `-config` are the same flag as `-c`.
  assert.equal(run("--config", f).port, 4444);
  assert.equal(run("-config=" + f).port, 4444);
  // --cluster "" turns the route listener off.
  assert.equal(run("-c", f, "--cluster", "").cluster?.port, 0);
});

test("actions: version, help, test", () => {
  assert.equal(loadOptions(["-v"]).action, "version");
  assert.equal(loadOptions(["--version"]).action, "version");
  assert.equal(loadOptions(["version"]).action, "version");
  assert.equal(loadOptions(["-h"]).action, "help");
  assert.equal(loadOptions(["--help"]).action, "help");
  assert.equal(loadOptions(["help"]).action, "help");
  assert.equal(loadOptions(["--help_tls"]).action, "help");
  // -v wins even with a bad config path: the file is never read.
  assert.equal(loadOptions(["-c", "/nonexistent.conf", "-v"]).action, "version");
  const dir = writeFiles({ "ok.conf": "port: 1234" });
  assert.equal(loadOptions(["-c", join(dir, "ok.conf"), "-t"]).action, "test");
  assert.equal(configError(() => loadOptions(["-t"])).message, "must specify [-c, --config] option to check configuration file syntax");
  assert.equal(versionText(), `nats-server: v${VERSION}`);
});

test("usage text lists every flag of the drop-in surface", () => {
  const text = usageText();
  for (const f of [
    "-p, --port", "-a, --addr, --net", "-m, --http_port", "-n, --name, --server_name", "-P, --pid", "--ports_file_dir", "--client_advertise",
    "-js, --jetstream", "-sd, --store_dir", "--user", "--pass", "--auth", "-D, --debug", "-V, --trace", "-DV", "-VV", "-DVV", "-l, --log",
    "-T, --logtime", "--cluster", "--cluster_name", "--cluster_listen", "--routes", "--tls ", "--tlscert", "--tlskey", "--tlsverify",
    "--tlscacert", "-v, --version", "-h, --help", "-t ", "-c, --config", "--log_json",
  ]) {
    assert.ok(text.includes(f), `usage lacks ${f}`);
  }
});

test("an unknown flag or a bad value is a one-line error naming the flag", () => {
  const cases: [string[], string][] = [
    [["-x"], "flag -x: unknown flag (see --help)"],
    [["--max_payload", "1"], "flag --max_payload: unknown flag (see --help)"],
    [["-p", "abc"], 'flag -p: invalid value "abc": expected an integer'],
    [["--port=99999999999999999999"], 'flag --port: invalid value "99999999999999999999": out of range'],
    [["-p"], "flag -p: needs an argument"],
    [["-D=yes"], 'flag -D: invalid boolean value "yes"'],
    [["---p", "1"], "flag ---p: bad flag syntax"],
    [["-=1"], "flag -=1: bad flag syntax"],
    [["foo"], 'unrecognized command: "foo"'],
    [["--", "-p", "1"], 'unrecognized command: "-p"'],
    [["-sl", "reload"], "flag -sl: sending signals is not supported; use kill -HUP/-USR2/-TERM <pid>"],
    [["-p", "70000"], "flag -p: Too big: expected number to be <=65535 (port)"],
    [["-c", "/nonexistent/x.conf"], "cannot read config file /nonexistent/x.conf: ENOENT: no such file or directory, open '/nonexistent/x.conf'"],
  ];
  for (const [argv, message] of cases) {
    const e = configError(() => loadOptions(argv, {}));
    assert.equal(e.message, message, argv.join(" "));
    assert.ok(!e.message.includes("\n"));
  }
});
