// /connz: open and recently closed connections, paged and sorted like nats-server (monitor.go
// Connz). Sorting looks only at one key per connection; the full record is built for the returned
// page alone, so a small page stays cheap with tens of thousands of connections.

import type { Client } from "../client/client.js";
import type { ClosedConnection } from "../closed_ring.js";
import type { MonitorContext } from "./context.js";
import { goDuration } from "../go_duration.js";
import { goTime, goUptime, nowMs } from "./gofmt.js";
import { BadRequest, type Query } from "./query.js";

export const DEFAULT_CONN_LIST_SIZE = 1024;

// nats-server 2.9's options, and "rtt" from 2.10 on.
const SORTS = new Set(["", "cid", "start", "subs", "pending", "msgs_to", "msgs_from", "bytes_to", "bytes_from", "last", "idle", "uptime", "stop", "reason", "rtt"]);

type State = "open" | "closed" | "any";

export interface ConnzOptions {
  sort: string;
  auth: boolean;
  subs: boolean;
  subsDetail: boolean;
  offset: number;
  limit: number;
  cid: number;
  state: State;
  user: string;
  account: string;
}

/** Decodes the query in nats-server's order, so the first bad parameter is the one reported. */
export function connzOptions(q: Query): ConnzOptions {
  // Compared with ASCII names and echoed as bytes in the error.
  const sort = q.raw("sort");
  const auth = q.bool("auth");
  const { subs, detail } = q.subs();
  const offset = q.int("offset");
  const limit = q.int("limit");
  const cid = q.uint("cid");
  const st = q.get("state").toLowerCase();
  let state: State;
  if (st === "" || st === "open") state = "open";
  else if (st === "closed") state = "closed";
  else if (st === "any" || st === "all") state = "any";
  else throw new BadRequest(`Error decoding state for ${q.raw("state")}`);
  return { sort, auth, subs, subsDetail: detail, offset, limit, cid, state, user: q.get("user"), account: q.get("acc") };
}

/** A connection, open or closed, reduced to what sorting and paging need. */
export interface Entry {
  cid: number;
  open: Client | null;
  closed: ClosedConnection | null;
}

/** A /connz answer before its records are built: the envelope, the page, and how to build one. */
export interface ConnzPage {
  head: Record<string, unknown>;
  page: Entry[];
  build(e: Entry): Record<string, unknown>;
}

/** The whole /connz document. */
export function connz(ctx: MonitorContext, o: ConnzOptions): Record<string, unknown> {
  const p = connzPage(ctx, o);
  return { ...p.head, connections: p.page.map(p.build) };
}

/**
 * Selects, sorts and pages the connections; the records are built by the caller (all at once, or
 * a few hundred per event-loop turn for a large page, so other clients are not kept waiting).
 */
