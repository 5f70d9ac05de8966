// The StreamInfo and StreamState JSON shapes (field names and omissions as nats-server's).
import type { Stream } from "../stream/stream.js";
import { clientConfig } from "../stream/config.js";
import { rfc3339 } from "../util/time.js";

export const JS_MAX_SUBJECT_DETAILS = 100_000;

export interface InfoOptions {
  subjectsFilter?: string;
  deletedDetails?: boolean;
  offset?: number;
  consumerCount: number;
}

export interface StreamInfoJson {
  info: Record<string, unknown>;
  /** Paging of state.subjects when a subjects_filter was given. */
  total: number;
  offset: number;
  limit: number;
}

export function streamState(stream: Stream, opts: InfoOptions): { state: Record<string, unknown>; total: number; offset: number; limit: number } {
  const st = stream.store.state({ deleted: !!opts.deletedDetails });
  const state: Record<string, unknown> = {
    messages: st.msgs,
    bytes: st.bytes,
    first_seq: st.firstSeq,
    first_ts: rfc3339(st.firstTs),
    last_seq: st.lastSeq,
    last_ts: rfc3339(st.lastTs),
  };
  // Field order follows nats-server's StreamState.
  if (st.numSubjects > 0) state.num_subjects = st.numSubjects;
  let total = 0;
  let offset = 0;
  let limit = 0;
  if (opts.subjectsFilter) {
    const subjects = [...stream.store.subjectsState(opts.subjectsFilter).entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    // Paging fields stay 0 when nothing matched, as nats-server leaves them.
    if (subjects.length > 0) {
      total = subjects.length;
      offset = Math.min(Math.max(0, opts.offset ?? 0), total);
      limit = JS_MAX_SUBJECT_DETAILS;
      const page = subjects.slice(offset, offset + limit);
      if (page.length > 0) state.subjects = Object.fromEntries(page.map(([k, v]) => [k, v.msgs]));
    }
  }
  if (st.numDeleted > 0) state.num_deleted = st.numDeleted;
  if (opts.deletedDetails && st.deleted && st.deleted.length > 0) state.deleted = st.deleted;
  state.consumer_count = opts.consumerCount;
  return { state, total, offset, limit };
}

export function streamInfo(stream: Stream, opts: InfoOptions): StreamInfoJson {
  const { state, total, offset, limit } = streamState(stream, opts);
  const info: Record<string, unknown> = { config: clientConfig(stream.config), created: rfc3339(stream.created), state };
  if (stream.sourcing !== null) Object.assign(info, stream.sourcing.info());
  return { info, total, offset, limit };
}
