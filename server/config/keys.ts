// Maps the top-level keys of a parsed config onto ServerOptions (server/opts.go's
// processConfigFileLine). Key names are matched case-insensitively, with nats-server's aliases.

import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { isValidPublicNkey } from "./nkey.js";
import type { ConfMap, ConfNode } from "./parser.js";
import type { ServerOptions } from "./options.js";
import { fieldsOf, readListen, type Field, type Reader } from "./reader.js";
import { checkAuthorization, parseAuthorization, type ParsedAuthorization } from "./keys-auth.js";
import { parseAccounts, parseMappings } from "./keys-accounts.js";
import { parseJetStream, parseTopStoreDir, type JetStreamState } from "./keys-jetstream.js";
import { parseCluster, parseTls, parseWebsocket, urlProblem, type WebsocketExtras } from "./keys-net.js";

export interface ConfigState {
  js: JetStreamState;
  auth?: ParsedAuthorization;
  accountUserFields: Map<string, Field>;
  ws: WebsocketExtras;
  httpBasePath?: string;
}

export function newConfigState(): ConfigState {
  return { js: {}, accountUserFields: new Map(), ws: { hasTls: false } };
}

type Handler = (r: Reader, opts: ServerOptions, f: Field, st: ConfigState) => void;

const HANDLERS = new Map<string, Handler>();
function on(names: string[], h: Handler): void {
  for (const n of names) HANDLERS.set(n, h);
}

function setString(path: keyof ServerOptions): Handler {
  return (r, o, f) => {
    (o as Record<string, unknown>)[path] = r.string(f);
    r.source(path, f);
  };
}
function setInt(path: keyof ServerOptions): Handler {
  return (r, o, f) => {
    (o as Record<string, unknown>)[path] = r.int(f);
    r.source(path, f);
  };
}
function setBool(path: keyof ServerOptions): Handler {
  return (r, o, f) => {
    (o as Record<string, unknown>)[path] = r.bool(f);
    r.source(path, f);
  };
}
// Parsed (so a wrong value still fails) but not implemented by tsnats.
function unsupported(weakensSecurity: boolean, check: (r: Reader, f: Field) => void): Handler {
  return (r, _o, f) => {
    check(r, f);
    r.markUnsupported(f, weakensSecurity);
  };
}

function httpOf(o: ServerOptions): NonNullable<ServerOptions["http"]> {
  return (o.http ??= { host: "", port: 0, basePath: "/" });
}

export function normalizeBasePath(p: string): string {
  if (p === "") return "/";
  const withSlash = p.startsWith("/") ? p : "/" + p;
  const clean = posix.normalize(withSlash);
  return clean.length > 1 && clean.endsWith("/") ? clean.slice(0, -1) : clean;
}