export function connzPage(ctx: MonitorContext, o: ConnzOptions): ConnzPage {
  const s = ctx.server;
  const sort = o.sort === "" ? "cid" : o.sort;
  if (!SORTS.has(sort)) throw new BadRequest(`invalid sorting option: ${o.sort}`);
  if (sort === "stop" && o.state !== "closed") throw new BadRequest("sort by stop only valid on closed connections");
  if (sort === "reason" && o.state !== "closed") throw new BadRequest("sort by reason only valid on closed connections");
  const offset = Math.max(0, o.offset);
  const limit = o.cid > 0 ? 1 : o.limit <= 0 ? DEFAULT_CONN_LIST_SIZE : o.limit;
  const now = nowMs();
  const out: Record<string, unknown> = { server_id: s.serverId, now: goTime(now), num_connections: 0, total: 0, offset, limit };
  const build = (e: Entry) => (e.open ? openInfo(e.open, now, o) : closedInfo(e.closed!, o));
  const result = (page: Entry[]): ConnzPage => {
    out.num_connections = page.length;
    return { head: out, page, build };
  };

  // Only the global account exists; any other filter matches nothing.
  const foreignAccount = o.account !== "" && o.account !== "$G";
  const closedList = o.state === "open" || foreignAccount ? [] : s.closedConns.list();
  out.total = (o.state === "closed" ? 0 : foreignAccount ? 0 : s.clients.size) + closedList.length;
  if (foreignAccount) return result([]);

  let entries: Entry[];
  if (o.cid > 0) {
    entries = [];
    const c = o.state === "closed" ? undefined : s.clients.get(o.cid);
    if (c) entries.push({ cid: c.cid, open: c, closed: null });
    else {
      const cc = closedList.find((x) => x.cid === o.cid);
      if (cc) entries.push({ cid: cc.cid, open: null, closed: cc });
    }
  } else if (o.state === "open" && (sort === "cid" || sort === "start") && o.user === "") {
    // The client map is in connection order, which is cid order: page without sorting.
    const page: Entry[] = [];
    let i = 0;
    for (const c of s.clients.values()) {
      if (i++ < offset) continue;
      if (page.length >= limit) break;
      page.push({ cid: c.cid, open: c, closed: null });
    }
    return result(page);
  } else {
    entries = [];
    if (o.state !== "closed") for (const c of s.clients.values()) if (o.user === "" || c.user === o.user) entries.push({ cid: c.cid, open: c, closed: null });
    for (const cc of closedList) if (o.user === "" || cc.user === o.user) entries.push({ cid: cc.cid, open: null, closed: cc });
  }

  return result(sortedPage(entries, sort, now, offset, limit));
}

/** The page [offset, offset+limit) of the entries in sort order. */
function sortedPage(entries: Entry[], sort: string, now: number, offset: number, limit: number): Entry[] {
  // Everything but cid, start, reason and uptime sorts descending, as nats-server does; ties go
  // by cid so that paging through equal keys neither skips nor repeats a connection.
  let key: (e: Entry) => number | string;
  let desc = true;
  switch (sort) {
    case "cid":
    case "start":
      key = (e) => e.cid;
      desc = false;
      break;
    case "subs":
      key = (e) => (e.open ? e.open.subs.size : e.closed!.subs.length);
      break;
    case "pending":
      key = (e) => (e.open ? e.open.pendingBytes : 0);
      break;
    case "msgs_to":
      key = (e) => (e.open ? e.open.outMsgs : e.closed!.outMsgs);
      break;
    case "msgs_from":
      key = (e) => (e.open ? e.open.inMsgs : e.closed!.inMsgs);
      break;
    case "bytes_to":
      key = (e) => (e.open ? e.open.outBytes : e.closed!.outBytes);
      break;
    case "bytes_from":
      key = (e) => (e.open ? e.open.inBytes : e.closed!.inBytes);
      break;
    case "last":
      key = (e) => (e.open ? e.open.lastActivity : e.closed!.lastActivity);
      break;
    case "idle":
      // Measured to now for closed connections too, as nats-server's SortByIdle.
      key = (e) => now - (e.open ? e.open.lastActivity : e.closed!.lastActivity);
      break;
    case "rtt":
      key = (e) => (e.open ? e.open.rttMs : e.closed!.rttMs);
      break;
    case "uptime":
      key = (e) => (e.open ? now - e.open.start : e.closed!.stop - e.closed!.start);
      desc = false;
      break;
    case "stop":
      key = (e) => (e.closed ? e.closed.stop : 0);
      break;
    default: // reason
      key = (e) => (e.closed ? e.closed.reason : "");
      desc = false;
  }
  // Keys computed once, and an index array sorted: no per-comparison lookups or object moves.
  const n = entries.length;
  const keys = new Array<number | string>(n);
  const cids = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    keys[i] = key(entries[i]!);
    cids[i] = entries[i]!.cid;
  }
  const dir = desc ? -1 : 1;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => {
    const ka = keys[a]!;
    const kb = keys[b]!;
    if (ka !== kb) return ka < kb ? -dir : dir;
    return cids[a]! - cids[b]!;
  });
  const page: Entry[] = [];
  for (let i = Math.min(offset, n); i < Math.min(offset + limit, n); i++) page.push(entries[order[i]!]!);
  return page;
}

