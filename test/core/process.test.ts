// The server as a real child process, launched the way client-library harnesses launch
// nats-server: bin/nats-server -c file with port -1 and ports_file_dir; signals; reload.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as v3 from "@nats-io/transport-node";
import { ROOT, spawnServer } from "../helpers/server.js";
import { RawConn } from "../helpers/raw.js";
import { waitFor } from "../helpers/wait.js";

const run = promisify(execFile);
const BIN = join(ROOT, "bin", "nats-server");

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function exitOf(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(BIN, args);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe("the server process", () => {
  test("harness launch: ports file, pid is the server's, clients connect, SIGTERM exits 0 and removes the ports file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsnats-proc-"));
    const pidFile = join(dir, "server.pid");
    const srv = await spawnServer(`port: -1\nhost: 127.0.0.1\npid_file: "${pidFile}"\nleafnodes { listen: "127.0.0.1:-1" }\nserver_tags: ["a"]\n`, { dir });
    try {
      assert.match(srv.ports.nats![0]!, /^nats:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(readFileSync(pidFile, "utf8").trim(), String(srv.pid), "the wrapper execs node, so the pid is the server's");
      const nc = await v3.connect({ servers: srv.ports.nats![0]! });
      const sub = nc.subscribe("p.x", { max: 1 });
      nc.publish("p.x", "hi");
      for await (const m of sub) assert.equal(m.string(), "hi");
      await nc.close();
      await waitFor("ready log line", () => /\[INF\] Server is ready/.test(srv.stderr()));
      assert.match(srv.stderr(), /^\[\d+\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} \[INF\] Starting nats-server/m);
      assert.match(srv.stderr(), /Listening for client connections on 127\.0\.0\.1:\d+/);
      assert.match(srv.stderr(), /\[WRN\].*leafnodes/, "unknown or unsupported keys warn, they do not stop the server");
      srv.kill("SIGTERM");
      assert.equal(await srv.exited, 0);
      assert.equal(existsSync(join(dir, `nats-server_${srv.pid}.ports`)), false);
      assert.equal(existsSync(pidFile), false);
    } finally {
      srv.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("SIGTERM flushes what was queued for clients before closing", async () => {
    const srv = await spawnServer("port: -1\nhost: 127.0.0.1\n");
    try {
      const c = await RawConn.connect(srv.port);
      c.send('CONNECT {"verbose":false,"pedantic":false}\r\nSUB x 1\r\n');
      await c.flush();
      const pub = await RawConn.connect(srv.port);
      pub.send('CONNECT {"verbose":false,"pedantic":false}\r\n' + "PUB x 1\r\na\r\n".repeat(1000));
      await pub.flush();
      srv.kill("SIGTERM");
      await c.expectClosed();
      assert.equal((c.text.match(/MSG x 1 1\r\na\r\n/g) ?? []).length, 1000);
      assert.equal(await srv.exited, 0);
    } finally {
      srv.cleanup();
    }
  });

  test("flags override the config file", async () => {
    const port = await freePort();
    const srv = await spawnServer("port: -1\nhost: 127.0.0.1\n", { args: ["-p", String(port)] });
    try {
      assert.equal(srv.port, port);
    } finally {
      srv.cleanup();
    }
  });

  test("SIGHUP reloads auth without dropping connections that are still allowed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsnats-reload-"));
    const conf = (users: string) => `port: -1\nhost: 127.0.0.1\nauthorization { users: [ ${users} ] }\n`;
    const srv = await spawnServer(conf(`{user: a, password: pa}, {user: b, password: pb}`), { dir });
    try {
      const a = await v3.connect({ servers: srv.ports.nats![0]!, user: "a", pass: "pa", reconnect: false });
      const b = await v3.connect({ servers: srv.ports.nats![0]!, user: "b", pass: "pb", reconnect: false });
      // Remove b, change a's password: a keeps its connection only if its credentials still hold.
      writeFileSync(join(dir, "server.conf"), conf(`{user: a, password: pa}, {user: c, password: pc}`));
      srv.kill("SIGHUP");
      await waitFor("reload logged", () => srv.stderr().includes("Reloaded server configuration"));
      await waitFor("b disconnected", () => b.isClosed());
      await a.flush();
      assert.equal(a.isClosed(), false);
      const c = await v3.connect({ servers: srv.ports.nats![0]!, user: "c", pass: "pc", reconnect: false });
      await c.close();
      await assert.rejects(v3.connect({ servers: srv.ports.nats![0]!, user: "b", pass: "pb", reconnect: false }));
      await a.close();
    } finally {
      srv.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("-v, -h, -t and bad input on the command line", async () => {
    const v = await exitOf(["-v"]);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^nats-server: v\d+\.\d+\.\d+\n$/);
    const h = await exitOf(["-h"]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /-p, --port/);
    const bad = await exitOf(["--no-such-flag"]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim().split("\n").length, 1, "one line");
    assert.match(bad.stderr, /no-such-flag/);
    const dir = mkdtempSync(join(tmpdir(), "tsnats-t-"));
    try {
      const good = join(dir, "good.conf");
      writeFileSync(good, "port: 4222\n");
      const t = await exitOf(["-t", "-c", good]);
      assert.equal(t.code, 0, t.stderr);
      const broken = join(dir, "bad.conf");
      writeFileSync(broken, "port: 4222\nauthorization {\n  user: a\n");
      const b = await exitOf(["-c", broken]);
      assert.equal(b.code, 1);
      assert.match(b.stderr, /bad\.conf:\d+:\d+/, "the error names file:line:column");
      const tls = join(dir, "tls.conf");
      writeFileSync(tls, 'port: -1\ntls { cert_file: "x.pem", key_file: "y.pem" }\n');
      const r = await exitOf(["-c", tls]);
      assert.equal(r.code, 1, "a security feature that is not implemented is refused, not ignored");
      assert.match(r.stderr, /tls/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
