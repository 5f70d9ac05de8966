// /varz: the server's identity, limits and counters, with nats-server's field names and order
// (monitor.go Varz). Durations that Go marshals as time.Duration are nanoseconds; timeouts that
// nats-server keeps as float seconds stay seconds.

import type { MonitorContext } from "./context.js";
import { goTime, goUptime, nowMs } from "./gofmt.js";
import { findJetStream } from "./jetstream.js";
import { PROTO_VERSION, VERSION } from "../version.js";
import { TLS_TIMEOUT_MS } from "../config/options.js";
import type { WebSocketListener } from "../transport/websocket.js";

const NS_PER_MS = 1e6;

export function varz(ctx: MonitorContext): Record<string, unknown> {
  const s = ctx.server;
  const o = s.opts;
  const now = nowMs();
  const v: Record<string, unknown> = {
    server_id: s.serverId,
    server_name: s.name,
    version: VERSION,
    proto: PROTO_VERSION,
    go: `node${process.versions.node}`,
    host: o.host,
    port: s.port,
  };
  if (s.auth.required) v.auth_required = true;
  v.max_connections = o.maxConnections;
  if (o.maxSubscriptions > 0) v.max_subscriptions = o.maxSubscriptions;
  v.ping_interval = o.pingIntervalMs * NS_PER_MS;
  v.ping_max = o.pingMax;
  // nats-server reports the configured monitor port (-1 stays -1) and the raw base path.
  v.http_host = o.http?.host ?? "";
  v.http_port = o.http?.port ?? 0;
  v.http_base_path = o.http && o.http.basePath !== "/" ? o.http.basePath : "";
  v.https_port = 0;
  v.auth_timeout = (o.authorization?.timeoutMs ?? o.authTimeoutMs) / 1000;
  v.max_control_line = o.maxControlLine;
  v.max_payload = o.maxPayload;
  v.max_pending = o.maxPending;
  v.cluster = clusterVarz(ctx);
  v.gateway = {};
  v.leaf = {};
  v.mqtt = {};
  v.websocket = websocketVarz(ctx);
  const js = findJetStream(s);
  v.jetstream = js?.enabled ? js.varz() : {};
  v.tls_timeout = (o.tls?.timeoutMs ?? TLS_TIMEOUT_MS) / 1000;
  v.write_deadline = o.writeDeadlineMs * NS_PER_MS;
  v.start = goTime(s.startTime.getTime());
  v.now = goTime(now);
  v.uptime = goUptime(now - s.startTime.getTime());
  v.mem = ctx.proc.rss();
  v.cores = ctx.proc.cores;
  v.gomaxprocs = ctx.proc.cores;
  v.cpu = ctx.proc.cpu();
  v.connections = s.clients.size;
  v.total_connections = s.totalConnections;
  v.routes = 0;
  v.remotes = 0;
  v.leafnodes = 0;
  // 2.9 has in/out totals; 2.12.9 and later also report the clients' share, which without routes is all of it.
  v.in_msgs = s.stats.inMsgs;
  v.in_client_msgs = s.stats.inMsgs;
  v.out_msgs = s.stats.outMsgs;
  v.out_client_msgs = s.stats.outMsgs;
  v.in_bytes = s.stats.inBytes;
  v.in_client_bytes = s.stats.inBytes;
  v.out_bytes = s.stats.outBytes;
  v.out_client_bytes = s.stats.outBytes;
  v.slow_consumers = s.stats.slowConsumers;
  v.subscriptions = s.sublist.size;
  v.http_req_stats = Object.fromEntries([...ctx.reqStats.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  v.config_load_time = goTime(s.configLoadTime);
  if (o.serverTags && o.serverTags.length > 0) v.tags = o.serverTags;
  if (o.systemAccount) v.system_account = o.systemAccount;
  v.slow_consumer_stats = { clients: s.stats.slowConsumers, routes: 0, gateways: 0, leafs: 0 };
  return v;
}

function clusterVarz(ctx: MonitorContext): Record<string, unknown> {
  const c = ctx.server.opts.cluster;
  if (!c) return {};
  const out: Record<string, unknown> = {};
  if (c.name) out.name = c.name;
  if (c.host) out.addr = c.host;
  if (c.port) out.cluster_port = c.port;
  if (c.authorization?.timeoutMs) out.auth_timeout = c.authorization.timeoutMs / 1000;
  // nats-server lists the configured routes as host:port.
  const urls = c.routes.map((r) => {
    try {
      return new URL(r).host;
    } catch {
      return r;
    }
  });
  if (urls.length > 0) out.urls = urls;
  return out;
}

function websocketVarz(ctx: MonitorContext): Record<string, unknown> {
  const w = ctx.server.opts.websocket;
  if (!w || w.port === 0) return {};
  const listener = ctx.server.extension<WebSocketListener>("websocket");
  const out: Record<string, unknown> = {};
  if (w.host) out.host = w.host;
  const port = listener?.port || w.port;
  if (port) out.port = port;
  if (w.advertise) out.advertise = w.advertise;
  if (w.handshakeTimeoutMs) out.handshake_timeout = w.handshakeTimeoutMs * NS_PER_MS;
  if (w.noTls) out.no_tls = true;
  if (w.sameOrigin) out.same_origin = true;
  if (w.allowedOrigins.length > 0) out.allowed_origins = [...w.allowedOrigins];
  if (w.compression) out.compression = true;
  return out;
}
