// Typed access to parsed config values. Each accessor either returns the value in the type a key
// needs or throws a ConfigError that names the key's path and where it was written, which is the
// whole contract of "a known key with a wrong value is fatal with file:line:column".

import { parseGoDurationMs, DurationError } from "./duration.js";
import { ConfigError, formatPos, type SourcePos, warningAt } from "./errors.js";
import type { ConfMap, ConfNode } from "./parser.js";

// One value to interpret: the node, where to point when it is wrong, and its dotted path.
export interface Field {
  node: ConfNode;
  at: SourcePos;
  path: string;
  key: string;
  used: boolean;
}

export interface UnsupportedEntry {
  path: string;
  where: string;
  weakensSecurity: boolean;
}

export function fieldsOf(map: ConfMap, prefix: string): Field[] {
  const out: Field[] = [];
  for (const e of map.values()) {
    out.push({ node: e.node, at: e.keyPos, path: prefix ? `${prefix}.${e.key}` : e.key, key: e.key, used: e.used });
  }
  return out;
}

export function describe(node: ConfNode): string {
  switch (node.kind) {
    case "string":
      return `string ${JSON.stringify(node.value)}`;
    case "integer":
    case "float":
      return `${node.kind} ${node.raw}`;
    case "bool":
      return `boolean ${node.value}`;
    case "datetime":
      return `date ${node.value.toISOString()}`;
    case "array":
      return "an array";
    case "map":
      return "a map";
  }
}

export class Reader {
  readonly warnings: string[] = [];
  readonly unsupported: UnsupportedEntry[] = [];
  // Option path (as zod reports it, "cluster.port", "authorization.users.0.password") -> where
  // the value came from, so schema violations can be reported at their source.
  readonly sources = new Map<string, { where: string; key: string }>();

  fail(f: Pick<Field, "at" | "path">, message: string): never {
    throw new ConfigError(`${f.path}: ${message}`, f.at);
  }

  warn(f: Pick<Field, "at" | "path">, message: string): void {
    this.warnings.push(warningAt(f.at, `${f.path}: ${message}`));
  }

  // Unknown keys warn rather than fail: launchers add blocks for features tsnats may not know.
  // A key that was read as a `$variable` is a variable definition, not a typo.
  unknown(f: Field): void {
    if (f.used) return;
    this.warnings.push(warningAt(f.at, `unknown field "${f.path}" ignored`));
  }

  markUnsupported(f: Field, weakensSecurity: boolean): void {
    this.unsupported.push({ path: f.path, where: formatPos(f.at), weakensSecurity });
  }

  source(optionPath: string, f: Pick<Field, "at" | "path">): void {
    this.sources.set(optionPath, { where: formatPos(f.at), key: f.path });
  }

  // For values that came from somewhere other than the file (a flag).
  sourceText(optionPath: string, key: string): void {
    this.sources.set(optionPath, { where: "command line", key });
  }

  expected(f: Field, what: string): never {
    this.fail(f, `expected ${what}, got ${describe(f.node)}`);
  }

  string(f: Field): string {
    if (f.node.kind !== "string") this.expected(f, "a string");
    return f.node.value;
  }

  int(f: Field): number {
    if (f.node.kind !== "integer") this.expected(f, "an integer");
    return f.node.value;
  }

  bool(f: Field): boolean {
    if (f.node.kind !== "bool") this.expected(f, "a boolean (true/false, yes/no, on/off)");
    return f.node.value;
  }

  number(f: Field): number {
    if (f.node.kind !== "integer" && f.node.kind !== "float") this.expected(f, "a number");
    return f.node.value;
  }

  map(f: Field): ConfMap {
    if (f.node.kind !== "map") this.expected(f, "a map ({ ... })");
    return f.node.value;
  }

  fields(f: Field): Field[] {
    return fieldsOf(this.map(f), f.path);
  }

  items(f: Field): Field[] {
    if (f.node.kind !== "array") this.expected(f, "an array ([ ... ])");
    return f.node.value.map((node, i) => ({ node, at: node.pos, path: `${f.path}[${i}]`, key: f.key, used: false }));
  }

  // A single string or an array of strings, as nats-server accepts for tags, origins and the like.
  strings(f: Field): string[] {
    if (f.node.kind === "string") return [f.node.value];
    if (f.node.kind !== "array") this.expected(f, "a string or an array of strings");
    return this.items(f).map((i) => this.string(i));
  }

  // A Go duration string; a bare integer is a number of seconds, accepted with the same warning
  // nats-server prints, where nats-server accepts it.
  durationMs(f: Field, opts: { secondsAllowed: boolean }): number {
    if (f.node.kind === "integer" && opts.secondsAllowed) {
      this.warn(f, "a bare number of seconds is deprecated; write a duration such as \"10s\"");
      return f.node.value * 1000;
    }
    if (f.node.kind !== "string") this.expected(f, opts.secondsAllowed ? "a duration such as \"10s\" or a number of seconds" : "a duration such as \"10s\"");
    return this.parseDuration(f, f.node.value);
  }

  parseDuration(f: Field, text: string): number {
    try {
      return parseGoDurationMs(text);
    } catch (e) {
      if (e instanceof DurationError) this.fail(f, e.message);
      throw e;
    }
  }
}

export interface HostPort {
  host: string;
  port: number;
}

// Go's net.SplitHostPort: "host:port", "[v6]:port", ":port".
export function splitHostPort(s: string): HostPort | string {
  let host: string;
  let portText: string;
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0) return "missing ']' in address";
    if (s[end + 1] !== ":") return end + 1 === s.length ? "missing port in address" : "unexpected characters after ']'";
    host = s.slice(1, end);
    portText = s.slice(end + 2);
  } else {
    const i = s.lastIndexOf(":");
    if (i < 0) return "missing port in address";
    host = s.slice(0, i);
    if (host.includes(":")) return "too many colons in address";
    portText = s.slice(i + 1);
  }
  if (!/^[+-]?[0-9]+$/.test(portText)) return `could not parse port "${portText}"`;
  return { host, port: Number(portText) };
}

// `listen`, `http` and friends: a port number or a "host:port" string.
export function readListen(r: Reader, f: Field): { host?: string; port: number } {
  if (f.node.kind === "integer") return { port: f.node.value };
  if (f.node.kind !== "string") r.expected(f, "a port or \"host:port\"");
  const hp = splitHostPort(f.node.value);
  if (typeof hp === "string") r.fail(f, `could not parse address string ${JSON.stringify(f.node.value)}: ${hp}`);
  return hp;
}
