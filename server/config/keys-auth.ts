// authorization, users, permissions, accounts and subject mappings (server/opts.go's
// parseAuthorization, parseUsers, parseUserPermissions, parseAccounts, parseAccountMappings).
//
// Where nats-server rejects an unknown key inside permissions, subject permissions and mapping
// destinations (instead of reporting an "unknown field"), so do we: a misspelt `deny` that was
// ignored would grant what the operator meant to forbid.

import { isValidPublicNkey } from "./nkey.js";
import {
  DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS,
  DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
  type AccountEntry,
  type ExportEntry,
  type ImportEntry,
  type MappingDest,
  type Permissions,
  type SubjectPermission,
  type UserEntry,
} from "./options.js";
import { parseAccountJetStream } from "./keys-jetstream.js";
import type { Field, Reader } from "./reader.js";

// nats-server's IsValidSubject: non-empty tokens, no whitespace, '>' only last.
export function isValidSubject(subject: string): boolean {
  if (subject === "") return false;
  const tokens = subject.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.length === 0) return false;
    if (/[\t\n\f\r ]/.test(t)) return false;
    if (t === ">" && i !== tokens.length - 1) return false;
  }
  return true;
}

const lower = (f: Field): string => f.key.toLowerCase();

function permSubjects(r: Reader, f: Field): string[] {
  if (f.node.kind !== "string" && f.node.kind !== "array") r.expected(f, "a subject or an array of subjects");
  const subjects = r.strings(f);
  for (const s of subjects) {
    if (isValidSubject(s)) continue;
    // A queue permission is "subject queue".
    const parts = s.split(/\s+/).filter((p) => p !== "");
    if (parts.length !== 2 || !isValidSubject(parts[0]!)) r.fail(f, `subject ${JSON.stringify(s)} is not a valid subject`);
  }
  return subjects;
}

function subjectPermission(r: Reader, f: Field): SubjectPermission | undefined {
  if (f.node.kind !== "map") return { allow: permSubjects(r, f) };
  const fields = r.fields(f);
  if (fields.length === 0) return undefined;
  const p: SubjectPermission = {};
  for (const sf of fields) {
    switch (lower(sf)) {
      case "allow":
        p.allow = permSubjects(r, sf);
        break;
      case "deny":
        p.deny = permSubjects(r, sf);
        break;
      default:
        if (!sf.used) r.fail(sf, "unknown field in subject permissions; only 'allow' and 'deny' are permitted");
    }
  }
  return p;
}

function allowResponses(r: Reader, f: Field): Permissions["allowResponses"] {
  const rp = { maxMsgs: DEFAULT_ALLOW_RESPONSE_MAX_MSGS, expiresMs: DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS };
  if (f.node.kind === "bool") return f.node.value ? rp : undefined;
  if (f.node.kind !== "map") r.expected(f, "a boolean or a map");
  for (const sf of r.fields(f)) {
    switch (lower(sf)) {
      case "max":
      case "max_msgs":
      case "max_messages":
      case "max_responses": {
        // 0 keeps the default; negative means unlimited.
        const n = r.int(sf);
        if (n !== 0) rp.maxMsgs = n;
        break;
      }
      case "expires":
      case "expiration":
      case "ttl": {
        const ms = r.durationMs(sf, { secondsAllowed: false });
        if (ms !== 0) rp.expiresMs = ms;
        break;
      }
      default:
        if (!sf.used) r.fail(sf, "unknown field in allow_responses");
    }
  }
  return rp;
}

export function parsePermissions(r: Reader, f: Field, kind: "user" | "cluster" = "user"): Permissions {
  const p: Permissions = {};
  for (const sf of r.fields(f)) {
    switch (lower(sf)) {
      case "pub":
      case "publish":
      case "import": {
        const sp = subjectPermission(r, sf);
        if (sp) p.publish = sp;
        else delete p.publish;
        break;
      }
      case "sub":
      case "subscribe":
      case "export": {
        const sp = subjectPermission(r, sf);
        if (sp) p.subscribe = sp;
        else delete p.subscribe;
        break;
      }
      case "publish_allow_responses":
      case "allow_responses": {
        if (kind === "cluster") r.fail(sf, "cluster permissions do not support dynamic responses");
        const rp = allowResponses(r, sf);
        if (rp) p.allowResponses = rp;
        break;
      }
      default:
        if (!sf.used) r.fail(sf, "unknown field in permissions; expected publish, subscribe or allow_responses");
    }
  }
  // As in nats-server: allowing responses turns off the blanket publish allow, so publishing is
  // limited to replies unless an explicit allow list is given.
  if (p.allowResponses) {
    p.publish ??= {};
    p.publish.allow ??= [];
  }
  return p;
}

