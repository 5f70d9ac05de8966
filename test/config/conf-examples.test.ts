// The example configurations in conf/ must load cleanly with tsnats and pass `nats-server -t`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadOptions, securityRefusals } from "../../server/config/load.js";
import { NATS_SERVER, repoRoot } from "./helpers.js";

const confDir = join(repoRoot(), "conf");
const files = readdirSync(confDir).filter((f) => f.endsWith(".conf")).sort();

test("conf/ holds the documented examples", () => {
  for (const f of ["single.conf", "jetstream.conf", "cluster-a.conf", "cluster-b.conf", "cluster-c.conf", "auth.conf"]) assert.ok(files.includes(f), f);
});

for (const f of files) {
  test(`conf/${f} loads with tsnats without warnings`, () => {
    const r = loadOptions(["-c", join(confDir, f)], {});
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(securityRefusals(r.options), []);
  });

  test(`conf/${f} passes nats-server -t`, { skip: NATS_SERVER ? false : "nats-server is not installed" }, () => {
    // execFileSync throws (failing the test) on a non-zero exit.
    const out = execFileSync(NATS_SERVER!, ["-c", join(confDir, f), "-t"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    void out;
  });
}

test("the cluster examples form one 3-node cluster on 127.0.0.1 with distinct ports and names", () => {
  const nodes = ["a", "b", "c"].map((n) => loadOptions(["-c", join(confDir, `cluster-${n}.conf`)], {}).options);
  const ports = nodes.flatMap((o) => [o.port, o.cluster!.port, o.http!.port]);
  assert.equal(new Set(ports).size, ports.length);
  assert.equal(new Set(nodes.map((o) => o.serverName)).size, 3);
  assert.equal(new Set(nodes.map((o) => o.jetstream?.storeDir)).size, 3);
  for (const o of nodes) {
    assert.equal(o.cluster!.host, "127.0.0.1");
    assert.equal(o.cluster!.name, "demo");
    assert.deepEqual(o.cluster!.routes.sort(), nodes.map((n) => `nats://127.0.0.1:${n.cluster!.port}`).sort());
  }
});
