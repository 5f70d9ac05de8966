// API subjects nats-server 2.9 serves that a single tsnats server answers with a clear error
// instead of silence (silence makes `nats stream backup` or a step-down wait for its timeout):
// the clustering requests answer as a non-clustered nats-server does, snapshots and restores
// after nats-server's own checks with "not supported".
import type { JetStream } from "../jetstream.js";
import { jsError } from "./errors.js";
import { isEmptyRequest, type ApiReply } from "./reply.js";

/** Returns false when the subject is none of these. tokens: $JS API ... */
export function unsupportedApi(js: JetStream, tokens: string[], body: Buffer, reply: ApiReply): boolean {
  const [, , kind, a, b] = tokens;
  const n = tokens.length;
  if (kind === "STREAM" && a === "LEADER" && b === "STEPDOWN" && n === 6) {
    reply.error("stream_leader_stepdown_response", jsError("JSClusterRequiredErr"));
    return true;
  }
  if (kind === "CONSUMER" && a === "LEADER" && b === "STEPDOWN" && n === 7) {
    reply.error("consumer_leader_stepdown_response", jsError("JSClusterRequiredErr"));
    return true;
  }
  if (kind === "STREAM" && a === "PEER" && b === "REMOVE" && n === 6) {
    reply.error("stream_remove_peer_response", jsError("JSClusterRequiredErr"));
    return true;
  }
  if (kind === "STREAM" && a === "SNAPSHOT" && n === 5) {
    const t = "stream_snapshot_response";
    if (isEmptyRequest(body)) reply.error(t, jsError("JSBadRequestErr"));
    else if (!js.registry.get(b!)) reply.error(t, jsError("JSStreamNotFoundErr"));
    else reply.error(t, jsError("JSStreamSnapshotErrF", { err: "stream snapshots are not supported by this server" }));
    return true;
  }
  if (kind === "STREAM" && a === "RESTORE" && n === 5) {
    const t = "stream_restore_response";
    if (isEmptyRequest(body)) reply.error(t, jsError("JSBadRequestErr"));
    else if (js.registry.get(b!)) reply.error(t, jsError("JSStreamNameExistRestoreFailedErr"));
    else reply.error(t, jsError("JSStreamRestoreErrF", { err: "stream restores are not supported by this server" }));
    return true;
  }
  return false;
}
