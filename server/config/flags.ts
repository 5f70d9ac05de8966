// nats-server's command line, parsed with the rules of Go's `flag` package (which nats-server
// uses): `-f` and `--f` are the same flag; a value follows as `-f v` or `-f=v`; a boolean flag takes
// no value but accepts `-f=true|false`; parsing stops at the first argument that is not a flag or
// after `--`. Flags override the config file (applyFlags runs after the file is mapped).

import { flagError, ConfigError } from "./errors.js";
import { newCluster, checkTlsFiles, newTls, urlProblem } from "./keys-net.js";
import { newJetStream } from "./keys-jetstream.js";
import type { ServerOptions } from "./options.js";
import { splitHostPort, type Reader } from "./reader.js";

// main.ts prints this for -h; the text lives in usage.ts.
export { usageText as usage } from "./usage.js";

type Kind = "bool" | "int" | "string";

interface FlagDef {
  kind: Kind;
  // Flags that nats-server binds to the same variable share a canonical name.
  canonical: string;
}

const DEFS = new Map<string, FlagDef>();
function def(kind: Kind, canonical: string, ...aliases: string[]): void {
  for (const a of [canonical, ...aliases]) DEFS.set(a, { kind, canonical });
}

def("bool", "help", "h");
def("int", "port", "p");
def("string", "server_name", "n", "name");
def("string", "addr", "a", "net");
def("string", "client_advertise");
def("bool", "debug", "D");
def("bool", "trace", "V");
def("bool", "VV");
def("bool", "DV");
def("bool", "DVV");
def("bool", "logtime", "T");
def("string", "user");
def("string", "pass");
def("string", "auth");
def("int", "http_port", "m");
def("int", "https_port", "ms");
def("string", "config", "c");
def("bool", "t");
def("string", "signal", "sl");
def("string", "pid", "P");
def("string", "ports_file_dir");
def("string", "log", "l");
def("int", "log_size_limit");
def("bool", "syslog", "s");
def("string", "remote_syslog", "r");
def("bool", "version", "v");
def("int", "profile");
def("string", "routes");
def("string", "cluster", "cluster_listen");
def("string", "cluster_advertise");
def("bool", "no_advertise");
def("int", "connect_retries");
def("string", "cluster_name");
def("bool", "help_tls");
def("bool", "tls");
def("bool", "tlsverify");
def("string", "tlscert");
def("string", "tlskey");
def("string", "tlscacert");
def("int", "max_traced_msg_len");
def("bool", "jetstream", "js");
def("string", "store_dir", "sd");
// tsnats: pino JSON log lines instead of nats-server's text format.
def("bool", "log_json");

export interface FlagSetting {
  name: string; // canonical
  as: string; // as written, e.g. "-p" or "--port"
  value: string | number | boolean;
}

export interface ParsedFlags {
  settings: FlagSetting[];
  positional: string[];
}

// strconv.ParseBool
function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// strconv.ParseInt(s, 0, 64): sign, then 0x / 0o / 0b / leading-0 octal prefixes, underscores
// allowed between digits.
export function parseGoInt(s: string): number | "syntax" | "range" {
  const m = /^([+-]?)(0[xX]_?[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*|0[bB]_?[01]+(?:_[01]+)*|0[oO]_?[0-7]+(?:_[0-7]+)*|0_?[0-7]+(?:_[0-7]+)*|[1-9][0-9]*(?:_[0-9]+)*|0)$/.exec(s);
  if (!m) return "syntax";
  let body = m[2]!.replace(/_/g, "");
  if (/^0[0-7]/.test(body)) body = "0o" + body.slice(1);
  let n = BigInt(body.replace(/^0([XBO])/, (_x, c: string) => "0" + c.toLowerCase()));
  if (m[1] === "-") n = -n;
  if (n < INT64_MIN || n > INT64_MAX) return "range";
  return Number(n);
}

export function parseFlags(argv: readonly string[]): ParsedFlags {
  const settings: FlagSetting[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.length < 2 || arg[0] !== "-") break;
    let dashes = 1;
    if (arg[1] === "-") {
      dashes = 2;
      if (arg.length === 2) {
        i++;
        break;
      }
    }
    let name = arg.slice(dashes);
    if (name.length === 0 || name[0] === "-" || name[0] === "=") throw flagError(arg, "bad flag syntax");
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const as = "-".repeat(dashes) + name;
    const d = DEFS.get(name);
    if (!d) throw flagError(as, "unknown flag (see --help)");
    if (d.kind === "bool") {
      if (value === undefined) settings.push({ name: d.canonical, as, value: true });
      else {
        const b = parseGoBool(value);
        if (b === undefined) throw flagError(as, `invalid boolean value ${JSON.stringify(value)}`);
        settings.push({ name: d.canonical, as, value: b });
      }
      continue;
    }
    if (value === undefined) {
      // Like Go, the next argument is the value even when it starts with '-' (`-p -1`).
      if (i + 1 >= argv.length) throw flagError(as, "needs an argument");
      value = argv[++i]!;
    }
    if (d.kind === "int") {
      const n = parseGoInt(value);
      if (n === "syntax") throw flagError(as, `invalid value ${JSON.stringify(value)}: expected an integer`);
      if (n === "range") throw flagError(as, `invalid value ${JSON.stringify(value)}: out of range`);
      settings.push({ name: d.canonical, as, value: n });
    } else {
      settings.push({ name: d.canonical, as, value });
    }
  }
  return { settings, positional: argv.slice(i) };
}

