// /routez and /leafz. tsnats has no leaf nodes, so /leafz is nats-server's empty answer. Routes
// come from the clustering extension ("cluster") when it implements RouteMonitor; without it the
// server is standalone and has none.

import type { ServerExtension } from "../server.js";
import type { MonitorContext } from "./context.js";
import { goTime, nowMs } from "./gofmt.js";
import type { Query } from "./query.js";

/** What the clustering extension reports per route: nats-server's RouteInfo JSON (monitor.go). */
export interface RouteMonitor {
  routez(opts: { subs: boolean; subsDetail: boolean }): {
    import?: Record<string, unknown>;
    export?: Record<string, unknown>;
    routes: Record<string, unknown>[];
  };
}

export function routezOptions(q: Query): { subs: boolean; subsDetail: boolean } {
  const { subs, detail } = q.subs();
  return { subs, subsDetail: detail };
}

export function routez(ctx: MonitorContext, opts: { subs: boolean; subsDetail: boolean }): Record<string, unknown> {
  const ext = ctx.server.extension<ServerExtension & Partial<RouteMonitor>>("cluster");
  const r = typeof ext?.routez === "function" ? ext.routez(opts) : { routes: [] };
  const out: Record<string, unknown> = { server_id: ctx.server.serverId, now: goTime(nowMs()) };
  if (r.import) out.import = r.import;
  if (r.export) out.export = r.export;
  out.num_routes = r.routes.length;
  out.routes = r.routes;
  return out;
}

export function leafz(ctx: MonitorContext, q: Query): Record<string, unknown> {
  q.bool("subs");
  return { server_id: ctx.server.serverId, now: goTime(nowMs()), leafnodes: 0, leafs: null };
}
