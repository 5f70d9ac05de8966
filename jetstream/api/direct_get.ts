// $JS.API.DIRECT.GET: the raw message with its stored headers, then nats-server's metadata
// headers, answered only by streams with allow_direct (others stay silent, as nats-server does).
// Batches and multi-subject reads (ADR-31) stream several messages and end with a 204 EOB frame.
import { z } from "zod";
import type { JetStream } from "../jetstream.js";
import type { Stream } from "../stream/stream.js";
import type { StoredMsg } from "../store/store.js";
import { buildHeaders } from "../util/headers.js";
import { parseRfc3339, rfc3339 } from "../util/time.js";
import { lookup } from "./stream_api.js";

const MAX_MULTI_SUBJECTS = 1024;

const directRequest = z.looseObject({
  seq: z.number().int().nonnegative().optional(),
  last_by_subj: z.string().optional(),
  next_by_subj: z.string().optional(),
  batch: z.number().int().nonnegative().optional(),
  max_bytes: z.number().int().nonnegative().optional(),
  start_time: z.string().optional(),
  multi_last: z.array(z.string()).optional(),
  up_to_seq: z.number().int().nonnegative().optional(),
  up_to_time: z.string().optional(),
  no_hdr: z.boolean().optional(),
});
type DirectRequest = z.infer<typeof directRequest>;

function status(js: JetStream, reply: string, text: string, pairs: [string, string][] = []): void {
  js.publish(reply, null, buildHeaders(pairs, text), Buffer.alloc(0));
}

const PREFIX = "$JS.API.DIRECT.GET.";
const SIMPLE_SEQ = /^\{\s*"seq"\s*:\s*(\d{1,15})\s*\}$/;

/** The stored message with its headers, then ours, in one buffer handed to the router. */
function send(js: JetStream, reply: string, stream: Stream, m: StoredMsg, extra: [string, string][] = [], noHeaders = false): void {
  if (noHeaders) {
    // no_hdr: the payload alone, without the stored headers or ours.
    js.publishMsg(reply, 0, m.data);
    return;
  }
  let meta = `Nats-Stream: ${stream.name}\r\nNats-Subject: ${m.subject}\r\nNats-Sequence: ${m.seq}\r\nNats-Time-Stamp: ${rfc3339(m.ts)}\r\n`;
  for (const [k, v] of extra) meta += `${k}: ${v}\r\n`;
  meta += "\r\n";
  // The stored block without its final empty line, or a fresh one.
  const stored = m.hdr !== null && m.hdr.length >= 4 ? m.hdr.subarray(0, m.hdr.length - 2) : HDR_START;
  const metaLen = Buffer.byteLength(meta, "latin1");
  const hdrLen = stored.length + metaLen;
  const buf = Buffer.allocUnsafe(hdrLen + m.data.length);
  stored.copy(buf, 0);
  buf.write(meta, stored.length, "latin1");
  m.data.copy(buf, hdrLen);
  js.publishMsg(reply, hdrLen, buf);
}

const HDR_START = Buffer.from("NATS/1.0\r\n");

/** subject: $JS.API.DIRECT.GET.<stream>[.<subject>]. */
export function directGet(js: JetStream, subject: string, body: Buffer, reply: string | null): void {
  if (reply === null) return;
  const dot = subject.indexOf(".", PREFIX.length);
  const name = dot < 0 ? subject.slice(PREFIX.length) : subject.slice(PREFIX.length, dot);
  // The origin answers; without it (or its allow_direct) a mirror_direct mirror does, as one of
  // nats-server's queue subscribers on the origin's direct get subject would.
  const own = js.registry.get(name);
  const stream = own !== undefined && own.config.allow_direct ? own : js.registry.directMirror(name);
  if (stream === undefined) return;
  let req: DirectRequest;
  if (dot >= 0) {
    // Subject-appended form: the body must be empty (2.9 semantics).
    if (body.length > 0) return status(js, reply, "408 Bad Request");
    req = { last_by_subj: subject.slice(dot + 1) };
  } else {
    if (body.length === 0) return status(js, reply, "408 Empty Request");
    const text = body.toString("utf8");
    // The common {"seq":N} needs no general validation.
    const simple = SIMPLE_SEQ.exec(text);
    if (simple !== null) {
      req = { seq: Number(simple[1]) };
    } else {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        return status(js, reply, "408 Malformed Request");
      }
      const r = directRequest.safeParse(raw);
      // A time that is not RFC 3339 fails nats-server's decoding of the request, like bad JSON.
      if (!r.success || badTime(r.data.start_time) || badTime(r.data.up_to_time)) return status(js, reply, "408 Malformed Request");
      req = r.data;
    }
    const refused = requestProblem(req);
    if (refused !== null) return status(js, reply, refused);
  }
  if (req.multi_last && req.multi_last.length > 0) return multiLast(js, reply, stream, req);
  if (req.batch && req.batch > 0) return batch(js, reply, stream, req);
  if (req.start_time !== undefined) {
    req = { ...req, seq: stream.store.seqFromTime(parseRfc3339(req.start_time)!), next_by_subj: req.next_by_subj ?? ">" };
  }
  // The subject form names one subject; requestProblem refused bodies naming none or several ways.
  const m = lookup(stream, req);
  if (m === null) return status(js, reply, "404 Message Not Found");
  send(js, reply, stream, m, [], req.no_hdr === true);
}

