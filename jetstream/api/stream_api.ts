// $JS.API.STREAM.* handlers and $JS.API.INFO.
import { z } from "zod";
import { jsError, type ApiError } from "./errors.js";
import { isEmptyRequest, type ApiReply } from "./reply.js";
import { streamInfo } from "./stream_info.js";
import { streamConfigRequestSchema } from "../stream/config.js";
import type { JetStream } from "../jetstream.js";
import { nowNanos, rfc3339 } from "../util/time.js";

export const JS_API_NAMES_LIMIT = 1024;
export const JS_API_LIST_LIMIT = 256;

/** Parses a JSON body with a schema; any failure is nats-server's "invalid JSON" (10025). */
export function parseBody<T extends z.ZodType>(schema: T, body: Buffer): z.infer<T> | ApiError {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString("utf8"));
  } catch {
    return jsError("JSInvalidJSONErr");
  }
  const r = schema.safeParse(raw);
  if (!r.success) return jsError("JSInvalidJSONErr");
  return r.data;
}

function isErr(v: unknown): v is ApiError {
  return typeof v === "object" && v !== null && "errCode" in v;
}

const infoRequest = z.looseObject({
  deleted_details: z.boolean().optional(),
  subjects_filter: z.string().optional(),
  offset: z.number().int().nonnegative().optional(),
});

const pagedRequest = z.looseObject({ offset: z.number().int().optional(), subject: z.string().optional() });

const purgeRequest = z.looseObject({ filter: z.string().optional(), seq: z.number().int().nonnegative().optional(), keep: z.number().int().nonnegative().optional() });

const msgGetRequest = z.looseObject({
  seq: z.number().int().nonnegative().optional(),
  last_by_subj: z.string().optional(),
  next_by_subj: z.string().optional(),
});

const msgDeleteRequest = z.looseObject({ seq: z.number().int().nonnegative(), no_erase: z.boolean().optional() });

export function accountInfo(js: JetStream, reply: ApiReply): void {
  const usage = js.registry.usage();
  reply.ok("account_info_response", {
    memory: usage.memory,
    storage: usage.storage,
    streams: js.registry.streams.size,
    consumers: js.consumerTotal(),
    // The account's own limits, which the global account does not have (nats-server's dynamic
    // limits): the server-wide max_memory_store/max_file_store are enforced, not reported here.
    limits: {
      max_memory: -1,
      max_storage: -1,
      max_streams: -1,
      max_consumers: -1,
      max_ack_pending: -1,
      memory_max_stream_bytes: -1,
      storage_max_stream_bytes: -1,
      max_bytes_required: false,
    },
    ...(js.domain ? { domain: js.domain } : {}),
    api: { total: js.apiStats.total, errors: js.apiStats.errors },
  });
}

export function streamCreate(js: JetStream, name: string, body: Buffer, reply: ApiReply): void {
  const t = "stream_create_response";
  const req = parseBody(streamConfigRequestSchema, body);
  if (isErr(req)) return reply.error(t, req);
  if (req.name !== name) return reply.error(t, jsError("JSStreamMismatchErr"));
  if (/[\\/]/.test(name)) return reply.error(t, jsError("JSStreamNameContainsPathSeparatorsErr"));
  const r = js.registry.create(req, nowNanos());
  if (isErr(r)) return reply.error(t, r);
  const { info } = streamInfo(r.stream, { consumerCount: js.consumerCount(r.stream) });
  // Confirmed means durable: the answer waits for the commit of what the create wrote.
  r.stream.store.afterCommit((err) => {
    if (err) return reply.error(t, jsError("JSStreamCreateErrF", { err: err.message }));
    if (r.created) js.advisory(`$JS.EVENT.ADVISORY.STREAM.CREATED.${name}`, "io.nats.jetstream.advisory.v1.stream_action", { stream: name, action: "create" });
    // nats-server 2.9 says did_create:true for an identical re-create as well.
    reply.ok(t, { ...info, did_create: true });
  });
}

