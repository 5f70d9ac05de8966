// Dispatches $JS.API.* requests to their handlers. One internal subscription on "$JS.API.>" means
// every API subject has a responder while JetStream is on, so clients never see a 503 for it;
// MSG.NEXT alone is declined here, as it is each consumer's own.
import type { JetStream } from "../jetstream.js";
import { jsError, type ApiError } from "./errors.js";
import { errorJson, responseJson, type ApiReply, type ResponseType } from "./reply.js";
import * as S from "./stream_api.js";
import { directGet } from "./direct_get.js";
import { unsupportedApi } from "./unsupported_api.js";

/** Consumer API handlers, supplied by the consumer layer. */
export interface ConsumerApi {
  /** Returns false when the subject is not a consumer API subject it knows. */
  handle(tokens: string[], subject: string, reply: string | null, hdrLen: number, msg: Buffer, api: ApiReply): boolean;
}

const MSG_NEXT = "$JS.API.CONSUMER.MSG.NEXT.";

export class ApiRouter {
  consumers: ConsumerApi | null = null;

  constructor(private readonly js: JetStream) {}

  /**
   * Returns false to decline: MSG.NEXT belongs to each consumer's own subscription (as in
   * nats-server), so a pull request to a missing stream or consumer finds no responder (503).
   */
  handle(subject: string, reply: string | null, hdrLen: number, msg: Buffer): void | boolean {
    const js = this.js;
    if (subject.startsWith(MSG_NEXT)) return false;
    const body = hdrLen > 0 ? msg.subarray(hdrLen) : msg;
    // Direct gets are the hot path and answer with raw messages, not API responses.
    if (subject.startsWith("$JS.API.DIRECT.GET.")) {
      try {
        return directGet(js, subject, body, reply);
      } catch (e) {
        js.warn(`JetStream direct get on ${subject} failed: ${(e as Error).stack ?? e}`);
        return;
      }
    }
    const tokens = subject.split(".");
    const api = this.replyTo(reply);
    // tokens: $JS API <kind> ...
    const kind = tokens[2];
    try {
      if (kind === "INFO" && tokens.length === 3) return S.accountInfo(js, api);
      if (kind === "STREAM") {
        const op = tokens[3];
        const name = tokens[4];
        if (op === "NAMES" && tokens.length === 4) return S.streamNames(js, body, api);
        if (op === "LIST" && tokens.length === 4) return S.streamList(js, body, api);
        if (op === "MSG" && tokens.length === 6) {
          if (tokens[4] === "GET") return S.streamMsgGet(js, tokens[5]!, body, api);
          if (tokens[4] === "DELETE") return S.streamMsgDelete(js, tokens[5]!, body, api);
        }
        if (tokens.length === 5 && name) {
          switch (op) {
            case "CREATE":
              return S.streamCreate(js, name, body, api);
            case "UPDATE":
              return S.streamUpdate(js, name, body, api);
            case "DELETE":
              return S.streamDelete(js, name, body, api);
            case "INFO":
              return S.streamInfoReq(js, name, body, api);
            case "PURGE":
              return S.streamPurge(js, name, body, api);
          }
        }
      }
      if (unsupportedApi(js, tokens, body, api)) return;
      if (kind === "CONSUMER" && this.consumers?.handle(tokens, subject, reply, hdrLen, msg, api)) return;
      // Unknown API subjects get no answer from nats-server 2.9/2.10.
    } catch (e) {
      js.warn(`JetStream API request on ${subject} failed: ${(e as Error).stack ?? e}`);
      api.error("system_response", jsError("JSStreamGeneralErrorF", { err: (e as Error).message }));
    }
  }

  /** Requests are counted as nats-server counts them: when their answer goes out (so INFO does not count itself). */
  private replyTo(reply: string | null): ApiReply {
    const js = this.js;
    return {
      ok(type: ResponseType, body: Record<string, unknown>) {
        js.apiStats.total++;
        if (reply !== null) js.publish(reply, null, null, Buffer.from(responseJson(type, body)));
      },
      error(type: ResponseType, err: ApiError, extra?: Record<string, unknown>) {
        js.apiStats.total++;
        js.apiStats.errors++;
        if (reply !== null) js.publish(reply, null, null, Buffer.from(errorJson(type, err, extra)));
      },
    };
  }
}
