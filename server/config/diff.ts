// Which options changed between two loads, and which of those a running server may apply on
// SIGHUP. The split follows nats-server's reload.go: logging, auth, limits, TLS, routes and
// accounts reload; listeners, identity and storage need a restart.

import type { ServerOptions } from "./options.js";

export interface OptionChange {
  // Dotted option path; arrays are compared whole ("authorization.users", "cluster.routes").
  path: string;
  before: unknown;
  after: unknown;
  reloadable: boolean;
}

// Paths (and their subtrees) that a running server can apply.
const RELOADABLE = [
  "debug",
  "trace",
  "traceVerbose",
  "logtime",
  "logFile",
  "logJson",
  "tls",
  "authorization",
  "authTimeoutMs",
  "accounts",
  "mappings",
  "maxConnections",
  "maxControlLine",
  "maxPayload",
  "pingIntervalMs",
  "pingMax",
  "writeDeadlineMs",
  "clientAdvertise",
  "pidFile",
  "portsFileDir",
  "serverTags",
  "maxTracedMsgLen",
  "connectErrorReports",
  "reconnectErrorReports",
  "cluster.routes",
  "cluster.authorization",
  "cluster.permissions",
  "cluster.name",
  "cluster.advertise",
  "cluster.noAdvertise",
  "cluster.connectRetries",
  "jetstream.enabled",
];

// Not options of the server but bookkeeping about them.
const IGNORED = ["unsupported", "configFile"];

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix + ".");
}

export function isReloadable(path: string): boolean {
  return RELOADABLE.some((p) => under(path, p));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!deepEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

function walk(a: unknown, b: unknown, path: string, out: OptionChange[]): void {
  if (deepEqual(a, b)) return;
  // A block that appears or disappears is one change (e.g. `cluster` added needs a restart).
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) walk(a[k], b[k], path ? `${path}.${k}` : k, out);
    return;
  }
  out.push({ path, before: a, after: b, reloadable: isReloadable(path) });
}

export function diffOptions(before: ServerOptions, after: ServerOptions): OptionChange[] {
  const out: OptionChange[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const k of [...keys].sort()) {
    if (IGNORED.includes(k)) continue;
    walk((before as Record<string, unknown>)[k], (after as Record<string, unknown>)[k], k, out);
  }
  return out;
}