on(["listen"], (r, o, f) => {
  const hp = readListen(r, f);
  if (hp.host !== undefined) o.host = hp.host;
  o.port = hp.port;
  r.source("port", f);
  r.source("host", f);
});
on(["client_advertise"], setString("clientAdvertise"));
on(["port"], setInt("port"));
on(["server_name"], setString("serverName"));
on(["host", "net"], setString("host"));
on(["debug"], setBool("debug"));
on(["trace"], setBool("trace"));
on(["trace_verbose"], (r, o, f) => {
  o.traceVerbose = r.bool(f);
  o.trace = o.traceVerbose;
});
on(["logtime"], setBool("logtime"));
// tsnats: pino JSON log lines instead of nats-server's text format.
on(["log_json"], setBool("logJson"));
on(["mappings", "maps"], (r, o, f) => {
  o.mappings = parseMappings(r, f);
});
on(["disable_sublist_cache", "no_sublist_cache"], setBool("noSublistCache"));
on(["accounts"], (r, o, f, st) => {
  const pa = parseAccounts(r, f);
  o.accounts = pa.accounts;
  st.accountUserFields = pa.userFields;
});
on(["authorization"], (r, o, f, st) => {
  st.auth = parseAuthorization(r, f, "authorization");
  o.authorization = st.auth.auth;
  r.source("authorization", f);
});
on(["http"], (r, o, f) => {
  const hp = readListen(r, f);
  const h = httpOf(o);
  h.host = hp.host ?? "";
  h.port = hp.port;
  r.source("http", f);
  r.source("http.port", f);
});
on(["http_port", "monitor_port"], (r, o, f) => {
  httpOf(o).port = r.int(f);
  r.source("http", f);
  r.source("http.port", f);
});
on(["https"], unsupported(false, (r, f) => void readListen(r, f)));
on(["https_port"], unsupported(false, (r, f) => void r.int(f)));
on(["http_base_path"], (r, _o, f, st) => {
  st.httpBasePath = normalizeBasePath(r.string(f));
});
on(["cluster"], (r, o, f) => parseCluster(r, o, f));
on(["gateway"], unsupported(false, (r, f) => void r.map(f)));
on(["leaf", "leafnodes"], unsupported(false, (r, f) => void r.map(f)));
on(["mqtt"], unsupported(false, (r, f) => void r.map(f)));
on(["store_dir", "storedir"], (r, o, f, st) => parseTopStoreDir(r, o, f, st.js));
on(["jetstream"], (r, o, f, st) => parseJetStream(r, o, f, st.js));
on(["logfile", "log_file"], setString("logFile"));
on(["logfile_size_limit", "log_size_limit"], unsupported(false, (r, f) => void r.int(f)));
on(["syslog"], unsupported(false, (r, f) => void r.bool(f)));
on(["remote_syslog"], unsupported(false, (r, f) => void r.string(f)));
on(["pidfile", "pid_file"], setString("pidFile"));
on(["ports_file_dir"], setString("portsFileDir"));
on(["prof_port"], unsupported(false, (r, f) => void r.int(f)));
on(["max_control_line"], setInt("maxControlLine"));
on(["max_payload"], setInt("maxPayload"));
on(["max_pending"], setInt("maxPending"));
on(["max_connections", "max_conn"], setInt("maxConnections"));
on(["max_traced_msg_len"], setInt("maxTracedMsgLen"));
on(["max_subscriptions", "max_subs"], setInt("maxSubscriptions"));
on(["max_sub_tokens", "max_subscription_tokens"], (r, o, f) => {
  const n = r.int(f);
  if (n > 255) r.fail(f, "value is too big (at most 255)");
  if (n <= 0) r.fail(f, "value must be positive");
  o.maxSubTokens = n;
});
on(["ping_interval"], (r, o, f) => {
  o.pingIntervalMs = r.durationMs(f, { secondsAllowed: true });
  r.source("pingIntervalMs", f);
});
on(["ping_max"], setInt("pingMax"));
on(["tls"], (r, o, f) => {
  o.tls = parseTls(r, f, "client");
  r.source("tls", f);
});
on(["ocsp"], (r, _o, f) => {
  if (f.node.kind === "bool") {
    if (f.node.value) r.markUnsupported(f, true);
    return;
  }
  for (const oc of r.fields(f)) {
    switch (oc.key) {
      case "mode": {
        const m = r.string(oc).toLowerCase();
        if (!["always", "must", "never", "auto"].includes(m)) r.fail(oc, `unsupported ocsp mode ${JSON.stringify(m)}`);
        break;
      }
      case "urls":
        r.strings(oc);
        break;
      case "url":
        r.string(oc);
        break;
      default:
        r.fail(oc, "unsupported field in ocsp configuration");
    }
  }
  // Clients that rely on stapled revocation status would not get it.
  r.markUnsupported(f, true);
});
on(["allow_non_tls"], unsupported(false, (r, f) => void r.bool(f)));
on(["write_deadline"], (r, o, f) => {
  o.writeDeadlineMs = r.durationMs(f, { secondsAllowed: true });
  r.source("writeDeadlineMs", f);
});
on(["lame_duck_duration"], (r, o, f) => {
  const ms = r.durationMs(f, { secondsAllowed: false });
  if (ms < 30_000) r.fail(f, `invalid lame_duck_duration of ${(f.node as { value: string }).value}, minimum is 30 seconds`);
  o.lameDuckDurationMs = ms;
  r.source("lameDuckDurationMs", f);
});
on(["lame_duck_grace_period"], (r, o, f) => {
  const ms = r.durationMs(f, { secondsAllowed: false });
  if (ms < 0) r.fail(f, "invalid lame_duck_grace_period, needs to be positive");
  o.lameDuckGracePeriodMs = ms;
  r.source("lameDuckGracePeriodMs", f);
});
on(["operator", "operators", "roots", "root", "root_operators", "root_operator"], (r, o, f) => {
  const list = r.strings(f);
  for (const entry of list) {
    // An inline JWT starts with the base64 of '{"'; anything else is a file to read.
    if (entry.startsWith("eyJ")) continue;
    try {
      readFileSync(entry);
    } catch (e) {
      r.fail(f, `error parsing operator JWT: ${(e as Error).message}`);
    }
  }
  o.operator = list;
  r.markUnsupported(f, true);
});
on(["resolver", "account_resolver", "accounts_resolver"], (r, o, f) => {
  checkResolver(r, f);
  o.resolver = toPlain(f.node);
  r.markUnsupported(f, true);
});
on(["resolver_tls"], (r, _o, f) => {
  parseTls(r, f, "client");
  r.markUnsupported(f, true);
});
on(["resolver_preload"], (r, o, f) => {
  const preload: Record<string, string> = {};
  for (const pf of r.fields(f)) preload[pf.key] = r.string(pf);
  o.resolverPreload = preload;
  r.markUnsupported(f, true);
});
on(["resolver_pinned_accounts"], unsupported(true, (r, f) => void r.strings(f)));
on(["no_auth_user"], setString("noAuthUser"));
on(["system_account", "system"], setString("systemAccount"));
on(["no_system_account", "no_system", "no_sys_acc"], setBool("noSystemAccount"));
on(["no_header_support"], setBool("noHeaderSupport"));
on(["trusted", "trusted_keys"], (r, o, f) => {
  const keys = r.strings(f);
  for (const k of keys) if (!isValidPublicNkey(k, "operator")) r.fail(f, `trust key ${JSON.stringify(k)} required to be a valid public operator nkey`);
  o.trustedKeys = keys;
  r.markUnsupported(f, true);
});
on(["connect_error_reports"], setInt("connectErrorReports"));
on(["reconnect_error_reports"], setInt("reconnectErrorReports"));
on(["websocket", "ws"], (r, o, f, st) => parseWebsocket(r, o, f, st.ws));
on(["server_tags"], (r, o, f) => {
  o.serverTags = r.strings(f);
});
on(["default_js_domain"], unsupported(false, (r, f) => {
  for (const df of r.fields(f)) r.string(df);
}));

