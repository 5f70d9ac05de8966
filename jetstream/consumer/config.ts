// ConsumerConfig as the JetStream API carries it: the zod schema of create requests, nats-server's
// defaults (setConsumerConfigDefaults), its validation with the exact error codes and texts
// (checkConsumerCfg and the checks of addConsumer), the rules for updating an existing consumer
// (checkNewConsumerConfig), and the JSON clients get back, in Go's field order with omitempty.

import { goDuration } from "../../server/go_duration.js";
import { z } from "zod";
import { ApiError, jsError } from "../api/errors.js";
import { isSubsetMatch, isValidSubject, subjectHasWildcard, subjectsCollide } from "../../server/subjects/subject.js";
import type { StreamConfig } from "../stream/config.js";
import { parseRfc3339, rfc3339 } from "../util/time.js";

export type DeliverPolicy = "all" | "last" | "new" | "by_start_sequence" | "by_start_time" | "last_per_subject";
export type AckPolicy = "none" | "all" | "explicit";
export type ReplayPolicy = "instant" | "original";

export const NS_PER_MS = 1_000_000;
export const ACK_WAIT_DEFAULT = 30_000 * NS_PER_MS;
export const INACTIVE_THRESHOLD_DEFAULT = 5_000 * NS_PER_MS;
export const MAX_ACK_PENDING_DEFAULT = 1000;
export const MAX_WAITING_DEFAULT = 512;
export const JS_MAX_NAME_LEN = 255;
export const JS_MAX_DESCRIPTION_LEN = 4096;
export const JS_MAX_METADATA_LEN = 128 * 1024;

const int = z.number().int();
const uint = int.nonnegative();

