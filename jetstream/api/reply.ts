// Writing JetStream API responses: the JSON envelope with its type string, and the error object.
import type { ApiError } from "./errors.js";

export const API_PREFIX = "io.nats.jetstream.api.v1.";

export type ResponseType =
  | "account_info_response"
  | "stream_create_response"
  | "stream_update_response"
  | "stream_delete_response"
  | "stream_info_response"
  | "stream_list_response"
  | "stream_names_response"
  | "stream_purge_response"
  | "stream_msg_get_response"
  | "stream_msg_delete_response"
  | "consumer_create_response"
  | "consumer_delete_response"
  | "consumer_info_response"
  | "consumer_list_response"
  | "consumer_names_response"
  | "consumer_pause_response"
  | "consumer_unpin_response"
  | "consumer_leader_stepdown_response"
  | "stream_leader_stepdown_response"
  | "stream_remove_peer_response"
  | "stream_snapshot_response"
  | "stream_restore_response"
  | "system_response";

/** The reply channel of one API request. */
export interface ApiReply {
  ok(type: ResponseType, body: Record<string, unknown>): void;
  error(type: ResponseType, err: ApiError, extra?: Record<string, unknown>): void;
}

export function responseJson(type: ResponseType, body: Record<string, unknown>): string {
  return JSON.stringify({ type: API_PREFIX + type, ...body });
}

export function errorJson(type: ResponseType, err: ApiError, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: API_PREFIX + type, error: err.toJSON(), ...extra });
}

/** nats-server's isEmptyRequest: no bytes, or a JSON object with no fields. */
export function isEmptyRequest(body: Buffer): boolean {
  if (body.length === 0) return true;
  const s = body.toString("utf8").trim();
  if (s === "") return true;
  try {
    const v = JSON.parse(s);
    return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0;
  } catch {
    return false;
  }
}