export function lastFlag(flags: ParsedFlags, name: string): FlagSetting | undefined {
  for (let i = flags.settings.length - 1; i >= 0; i--) if (flags.settings[i]!.name === name) return flags.settings[i];
  return undefined;
}

function authOf(o: ServerOptions): NonNullable<ServerOptions["authorization"]> {
  return (o.authorization ??= {});
}

function clusterOf(o: ServerOptions): NonNullable<ServerOptions["cluster"]> {
  return (o.cluster ??= newCluster());
}

// `--cluster nats://[user:pass@]host:port`; an empty value turns the route listener off.
function overrideCluster(o: ServerOptions, s: FlagSetting): void {
  const text = String(s.value);
  if (text === "") {
    if (o.cluster) o.cluster.port = 0;
    return;
  }
  // ":-1" (random port) is not a valid URL port; nats-server swaps it out before parsing too.
  const random = text.endsWith(":-1");
  const parsable = random ? text.slice(0, -3) + ":0" : text;
  const problem = urlProblem(parsable);
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(parsable);
  if (problem || !m) throw flagError(s.as, `invalid cluster URL ${JSON.stringify(text)}: ${problem ?? "expected scheme://host:port"}`);
  const authority = m[1]!;
  const at = authority.lastIndexOf("@");
  const hp = splitHostPort(authority.slice(at + 1));
  if (typeof hp === "string") throw flagError(s.as, `invalid cluster URL ${JSON.stringify(text)}: ${hp}`);
  const c = clusterOf(o);
  c.host = hp.host;
  c.port = random ? -1 : hp.port;
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(":");
    if (colon < 0) throw flagError(s.as, "expected cluster password to be set");
    c.authorization = {
      ...c.authorization,
      user: decodeURIComponent(userinfo.slice(0, colon)),
      password: decodeURIComponent(userinfo.slice(colon + 1)),
    };
  } else if (c.authorization) {
    // As in nats-server: credentials from the file do not survive a --cluster without any.
    delete c.authorization.user;
    delete c.authorization.password;
  }
}

