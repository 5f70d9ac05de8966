// Entry point: command line + config file -> validated ServerOptions, and re-reading them on SIGHUP.
//
// Precedence is nats-server's: defaults, then the config file, then flags. Every fatal problem is
// a ConfigError whose message is one line naming where it came from ("file:line:col: key: ..." or
// "flag -p: ..."); the caller prints it and exits 1.

import { dirname, resolve } from "node:path";
import { diffOptions, type OptionChange } from "./diff.js";
import { ConfigError } from "./errors.js";
import { applyFlags, lastFlag, parseFlags, type ParsedFlags } from "./flags.js";
import { applyConfig, newConfigState, type ConfigState } from "./keys.js";
import {
  AUTH_TIMEOUT_MS,
  DEFAULT_CONNECT_ERROR_REPORTS,
  DEFAULT_HOST,
  DEFAULT_LAME_DUCK_DURATION_MS,
  DEFAULT_LAME_DUCK_GRACE_PERIOD_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_MAX_OUT,
  DEFAULT_PORT,
  DEFAULT_RECONNECT_ERROR_REPORTS,
  DEFAULT_WRITE_DEADLINE_MS,
  MAX_CONTROL_LINE_SIZE,
  MAX_PAYLOAD_MAX_SIZE,
  MAX_PAYLOAD_SIZE,
  MAX_PENDING_SIZE,
  defaultOptions,
  type ServerOptions,
  type UnsupportedOption,
} from "./options.js";
import { parseFile, parseText, type ParseResult } from "./parser.js";
import { Reader } from "./reader.js";
import { serverOptionsSchema } from "./schema.js";

export { ConfigError } from "./errors.js";
export type { OptionChange } from "./diff.js";
export { diffOptions, isReloadable } from "./diff.js";
export { defaultOptions } from "./options.js";
export type { ServerOptions, Permissions, SubjectPermission, UserEntry, AccountEntry, UnsupportedOption } from "./options.js";
export { usageText, versionText } from "./usage.js";

export type Action = "run" | "version" | "help" | "test";

export interface LoadResult {
  options: ServerOptions;
  warnings: string[];
  action: Action;
  // What was loaded, kept so reloadOptions can do it again.
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  // Every config file read (the main one and its includes), absolute.
  files: string[];
}

export interface ReloadResult extends LoadResult {
  // Everything that differs from the previous options; the server applies the reloadable ones and
  // warns that the others need a restart.
  changes: OptionChange[];
  // The changed paths alone (changes.map(c => c.path)).
  changed: string[];
}

export function loadOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): LoadResult {
  const flags = parseFlags(argv);
  const base = { argv: [...argv], env, files: [] as string[], warnings: [] as string[] };

  // nats-server's order: -v, then -h, then --help_tls, then a `version`/`help` command word.
  if (lastFlag(flags, "version")?.value === true) return { ...base, options: defaultOptions(), action: "version" };
  if (lastFlag(flags, "help")?.value === true || lastFlag(flags, "help_tls")?.value === true) {
    return { ...base, options: defaultOptions(), action: "help" };
  }
  if (flags.positional.length > 0) {
    const cmd = flags.positional[0]!;
    if (cmd.toLowerCase() === "version") return { ...base, options: defaultOptions(), action: "version" };
    if (cmd.toLowerCase() === "help") return { ...base, options: defaultOptions(), action: "help" };
    throw new ConfigError(`unrecognized command: ${JSON.stringify(cmd)}`);
  }
  const signal = lastFlag(flags, "signal");
  if (signal) throw new ConfigError(`flag ${signal.as}: sending signals is not supported; use kill -HUP/-USR2/-TERM <pid>`);

  const testOnly = lastFlag(flags, "t")?.value === true;
  const configFile = lastFlag(flags, "config")?.value as string | undefined;
  if (testOnly && !configFile) throw new ConfigError("must specify [-c, --config] option to check configuration file syntax");

  const source = configFile ? () => parseFile(configFile, { env }) : undefined;
  const { options, warnings, files } = build(flags, configFile, source);
  return { ...base, options, warnings, files, action: testOnly ? "test" : "run" };
}