export function streamUpdate(js: JetStream, name: string, body: Buffer, reply: ApiReply): void {
  const t = "stream_update_response";
  const req = parseBody(streamConfigRequestSchema, body);
  if (isErr(req)) return reply.error(t, req);
  if (req.name !== name) return reply.error(t, jsError("JSStreamMismatchErr"));
  const r = js.registry.update(req);
  if (isErr(r)) return reply.error(t, r);
  const info = streamInfo(r, { consumerCount: js.consumerCount(r) }).info;
  r.store.afterCommit((err) => {
    if (err) return reply.error(t, jsError("JSStreamUpdateErrF", { err: err.message }));
    js.advisory(`$JS.EVENT.ADVISORY.STREAM.UPDATED.${name}`, "io.nats.jetstream.advisory.v1.stream_action", { stream: name, action: "modify" });
    reply.ok(t, info);
  });
}

export function streamDelete(js: JetStream, name: string, body: Buffer, reply: ApiReply): void {
  const t = "stream_delete_response";
  if (!isEmptyRequest(body)) return reply.error(t, jsError("JSNotEmptyRequestErr"));
  if (!js.registry.delete(name)) return reply.error(t, jsError("JSStreamNotFoundErr"));
  js.advisory(`$JS.EVENT.ADVISORY.STREAM.DELETED.${name}`, "io.nats.jetstream.advisory.v1.stream_action", { stream: name, action: "delete" });
  reply.ok(t, { success: true });
}

export function streamInfoReq(js: JetStream, name: string, body: Buffer, reply: ApiReply): void {
  const t = "stream_info_response";
  const paging = { total: 0, offset: 0, limit: 0 };
  let req: z.infer<typeof infoRequest> = {};
  if (!isEmptyRequest(body)) {
    const r = parseBody(infoRequest, body);
    if (isErr(r)) return reply.error(t, r, paging);
    req = r;
  }
  const stream = js.registry.get(name);
  if (!stream) return reply.error(t, jsError("JSStreamNotFoundErr"), paging);
  const si = streamInfo(stream, { subjectsFilter: req.subjects_filter, deletedDetails: req.deleted_details, offset: req.offset, consumerCount: js.consumerCount(stream) });
  reply.ok(t, { total: si.total, offset: si.offset, limit: si.limit, ...si.info });
}

function paged(body: Buffer): { offset: number; subject?: string } | ApiError {
  if (isEmptyRequest(body)) return { offset: 0 };
  const r = parseBody(pagedRequest, body);
  if (isErr(r)) return r;
  return { offset: Math.max(0, r.offset ?? 0), subject: r.subject };
}

export function streamNames(js: JetStream, body: Buffer, reply: ApiReply): void {
  const t = "stream_names_response";
  const req = paged(body);
  // nats-server's names list is a nil slice until a name is added: null when empty.
  if (isErr(req)) return reply.error(t, req, { total: 0, offset: 0, limit: 0, streams: null });
  const all = js.registry.list(req.subject).map((s) => s.name);
  const offset = Math.min(req.offset, all.length);
  const page = all.slice(offset, offset + JS_API_NAMES_LIMIT);
  reply.ok(t, { total: all.length, offset, limit: JS_API_NAMES_LIMIT, streams: page.length > 0 ? page : null });
}

export function streamList(js: JetStream, body: Buffer, reply: ApiReply): void {
  const t = "stream_list_response";
  const req = paged(body);
  if (isErr(req)) return reply.error(t, req, { total: 0, offset: 0, limit: 0, streams: [] });
  const all = js.registry.list(req.subject);
  const offset = Math.min(req.offset, all.length);
  const streams = all.slice(offset, offset + JS_API_LIST_LIMIT).map((s) => streamInfo(s, { consumerCount: js.consumerCount(s) }).info);
  reply.ok(t, { total: all.length, offset, limit: JS_API_LIST_LIMIT, streams });
}

export function streamPurge(js: JetStream, name: string, body: Buffer, reply: ApiReply): void {
  const t = "stream_purge_response";
  // nats-server's purge response always has "purged", errors included.
  const fail = (e: ApiError) => reply.error(t, e, { purged: 0 });
  const stream = js.registry.get(name);
  if (!stream) return fail(jsError("JSStreamNotFoundErr"));
  let req: z.infer<typeof purgeRequest> = {};
  if (!isEmptyRequest(body)) {
    const r = parseBody(purgeRequest, body);
    if (isErr(r)) return fail(r);
    req = r;
  }
  if ((req.seq ?? 0) > 0 && (req.keep ?? 0) > 0) return fail(jsError("JSBadRequestErr"));
  const n = stream.apply({ kind: "purge", filter: req.filter, seq: req.seq, keep: req.keep });
  if (isErr(n)) return fail(n);
  stream.store.afterCommit((err) => {
    if (err) fail(jsError("JSStreamGeneralErrorF", { err: err.message }));
    else reply.ok(t, { success: true, purged: n });
  });
}

