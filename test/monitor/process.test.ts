// The server as harnesses launch it: a child process with a config file (or -m), whose ports file
// and log lines announce the monitoring and websocket listeners in nats-server's exact formats.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/wait.js";

// The compiled entry point next to this compiled test, whichever output directory that is.
const MAIN = join(import.meta.dirname, "..", "..", "server", "main.js");

async function launch(args: string[], conf?: string) {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-mon-proc-"));
  const extra: string[] = [];
  if (conf !== undefined) {
    writeFileSync(join(dir, "server.conf"), conf);
    extra.push("-c", join(dir, "server.conf"));
  }
  const proc = spawn(process.execPath, [MAIN, ...extra, "--ports_file_dir", dir, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stderr.on("data", (b) => (log += b));
  proc.stdout.on("data", (b) => (log += b));
  const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  const file = join(dir, `nats-server_${proc.pid}.ports`);
  await waitFor(`ports file (log: ${log.slice(-400)})`, () => existsSync(file) && readdirSync(dir).includes(`nats-server_${proc.pid}.ports`), 15_000);
  const ports = JSON.parse(readFileSync(file, "utf8")) as Record<string, string[]>;
  return {
    ports,
    log: () => log,
    file,
    stop: async () => {
      proc.kill("SIGTERM");
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

test("config file: ports file and log lines name the monitoring and websocket listeners", async () => {
  const p = await launch([], 'listen: "127.0.0.1:-1"\nhttp: "127.0.0.1:-1"\nwebsocket { listen: "127.0.0.1:-1", no_tls: true }\n');
  try {
    const mon = p.ports.monitoring?.[0] ?? "";
    const ws = p.ports.websocket?.[0] ?? "";
    assert.match(mon, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(ws, /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(p.ports.monitoring!.length, 1);
    assert.equal(p.ports.websocket!.length, 1);
    const mport = new URL(mon).port;
    const wport = new URL(ws).port;
    // The ports file can appear before the log lines have come through the pipe.
    const monLine = new RegExp(`\\[INF\\] Starting http monitor on 127\\.0\\.0\\.1:${mport}\\n`);
    const wsLine = new RegExp(`\\[INF\\] Listening for websocket clients on ws://127\\.0\\.0\\.1:${wport}\\n`);
    await waitFor("the listener log lines", () => monLine.test(p.log()) && wsLine.test(p.log()), 10_000).catch(() => {});
    assert.match(p.log(), monLine);
    assert.match(p.log(), wsLine);
    const varz = (await (await fetch(`${mon}/varz`)).json()) as { websocket: { port: number }; http_port: number };
    assert.equal(varz.websocket.port, Number(wport));
    assert.equal(varz.http_port, -1, "nats-server reports the configured monitor port");
  } finally {
    assert.equal(await p.stop(), 0);
  }
});

test("-m flag: monitoring on the client host, ports file entry, clean exit removes the file", async () => {
  const p = await launch(["-a", "127.0.0.1", "-p", "-1", "-m", "-1"]);
  const mon = p.ports.monitoring?.[0] ?? "";
  assert.match(mon, /^http:\/\/127\.0\.0\.1:\d+$/);
  const r = await fetch(`${mon}/healthz`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { status: "ok" });
  assert.equal(p.ports.websocket, undefined, "no websocket entry without a websocket block");
  assert.equal(await p.stop(), 0);
  assert.equal(existsSync(p.file), false);
});