export function applyConfig(root: ConfMap, r: Reader, opts: ServerOptions, st: ConfigState): void {
  for (const f of fieldsOf(root, "")) {
    const h = HANDLERS.get(f.key.toLowerCase());
    if (h) h(r, opts, f, st);
    else r.unknown(f);
  }
  checkAuthorization(r, st.auth, st.accountUserFields);
}

function checkResolver(r: Reader, f: Field): void {
  const bad = (): never =>
    r.fail(f, 'error parsing account resolver, should be MEM or URL("url") or a map containing dir and type (FULL or CACHE)');
  if (f.node.kind === "string") {
    const v = f.node.value;
    if (/(MEM|MEMORY)\s*/i.test(v)) return;
    const m = /URL(?:\(\s*"?([^\s"]*)"?\s*\))?\s*/i.exec(v);
    if (!m) bad();
    const problem = urlProblem(m![1] ?? "");
    if (problem) r.fail(f, `error parsing account resolver url: ${problem}`);
    return;
  }
  if (f.node.kind !== "map") r.expected(f, 'MEM, URL("url") or a resolver map');
  let dir: string | undefined;
  let type = "";
  for (const rf of r.fields(f)) {
    switch (rf.key) {
      case "dir":
        dir = r.string(rf);
        break;
      case "type":
        type = r.string(rf).toUpperCase();
        break;
      case "allow_delete":
        r.bool(rf);
        break;
      case "limit":
        r.int(rf);
        break;
      case "ttl":
      case "interval":
      case "timeout":
        r.durationMs(rf, { secondsAllowed: false });
        break;
    }
  }
  if (!dir) r.fail(f, "dir has no value and needs to point to a directory");
  if (type !== "FULL" && type !== "CACHE") bad();
}

// Plain JSON for values kept opaque in ServerOptions.
export function toPlain(node: ConfNode): unknown {
  switch (node.kind) {
    case "array":
      return node.value.map(toPlain);
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [k, e] of node.value) out[k] = toPlain(e.node);
      return out;
    }
    case "datetime":
      return node.value.toISOString();
    default:
      return node.value;
  }
}
