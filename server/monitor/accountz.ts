// /accountz, minimal: tsnats runs every client in the global account ($G) today, so the list has
// that one account and its detail counts connections and subscriptions from the live server.

import type { MonitorContext } from "./context.js";
import { goTime, nowMs } from "./gofmt.js";
import { findJetStream } from "./jetstream.js";
import { BadRequest, type Query } from "./query.js";
import { sublistStats } from "./subsz.js";

export const GLOBAL_ACCOUNT = "$G";

export function accountz(ctx: MonitorContext, q: Query): Record<string, unknown> {
  const s = ctx.server;
  const acc = q.get("acc");
  const out: Record<string, unknown> = { server_id: s.serverId, now: goTime(nowMs()) };
  if (s.opts.systemAccount) out.system_account = s.opts.systemAccount;
  if (acc === "") {
    out.accounts = [GLOBAL_ACCOUNT];
    return out;
  }
  if (acc !== GLOBAL_ACCOUNT) throw new BadRequest(`Account ${q.raw("acc")} does not exist`);
  const stats = sublistStats(ctx);
  out.account_detail = {
    account_name: GLOBAL_ACCOUNT,
    update_time: goTime(s.startTime.getTime()),
    expired: false,
    complete: true,
    jetstream_enabled: findJetStream(s)?.enabled ?? false,
    leafnode_connections: 0,
    client_connections: s.clients.size,
    subscriptions: s.sublist.size,
    sublist_stats: stats,
  };
  return out;
}