const CONNECTION_TYPES = new Set(["STANDARD", "WEBSOCKET", "LEAFNODE", "LEAFNODE_WS", "MQTT", "MQTT_WS"]);

export interface ParsedUsers {
  users: UserEntry[];
  // Where each user was defined, for duplicate-user errors.
  userFields: Map<string, Field>;
  nkeyCount: number;
}

export function parseUsers(r: Reader, f: Field, optionPath: string, account?: string): ParsedUsers {
  const out: ParsedUsers = { users: [], userFields: new Map(), nkeyCount: 0 };
  for (const item of r.items(f)) {
    if (item.node.kind !== "map") r.expected(item, "a user entry map ({ user: ..., password: ... })");
    let user: string | undefined;
    let password: string | undefined;
    let nkeyField: Field | undefined;
    let permissions: Permissions | undefined;
    let types: string[] | undefined;
    let userField: Field = item;
    for (const uf of r.fields(item)) {
      switch (lower(uf)) {
        case "nkey":
          r.string(uf);
          nkeyField = uf;
          break;
        case "user":
        case "username":
          user = r.string(uf);
          userField = uf;
          break;
        case "pass":
        case "password":
          password = r.string(uf);
          break;
        case "permission":
        case "permissions":
        case "authorization":
          permissions = parsePermissions(r, uf);
          break;
        case "allowed_connection_types":
        case "connection_types":
        case "clients":
          types = r.strings(uf).map((t) => {
            const up = t.toUpperCase();
            if (!CONNECTION_TYPES.has(up)) r.fail(uf, `unknown connection type ${JSON.stringify(t)}`);
            return up;
          });
          break;
        default:
          r.unknown(uf);
      }
    }
    if (nkeyField) {
      const key = (nkeyField.node as { value: string }).value;
      if (!isValidPublicNkey(key, "user")) r.fail(nkeyField, "not a valid public nkey for a user");
      if (user !== undefined || password !== undefined) r.fail(nkeyField, "nkey users do not take usernames or passwords");
      // Ignoring an nkey user could leave a server that was meant to require auth open to all.
      r.markUnsupported(nkeyField, true);
      out.nkeyCount++;
      continue;
    }
    if (user === undefined || user === "") r.fail(item, "user entry requires a user");
    const entry: UserEntry = { user };
    if (password !== undefined) entry.password = password;
    if (permissions) entry.permissions = permissions;
    if (account !== undefined) entry.account = account;
    if (types) entry.allowedConnectionTypes = types;
    r.source(`${optionPath}.${out.users.length}`, userField);
    out.users.push(entry);
    out.userFields.set(user, userField);
  }
  return out;
}

function applyDefaultPermissions(users: UserEntry[], defaults: Permissions | undefined): void {
  if (!defaults) return;
  for (const u of users) u.permissions ??= defaults;
}

export interface ParsedAuthorization {
  auth: NonNullable<import("./options.js").ServerOptions["authorization"]>;
  field: Field;
  singleUserField?: Field;
  tokenField?: Field;
  usersField?: Field;
  parsedUsers?: ParsedUsers;
}

// `authorization`, also used for the cluster block's simpler form.
export function parseAuthorization(r: Reader, f: Field, optionPath: string): ParsedAuthorization {
  const out: ParsedAuthorization = { auth: {}, field: f };
  for (const af of r.fields(f)) {
    switch (lower(af)) {
      case "user":
      case "username":
        out.auth.user = r.string(af);
        out.singleUserField = af;
        r.source(`${optionPath}.user`, af);
        break;
      case "pass":
      case "password":
        out.auth.password = r.string(af);
        out.singleUserField ??= af;
        r.source(`${optionPath}.password`, af);
        break;
      case "token":
        out.auth.token = r.string(af);
        out.tokenField = af;
        r.source(`${optionPath}.token`, af);
        break;
      case "timeout":
        out.auth.timeoutMs = readAuthTimeout(r, af);
        r.source(`${optionPath}.timeoutMs`, af);
        break;
      case "users":
        out.usersField = af;
        out.parsedUsers = parseUsers(r, af, `${optionPath}.users`);
        out.auth.users = out.parsedUsers.users;
        break;
      case "default_permission":
      case "default_permissions":
      case "permissions":
        out.auth.permissions = parsePermissions(r, af);
        break;
      default:
        r.unknown(af);
    }
  }
  if (out.auth.users) applyDefaultPermissions(out.auth.users, out.auth.permissions);
  return out;
}