export function applyFlags(o: ServerOptions, flags: ParsedFlags, r: Reader): void {
  const src = (path: string, s: FlagSetting): void => r.sourceText(path, `flag ${s.as}`);
  const unsupported = (s: FlagSetting, weakensSecurity: boolean): void => {
    r.unsupported.push({ path: `flag ${s.as}`, where: "command line", weakensSecurity });
  };
  for (const s of flags.settings) {
    const v = s.value;
    switch (s.name) {
      case "port":
        o.port = v as number;
        src("port", s);
        break;
      case "server_name":
        o.serverName = v as string;
        break;
      case "addr":
        o.host = v as string;
        break;
      case "client_advertise":
        o.clientAdvertise = v as string;
        break;
      case "debug":
        o.debug = v as boolean;
        break;
      case "trace":
        o.trace = v as boolean;
        break;
      case "logtime":
        o.logtime = v as boolean;
        break;
      case "log_json":
        o.logJson = v as boolean;
        break;
      case "user":
        authOf(o).user = v as string;
        break;
      case "pass":
        authOf(o).password = v as string;
        break;
      case "auth":
        authOf(o).token = v as string;
        break;
      case "http_port":
        (o.http ??= { host: "", port: 0, basePath: "/" }).port = v as number;
        src("http.port", s);
        break;
      case "pid":
        o.pidFile = v as string;
        break;
      case "ports_file_dir":
        o.portsFileDir = v as string;
        break;
      case "log":
        o.logFile = v as string;
        break;
      case "cluster_advertise":
        clusterOf(o).advertise = v as string;
        break;
      case "no_advertise":
        clusterOf(o).noAdvertise = v as boolean;
        break;
      case "connect_retries":
        clusterOf(o).connectRetries = v as number;
        src("cluster.connectRetries", s);
        break;
      case "cluster_name":
        clusterOf(o).name = v as string;
        break;
      case "max_traced_msg_len":
        o.maxTracedMsgLen = v as number;
        src("maxTracedMsgLen", s);
        break;
      case "jetstream":
        (o.jetstream ??= newJetStream()).enabled = v as boolean;
        break;
      case "store_dir":
        (o.jetstream ??= newJetStream()).storeDir = v as string;
        break;
      case "https_port":
      case "log_size_limit":
      case "syslog":
      case "remote_syslog":
      case "profile":
        unsupported(s, false);
        break;
    }
  }

  // Combined flags win over -D/-V whatever their order, as in nats-server, which applies them last.
  for (const name of ["DV", "DVV", "VV"]) {
    const s = lastFlag(flags, name);
    if (!s) continue;
    const on = s.value as boolean;
    if (name !== "VV") o.debug = on;
    o.trace = on;
    if (name !== "DV") o.traceVerbose = on;
  }

  const cluster = lastFlag(flags, "cluster");
  if (cluster) {
    overrideCluster(o, cluster);
    src("cluster.port", cluster);
  }
  const routes = lastFlag(flags, "routes");
  if (routes) {
    const text = String(routes.value);
    const list = text
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x !== "");
    for (const u of list) {
      const problem = urlProblem(u);
      if (problem) throw flagError(routes.as, `invalid route URL ${JSON.stringify(u)}: ${problem}`);
    }
    if (list.length > 0 || o.cluster) clusterOf(o).routes = list;
    const c = o.cluster;
    if (text !== "" && !cluster && (!c || (c.host === "" && c.port === 0))) {
      throw new ConfigError("solicited routes require cluster capabilities, e.g. --cluster");
    }
  }

  applyTlsFlags(o, flags, src);
}

function applyTlsFlags(o: ServerOptions, flags: ParsedFlags, src: (path: string, s: FlagSetting) => void): void {
  const tlsFlag = lastFlag(flags, "tls");
  if (tlsFlag && tlsFlag.value === false) {
    // `-tls=false` turns TLS off, whatever the file and the other TLS flags say.
    delete o.tls;
    return;
  }
  const names = ["tls", "tlsverify", "tlscert", "tlskey", "tlscacert"];
  const given = flags.settings.filter((s) => names.includes(s.name));
  if (given.length === 0) return;
  // As in nats-server, any TLS flag replaces the file's tls block with one built from the flags.
  const cert = lastFlag(flags, "tlscert")?.value as string | undefined;
  const key = lastFlag(flags, "tlskey")?.value as string | undefined;
  const ca = lastFlag(flags, "tlscacert")?.value as string | undefined;
  const at = given[given.length - 1]!;
  if (!cert) throw flagError(at.as, "TLS server certificate (--tlscert) must be present and valid");
  if (!key) throw flagError(at.as, "TLS server private key (--tlskey) must be present and valid");
  const t = newTls();
  t.certFile = cert;
  t.keyFile = key;
  if (ca) t.caFile = ca;
  t.verify = (lastFlag(flags, "tlsverify")?.value as boolean | undefined) ?? false;
  const problem = checkTlsFiles(t);
  if (problem) throw flagError(at.as, problem);
  o.tls = t;
  src("tls", at);
}
