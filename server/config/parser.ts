// Parser for the NATS configuration format: turns the lexer's tokens into a tree of positioned
// values, resolving `$VAR` references and `include` directives on the way, as conf/parse.go does.
//
// Every value and key keeps its file:line:column so that the key mapping can report a bad value
// where it was written, including inside included files and variables.

import { readFileSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigError, type SourcePos, warningAt } from "./errors.js";
import { lex, type Token } from "./lexer.js";

export type ConfNode =
  | { kind: "string"; value: string; pos: SourcePos }
  | { kind: "integer"; value: number; raw: string; pos: SourcePos }
  | { kind: "float"; value: number; raw: string; pos: SourcePos }
  | { kind: "bool"; value: boolean; pos: SourcePos }
  | { kind: "datetime"; value: Date; pos: SourcePos }
  | { kind: "array"; value: ConfNode[]; pos: SourcePos }
  | { kind: "map"; value: ConfMap; pos: SourcePos };

export interface ConfEntry {
  key: string;
  keyPos: SourcePos;
  node: ConfNode;
  // Set when a `$key` reference read this entry. nats-server does not report such keys as unknown
  // fields: defining variables at the top level is how configs share values.
  used: boolean;
}

// Insertion-ordered; a key defined twice keeps the last value, as nats-server does.
export type ConfMap = Map<string, ConfEntry>;

export interface ParseOptions {
  env?: NodeJS.ProcessEnv;
  readFile?: (path: string) => string;
}

export interface ParseResult {
  root: ConfMap;
  warnings: string[];
  // Every file read, the main one first: a reload re-reads all of them.
  files: string[];
}

// Deeper than any real config; it stops runaway include chains and self-referencing environment
// variables (nats-server overflows its stack on both).
const MAX_INCLUDE_DEPTH = 64;
const MAX_ENV_DEPTH = 32;

// An environment variable's value is parsed as the value of this key, as parse.go does.
const ENV_KEY = "pk";
// parse.go lets unquoted bcrypt hashes through: `$2a$...` would otherwise read as a variable.
const BCRYPT_PREFIX = "2a$";

interface Session {
  env: NodeJS.ProcessEnv;
  readFile: (path: string) => string;
  warnings: string[];
  files: string[];
  includeChain: string[];
  envDepth: number;
}