// Loads options from config text that is not in a file (tests, embedding). `file` names it in
// messages and anchors relative includes; `argv` holds flags other than -c.
export function loadConfigText(
  text: string,
  opts: { file?: string; argv?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): LoadResult {
  const argv = opts.argv ?? [];
  const env = opts.env ?? process.env;
  const flags = parseFlags(argv);
  if (lastFlag(flags, "config")) throw new ConfigError("loadConfigText: pass the config as text, not with -c");
  const file = opts.file ?? "<config>";
  const source = () => parseText(text, file, { env, baseDir: dirname(resolve(file)) });
  const { options, warnings, files } = build(flags, undefined, source);
  return { argv: [...argv], env, options, warnings, files, action: "run" };
}

// Re-reads the config file with the original command line (flags still win) for SIGHUP.
export function reloadOptions(previous: LoadResult): ReloadResult {
  if (!previous.options.configFile) throw new ConfigError("config reload needs a configuration file given with -c or --config");
  const next = loadOptions(previous.argv, previous.env);
  const changes = diffOptions(previous.options, next.options);
  return { ...next, changes, changed: changes.map((c) => c.path) };
}

// Unsupported options that would leave the server more open than its configuration says; the
// server refuses to start (and `-t` should fail) when there are any. One message per option.
export function securityRefusals(options: ServerOptions): string[] {
  return options.unsupported
    .filter((u: UnsupportedOption) => u.weakensSecurity)
    .map((u) => `${u.where}: ${u.path}: not supported by tsnats yet; refusing to start because ignoring it would weaken security`);
}

function build(
  flags: ParsedFlags,
  configFile: string | undefined,
  source: (() => ParseResult) | undefined,
): { options: ServerOptions; warnings: string[]; files: string[] } {
  const r = new Reader();
  const opts = defaultOptions();
  const st = newConfigState();
  let files: string[] = [];
  const warnings: string[] = [];
  if (configFile) opts.configFile = resolve(configFile);
  if (source) {
    const parsed = source();
    warnings.push(...parsed.warnings);
    files = parsed.files;
    applyConfig(parsed.root, r, opts, st);
  }
  applyFlags(opts, flags, r);
  finalize(opts, st);
  opts.unsupported = r.unsupported;
  const valid = validateSchema(opts, r);
  checkForStart(valid, st, r);
  warnings.push(...r.warnings);
  return { options: valid, warnings, files };
}

// nats-server's setBaselineOptions: zero means "default" for most settings.
function finalize(o: ServerOptions, st: ConfigState): void {
  if (o.port === 0) o.port = DEFAULT_PORT;
  if (o.maxConnections === 0) o.maxConnections = DEFAULT_MAX_CONNECTIONS;
  if (o.pingIntervalMs === 0) o.pingIntervalMs = DEFAULT_PING_INTERVAL_MS;
  if (o.pingMax === 0) o.pingMax = DEFAULT_PING_MAX_OUT;
  if (o.maxControlLine === 0) o.maxControlLine = MAX_CONTROL_LINE_SIZE;
  if (o.maxPayload === 0) o.maxPayload = MAX_PAYLOAD_SIZE;
  if (o.maxPending === 0) o.maxPending = MAX_PENDING_SIZE;
  if (o.writeDeadlineMs === 0) o.writeDeadlineMs = DEFAULT_WRITE_DEADLINE_MS;
  if (o.lameDuckDurationMs === 0) o.lameDuckDurationMs = DEFAULT_LAME_DUCK_DURATION_MS;
  if (o.lameDuckGracePeriodMs === 0) o.lameDuckGracePeriodMs = DEFAULT_LAME_DUCK_GRACE_PERIOD_MS;
  if (o.connectErrorReports === 0) o.connectErrorReports = DEFAULT_CONNECT_ERROR_REPORTS;
  if (o.reconnectErrorReports === 0) o.reconnectErrorReports = DEFAULT_RECONNECT_ERROR_REPORTS;
  if (o.http) {
    // Port 0 means no monitoring listener, as in nats-server.
    if (o.http.port === 0) delete o.http;
    else {
      if (o.http.host === "") o.http.host = o.host;
      o.http.basePath = st.httpBasePath ?? "/";
    }
  }
  if (o.cluster && o.cluster.host === "") o.cluster.host = DEFAULT_HOST;
  if (o.websocket && o.websocket.host === "") o.websocket.host = DEFAULT_HOST;
  const authTimeout = o.authorization?.timeoutMs;
  if (authTimeout) o.authTimeoutMs = authTimeout;
  else o.authTimeoutMs = o.tls ? o.tls.timeoutMs + 1000 : AUTH_TIMEOUT_MS;
}

function validateSchema(o: ServerOptions, r: Reader): ServerOptions {
  const res = serverOptionsSchema.safeParse(o);
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const path = issue.path.map(String);
  const optionPath = path.join(".");
  // The closest enclosing option whose source we know.
  for (let n = path.length; n > 0; n--) {
    const src = r.sources.get(path.slice(0, n).join("."));
    if (src) {
      const where = src.where === "command line" ? src.key : `${src.where}: ${src.key}`;
      throw new ConfigError(`${where}: ${issue.message} (${optionPath})`);
    }
  }
  throw new ConfigError(`invalid option ${optionPath}: ${issue.message}`);
}

// Checks nats-server makes when the server starts (validateOptions) rather than when it reads
// the file. tsnats makes them at load so that `-t` answers "would this start?".
function checkForStart(o: ServerOptions, st: ConfigState, r: Reader): void {
  const at = (...paths: string[]): string => {
    for (const path of paths) {
      const src = r.sources.get(path);
      if (src) return src.where === "command line" ? src.key : `${src.where}: ${src.key}`;
    }
    return o.configFile ?? "options";
  };
  if (o.lameDuckGracePeriodMs >= o.lameDuckDurationMs) {
    throw new ConfigError(
      `${at("lameDuckGracePeriodMs", "lameDuckDurationMs")}: lame duck grace period (${o.lameDuckGracePeriodMs}ms) should be strictly lower than lame duck duration (${o.lameDuckDurationMs}ms)`,
    );
  }
  if (o.maxPayload > o.maxPending) {
    throw new ConfigError(`${at("maxPayload", "maxPending")}: max_payload (${o.maxPayload}) cannot be higher than max_pending (${o.maxPending})`);
  }
  if (o.maxPayload > MAX_PAYLOAD_MAX_SIZE) {
    r.warnings.push(`${at("maxPayload")}: max_payload over ${MAX_PAYLOAD_MAX_SIZE / (1024 * 1024)}MB is generally discouraged`);
  }
  const auth = o.authorization;
  if (auth?.user !== undefined && auth.users !== undefined) {
    throw new ConfigError(`${at("authorization")}: a single user (--user) cannot be combined with a users list`);
  }
  if (o.noAuthUser !== undefined && o.noAuthUser !== "") {
    if (o.operator) throw new ConfigError(`${at("noAuthUser")}: no_auth_user not compatible with trusted operators`);
    const users = [...(auth?.users ?? []), ...Object.values(o.accounts ?? {}).flatMap((a) => a.users)];
    const hasUsers = auth?.users !== undefined || Object.values(o.accounts ?? {}).some((a) => a.users.length > 0);
    if (!hasUsers) throw new ConfigError(`${at("noAuthUser")}: no_auth_user "${o.noAuthUser}" present, but users are not defined`);
    if (!users.some((u) => u.nkey === undefined && u.user === o.noAuthUser)) {
      throw new ConfigError(`${at("noAuthUser")}: no_auth_user "${o.noAuthUser}" not present as user in authorization block or account configuration`);
    }
  }
  if (o.websocket && o.websocket.port !== 0 && !o.websocket.noTls && !st.ws.hasTls) {
    throw new ConfigError(`${at("websocket")}: websocket requires TLS configuration (or no_tls: true)`);
  }
}
