// What every endpoint handler gets: the server it reports on and the monitor's own state.
import type { Server } from "../server.js";
import type { ProcessStats } from "./process.js";

export interface MonitorContext {
  readonly server: Server;
  readonly proc: ProcessStats;
  /** Requests served per endpoint path, as /varz http_req_stats. */
  readonly reqStats: Map<string, number>;
}

export function countRequest(ctx: MonitorContext, path: string): void {
  ctx.reqStats.set(path, (ctx.reqStats.get(path) ?? 0) + 1);
}
