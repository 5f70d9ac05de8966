import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultOptions, diffOptions, isReloadable, loadOptions, reloadOptions } from "../../server/config/load.js";
import { configError, writeFiles } from "./helpers.js";

test("reload re-reads the file (and its includes) and keeps the command line's overrides", () => {
  const dir = writeFiles({
    "main.conf": "port: 4000\ndebug: false\ninclude auth.conf",
    "auth.conf": "authorization { users: [ { user: a, password: p1 } ] }",
  });
  const main = join(dir, "main.conf");
  const first = loadOptions(["-c", main, "-p", "5000"], {});
  assert.equal(first.options.port, 5000);
  assert.deepEqual(first.files, [main, join(dir, "auth.conf")]);

  writeFileSync(main, "port: 4001\nhost: 127.0.0.1\ndebug: true\nmax_payload: 2MB\ninclude auth.conf");
  writeFileSync(join(dir, "auth.conf"), "authorization { users: [ { user: a, password: p2 } ] }");
  const next = reloadOptions(first);
  // -p still wins over the file.
  assert.equal(next.options.port, 5000);
  assert.equal(next.options.debug, true);
  assert.deepEqual(
    next.changes.map((c) => [c.path, c.reloadable]),
    [
      ["authorization.users", true],
      ["debug", true],
      ["host", false],
      ["maxPayload", true],
    ],
  );
  assert.deepEqual(next.changed, ["authorization.users", "debug", "host", "maxPayload"]);
  const users = next.changes.find((c) => c.path === "authorization.users");
  assert.deepEqual(users?.after, [{ user: "a", password: "p2" }]);

  // A reload of an unchanged file changes nothing.
  assert.deepEqual(reloadOptions(next).changes, []);
});

test("a bad file on reload is a ConfigError, so the server can keep its current options", () => {
  const dir = writeFiles({ "r.conf": "port: 4000" });
  const f = join(dir, "r.conf");
  const first = loadOptions(["-c", f], {});
  writeFileSync(f, "port: [\n");
  assert.match(configError(() => reloadOptions(first)).message, /r\.conf:2:1: /);
});

test("reload without a config file is refused", () => {
  const first = loadOptions(["-p", "4000"], {});
  assert.match(configError(() => reloadOptions(first)).message, /needs a configuration file/);
});

test("diffOptions reports blocks that appear or vanish as one change, and classifies paths like nats-server", () => {
  const a = defaultOptions();
  const b = { ...defaultOptions(), cluster: { host: "0.0.0.0", port: 6222, routes: [], noAdvertise: false, connectRetries: 0 } };
  assert.deepEqual(diffOptions(a, a), []);
  assert.deepEqual(diffOptions(a, b), [{ path: "cluster", before: undefined, after: b.cluster, reloadable: false }]);
  const c = { ...b, cluster: { ...b.cluster, routes: ["nats://x:1"], port: 6223 } };
  assert.deepEqual(
    diffOptions(b, c).map((x) => [x.path, x.reloadable]),
    [
      ["cluster.port", false],
      ["cluster.routes", true],
    ],
  );
  for (const p of ["debug", "trace", "logtime", "authorization", "authorization.users", "accounts.A.users", "tls", "maxConnections", "jetstream.enabled", "mappings"]) {
    assert.equal(isReloadable(p), true, p);
  }
  for (const p of ["port", "host", "serverName", "http", "http.port", "websocket", "jetstream.storeDir", "jetstream", "cluster.host", "lameDuckDurationMs", "noAuthUser"]) {
    assert.equal(isReloadable(p), false, p);
  }
});
