// /healthz: "ok" once the server accepts clients; with JetStream configured, "unavailable" until
// it runs, plus whatever deeper checks the JetStream extension makes (monitor.go healthz).

import type { MonitorContext } from "./context.js";
import { findJetStream } from "./jetstream.js";
import type { Query } from "./query.js";

export interface HealthStatus {
  status: string;
  error?: string;
}

export function healthzOptions(q: Query): { jsEnabledOnly: boolean; jsServerOnly: boolean } {
  const jsEnabled = q.bool("js-enabled");
  const jsEnabledOnly = q.bool("js-enabled-only");
  const jsServerOnly = q.bool("js-server-only");
  return { jsEnabledOnly: jsEnabledOnly || jsEnabled, jsServerOnly };
}

export function healthz(ctx: MonitorContext, opts: { jsEnabledOnly: boolean; jsServerOnly: boolean }): HealthStatus {
  const s = ctx.server;
  if (s.shuttingDown || s.port === 0) return { status: "error", error: "server not ready for connections" };
  if (!s.opts.jetstream?.enabled) return { status: "ok" };
  // A registered JetStream extension started with the server; one that reports to the monitor
  // can also say it is not (or no longer) running.
  const js = findJetStream(s);
  if (!s.extension("jetstream") || (js !== null && !js.enabled)) return { status: "unavailable", error: "JetStream not enabled" };
  if (opts.jsEnabledOnly) return { status: "ok" };
  const problem = js?.health?.({ jsServerOnly: opts.jsServerOnly }) ?? null;
  return problem ?? { status: "ok" };
}