export function parseFile(file: string, opts: ParseOptions = {}): ParseResult {
  const session = newSession(opts);
  const real = realPath(file);
  let text: string;
  try {
    text = session.readFile(file);
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${errText(e)}`);
  }
  session.files.push(resolve(file));
  session.includeChain.push(real);
  const root = parseSource(text, file, dirname(file), session);
  return { root, warnings: session.warnings, files: session.files };
}

// Parses text that did not come from a file; includes are relative to `baseDir`.
export function parseText(text: string, label = "<config>", opts: ParseOptions & { baseDir?: string } = {}): ParseResult {
  const session = newSession(opts);
  const root = parseSource(text, label, opts.baseDir ?? process.cwd(), session);
  return { root, warnings: session.warnings, files: session.files };
}

function newSession(opts: ParseOptions): Session {
  return {
    env: opts.env ?? process.env,
    readFile: opts.readFile ?? ((p) => readFileSync(p, "utf8")),
    warnings: [],
    files: [],
    includeChain: [],
    envDepth: 0,
  };
}

function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class LineIndex {
  private readonly starts: number[] = [0];

  constructor(
    text: string,
    private readonly file: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  pos(offset: number): SourcePos {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: offset - this.starts[lo]! + 1 };
  }
}

type Frame =
  | { kind: "map"; map: ConfMap; pos: SourcePos; pendingKey?: { key: string; pos: SourcePos } }
  | { kind: "array"; items: ConfNode[]; pos: SourcePos };

function parseSource(text: string, file: string, baseDir: string, session: Session): ConfMap {
  const lines = new LineIndex(text, file);
  const { tokens, error } = lex(text);
  const root: ConfMap = new Map();
  const frames: Frame[] = [{ kind: "map", map: root, pos: lines.pos(0) }];
  const top = (): Frame => frames[frames.length - 1]!;

  const setValue = (node: ConfNode): void => {
    const f = top();
    if (f.kind === "array") {
      f.items.push(node);
      return;
    }
    if (!f.pendingKey) return; // the lexer always emits a key before a map value
    const { key, pos } = f.pendingKey;
    f.pendingKey = undefined;
    f.map.delete(key);
    f.map.set(key, { key, keyPos: pos, node, used: false });
  };

  const dropPendingKey = (f: Frame): void => {
    if (f.kind === "map" && f.pendingKey) {
      session.warnings.push(warningAt(f.pendingKey.pos, `key "${f.pendingKey.key}" has no value; ignored`));
      f.pendingKey = undefined;
    }
  };

  // Tokens before a lexing error are processed first so that errors come out in source order.
  loop: for (const tok of tokens) {
    const pos = lines.pos(tok.offset);
    switch (tok.type) {
      case "eof":
        break loop;
      case "key": {
        const f = top();
        if (f.kind === "map") {
          dropPendingKey(f);
          f.pendingKey = { key: tok.value, pos };
        }
        break;
      }
      case "string":
        setValue({ kind: "string", value: tok.value, pos });
        break;
      case "bool":
        setValue({ kind: "bool", value: ["true", "yes", "on"].includes(tok.value.toLowerCase()), pos });
        break;
      case "integer":
        setValue({ kind: "integer", value: parseInteger(tok, pos), raw: tok.value, pos });
        break;
      case "float": {
        const value = Number(tok.value);
        if (!Number.isFinite(value)) throw new ConfigError(`float '${tok.value}' is out of range`, pos);
        setValue({ kind: "float", value, raw: tok.value, pos });
        break;
      }
      case "datetime":
        setValue({ kind: "datetime", value: parseDatetime(tok.value, pos), pos });
        break;
      // The lexer emits these just after the bracket; point at the bracket.
      case "arrayStart":
        frames.push({ kind: "array", items: [], pos: lines.pos(tok.offset - 1) });
        break;
      case "mapStart":
        frames.push({ kind: "map", map: new Map(), pos: lines.pos(tok.offset - 1) });
        break;
      case "arrayEnd":
      case "mapEnd": {
        const f = frames.pop()!;
        if (f.kind === "array") setValue({ kind: "array", value: f.items, pos: f.pos });
        else {
          dropPendingKey(f);
          setValue({ kind: "map", value: f.map, pos: f.pos });
        }
        break;
      }
      case "variable": {
        // The token starts after the '$'; point at the '$'.
        const refPos = lines.pos(Math.max(0, tok.offset - 1));
        setValue(resolveVariable(tok.value, refPos, frames, session));
        break;
      }
      case "include": {
        const f = top();
        if (f.kind === "map") includeInto(f.map, tok.value, pos, baseDir, session);
        break;
      }
      case "commentStart":
      case "text":
        break;
    }
  }

  if (error) throw new ConfigError(error.message, lines.pos(error.offset));
  if (frames.length > 1) {
    // nats-server accepts input that ends inside a quoted string at the start of a value, dropping
    // the unfinished block; we do the same, but say so.
    session.warnings.push(warningAt(frames[1]!.pos, "input ends inside this block or array; its contents are ignored"));
  }
  dropPendingKey(frames[0]!);
  return root;
}

function resolveVariable(name: string, refPos: SourcePos, frames: Frame[], session: Session): ConfNode {
  if (name.startsWith(BCRYPT_PREFIX)) return { kind: "string", value: "$" + name, pos: refPos };

  // Innermost enclosing block first, then outwards; arrays have no names to look up.
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i]!;
    if (f.kind !== "map") continue;
    const entry = f.map.get(name);
    if (entry) {
      entry.used = true;
      return { ...entry.node, pos: refPos } as ConfNode;
    }
  }

  const envValue = session.env[name];
  if (envValue === undefined) throw new ConfigError(`variable reference for '${name}' can not be found`, refPos);
  if (session.envDepth >= MAX_ENV_DEPTH) {
    throw new ConfigError(`variable reference for '${name}' nests environment variables too deeply (a cycle?)`, refPos);
  }
  const sub: Session = { ...session, envDepth: session.envDepth + 1, warnings: [] };
  let parsed: ConfMap;
  try {
    parsed = parseSource(`${ENV_KEY}=${envValue}`, `$${name}`, process.cwd(), sub);
  } catch (e) {
    throw new ConfigError(`variable reference for '${name}' could not be parsed: ${errText(e)}`, refPos);
  }
  const entry = parsed.get(ENV_KEY);
  if (!entry) throw new ConfigError(`variable reference for '${name}' can not be found`, refPos);
  return { ...entry.node, pos: refPos } as ConfNode;
}

function includeInto(map: ConfMap, name: string, pos: SourcePos, baseDir: string, session: Session): void {
  // nats-server joins even absolute names to the including file's directory; we honour absolute paths.
  const file = isAbsolute(name) ? name : join(baseDir, name);
  const real = realPath(file);
  if (session.includeChain.includes(real)) {
    const chain = [...session.includeChain.slice(session.includeChain.indexOf(real)), real];
    throw new ConfigError(`include cycle: ${chain.join(" -> ")}`, pos);
  }
  if (session.includeChain.length >= MAX_INCLUDE_DEPTH) throw new ConfigError(`includes nest deeper than ${MAX_INCLUDE_DEPTH} files`, pos);
  let text: string;
  try {
    text = session.readFile(file);
  } catch (e) {
    throw new ConfigError(`cannot read include file '${name}': ${errText(e)}`, pos);
  }
  session.files.push(resolve(file));
  const sub: Session = { ...session, includeChain: [...session.includeChain, real] };
  const included = parseSource(text, file, dirname(file), sub);
  for (const [key, entry] of included) {
    map.delete(key);
    map.set(key, entry);
  }
}

const SIZE_SUFFIXES: Record<string, bigint> = (() => {
  const out: Record<string, bigint> = { "": 1n };
  const letters = ["k", "m", "g", "t", "p", "e"];
  letters.forEach((l, i) => {
    const n = BigInt(i + 1);
    out[l] = 1000n ** n;
    for (const s of ["b", "i", "ib"]) out[l + s] = 1024n ** n;
  });
  return out;
})();

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DIGIT = /[\p{Nd}-]/u;

function parseInteger(tok: Token, pos: SourcePos): number {
  const raw = tok.value;
  let i = 0;
  while (i < raw.length && DIGIT.test(raw[i]!)) i++;
  const digits = raw.slice(0, i);
  if (!/^[+-]?[0-9]+$/.test(digits)) throw new ConfigError(`expected an integer, but got '${raw}'`, pos);
  const n = BigInt(digits);
  if (n < INT64_MIN || n > INT64_MAX) throw new ConfigError(`integer '${raw}' is out of range`, pos);
  const suffix = raw.slice(i).trim().toLowerCase();
  const mult = SIZE_SUFFIXES[suffix];
  // nats-server silently drops a value with a suffix like `kbb`; a typo in a size should not vanish.
  if (mult === undefined) throw new ConfigError(`'${raw}' has an unknown size suffix '${raw.slice(i)}' (use k, kb, ki, kib, m, mb, ... e, eb)`, pos);
  // Wrap like Go's int64 multiplication so huge sizes mean what they mean to nats-server.
  return Number(BigInt.asIntN(64, n * mult));
}

function parseDatetime(raw: string, pos: SourcePos): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(raw);
  const bad = (): ConfigError => new ConfigError(`expected a Zulu date like 2006-01-02T15:04:05Z, but got '${raw}'`, pos);
  if (!m) throw bad();
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1] ?? 0;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) throw bad();
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(y);
  return date;
}
