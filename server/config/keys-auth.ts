// authorization, users and permissions (server/opts.go's parseAuthorization, parseUsers,
// parseUserPermissions).
//
// Where nats-server rejects an unknown key inside permissions and subject permissions (instead of
// reporting an "unknown field"), so do we: a misspelt `deny` that was ignored would grant what the
// operator meant to forbid.

import { isValidPublicNkey } from "./nkey.js";
import {
  DEFAULT_ALLOW_RESPONSE_EXPIRATION_MS,
  DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
  type Permissions,
  type ServerOptions,
  type SubjectPermission,
  type UserEntry,
} from "./options.js";
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

export const lower = (f: Field): string => f.key.toLowerCase();

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
}

export function parseUsers(r: Reader, f: Field, optionPath: string, account?: string): ParsedUsers {
  const out: ParsedUsers = { users: [], userFields: new Map() };
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
    let nkey: string | undefined;
    if (nkeyField) {
      nkey = (nkeyField.node as { value: string }).value;
      if (!isValidPublicNkey(nkey, "user")) r.fail(nkeyField, "not a valid public nkey for a user");
      if (user !== undefined || password !== undefined) r.fail(nkeyField, "nkey users do not take usernames or passwords");
      user = nkey;
      userField = nkeyField;
    }
    if (user === undefined || user === "") r.fail(item, "user entry requires a user");
    const entry: UserEntry = { user };
    if (nkey !== undefined) entry.nkey = nkey;
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

export function applyDefaultPermissions(users: UserEntry[], defaults: Permissions | undefined): void {
  if (!defaults) return;
  for (const u of users) u.permissions ??= defaults;
}

export interface ParsedAuthorization {
  auth: NonNullable<ServerOptions["authorization"]>;
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
