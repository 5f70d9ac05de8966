// /metrics: the monitoring figures in Prometheus text format (exposition format 0.0.4). Metric names
// and labels are the ones prometheus-nats-exporter produces from /varz, /subsz and /jsz
// (gnatsd_varz_*, gnatsd_subsz_*, jetstream_server_*, jetstream_stream_*, jetstream_consumer_*), so
// dashboards and alert rules written for the exporter work against tsnats without it.

import type { MonitorContext } from "./context.js";
import { findJetStream, jszDefaults, type JszReport } from "./jetstream.js";
import { sublistStats } from "./subsz.js";

type Labels = Record<string, string>;

/** Samples grouped by metric family: the text format requires each family's lines together. */
class Exposition {
  private readonly families = new Map<string, string[]>();

  add(name: string, type: "gauge" | "counter", help: string, value: number, labels: Labels): void {
    let lines = this.families.get(name);
    if (lines === undefined) {
      lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
      this.families.set(name, lines);
    }
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(",");
    lines.push(`${name}{${l}} ${formatValue(value)}`);
  }

  text(): string {
    let out = "";
    for (const lines of this.families.values()) out += lines.join("\n") + "\n";
    return out;
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function metrics(ctx: MonitorContext): string {
  const s = ctx.server;
  const out = new Exposition();
  const server = { server_id: s.serverId };
  const st = s.stats;
  const g = (name: string, help: string, v: number, type: "gauge" | "counter" = "gauge") => out.add(`gnatsd_varz_${name}`, type, help, v, server);
  g("connections", "Current number of client connections", s.clients.size);
  g("total_connections", "Client connections accepted since start", s.totalConnections, "counter");
  g("subscriptions", "Current number of subscriptions", s.sublist.size);
  g("in_msgs", "Messages received from clients", st.inMsgs, "counter");
  g("out_msgs", "Messages sent to clients", st.outMsgs, "counter");
  g("in_bytes", "Payload bytes received from clients", st.inBytes, "counter");
  g("out_bytes", "Payload bytes sent to clients", st.outBytes, "counter");
  g("slow_consumers", "Connections closed as slow consumers", st.slowConsumers, "counter");
  g("routes", "Current number of routes", 0);
  g("remotes", "Current number of remote servers", 0);
  g("leafnodes", "Current number of leaf node connections", 0);
  g("mem", "Resident memory in bytes", ctx.proc.rss());
  g("cpu", "CPU use in percent of one core", ctx.proc.cpu());
  g("cores", "CPU cores available", ctx.proc.cores);
  g("max_connections", "Configured connection limit", s.opts.maxConnections);
  g("max_payload", "Configured payload limit in bytes", s.opts.maxPayload);
  g("max_pending", "Configured per-connection pending limit in bytes", s.opts.maxPending);
  g("uptime_seconds", "Seconds since the server started", Math.floor((Date.now() - s.startTime.getTime()) / 1000));

  const sl = sublistStats(ctx);
  for (const [k, v] of Object.entries(sl)) {
    out.add(`gnatsd_subsz_${k}`, k === "num_inserts" || k === "num_removes" || k === "num_matches" ? "counter" : "gauge", `Subject index ${k.replace(/_/g, " ")}`, v, server);
  }

  jetstreamMetrics(ctx, out);
  return out.text();
}

function jetstreamMetrics(ctx: MonitorContext, out: Exposition): void {
  const s = ctx.server;
  const js = findJetStream(s);
  const enabled = js !== null && js.enabled;
  let r: JszReport | null = null;
  if (enabled) r = js.jsz({ ...jszDefaults(), accounts: true, streams: true, consumers: true, config: true });
  const meta = r?.meta_cluster;
  const serverLabels: Labels = {
    server_id: s.serverId,
    server_name: s.name,
    cluster: meta?.name ?? "",
    domain: r?.config.domain ?? "",
    meta_leader: meta?.leader ?? "",
    is_meta_leader: meta ? String(meta.leader === s.name) : "true",
  };
  const sv = (name: string, help: string, v: number) => out.add(`jetstream_server_${name}`, "gauge", help, v, serverLabels);
  sv("jetstream_disabled", "JetStream disabled or not", enabled ? 0 : 1);
  if (r === null) return;

  const vz = { server_id: s.serverId };
  out.add("gnatsd_varz_jetstream_config_max_memory", "gauge", "JetStream memory limit in bytes", r.config.max_memory, vz);
  out.add("gnatsd_varz_jetstream_config_max_storage", "gauge", "JetStream storage limit in bytes", r.config.max_storage, vz);
  out.add("gnatsd_varz_jetstream_stats_memory", "gauge", "JetStream memory in use in bytes", r.memory, vz);
  out.add("gnatsd_varz_jetstream_stats_storage", "gauge", "JetStream storage in use in bytes", r.storage, vz);
  out.add("gnatsd_varz_jetstream_stats_accounts", "gauge", "Accounts with JetStream", r.accounts, vz);
  out.add("gnatsd_varz_jetstream_stats_ha_assets", "gauge", "Replicated streams and consumers", r.ha_assets, vz);
  out.add("gnatsd_varz_jetstream_stats_api_total", "counter", "JetStream API requests", r.api.total, vz);
  out.add("gnatsd_varz_jetstream_stats_api_errors", "counter", "JetStream API requests answered with an error", r.api.errors, vz);

  sv("max_memory", "JetStream Max Memory", r.config.max_memory);
  sv("max_storage", "JetStream Max Storage", r.config.max_storage);
  sv("total_streams", "Total number of streams in JetStream", r.streams);
  sv("total_consumers", "Total number of consumers in JetStream", r.consumers);
  sv("total_messages", "Total number of stored messages in JetStream", r.messages);
  sv("total_message_bytes", "Total number of bytes stored in JetStream", r.bytes);

  for (const acc of r.account_details ?? []) {
    for (const st of acc.stream_detail ?? []) {
      const streamLeader = st.cluster?.leader ?? "";
      const sl: Labels = { ...serverLabels, account: acc.name, account_id: acc.id, stream_name: st.name, stream_leader: streamLeader, is_stream_leader: st.cluster ? String(streamLeader === s.name) : "true" };
      const m = (name: string, help: string, v: number) => out.add(`jetstream_stream_${name}`, "gauge", help, v, sl);
      m("total_messages", "Total number of messages from a stream", st.state.messages);
      m("total_bytes", "Total stored bytes from a stream", st.state.bytes);
      m("first_seq", "First sequence from a stream", st.state.first_seq);
      m("last_seq", "Last sequence from a stream", st.state.last_seq);
      m("consumer_count", "Total number of consumers from a stream", st.state.consumer_count);
      for (const c of st.consumer_detail ?? []) {
        const consumerLeader = c.cluster?.leader ?? "";
        const desc = typeof c.config?.description === "string" ? c.config.description : "";
        const cl: Labels = { ...sl, consumer_name: c.name, consumer_leader: consumerLeader, is_consumer_leader: c.cluster ? String(consumerLeader === s.name) : "true", consumer_desc: desc, consumer_created: c.created };
        const cm = (name: string, help: string, v: number) => out.add(`jetstream_consumer_${name}`, "gauge", help, v, cl);
        cm("delivered_consumer_seq", "Latest sequence number of a stream consumer", c.delivered.consumer_seq);
        cm("delivered_stream_seq", "Latest sequence number of a stream", c.delivered.stream_seq);
        cm("num_ack_pending", "Number of pending acks from a consumer", c.num_ack_pending);
        cm("num_redelivered", "Number of redelivered messages from a consumer", c.num_redelivered);
        cm("num_waiting", "Number of inflight fetch requests from a pull consumer", c.num_waiting);
        cm("num_pending", "Number of pending messages from a consumer", c.num_pending);
        cm("ack_floor_stream_seq", "Number of ack floor stream seq from a consumer", c.ack_floor.stream_seq);
        cm("ack_floor_consumer_seq", "Number of ack floor consumer seq from a consumer", c.ack_floor.consumer_seq);
      }
    }
  }
}
