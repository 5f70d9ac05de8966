// Launching the servers under test as child processes: tsnats (this build) and, when installed,
// the reference nats-server, with the same flags, so both are measured in one run.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface BenchServer {
  name: string;
  proc: ChildProcess;
  port: number;
  ports: Record<string, string[]>;
  dir: string;
  rssKb(): number;
  stop(): Promise<void>;
}

export const REPO = (() => {
  let d = import.meta.dirname;
  while (!existsSync(join(d, "package.json"))) d = dirname(d);
  return d;
})();

export function referenceBinary(): string | null {
  for (const p of ["/usr/sbin/nats-server", "/usr/bin/nats-server"]) if (existsSync(p)) return p;
  return null;
}

export function rssKbOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function until<T>(what: string, fn: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts a server with the given extra flags on a random loopback port; reads its ports file. */
export async function launch(name: "tsnats" | "nats-server", extraArgs: string[] = []): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const args = ["-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", dir, ...extraArgs];
  const proc =
    name === "tsnats"
      ? spawn(process.execPath, [join(REPO, "dist/server/main.js"), ...args], { stdio: ["ignore", "ignore", "pipe"] })
      : spawn(referenceBinary()!, args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (b) => (err += b));
  let exited = false;
  proc.on("exit", () => (exited = true));
  // nats-server writes the file in place: it may be seen before it is complete, so wait until it parses.
  const ports = await until(
    `${name} ports file`,
    () => {
      if (exited) throw new Error(`${name} exited: ${err}`);
      const file = readdirSync(dir).find((f) => f.endsWith(".ports"));
      if (file === undefined) return undefined;
      try {
        return JSON.parse(readFileSync(join(dir, file), "utf8")) as Record<string, string[]>;
      } catch {
        return undefined;
      }
    },
    15000,
  );
  return {
    name,
    proc,
    ports,
    port: Number(new URL(ports.nats![0]!).port),
    dir,
    rssKb: () => rssKbOf(proc.pid!),
    stop: async () => {
      if (!exited) {
        const done = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
        if (!exited) proc.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Prints an aligned table. */
export function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (typeof c === "number" ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!))).join("  ")).join("\n");
}

export function fmtRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M/s`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k/s`;
  return `${n.toFixed(0)}/s`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The median rate, with the lowest and highest of the rounds after it. */
export function fmtSpread(xs: number[]): string {
  if (xs.length === 0) return "-";
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return `${fmtRate(median(xs))} [${fmtRate(lo).replace("/s", "")}-${fmtRate(hi).replace("/s", "")}]`;
}
