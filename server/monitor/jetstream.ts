// What the monitor needs from JetStream, without importing it: the JetStream extension (registered
// with Server.use under the name "jetstream") implements JetStreamMonitor, and the monitor finds it
// with server.extension("jetstream"). Field names are nats-server's JSON (monitor.go, jetstream.go,
// stream.go, consumer.go); times are RFC 3339 strings (see gofmt.ts goTime), durations nanoseconds.

import type { Server, ServerExtension } from "../server.js";

/** /jsz query parameters, as nats-server's JSzOptions. */
export interface JszOptions {
  /** `acc`: only this account's details. */
  account: string;
  /** `accounts`: include account_details (implied by streams). */
  accounts: boolean;
  /** `streams`: include stream_detail per account (implied by consumers). */
  streams: boolean;
  /** `consumers`: include consumer_detail per stream. */
  consumers: boolean;
  /** `config`: include stream and consumer configs. */
  config: boolean;
  /** `leader-only`: answer only on the meta leader. */
  leaderOnly: boolean;
  offset: number;
  /** Defaults to 1024, as nats-server. */
  limit: number;
}

export interface JetStreamConfigReport {
  max_memory: number;
  max_storage: number;
  store_dir?: string;
  domain?: string;
  /** From nats-server 2.10 on: the sync policy (fsync on every commit, or every sync_interval ns). */
  sync_always?: boolean;
  sync_interval?: number;
}

export interface JetStreamApiStats {
  total: number;
  errors: number;
}

export interface JetStreamStatsReport {
  memory: number;
  storage: number;
  reserved_memory: number;
  reserved_storage: number;
  accounts: number;
  ha_assets: number;
  api: JetStreamApiStats;
}

export interface PeerReport {
  name: string;
  current: boolean;
  offline?: boolean;
  /** Nanoseconds since last heard from. */
  active: number;
  lag?: number;
  peer: string;
}

export interface ClusterReport {
  name?: string;
  leader?: string;
  replicas?: PeerReport[];
}

export interface MetaClusterReport {
  name?: string;
  leader?: string;
  peer?: string;
  replicas?: PeerReport[];
  cluster_size: number;
}

export interface StreamStateReport {
  messages: number;
  bytes: number;
  first_seq: number;
  first_ts: string;
  last_seq: number;
  last_ts: string;
  num_subjects?: number;
  num_deleted?: number;
  consumer_count: number;
}

export interface SequenceInfoReport {
  consumer_seq: number;
  stream_seq: number;
  last_active?: string;
}

export interface ConsumerInfoReport {
  stream_name: string;
  name: string;
  created: string;
  config?: Record<string, unknown>;
  delivered: SequenceInfoReport;
  ack_floor: SequenceInfoReport;
  num_ack_pending: number;
  num_redelivered: number;
  num_waiting: number;
  num_pending: number;
  cluster?: ClusterReport;
  push_bound?: boolean;
}

export interface StreamDetailReport {
  name: string;
  created: string;
  cluster?: ClusterReport;
  config?: Record<string, unknown>;
  state: StreamStateReport;
  consumer_detail?: ConsumerInfoReport[];
  mirror?: Record<string, unknown>;
  sources?: Record<string, unknown>[];
}

export interface AccountDetailReport extends JetStreamStatsReport {
  name: string;
  id: string;
  stream_detail?: StreamDetailReport[];
}

/** The body of /jsz after server_id and now (which the monitor adds). */
export interface JszReport extends JetStreamStatsReport {
  config: JetStreamConfigReport;
  streams: number;
  consumers: number;
  messages: number;
  bytes: number;
  meta_cluster?: MetaClusterReport;
  account_details?: AccountDetailReport[];
}

/** /healthz's view of JetStream: null when healthy, else nats-server's status and error. */
export interface JetStreamHealth {
  status: "unavailable" | "error";
  error: string;
}

export interface JetStreamMonitor {
  /** False while JetStream is configured but not (yet, or any longer) running. */
  readonly enabled: boolean;
  /**
   * The /jsz report, counted from the live streams and consumers. Throw an Error whose message is
   * the 400 body for requests nats-server refuses (e.g. "filtered response: not leader").
   */
  jsz(opts: JszOptions): JszReport;
  /** For /varz "jetstream": the config, the stats and (clustered) the meta group. */
  varz(): { config: JetStreamConfigReport; stats: JetStreamStatsReport; meta?: MetaClusterReport };
  /** Extra /healthz checks beyond "enabled" (meta leader contact, streams current); null = healthy. */
  health?(opts: { jsServerOnly: boolean }): JetStreamHealth | null;
}

export function jszDefaults(): JszOptions {
  return { account: "", accounts: false, streams: false, consumers: false, config: false, leaderOnly: false, offset: 0, limit: 1024 };
}

/**
 * JetStream's monitor view: the "jetstream-monitor" extension registered beside JetStream, or a
 * "jetstream" extension that speaks the interface itself (test stand-ins).
 */
export function findJetStream(server: Server): JetStreamMonitor | null {
  for (const name of ["jetstream-monitor", "jetstream"]) {
    const ext = server.extension<ServerExtension & Partial<JetStreamMonitor>>(name);
    if (ext && typeof ext.jsz === "function" && typeof ext.varz === "function") return ext as unknown as JetStreamMonitor;
  }
  return null;
}

/** nats-server's /jsz body when JetStream is not running. */
export function disabledJsz(): JszReport & { disabled: true } {
  return {
    disabled: true,
    config: { max_memory: 0, max_storage: 0 },
    memory: 0,
    storage: 0,
    reserved_memory: 0,
    reserved_storage: 0,
    accounts: 0,
    ha_assets: 0,
    api: { total: 0, errors: 0 },
    streams: 0,
    consumers: 0,
    messages: 0,
    bytes: 0,
  };
}
