// /jsz: JetStream's configuration, usage and (on request) accounts, streams and consumers, from
// the JetStream extension; nats-server's "disabled" body when JetStream is not running.

import type { MonitorContext } from "./context.js";
import { goTime, nowMs } from "./gofmt.js";
import { BadRequest, type Query } from "./query.js";
import { disabledJsz, findJetStream, jszDefaults, type JszOptions } from "./jetstream.js";

export function jszOptions(q: Query): JszOptions {
  const o = jszDefaults();
  o.accounts = q.bool("accounts");
  o.streams = q.bool("streams");
  o.consumers = q.bool("consumers");
  o.config = q.bool("config");
  o.offset = q.int("offset");
  const limit = q.int("limit");
  o.leaderOnly = q.bool("leader-only");
  o.account = q.get("acc");
  if (limit !== 0) o.limit = limit;
  // Consumers need their streams, streams need their accounts.
  if (o.consumers) o.streams = true;
  if (o.streams) o.accounts = true;
  return o;
}

export function jsz(ctx: MonitorContext, o: JszOptions): Record<string, unknown> {
  const head = { server_id: ctx.server.serverId, now: goTime(nowMs()) };
  const js = findJetStream(ctx.server);
  if (!js || !js.enabled) {
    if (o.leaderOnly) throw new BadRequest("filtered response: not leader");
    return { ...head, ...disabledJsz() };
  }
  try {
    return { ...head, ...js.jsz(o) };
  } catch (e) {
    throw new BadRequest((e as Error).message);
  }
}
