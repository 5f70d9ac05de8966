// Starting tsnats for tests: in-process (fast, for most tests) or as a real child process launched
// the way client-library harnesses do (`bin/nats-server -c file` + ports_file_dir).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Server } from "../../server/server.js";
import { defaultOptions, type ServerOptions } from "../../server/config/options.js";
import { createLogger, silentLogger } from "../../server/logger.js";
import { installExtensions } from "../../server/extensions.js";
import { waitFor } from "./wait.js";

/** The repository root: the nearest directory above this file with a package.json. */
export const ROOT = (() => {
  let d = import.meta.dirname;
  while (!existsSync(join(d, "package.json"))) {
    const up = dirname(d);
    if (up === d) throw new Error("package.json not found above " + import.meta.dirname);
    d = up;
  }
  return d;
})();

export interface TestServer {
  server: Server;
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startServer(overrides: Partial<ServerOptions> = {}): Promise<TestServer> {
  const opts: ServerOptions = { ...defaultOptions(), host: "127.0.0.1", port: -1, ...overrides };
  const log = process.env.TSNATS_TEST_LOG ? createLogger({ debug: true, trace: process.env.TSNATS_TEST_LOG === "trace", logtime: true, logJson: false }) : silentLogger();
  const server = new Server(opts, log);
  installExtensions(server, opts, log);
  await server.start();
  return { server, port: server.port, url: `nats://127.0.0.1:${server.port}`, stop: () => server.shutdown() };
}

export interface ChildServer {
  proc: ChildProcess;
  pid: number;
  ports: Record<string, string[]>;
  port: number;
  dir: string;
  stderr(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(sig?: NodeJS.Signals): void;
  cleanup(): void;
}

/** Runs bin/nats-server (or another binary) with a config file, and reads back the ports file. */
export async function spawnServer(conf: string, opts: { bin?: string; args?: string[]; dir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ChildServer> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "tsnats-child-"));
  const confFile = join(dir, "server.conf");
  writeFileSync(confFile, conf);
  const bin = opts.bin ?? join(ROOT, "bin", "nats-server");
  const proc = spawn(bin, ["-c", confFile, "--ports_file_dir", dir, ...(opts.args ?? [])], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
  let err = "";
  proc.stderr!.on("data", (b) => (err += b.toString()));
  proc.stdout!.on("data", (b) => (err += b.toString()));
  const exited = new Promise<number | string>((r) => proc.on("exit", (code, sig) => r(code ?? sig ?? -1)));
  let done = false;
  void exited.then(() => (done = true));
  // The file may be seen before it is fully written (nats-server writes it in place): wait
  // until it parses.
  const file = `nats-server_${proc.pid}.ports`;
  let ports: Record<string, string[]>;
  try {
    ports = await waitFor(
      `ports file in ${dir}`,
      () => {
        if (done) throw new Error(`server exited early: ${err}`);
        if (!readdirSync(dir).includes(file)) return undefined;
        try {
          const p = JSON.parse(readFileSync(join(dir, file), "utf8")) as Record<string, string[]>;
          return p.nats?.[0] ? p : undefined;
        } catch {
          return undefined;
        }
      },
      15000,
    );
  } catch (e) {
    // A server that never got ready must not outlive the test.
    if (!done) proc.kill("SIGKILL");
    throw new Error(`${(e as Error).message} (stderr: ${err.slice(-500)})`);
  }
  const port = Number(new URL(ports.nats![0]!).port);
  return {
    proc,
    pid: proc.pid!,
    ports,
    port,
    dir,
    stderr: () => err,
    exited,
    kill: (sig = "SIGTERM") => void proc.kill(sig),
    cleanup: () => {
      if (!done) proc.kill("SIGKILL");
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Where Debian's reference nats-server is, if installed. */
export function referenceServer(): string | null {
  for (const p of ["/usr/sbin/nats-server", "/usr/bin/nats-server"]) if (existsSync(p)) return p;
  return null;
}
