// accounts and subject mappings (server/opts.go's parseAccounts, parseAccountExports,
// parseAccountImports, parseAccountMappings). As in nats-server, an unknown key in a mapping
// destination or in account limits is an error rather than a warning.

import { isValidPublicNkey } from "./nkey.js";
import type { AccountEntry, ExportEntry, ImportEntry, MappingDest } from "./options.js";
import { applyDefaultPermissions, isValidSubject, lower, parsePermissions, parseUsers } from "./keys-auth.js";
import { parseAccountJetStream } from "./keys-jetstream.js";
import type { Field, Reader } from "./reader.js";

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
