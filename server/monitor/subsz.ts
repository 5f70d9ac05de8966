// /subsz (and its old name /subscriptionsz): the subject index's counters and, with subs=1, its
// subscriptions, optionally only those a publish to `test` would reach (monitor.go Subsz).

import type { Client } from "../client/client.js";
import type { MonitorContext } from "./context.js";
import { subDetail } from "./connz.js";
import { goTime, nowMs } from "./gofmt.js";
import { BadRequest, type Query } from "./query.js";
import { isValidLiteralSubject, subjectMatchesFilter } from "../subjects/subject.js";

export const DEFAULT_SUB_LIST_SIZE = 1024;

export function sublistStats(ctx: MonitorContext): Record<string, number> {
  const sl = ctx.server.sublist;
  const fan = sl.cacheFanout();
  return {
    num_subscriptions: sl.size,
    num_cache: sl.cacheSize,
    num_inserts: sl.stats.inserts,
    num_removes: sl.stats.removes,
    num_matches: sl.stats.matches,
    cache_hit_rate: sl.stats.matches > 0 ? sl.stats.cacheHits / sl.stats.matches : 0,
    max_fanout: fan.max,
    avg_fanout: fan.avg,
  };
}

export function subsz(ctx: MonitorContext, q: Query): Record<string, unknown> {
  const withSubs = q.bool("subs");
  const offset = Math.max(0, q.int("offset"));
  const limitRaw = q.int("limit");
  const limit = limitRaw <= 0 ? DEFAULT_SUB_LIST_SIZE : limitRaw;
  const test = q.get("test");
  const acc = q.get("acc");
  if (test !== "" && !isValidLiteralSubject(test)) throw new BadRequest(`invalid test subject, must be valid publish subject: ${q.raw("test")}`);
  // Only the global account exists; another account has nothing to report.
  const foreign = acc !== "" && acc !== "$G";
  const stats = foreign ? zeroStats() : sublistStats(ctx);
  if (!withSubs || foreign) return stats;

  const details: Record<string, unknown>[] = [];
  let matched = 0;
  for (const sub of ctx.server.sublist.all()) {
    if (test !== "" && !subjectMatchesFilter(test, sub.subject)) continue;
    if (matched++ < offset || details.length >= limit) continue;
    // In-process subscribers (JetStream and other internals) have no connection id.
    const cid = sub.owner.kind === "client" ? (sub.owner as Client).cid : 0;
    details.push(subDetail(sub.subject, sub.queue, sub.sid, sub.nm, sub.max, cid, "$G"));
  }
  // nats-server answers with the bare stats when the page is empty.
  if (details.length === 0) return stats;
  return { server_id: ctx.server.serverId, now: goTime(nowMs()), ...stats, total: matched, offset, limit, subscriptions_list: details };
}

function zeroStats(): Record<string, number> {
  return { num_subscriptions: 0, num_cache: 0, num_inserts: 0, num_removes: 0, num_matches: 0, cache_hit_rate: 0, max_fanout: 0, avg_fanout: 0 };
}