function badTime(t: string | undefined): boolean {
  return t !== undefined && parseRfc3339(t) === null;
}

/**
 * nats-server's checks of a JSON direct get request, in its order: one that names no message
 * (a batch alone does not), then combinations it does not serve.
 */
function requestProblem(req: DirectRequest): string | null {
  const multi = req.multi_last !== undefined && req.multi_last.length > 0;
  const seq = (req.seq ?? 0) > 0;
  const last = !!req.last_by_subj;
  const next = !!req.next_by_subj;
  const start = req.start_time !== undefined;
  if (!seq && !last && !next && !multi && !start) return "408 Empty Request";
  if (
    (seq && last) ||
    (seq && start) ||
    (start && last) ||
    (last && next) ||
    (last && (req.batch ?? 0) > 0) ||
    (last && multi) ||
    (next && multi) ||
    ((req.up_to_seq ?? 0) > 0 && req.up_to_time !== undefined)
  ) {
    return "408 Bad Request";
  }
  return null;
}

/**
 * A batch from a sequence (or start_time), on next_by_subj's filter or all subjects. As in
 * nats-server, each message is sent before max_bytes is checked, so the one that crosses it goes.
 */
function batch(js: JetStream, reply: string, stream: Stream, req: DirectRequest): void {
  const store = stream.store;
  const filter = req.next_by_subj || ">";
  const start = req.start_time !== undefined ? store.seqFromTime(parseRfc3339(req.start_time)!) : Math.max(1, req.seq ?? 0);
  const maxBytes = req.max_bytes && req.max_bytes > 0 ? req.max_bytes : js.server.options.maxPending;
  let sent = 0;
  let bytes = 0;
  let last = 0;
  for (let seq = start; sent < req.batch!; ) {
    const m = store.loadNextMsg(filter, seq);
    if (m === null) break;
    const pending = store.filteredState(m.seq + 1, filter).msgs;
    const meta: [string, string][] = [
      ["Nats-Num-Pending", String(pending)],
      ["Nats-Last-Sequence", String(last)],
    ];
    send(js, reply, stream, m, meta, req.no_hdr === true);
    sent++;
    bytes += m.subject.length + (m.hdr?.length ?? 0) + m.data.length;
    last = m.seq;
    seq = m.seq + 1;
    if (bytes >= maxBytes) break;
  }
  if (sent === 0) return status(js, reply, "404 Message Not Found");
  status(js, reply, "204 EOB", [
    ["Nats-Num-Pending", String(store.filteredState(last + 1, filter).msgs)],
    ["Nats-Last-Sequence", String(last)],
  ]);
}

function multiLast(js: JetStream, reply: string, stream: Stream, req: DirectRequest): void {
  const store = stream.store;
  let upTo = req.up_to_seq && req.up_to_seq > 0 ? req.up_to_seq : store.state().lastSeq;
  if (req.up_to_time !== undefined) {
    // As nats-server: the messages before that time; none when it is not past the first one.
    const bound = store.seqFromTime(parseRfc3339(req.up_to_time)!);
    if (bound <= store.state().firstSeq) return status(js, reply, "404 No Results");
    upTo = bound - 1;
  }
  const subjects = new Set<string>();
  for (const f of req.multi_last!) {
    for (const s of store.subjectsState(f).keys()) {
      subjects.add(s);
      if (subjects.size > MAX_MULTI_SUBJECTS) return status(js, reply, "413 Too Many Results");
    }
  }
  const msgs: StoredMsg[] = [];
  for (const s of subjects) {
    const m = store.loadPrevMsg(upTo, s);
    if (m !== null) msgs.push(m);
  }
  msgs.sort((a, b) => a.seq - b.seq);
  const limit = req.batch && req.batch > 0 ? Math.min(req.batch, msgs.length) : msgs.length;
  if (limit === 0) return status(js, reply, "404 No Results");
  const maxBytes = req.max_bytes && req.max_bytes > 0 ? req.max_bytes : js.server.options.maxPending;
  let last = 0;
  let sent = 0;
  let bytes = 0;
  while (sent < limit) {
    const m = msgs[sent]!;
    send(js, reply, stream, m, [
      ["Nats-Num-Pending", String(msgs.length - sent - 1)],
      ["Nats-Last-Sequence", String(last)],
    ]);
    last = m.seq;
    sent++;
    bytes += m.subject.length + (m.hdr?.length ?? 0) + m.data.length;
    if (bytes >= maxBytes) break;
  }
  status(js, reply, "204 EOB", [
    ["Nats-Num-Pending", String(msgs.length - sent)],
    ["Nats-Last-Sequence", String(last)],
    ["Nats-UpTo-Sequence", String(upTo)],
  ]);
}
