// `jetstream` (server and account level) and `store_dir` (server/opts.go's parseJetStream,
// parseJetStreamForAccount, getStorageSize).

import type { AccountEntry, ServerOptions } from "./options.js";
import type { Field, Reader } from "./reader.js";

type JetStream = NonNullable<ServerOptions["jetstream"]>;

export function newJetStream(): JetStream {
  // -1: sized by the server. sync "always": tsnats fsyncs each commit unless told otherwise.
  return { enabled: false, maxMemoryStore: -1, maxFileStore: -1, syncInterval: "always" };
}

const lower = (f: Field): string => f.key.toLowerCase();

// An integer (sizes written with the config's suffixes, 1G = 10^9, 1GB = 2^30), or a string with
// one of K, M, G, T meaning powers of 1024, as nats-server's getStorageSize reads it.
export function storageSize(r: Reader, f: Field): number {
  if (f.node.kind === "integer") return f.node.value;
  if (f.node.kind !== "string") r.expected(f, "a size (an integer, or a string such as \"1G\")");
  const s = f.node.value;
  if (s === "") return 0;
  const mult = { K: 10, M: 20, G: 30, T: 40 }[s.slice(-1)];
  const num = s.slice(0, -1);
  if (mult === undefined) r.fail(f, `sizes written as strings must end in K, M, G or T, got ${JSON.stringify(s)}`);
  if (!/^[+-]?[0-9]+$/.test(num)) r.fail(f, `invalid size ${JSON.stringify(s)}`);
  return Number(num) * 2 ** mult;
}

export interface JetStreamState {
  // Where a store directory was set (top-level store_dir or jetstream.store_dir): only one may be.
  storeDirAt?: Field;
}

function setStoreDir(r: Reader, js: JetStream, f: Field, state: JetStreamState): void {
  if (state.storeDirAt) r.fail(f, `duplicate 'store_dir' configuration (also set at ${state.storeDirAt.at.file}:${state.storeDirAt.at.line}:${state.storeDirAt.at.col})`);
  state.storeDirAt = f;
  js.storeDir = r.string(f);
  r.source("jetstream.storeDir", f);
}

export function parseTopStoreDir(r: Reader, opts: ServerOptions, f: Field, state: JetStreamState): void {
  opts.jetstream ??= newJetStream();
  setStoreDir(r, opts.jetstream, f, state);
}

export function parseJetStream(r: Reader, opts: ServerOptions, f: Field, state: JetStreamState): void {
  const js = (opts.jetstream ??= newJetStream());
  r.source("jetstream", f);
  if (f.node.kind === "bool") {
    js.enabled = f.node.value;
    return;
  }
  if (f.node.kind === "string") {
    const v = f.node.value.toLowerCase();
    if (v === "enabled" || v === "enable") js.enabled = true;
    else if (v === "disabled" || v === "disable") js.enabled = false;
    else r.fail(f, `expected 'enabled' or 'disabled', got ${JSON.stringify(f.node.value)}`);
    return;
  }
  if (f.node.kind !== "map") r.expected(f, "a boolean, 'enabled'/'disabled' or a map");
  // A jetstream block enables JetStream unless it says otherwise.
  let enabled = true;
  for (const jf of r.fields(f)) {
    switch (lower(jf)) {
      case "store":
      case "store_dir":
      case "storedir":
        setStoreDir(r, js, jf, state);
        break;
      case "max_memory_store":
      case "max_mem_store":
      case "max_mem":
        js.maxMemoryStore = storageSize(r, jf);
        r.source("jetstream.maxMemoryStore", jf);
        break;
      case "max_file_store":
      case "max_file":
        js.maxFileStore = storageSize(r, jf);
        r.source("jetstream.maxFileStore", jf);
        break;
      case "domain":
        js.domain = r.string(jf);
        break;
      case "enable":
      case "enabled":
        enabled = r.bool(jf);
        break;
      case "sync":
      case "sync_interval": {
        // Not in nats-server 2.9.10 (added in 2.10); "always" or a duration.
        if (jf.node.kind === "string" && jf.node.value.toLowerCase() === "always") js.syncInterval = "always";
        else js.syncInterval = r.durationMs(jf, { secondsAllowed: true });
        r.source("jetstream.syncInterval", jf);
        break;
      }
      case "key":
      case "ek":
      case "encryption_key":
        r.string(jf);
        // Ignoring it would store data unencrypted that the operator asked to encrypt.
        r.markUnsupported(jf, true);
        break;
      case "cipher": {
        const c = r.string(jf).toLowerCase();
        if (!["chacha", "chachapoly", "aes"].includes(c)) r.fail(jf, `unknown cipher type ${JSON.stringify(c)}`);
        r.markUnsupported(jf, true);
        break;
      }
      case "max_outstanding_catchup":
        storageSize(r, jf);
        r.markUnsupported(jf, false);
        break;
      case "extension_hint":
      case "unique_tag":
        r.string(jf);
        r.markUnsupported(jf, false);
        break;
      case "limits":
        parseLimits(r, jf);
        r.markUnsupported(jf, false);
        break;
      default:
        r.unknown(jf);
    }
  }
  js.enabled = enabled;
}

