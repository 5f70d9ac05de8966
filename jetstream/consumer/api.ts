// $JS.API.CONSUMER.* handlers: the three create forms and DURABLE.CREATE (with nats-server's
// subject/body consistency checks, in its order), INFO, DELETE, LIST and NAMES. MSG.NEXT is not
// answered here: each consumer has its own subscription for it, so a request to a missing
// consumer gets no reply, as with nats-server.

import { z } from "zod";
import type { ConsumerApi } from "../api/router.js";
import { jsError, type ApiError } from "../api/errors.js";
import { isEmptyRequest, type ApiReply } from "../api/reply.js";
import { parseBody } from "../api/stream_api.js";
import { createConsumerRequestSchema, fromRequest } from "./config.js";
import type { ConsumerManager } from "./layer.js";

export const JS_API_NAMES_LIMIT = 1024;
export const JS_API_LIST_LIMIT = 256;

const pagedRequest = z.looseObject({ offset: z.number().int().optional() });

function isErr(v: unknown): v is ApiError {
  return typeof v === "object" && v !== null && "errCode" in v;
}

export class ConsumerApiHandler implements ConsumerApi {
  constructor(private readonly mgr: ConsumerManager) {}

  handle(tokens: string[], _subject: string, _reply: string | null, hdrLen: number, msg: Buffer, api: ApiReply): boolean {
    const body = hdrLen > 0 ? msg.subarray(hdrLen) : msg;
    const op = tokens[3];
    const n = tokens.length;
    if (op === "CREATE" && n >= 5) return this.create(tokens, body, api), true;
    if (op === "DURABLE" && tokens[4] === "CREATE" && n >= 6) return this.create(tokens, body, api), true;
    if (op === "INFO" && n === 6) return this.info(tokens[4]!, tokens[5]!, body, api), true;
    if (op === "DELETE" && n === 6) return this.delete(tokens[4]!, tokens[5]!, body, api), true;
    if (op === "LIST" && n === 5) return this.list(tokens[4]!, body, api, false), true;
    if (op === "NAMES" && n === 5) return this.list(tokens[4]!, body, api, true), true;
    return false;
  }

  /** jsConsumerCreateRequest. */
  private create(tokens: string[], body: Buffer, api: ApiReply): void {
    const t = "consumer_create_response";
    const req = parseBody(createConsumerRequestSchema, body);
    if (isErr(req)) return api.error(t, req);
    const n = tokens.length;
    let kind: "ephemeral" | "durable" | "named";
    let streamName: string;
    let consumerName = "";
    let filtered = "";
    if (n === 5) {
      kind = "ephemeral";
      streamName = tokens[4]!;
    } else if (tokens[3] === "DURABLE") {
      kind = "durable";
      if (n !== 7) return api.error(t, jsError("JSConsumerDurableNameNotInSubjectErr"));
      streamName = tokens[5]!;
      consumerName = tokens[6]!;
    } else {
      kind = "named";
      streamName = tokens[4]!;
      consumerName = tokens[5]!;
      if (n > 6) filtered = tokens.slice(6).join(".");
    }
    if ((req.stream_name ?? "") !== streamName) return api.error(t, jsError("JSStreamMismatchErr"));
    if (consumerName !== "" && /[\\/]/.test(consumerName)) return api.error(t, jsError("JSConsumerNameContainsPathSeparatorsErr"));
    const cfg = fromRequest(req.config);
    const durable = cfg.durable_name ?? "";
    if (kind === "durable") {
      if (durable === "") return api.error(t, jsError("JSConsumerDurableNameNotSetErr"));
      if (consumerName !== durable) return api.error(t, jsError("JSConsumerDurableNameNotMatchSubjectErr"));
    } else if (kind === "named") {
      if (durable !== "" && consumerName !== durable) return api.error(t, jsError("JSConsumerDurableNameNotMatchSubjectErr"));
      cfg.name = consumerName;
    } else if (durable !== "") {
      return api.error(t, jsError("JSConsumerEphemeralWithDurableNameErr"));
    }
    if (filtered !== "") {
      if (cfg.filter_subjects) return api.error(t, jsError("JSConsumerMultipleFiltersNotAllowed"));
      if ((cfg.filter_subject ?? "") !== filtered) return api.error(t, jsError("JSConsumerCreateFilterSubjectMismatchErr"));
    }
    if (cfg.num_replicas > 1) return api.error(t, jsError("JSStreamReplicasNotSupportedErr"));
    const stream = this.mgr.stream(streamName);
    if (!stream) return api.error(t, jsError("JSStreamNotFoundErr"));
    const r = this.mgr.addConsumer(stream, cfg, req.action ?? "", req.pedantic === true);
    if (isErr(r)) return api.error(t, r);
    this.mgr.whenDurable(r.store, (err) => {
      if (err) api.error(t, jsError("JSConsumerStoreFailedErrF", { err: err.message }));
      else api.ok(t, r.info);
    });
  }

  private info(streamName: string, name: string, body: Buffer, api: ApiReply): void {
    const t = "consumer_info_response";
    if (!isEmptyRequest(body)) return api.error(t, jsError("JSNotEmptyRequestErr"));
    const stream = this.mgr.stream(streamName);
    if (!stream) return api.error(t, jsError("JSStreamNotFoundErr"));
    const c = this.mgr.consumer(stream, name);
    if (!c) return api.error(t, jsError("JSConsumerNotFoundErr"));
    api.ok(t, c.info());
  }

  private delete(streamName: string, name: string, body: Buffer, api: ApiReply): void {
    const t = "consumer_delete_response";
    if (!isEmptyRequest(body)) return api.error(t, jsError("JSNotEmptyRequestErr"));
    const stream = this.mgr.stream(streamName);
    if (!stream) return api.error(t, jsError("JSStreamNotFoundErr"));
    const c = this.mgr.consumer(stream, name);
    if (!c) return api.error(t, jsError("JSConsumerNotFoundErr"));
    const store = c.store;
    this.mgr.deleteConsumer(c);
    this.mgr.whenDurable(store, (err) => {
      if (err) api.error(t, jsError("JSStreamGeneralErrorF", { err: err.message }));
      else api.ok(t, { success: true });
    });
  }

  private list(streamName: string, body: Buffer, api: ApiReply, namesOnly: boolean): void {
    const t = namesOnly ? "consumer_names_response" : "consumer_list_response";
    const empty = { total: 0, offset: 0, limit: 0, consumers: [] };
    let offset = 0;
    if (!isEmptyRequest(body)) {
      const r = parseBody(pagedRequest, body);
      if (isErr(r)) return api.error(t, r, empty);
      offset = Math.max(0, r.offset ?? 0);
    }
    const stream = this.mgr.stream(streamName);
    if (!stream) return api.error(t, jsError("JSStreamNotFoundErr"), empty);
    const all = this.mgr.consumers(stream);
    const limit = namesOnly ? JS_API_NAMES_LIMIT : JS_API_LIST_LIMIT;
    if (offset > all.length) offset = all.length;
    const page = all.slice(offset, offset + limit);
    const consumers = namesOnly ? page.map((c) => c.name) : page.map((c) => c.info());
    api.ok(t, { total: all.length, offset, limit, consumers });
  }
}