// Seconds as a number (nats-server), or a duration string (nats-server 2.9.10 silently reads any
// string as one second; a duration is what such a string means).
export function readAuthTimeout(r: Reader, f: Field): number {
  if (f.node.kind === "string") return r.durationMs(f, { secondsAllowed: false });
  return r.number(f) * 1000;
}

// Checks nats-server makes once both `authorization` and `accounts` are known.
export function checkAuthorization(r: Reader, pa: ParsedAuthorization | undefined, accountUsers: Map<string, Field>): void {
  if (!pa) return;
  const { auth } = pa;
  if ((auth.user || auth.password) && auth.token) r.fail(pa.field, "cannot have a user/pass and a token");
  if (auth.users !== undefined || accountUsers.size > 0) {
    if (auth.user) r.fail(pa.field, "can not have a single user/pass and a users array (or users in accounts)");
    if (auth.token) r.fail(pa.field, "can not have a token and a users array (or users in accounts)");
  }
  for (const [name, uf] of pa.parsedUsers?.userFields ?? []) {
    if (accountUsers.has(name)) r.fail(uf, `duplicate user "${name}" detected`);
  }
  if (pa.parsedUsers) {
    const seen = new Set<string>();
    for (const u of pa.parsedUsers.users) {
      if (seen.has(u.user)) r.fail(pa.parsedUsers.userFields.get(u.user) ?? pa.field, `duplicate user "${u.user}" detected`);
      seen.add(u.user);
    }
  }
}

// ---- subject mappings ----

function mappingDest(r: Reader, f: Field): MappingDest {
  if (f.node.kind !== "map") r.expected(f, "a mapping destination map ({ destination: ..., weight: ... })");
  let destination: string | undefined;
  let weight: number | undefined;
  let cluster: string | undefined;
  for (const df of r.fields(f)) {
    switch (lower(df)) {
      case "dest":
      case "destination":
        destination = r.string(df);
        break;
      case "weight": {
        let w: number;
        if (df.node.kind === "string") {
          const text = df.node.value.replace(/%$/, "");
          if (!/^[+-]?[0-9]+$/.test(text)) r.fail(df, `invalid weight ${JSON.stringify(text)} for mapping destination`);
          w = Number(text);
        } else w = r.int(df);
        if (w < 0 || w > 100) r.fail(df, `invalid weight ${w} for mapping destination`);
        weight = w;
        break;
      }
      case "cluster":
        cluster = r.string(df);
        break;
      default:
        r.fail(df, "unknown field for mapping destination");
    }
  }
  if (weight === undefined) r.fail(f, `missing weight for mapping destination ${JSON.stringify(destination ?? "")}`);
  if (destination === undefined) r.fail(f, "missing destination for mapping");
  const d: MappingDest = { destination, weight };
  if (cluster !== undefined) d.cluster = cluster;
  return d;
}

export function parseMappings(r: Reader, f: Field): Record<string, MappingDest[]> {
  const out: Record<string, MappingDest[]> = {};
  for (const mf of r.fields(f)) {
    if (!isValidSubject(mf.key)) r.fail(mf, `subject ${JSON.stringify(mf.key)} is not a valid subject`);
    let dests: MappingDest[];
    if (mf.node.kind === "string") dests = [{ destination: mf.node.value, weight: 100 }];
    else if (mf.node.kind === "array") dests = r.items(mf).map((i) => mappingDest(r, i));
    else dests = [mappingDest(r, mf)];
    const seen = new Set<string>();
    let total = 0;
    for (const d of dests) {
      if (d.destination === "") r.fail(mf, "mapping destination cannot be empty");
      if (seen.has(d.destination)) r.fail(mf, `duplicate entry for ${JSON.stringify(d.destination)}`);
      seen.add(d.destination);
      total += d.weight;
      if (total > 100) r.fail(mf, "total weight of mapping destinations needs to be <= 100");
    }
    out[mf.key] = dests;
  }
  return out;
}