const deliverPolicy = z
  .enum(["all", "undefined", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"])
  .transform((v): DeliverPolicy => (v === "undefined" ? "all" : v));

/** What a request may carry. Unknown fields are tolerated, as nats-server 2.9 does. */
export const consumerConfigSchema = z.looseObject({
  durable_name: z.string().optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  deliver_policy: deliverPolicy.optional(),
  opt_start_seq: uint.optional(),
  opt_start_time: z
    .string()
    .refine((s) => parseRfc3339(s) !== null)
    .nullable()
    .optional(),
  ack_policy: z.enum(["none", "all", "explicit"]).optional(),
  ack_wait: int.optional(),
  max_deliver: int.optional(),
  backoff: z.array(int).nullable().optional(),
  filter_subject: z.string().optional(),
  filter_subjects: z.array(z.string()).nullable().optional(),
  replay_policy: z.enum(["instant", "original"]).optional(),
  rate_limit_bps: uint.optional(),
  sample_freq: z.string().optional(),
  max_waiting: int.optional(),
  max_ack_pending: int.optional(),
  idle_heartbeat: int.optional(),
  flow_control: z.boolean().optional(),
  headers_only: z.boolean().optional(),
  max_batch: int.optional(),
  max_expires: int.optional(),
  max_bytes: int.optional(),
  deliver_subject: z.string().optional(),
  deliver_group: z.string().optional(),
  inactive_threshold: int.optional(),
  num_replicas: int.optional(),
  mem_storage: z.boolean().optional(),
  direct: z.boolean().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
});

export type ConsumerConfigRequest = z.infer<typeof consumerConfigSchema>;

export const createConsumerRequestSchema = z.looseObject({
  stream_name: z.string().optional(),
  config: consumerConfigSchema.nullable().optional(),
  action: z.enum(["", "create", "update"]).optional(),
  pedantic: z.boolean().optional(),
});

export type CreateConsumerRequest = z.infer<typeof createConsumerRequestSchema>;

/** A consumer config after defaults: what is stored and echoed back. Durations are nanoseconds. */
export interface ConsumerConfig {
  durable_name?: string;
  name?: string;
  description?: string;
  deliver_policy: DeliverPolicy;
  opt_start_seq?: number;
  opt_start_time?: string;
  ack_policy: AckPolicy;
  ack_wait?: number;
  max_deliver?: number;
  backoff?: number[];
  filter_subject?: string;
  filter_subjects?: string[];
  replay_policy: ReplayPolicy;
  rate_limit_bps?: number;
  sample_freq?: string;
  max_waiting?: number;
  max_ack_pending?: number;
  idle_heartbeat?: number;
  flow_control?: boolean;
  headers_only?: boolean;
  max_batch?: number;
  max_expires?: number;
  max_bytes?: number;
  deliver_subject?: string;
  deliver_group?: string;
  inactive_threshold?: number;
  num_replicas: number;
  mem_storage?: boolean;
  direct?: boolean;
  metadata?: Record<string, string>;
}

/** The request's config with Go's zero values made explicit (a missing config is all zeros). */
export function fromRequest(r: ConsumerConfigRequest | null | undefined): ConsumerConfig {
  const c = r ?? {};
  const out: ConsumerConfig = {
    deliver_policy: c.deliver_policy ?? "all",
    ack_policy: c.ack_policy ?? "none",
    replay_policy: c.replay_policy ?? "instant",
    num_replicas: c.num_replicas ?? 0,
  };
  if (c.durable_name) out.durable_name = c.durable_name;
  if (c.name) out.name = c.name;
  if (c.description) out.description = c.description;
  if (c.opt_start_seq) out.opt_start_seq = c.opt_start_seq;
  if (c.opt_start_time) out.opt_start_time = c.opt_start_time;
  if (c.ack_wait) out.ack_wait = c.ack_wait;
  if (c.max_deliver) out.max_deliver = c.max_deliver;
  if (c.backoff && c.backoff.length > 0) out.backoff = [...c.backoff];
  if (c.filter_subject) out.filter_subject = c.filter_subject;
  if (c.filter_subjects && c.filter_subjects.length > 0) out.filter_subjects = [...c.filter_subjects];
  if (c.rate_limit_bps) out.rate_limit_bps = c.rate_limit_bps;
  if (c.sample_freq) out.sample_freq = c.sample_freq;
  if (c.max_waiting) out.max_waiting = c.max_waiting;
  if (c.max_ack_pending) out.max_ack_pending = c.max_ack_pending;
  if (c.idle_heartbeat) out.idle_heartbeat = c.idle_heartbeat;
  if (c.flow_control) out.flow_control = true;
  if (c.headers_only) out.headers_only = true;
  if (c.max_batch) out.max_batch = c.max_batch;
  if (c.max_expires) out.max_expires = c.max_expires;
  if (c.max_bytes) out.max_bytes = c.max_bytes;
  if (c.deliver_subject) out.deliver_subject = c.deliver_subject;
  if (c.deliver_group) out.deliver_group = c.deliver_group;
  if (c.inactive_threshold) out.inactive_threshold = c.inactive_threshold;
  if (c.mem_storage) out.mem_storage = true;
  if (c.direct) out.direct = true;
  if (c.metadata && Object.keys(c.metadata).length > 0) out.metadata = { ...c.metadata };
  return out;
}

export function isDurable(c: ConsumerConfig): boolean {
  return !!c.durable_name;
}

export function isPush(c: ConsumerConfig): boolean {
  return !!c.deliver_subject;
}

/** The filters a consumer selects by; empty means every message of the stream. */
export function filtersOf(c: ConsumerConfig): string[] {
  if (c.filter_subjects && c.filter_subjects.length > 0) return c.filter_subjects;
  if (c.filter_subject) return [c.filter_subject];
  return [];
}

/** nats-server's isValidName: not empty, no whitespace, no '.', '*' or '>'. */
export function isValidName(name: string): boolean {
  if (name === "") return false;
  return !/[ \t\r\n\f.*>]/.test(name);
}

/**
 * setConsumerConfigDefaults (plus the stream's consumer_limits), applied in place. In pedantic
 * mode (CONSUMER.CREATE with "pedantic": true) a default that would change what the client asked
 * for is refused instead, with nats-server's JSPedanticErrF text.
 */
export function applyDefaults(c: ConsumerConfig, stream: StreamConfig, ephemeral = !c.durable_name, pedantic = false): ApiError | null {
  const refuse = (err: string): ApiError => jsError("JSPedanticErrF", { err });
  if (pedantic) {
    if ((c.max_deliver ?? 0) < -1) return refuse("max_deliver must be set to -1");
    if ((c.max_waiting ?? 0) < 0) return refuse("max_waiting must not be negative");
    if ((c.max_ack_pending ?? 0) < -1) return refuse("max_ack_pending must be set to -1");
    if ((c.max_batch ?? 0) < 0) return refuse("max_batch must not be negative");
    if ((c.max_expires ?? 0) < 0) return refuse("max_expires must not be negative");
    if ((c.max_bytes ?? 0) < 0) return refuse("max_bytes must not be negative");
    if ((c.idle_heartbeat ?? 0) < 0) return refuse("idle_heartbeat must not be negative");
    if ((c.inactive_threshold ?? 0) < 0) return refuse("inactive_threshold must not be negative");
  }
  const lim = stream.consumer_limits;
  if (!c.deliver_subject && !c.max_waiting) c.max_waiting = MAX_WAITING_DEFAULT;
  const acks = c.ack_policy === "explicit" || c.ack_policy === "all";
  if (!c.ack_wait && acks) c.ack_wait = ACK_WAIT_DEFAULT;
  if (!c.max_deliver) c.max_deliver = -1;
  if (c.backoff && c.backoff.length > 0) {
    if (pedantic && c.ack_wait !== c.backoff[0]) return refuse("first backoff value has to equal batch AckWait");
    c.ack_wait = c.backoff[0];
  }
  if (pedantic && !c.max_ack_pending && (lim?.max_ack_pending ?? 0) > 0) return refuse("max_ack_pending must be set if it's configured in stream limits");
  if (pedantic && !c.inactive_threshold && (lim?.inactive_threshold ?? 0) > 0) return refuse("inactive_threshold must be set if it's configured in stream limits");
  // The stream's consumer_limits are every consumer's defaults (nats-server 2.10+), durables too.
  if (!c.max_ack_pending && (lim?.max_ack_pending ?? 0) > 0) c.max_ack_pending = lim!.max_ack_pending;
  if (!c.inactive_threshold && (lim?.inactive_threshold ?? 0) > 0) c.inactive_threshold = lim!.inactive_threshold;
  if (acks && !c.max_ack_pending) c.max_ack_pending = MAX_ACK_PENDING_DEFAULT;
  // Ephemerals always get an inactivity threshold; only the default is stamped into the config.
  if (ephemeral && !(c.inactive_threshold && c.inactive_threshold > 0)) c.inactive_threshold = INACTIVE_THRESHOLD_DEFAULT;
  return null;
}

/** checkConsumerCfg, in nats-server's order, plus the 2.10 filter_subjects and metadata checks. */
export function checkConfig(c: ConsumerConfig, stream: StreamConfig, interest: readonly string[] | null = stream.subjects): ApiError | null {
  if (c.num_replicas > 0 && c.num_replicas > stream.num_replicas) return jsError("JSConsumerReplicasExceedsStream");
  if (c.num_replicas < 0) return jsError("JSReplicasCountCannotBeNegative");
  const bo = c.backoff?.length ?? 0;
  if (bo > 0 && (c.max_deliver ?? -1) <= bo) return jsError("JSConsumerMaxDeliverBackoffErr");
  if ((c.description?.length ?? 0) > JS_MAX_DESCRIPTION_LEN) return jsError("JSConsumerDescriptionTooLongErrF", { max: JS_MAX_DESCRIPTION_LEN });
  if (c.deliver_subject) {
    const d = c.deliver_subject;
    if (subjectHasWildcard(d)) return jsError("JSConsumerDeliverToWildcardsErr");
    if (!isValidSubject(d)) return jsError("JSConsumerInvalidDeliverSubject");
    if (stream.subjects.some((s) => isSubsetMatch(d, s))) return jsError("JSConsumerDeliverCycleErr");
    if (c.max_waiting) return jsError("JSConsumerPushMaxWaitingErr");
    if ((c.max_ack_pending ?? 0) > 0 && c.ack_policy === "none") return jsError("JSConsumerMaxPendingAckPolicyRequiredErr");
    if (c.idle_heartbeat && c.idle_heartbeat > 0 && c.idle_heartbeat < 100 * NS_PER_MS) return jsError("JSConsumerSmallHeartbeatErr");
  } else {
    // 2.9.10's text; later versions say "... requires explicit ack policy on workqueue stream".
    if (c.ack_policy === "none" && stream.retention === "workqueue") return new ApiError(400, 10084, "consumer in pull mode requires ack policy");
    if ((c.rate_limit_bps ?? 0) > 0) return jsError("JSConsumerPullWithRateLimitErr");
    if ((c.max_waiting ?? 0) < 0) return jsError("JSConsumerMaxWaitingNegativeErr");
    if ((c.idle_heartbeat ?? 0) > 0) return jsError("JSConsumerHBRequiresPushErr");
    if (c.flow_control) return jsError("JSConsumerFCRequiresPushErr");
    if ((c.max_batch ?? 0) < 0) return jsError("JSConsumerMaxRequestBatchNegativeErr");
    if (c.max_expires && c.max_expires < NS_PER_MS) return jsError("JSConsumerMaxRequestExpiresTooSmall");
  }
  if (c.direct) {
    if (!c.deliver_subject) return jsError("JSConsumerDirectRequiresPushErr");
    if (c.durable_name) return jsError("JSConsumerDirectRequiresEphemeralErr");
  }
  if (c.filter_subject && c.filter_subjects) return jsError("JSConsumerDuplicateFilterSubjects");
  if (c.filter_subject && interest !== null && !validFilteredSubject(c.filter_subject, interest)) return jsError("JSConsumerFilterNotSubsetErr");
  if (c.filter_subjects) {
    for (const f of c.filter_subjects) {
      if (f === "") return jsError("JSConsumerEmptyFilter");
      if (interest !== null && !validFilteredSubject(f, interest)) return jsError("JSConsumerFilterNotSubsetErr");
    }
    const fs = c.filter_subjects;
    for (let i = 0; i < fs.length; i++) for (let j = i + 1; j < fs.length; j++) if (subjectsCollide(fs[i]!, fs[j]!)) return jsError("JSConsumerOverlappingSubjectFilters");
  }
  const policyErr = checkStart(c);
  if (policyErr) return jsError("JSConsumerInvalidPolicyErrF", { err: policyErr });
  if (c.sample_freq) {
    const s = c.sample_freq.endsWith("%") ? c.sample_freq.slice(0, -1) : c.sample_freq;
    if (!/^[+-]?\d+$/.test(s) || Number(s) < 0) return jsError("JSConsumerInvalidSamplingErrF", { err: `strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax` });
  }
  if (c.flow_control && !c.idle_heartbeat) return jsError("JSConsumerWithFlowControlNeedsHeartbeats");
  if (c.durable_name && c.name && c.name !== c.durable_name) return jsError("JSConsumerCreateDurableAndNameMismatch");
  if (c.metadata) {
    let size = 0;
    for (const [k, v] of Object.entries(c.metadata)) size += k.length + v.length;
    if (size > JS_MAX_METADATA_LEN) return jsError("JSConsumerMetadataLengthErrF", { limit: "128KB" });
  }
  // The stream's consumer_limits bound what a consumer may ask for (nats-server 2.10+).
  const lim = stream.consumer_limits;
  if (lim?.max_ack_pending && lim.max_ack_pending > 0 && (c.max_ack_pending ?? 0) > lim.max_ack_pending) {
    return jsError("JSConsumerMaxPendingAckExcessErrF", { limit: String(lim.max_ack_pending) });
  }
  if (lim?.inactive_threshold && lim.inactive_threshold > 0 && (c.inactive_threshold ?? 0) > lim.inactive_threshold) {
    return jsError("JSConsumerInactiveThresholdExcess", { limit: goDuration(lim.inactive_threshold) });
  }
  return null;
}

function checkStart(c: ConsumerConfig): string | null {
  const badStart = (dp: string, start: string) => `consumer delivery policy is deliver ${dp}, but optional start ${start} is also set`;
  const notSet = (dp: string, what: string) => `consumer delivery policy is deliver ${dp}, but optional ${what} is not set`;
  const seq = (c.opt_start_seq ?? 0) > 0;
  const time = c.opt_start_time !== undefined;
  switch (c.deliver_policy) {
    case "all":
    case "last":
    case "new":
      if (seq) return badStart(c.deliver_policy, "sequence");
      if (time) return badStart(c.deliver_policy, "time");
      return null;
    case "last_per_subject":
      if (seq) return badStart("last per subject", "sequence");
      if (time) return badStart("last per subject", "time");
      if (filtersOf(c).length === 0) return notSet("last per subject", "filter subject");
      return null;
    case "by_start_sequence":
      if (!seq) return notSet("by start sequence", "start sequence");
      if (time) return badStart("by start sequence", "time");
      return null;
    case "by_start_time":
      if (!time) return notSet("by start time", "start time");
      if (seq) return badStart("by start time", "start sequence");
      return null;
  }
}

/** nats-server 2.9's validFilteredSubject: the filter must select something the stream can hold. */
function validFilteredSubject(filter: string, subjects: readonly string[]): boolean {
  if (!isValidSubject(filter)) return false;
  const wc = subjectHasWildcard(filter);
  for (const s of subjects) {
    if (isSubsetMatch(filter, s)) return true;
    if (wc && isSubsetMatch(s, filter)) return true;
  }
  return false;
}

/**
 * checkNewConsumerConfig: what an update may not change. Returns a plain reason (nats-server
 * wraps it as 10012), an ApiError, or null. `deliverBound` says whether the current deliver
 * subject has interest.
 */
export function checkUpdate(cur: ConsumerConfig, next: ConsumerConfig, deliverBound: boolean): string | ApiError | null {
  if (sameConfig(cur, next)) return null;
  if (cur.deliver_policy !== next.deliver_policy) return "deliver policy can not be updated";
  if ((cur.opt_start_seq ?? 0) !== (next.opt_start_seq ?? 0)) return "start sequence can not be updated";
  if (startTimeNs(cur) !== startTimeNs(next)) return "start time can not be updated";
  if (cur.ack_policy !== next.ack_policy) return "ack policy can not be updated";
  if (cur.replay_policy !== next.replay_policy) return "replay policy can not be updated";
  if ((cur.idle_heartbeat ?? 0) !== (next.idle_heartbeat ?? 0)) return "heart beats can not be updated";
  if (!!cur.flow_control !== !!next.flow_control) return "flow control can not be updated";
  if ((cur.max_waiting ?? 0) !== (next.max_waiting ?? 0)) return "max waiting can not be updated";
  if ((cur.deliver_subject ?? "") !== (next.deliver_subject ?? "")) {
    if (!cur.deliver_subject) return "can not update pull consumer to push based";
    if (!next.deliver_subject) return "can not update push consumer to pull based";
    if (deliverBound) return jsError("JSConsumerNameExistErr");
  }
  const bo = next.backoff?.length ?? 0;
  if (bo > 0 && (next.max_deliver ?? -1) <= bo) return jsError("JSConsumerMaxDeliverBackoffErr");
  return null;
}

export function startTimeNs(c: ConsumerConfig): bigint | null {
  return c.opt_start_time === undefined ? null : parseRfc3339(c.opt_start_time);
}

export function sameConfig(a: ConsumerConfig, b: ConsumerConfig): boolean {
  return JSON.stringify(configJson(a)) === JSON.stringify(configJson(b));
}

/** The config as nats-server marshals it: Go field order, empty fields omitted. */
export function configJson(c: ConsumerConfig): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (c.durable_name) o.durable_name = c.durable_name;
  if (c.name) o.name = c.name;
  if (c.description) o.description = c.description;
  o.deliver_policy = c.deliver_policy;
  if (c.opt_start_seq) o.opt_start_seq = c.opt_start_seq;
  if (c.opt_start_time !== undefined) {
    const t = parseRfc3339(c.opt_start_time);
    o.opt_start_time = t === null ? c.opt_start_time : rfc3339(t);
  }
  o.ack_policy = c.ack_policy;
  if (c.ack_wait) o.ack_wait = c.ack_wait;
  if (c.max_deliver) o.max_deliver = c.max_deliver;
  if (c.backoff && c.backoff.length > 0) o.backoff = c.backoff;
  if (c.filter_subject) o.filter_subject = c.filter_subject;
  if (c.filter_subjects && c.filter_subjects.length > 0) o.filter_subjects = c.filter_subjects;
  o.replay_policy = c.replay_policy;
  if (c.rate_limit_bps) o.rate_limit_bps = c.rate_limit_bps;
  if (c.sample_freq) o.sample_freq = c.sample_freq;
  if (c.max_waiting) o.max_waiting = c.max_waiting;
  if (c.max_ack_pending) o.max_ack_pending = c.max_ack_pending;
  if (c.idle_heartbeat) o.idle_heartbeat = c.idle_heartbeat;
  if (c.flow_control) o.flow_control = true;
  if (c.headers_only) o.headers_only = true;
  if (c.max_batch) o.max_batch = c.max_batch;
  if (c.max_expires) o.max_expires = c.max_expires;
  if (c.max_bytes) o.max_bytes = c.max_bytes;
  if (c.deliver_subject) o.deliver_subject = c.deliver_subject;
  if (c.deliver_group) o.deliver_group = c.deliver_group;
  if (c.inactive_threshold) o.inactive_threshold = c.inactive_threshold;
  o.num_replicas = c.num_replicas;
  if (c.mem_storage) o.mem_storage = true;
  if (c.direct) o.direct = true;
  if (c.metadata && Object.keys(c.metadata).length > 0) o.metadata = c.metadata;
  return o;
}