function parseLimits(r: Reader, f: Field): void {
  for (const lf of r.fields(f)) {
    switch (lower(lf)) {
      case "max_ack_pending":
      case "max_ha_assets":
      case "max_request_batch":
        r.int(lf);
        break;
      case "duplicate_window":
        r.durationMs(lf, { secondsAllowed: false });
        break;
      default:
        r.unknown(lf);
    }
  }
}

type AccountJetStream = NonNullable<AccountEntry["jetstream"]>;

export function parseAccountJetStream(r: Reader, f: Field): AccountJetStream {
  if (f.node.kind === "bool") return { enabled: f.node.value };
  if (f.node.kind === "string") {
    const v = f.node.value.toLowerCase();
    if (v === "enabled" || v === "enable") return { enabled: true };
    if (v === "disabled" || v === "disable") return { enabled: false };
    r.fail(f, `expected 'enabled' or 'disabled', got ${JSON.stringify(f.node.value)}`);
  }
  if (f.node.kind !== "map") r.expected(f, "a boolean, 'enabled'/'disabled' or a map of limits");
  const limits = {
    maxMemory: -1,
    maxStore: -1,
    maxStreams: -1,
    maxConsumers: -1,
    maxBytesRequired: false,
    memoryMaxStreamBytes: -1,
    storeMaxStreamBytes: -1,
    maxAckPending: -1,
  };
  for (const lf of r.fields(f)) {
    switch (lower(lf)) {
      case "max_memory":
      case "max_mem":
      case "mem":
      case "memory":
        limits.maxMemory = r.int(lf);
        break;
      case "max_store":
      case "max_file":
      case "max_disk":
      case "store":
      case "disk":
        limits.maxStore = r.int(lf);
        break;
      case "max_streams":
      case "streams":
        limits.maxStreams = r.int(lf);
        break;
      case "max_consumers":
      case "consumers":
        limits.maxConsumers = r.int(lf);
        break;
      case "max_bytes_required":
      case "max_stream_bytes":
      case "max_bytes":
        limits.maxBytesRequired = r.bool(lf);
        break;
      case "mem_max_stream_bytes":
      case "memory_max_stream_bytes":
        limits.memoryMaxStreamBytes = r.int(lf);
        break;
      case "disk_max_stream_bytes":
      case "store_max_stream_bytes":
        limits.storeMaxStreamBytes = r.int(lf);
        break;
      case "max_ack_pending":
        limits.maxAckPending = r.int(lf);
        break;
      default:
        r.unknown(lf);
    }
  }
  return { enabled: true, limits };
}