// ---- accounts ----

function exportEntry(r: Reader, f: Field): ExportEntry {
  if (f.node.kind !== "map") r.expected(f, "an export map ({ stream: ... } or { service: ... })");
  const e: ExportEntry = {};
  let responseField: Field | undefined;
  let latencyField: Field | undefined;
  let thresholdField: Field | undefined;
  for (const ef of r.fields(f)) {
    switch (lower(ef)) {
      case "stream":
        if (e.service !== undefined) r.fail(ef, "an export cannot be both a stream and a service");
        e.stream = r.string(ef);
        break;
      case "service":
        if (e.stream !== undefined) r.fail(ef, "an export cannot be both a stream and a service");
        e.service = r.string(ef);
        break;
      case "response":
      case "response_type": {
        if (responseField) r.fail(ef, "duplicate response type definition");
        responseField = ef;
        const t = r.string(ef).toLowerCase();
        if (t === "single" || t === "singleton") e.responseType = "singleton";
        else if (t === "stream") e.responseType = "stream";
        else if (t === "chunk" || t === "chunked") e.responseType = "chunked";
        else r.fail(ef, `unknown response type ${JSON.stringify(t)}`);
        break;
      }
      case "threshold":
      case "response_threshold":
      case "response_max_time":
      case "response_time":
        if (thresholdField) r.fail(ef, "duplicate response threshold detected");
        thresholdField = ef;
        e.responseThresholdMs = r.durationMs(ef, { secondsAllowed: false });
        break;
      case "accounts":
        e.accounts = r.items(ef).map((i) => r.string(i));
        break;
      case "latency":
        latencyField = ef;
        e.latency = latency(r, ef);
        break;
      case "account_token_position":
        e.accountTokenPosition = r.int(ef);
        break;
      default:
        r.unknown(ef);
    }
  }
  if (e.stream !== undefined) {
    const misplaced = responseField ?? thresholdField ?? latencyField;
    if (misplaced) r.fail(misplaced, "response and latency directives apply to services only");
  }
  if (e.stream === undefined && e.service === undefined) r.fail(f, "an export needs a stream or a service subject");
  return e;
}

function latency(r: Reader, f: Field): NonNullable<ExportEntry["latency"]> {
  if (f.node.kind === "string") return { subject: f.node.value, sampling: 100 };
  let subject: string | undefined;
  let sampling: number | "headers" = 100;
  for (const lf of r.fields(f)) {
    switch (lower(lf)) {
      case "sampling":
        if (lf.node.kind === "string") {
          const s = lf.node.value.trim().toLowerCase();
          if (s === "headers") sampling = "headers";
          else {
            const text = lf.node.value.replace(/%$/, "");
            if (!/^[+-]?[0-9]+$/.test(text)) r.fail(lf, `failed to parse latency sample ${JSON.stringify(lf.node.value)}`);
            sampling = Number(text);
          }
        } else sampling = r.int(lf);
        if (sampling !== "headers" && (sampling < 1 || sampling > 100)) r.fail(lf, "sampling value should be in range [1..100]");
        break;
      case "subject":
        subject = r.string(lf);
        break;
    }
  }
  if (subject === undefined) r.fail(f, "latency subject required, but missing");
  return { subject, sampling };
}

function importEntry(r: Reader, f: Field): ImportEntry {
  if (f.node.kind !== "map") r.expected(f, "an import map ({ stream: {...} } or { service: {...} })");
  const im: ImportEntry = {};
  for (const inf of r.fields(f)) {
    switch (lower(inf)) {
      case "stream":
      case "service": {
        const kind = lower(inf) as "stream" | "service";
        const other = kind === "stream" ? "service" : "stream";
        if (im[other]) r.fail(inf, "an import cannot be both a stream and a service");
        let account = "";
        let subject = "";
        for (const af of r.fields(inf)) {
          switch (lower(af)) {
            case "account":
              account = r.string(af);
              break;
            case "subject":
              subject = r.string(af);
              break;
            default:
              r.unknown(af);
          }
        }
        if (account === "" || subject === "") r.fail(inf, "expected an account name and a subject");
        im[kind] = { account, subject };
        break;
      }
      case "prefix":
        im.prefix = r.string(inf);
        break;
      case "to":
        im.to = r.string(inf);
        break;
      case "share":
        im.share = r.bool(inf);
        break;
      default:
        r.unknown(inf);
    }
  }
  if (im.stream && im.prefix !== undefined && im.to !== undefined) r.fail(f, "a stream import can not have both 'prefix' and 'to'");
  if (!im.stream && !im.service) r.fail(f, "an import needs a stream or a service");
  return im;
}