/** Go's RTT rendering: microsecond resolution below a millisecond, as client.getRTT truncates. */
function rtt(ms: number): string {
  return goDuration(Math.floor(ms * 1000) * 1000);
}

function openInfo(c: Client, now: number, o: ConnzOptions): Record<string, unknown> {
  const ci: Record<string, unknown> = {
    cid: c.cid,
    kind: "Client",
    type: c.transport.kind === "websocket" ? "websocket" : "nats",
    ip: c.transport.remoteAddress,
    port: c.transport.remotePort,
    start: goTime(c.start),
    last_activity: goTime(c.lastActivity),
    rtt: rtt(c.rttMs),
    uptime: goUptime(now - c.start),
    idle: goUptime(now - c.lastActivity),
    pending_bytes: c.pendingBytes,
    in_msgs: c.inMsgs,
    out_msgs: c.outMsgs,
    in_bytes: c.inBytes,
    out_bytes: c.outBytes,
    subscriptions: c.subs.size,
  };
  const ci2 = c.connect;
  if (ci2.name) ci.name = ci2.name;
  if (ci2.lang) ci.lang = ci2.lang;
  if (ci2.version) ci.version = ci2.version;
  if (o.auth && c.user) ci.authorized_user = c.user;
  if (c.subs.size > 0) {
    if (o.subsDetail) ci.subscriptions_list_detail = [...c.subs.values()].map((sub) => subDetail(sub.subject, sub.queue, sub.sid, sub.nm, sub.max, c.cid));
    else if (o.subs) ci.subscriptions_list = [...c.subs.values()].map((sub) => sub.subject);
  }
  return ci;
}

function closedInfo(cc: ClosedConnection, o: ConnzOptions): Record<string, unknown> {
  const ci: Record<string, unknown> = {
    cid: cc.cid,
    kind: "Client",
    type: cc.transport === "websocket" ? "websocket" : "nats",
    ip: cc.ip,
    port: cc.port,
    start: goTime(cc.start),
    last_activity: goTime(cc.lastActivity),
    stop: goTime(cc.stop),
    reason: cc.reason,
    rtt: rtt(cc.rttMs),
    uptime: goUptime(cc.stop - cc.start),
    idle: goUptime(cc.stop - cc.lastActivity),
    pending_bytes: 0,
    in_msgs: cc.inMsgs,
    out_msgs: cc.outMsgs,
    in_bytes: cc.inBytes,
    out_bytes: cc.outBytes,
    subscriptions: cc.subs.length,
  };
  if (cc.name) ci.name = cc.name;
  if (cc.lang) ci.lang = cc.lang;
  if (cc.version) ci.version = cc.version;
  if (o.auth && cc.user) ci.authorized_user = cc.user;
  if (cc.subs.length > 0) {
    // nats-server keeps a closed connection's subscriptions with their account.
    if (o.subsDetail) ci.subscriptions_list_detail = cc.subs.map((sub) => subDetail(sub.subject, sub.queue, sub.sid, sub.msgs, sub.max, cc.cid, "$G"));
    else if (o.subs) ci.subscriptions_list = cc.subs.map((sub) => sub.subject);
  }
  return ci;
}

/** nats-server's SubDetail, without the account (connz lists subscriptions per connection). */
export function subDetail(subject: string, queue: string | null, sid: string, msgs: number, max: number, cid: number, account?: string): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  if (account) d.account = account;
  d.subject = subject;
  if (queue) d.qgroup = queue;
  d.sid = sid;
  d.msgs = msgs;
  if (max > 0) d.max = max;
  d.cid = cid;
  return d;
}