export function streamMsgGet(js: JetStream, name: string, body: Buffer, reply: ApiReply): void {
  const t = "stream_msg_get_response";
  // nats-server's order: the request is checked before the stream is looked up.
  if (isEmptyRequest(body)) return reply.error(t, jsError("JSBadRequestErr"));
  const req = parseBody(msgGetRequest, body);
  if (isErr(req)) return reply.error(t, req);
  if ((req as Record<string, unknown>).batch !== undefined || (req as Record<string, unknown>).max_bytes !== undefined) return reply.error(t, jsError("JSBadRequestErr"));
  if (lookupConflict(req)) return reply.error(t, jsError("JSBadRequestErr"));
  const stream = js.registry.get(name);
  if (!stream) return reply.error(t, jsError("JSStreamNotFoundErr"));
  const m = lookup(stream, req);
  if (m === null) return reply.error(t, jsError("JSNoMessageFoundErr"));
  const message: Record<string, unknown> = { subject: m.subject, seq: m.seq };
  if (m.hdr && m.hdr.length > 0) message.hdrs = m.hdr.toString("base64");
  if (m.data.length > 0) message.data = m.data.toString("base64");
  message.time = rfc3339(m.ts);
  reply.ok(t, { message });
}

type GetRequest = { seq?: number; last_by_subj?: string; next_by_subj?: string };

/** A get request that names nothing, or both a sequence or a next subject and a last subject. */
export function lookupConflict(req: GetRequest): "empty" | "conflict" | null {
  if (!req.seq && !req.last_by_subj && !req.next_by_subj) return "empty";
  if (req.last_by_subj && (req.seq || req.next_by_subj)) return "conflict";
  return null;
}

/** The message a get request names: by sequence, last on a subject, or next on a subject from a sequence (lookupConflict refused the rest). */
export function lookup(stream: import("../stream/stream.js").Stream, req: GetRequest) {
  const store = stream.store;
  if (req.last_by_subj) return store.loadLastMsg(req.last_by_subj);
  if (req.next_by_subj) return store.loadNextMsg(req.next_by_subj, Math.max(1, req.seq ?? 0));
  return store.loadMsg(req.seq!);
}

export function streamMsgDelete(js: JetStream, name: string, body: Buffer, reply: ApiReply): void {
  const t = "stream_msg_delete_response";
  const stream = js.registry.get(name);
  if (!stream) return reply.error(t, jsError("JSStreamNotFoundErr"));
  if (isEmptyRequest(body)) return reply.error(t, jsError("JSBadRequestErr"));
  const req = parseBody(msgDeleteRequest, body);
  if (isErr(req)) return reply.error(t, req);
  const r = stream.apply({ kind: "delete", seq: req.seq, erase: !req.no_erase });
  if (isErr(r)) return reply.error(t, r);
  if (!r) return reply.error(t, deleteMiss(stream, req.seq));
  stream.store.afterCommit((err) => {
    if (err) reply.error(t, jsError("JSStreamMsgDeleteFailedF", { err: err.message }));
    else reply.ok(t, { success: true });
  });
}

/**
 * nats-server answers a delete of a missing message by what its store says: the memory store
 * just "not removed" (10043); the file store an error when no block holds the sequence (past the
 * end, sequence 0, or nothing left at all) and "not removed" inside a block.
 */
function deleteMiss(stream: import("../stream/stream.js").Stream, seq: number): ApiError {
  if (stream.config.storage === "memory") return jsError("JSSequenceNotFoundErrF", { seq });
  const st = stream.store.state();
  if (seq > st.lastSeq) return jsError("JSStreamMsgDeleteFailedF", { err: "stream store EOF" });
  if (seq === 0 || st.msgs === 0) return jsError("JSStreamMsgDeleteFailedF", { err: "no message found" });
  return jsError("JSSequenceNotFoundErrF", { seq });
}