function accountLimits(r: Reader, f: Field): NonNullable<AccountEntry["limits"]> {
  const l: NonNullable<AccountEntry["limits"]> = {};
  for (const lf of r.fields(f)) {
    switch (lower(lf)) {
      case "max_connections":
      case "max_conn":
        l.maxConnections = r.int(lf);
        break;
      case "max_subscriptions":
      case "max_subs":
        l.maxSubscriptions = r.int(lf);
        break;
      case "max_payload":
      case "max_pay":
        l.maxPayload = r.int(lf);
        break;
      case "max_leafnodes":
      case "max_leafs":
        l.maxLeafnodes = r.int(lf);
        break;
      default:
        if (!lf.used) r.fail(lf, "unknown field in account limits");
    }
  }
  return l;
}

export interface ParsedAccounts {
  accounts: Record<string, AccountEntry>;
  userFields: Map<string, Field>;
}

const RESERVED_ACCOUNT = "$G";

export function parseAccounts(r: Reader, f: Field): ParsedAccounts {
  const out: ParsedAccounts = { accounts: {}, userFields: new Map() };
  if (f.node.kind === "array") {
    for (const item of r.items(f)) {
      const name = r.string(item);
      if (name === RESERVED_ACCOUNT) r.fail(item, `"${name}" is a reserved account`);
      if (out.accounts[name]) r.fail(item, `duplicate account entry: ${name}`);
      out.accounts[name] = { users: [] };
    }
    return out;
  }
  if (f.node.kind !== "map") r.expected(f, "a map of accounts or an array of account names");
  // Exports and imports refer to accounts by name; they are checked once all are known.
  const refs: { field: Field; account: string; what: string }[] = [];
  for (const af of r.fields(f)) {
    if (af.used) continue; // a variable defined inside the accounts block
    if (af.node.kind !== "map") r.expected(af, "a map describing the account");
    if (af.key === RESERVED_ACCOUNT) r.fail(af, `"${af.key}" is a reserved account`);
    const acc: AccountEntry = { users: [] };
    const path = `accounts.${af.key}`;
    r.source(path, af);
    for (const kf of r.fields(af)) {
      switch (lower(kf)) {
        case "nkey": {
          const nk = r.string(kf);
          if (!isValidPublicNkey(nk, "account")) r.fail(kf, `not a valid public nkey for an account: ${JSON.stringify(nk)}`);
          r.markUnsupported(kf, false);
          break;
        }
        case "imports":
          acc.imports = r.items(kf).map((i) => {
            const im = importEntry(r, i);
            const target = (im.stream ?? im.service)!.account;
            refs.push({ field: i, account: target, what: im.stream ? "stream import" : "service import" });
            return im;
          });
          break;
        case "exports":
          acc.exports = r.items(kf).map((i) => {
            const ex = exportEntry(r, i);
            for (const a of ex.accounts ?? []) refs.push({ field: i, account: a, what: ex.stream !== undefined ? "stream export" : "service export" });
            return ex;
          });
          break;
        case "jetstream":
          acc.jetstream = parseAccountJetStream(r, kf);
          break;
        case "users": {
          const pu = parseUsers(r, kf, `${path}.users`, af.key);
          acc.users = pu.users;
          for (const [name, uf] of pu.userFields) {
            if (out.userFields.has(name)) r.fail(uf, `duplicate user "${name}" detected`);
            out.userFields.set(name, uf);
          }
          break;
        }
        case "default_permissions":
          acc.defaultPermissions = parsePermissions(r, kf);
          break;
        case "mappings":
        case "maps":
          acc.mappings = parseMappings(r, kf);
          break;
        case "limits":
          acc.limits = accountLimits(r, kf);
          break;
        default:
          r.unknown(kf);
      }
    }
    applyDefaultPermissions(acc.users, acc.defaultPermissions);
    out.accounts[af.key] = acc;
  }
  for (const ref of refs) {
    if (!out.accounts[ref.account]) r.fail(ref.field, `"${ref.account}" account not defined for ${ref.what}`);
  }
  return out;
}
