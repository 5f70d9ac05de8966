// Shared by the config tests: temporary directories that are removed afterwards, the repository
// root, and the reference nats-server binary when it is installed.

import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after } from "node:test";
import { ConfigError } from "../../server/config/errors.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "tsnats-config-"));
  dirs.push(d);
  return d;
}

// Writes files (relative names, subdirectories allowed) into a fresh temp dir; returns its path.
export function writeFiles(files: Record<string, string>): string {
  const d = tempDir();
  for (const [name, text] of Object.entries(files)) {
    const p = join(d, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return d;
}

export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(d, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "tsnats") return d;
    const up = dirname(d);
    if (up === d) throw new Error("repository root not found");
    d = up;
  }
}

export const NATS_SERVER = [...(process.env.PATH ?? "").split(":").filter((d) => d !== ""), "/usr/sbin", "/usr/bin", "/usr/local/bin"]
  .map((d) => join(d, "nats-server"))
  .find((p) => existsSync(p));

// Runs fn and returns the ConfigError it throws; fails if it throws nothing or something else.
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw new Error(`expected a ConfigError, got ${String(e)}`);
  }
  throw new Error("expected a ConfigError, but nothing was thrown");
}
