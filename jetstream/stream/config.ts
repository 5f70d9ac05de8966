// StreamConfig as the JetStream API carries it: the zod schema for requests, nats-server's
// normalisation (0 limits -> -1, replicas 0 -> 1, default duplicate window, default subjects),
// the validation rules with their exact texts, and the update rules.

import { z } from "zod";
import { invalidConfig, jsError, type ApiError } from "../api/errors.js";
import { isValidSubject, subjectsCollide, isSubsetMatch } from "../../server/subjects/subject.js";
import { parseTransform } from "./transform.js";
import { checkMirror, checkSources, type StreamSource } from "./source_config.js";

export const NS_PER_MS = 1_000_000;
export const DEFAULT_DUPLICATE_WINDOW = 120_000 * NS_PER_MS;
export const JS_MAX_NAME_LEN = 255;
export const JS_MAX_DESCRIPTION_LEN = 4 * 1024;
export const JS_MAX_METADATA_LEN = 128 * 1024;
const MIN_WINDOW = 100 * NS_PER_MS;

/** One of `values`; nats-server reads retention and storage case-sensitively, discard ignoring case. */
const oneOf = <T extends string>(values: readonly [T, ...T[]], ignoreCase = false) =>
  z.string().transform((s, ctx) => {
    const v = (ignoreCase ? s.toLowerCase() : s) as T;
    if (!values.includes(v)) {
      ctx.addIssue({ code: "custom", message: `invalid value ${JSON.stringify(s)}` });
      return z.NEVER;
    }
    return v;
  });
const lower = <T extends string>(values: readonly [T, ...T[]]) => oneOf(values, true);
const exact = <T extends string>(values: readonly [T, ...T[]]) => oneOf(values);

const int = z.number().int();
/** A Go int32 (max_msg_size): anything outside is a JSON decoding error in nats-server. */
const int32 = int.min(-2147483648).max(2147483647);

/** What a request may carry. Unknown fields are tolerated, as nats-server 2.9 does. */
export const streamConfigRequestSchema = z.looseObject({
  name: z.string().optional(),
  description: z.string().optional(),
  subjects: z.array(z.string()).nullable().optional(),
  retention: exact(["limits", "interest", "workqueue"]).optional(),
  max_consumers: int.optional(),
  max_msgs: int.optional(),
  max_bytes: int.optional(),
  max_age: int.optional(),
  max_msgs_per_subject: int.optional(),
  max_msg_size: int32.optional(),
  discard: lower(["old", "new"]).optional(),
  storage: exact(["file", "memory"]).optional(),
  num_replicas: int.optional(),
  no_ack: z.boolean().optional(),
  template_owner: z.string().optional(),
  duplicate_window: int.optional(),
  placement: z.looseObject({ cluster: z.string().optional(), tags: z.array(z.string()).nullable().optional() }).nullable().optional(),
  mirror: z.unknown().optional(),
  sources: z.unknown().optional(),
  sealed: z.boolean().optional(),
  deny_delete: z.boolean().optional(),
  deny_purge: z.boolean().optional(),
  allow_rollup_hdrs: z.boolean().optional(),
  allow_direct: z.boolean().optional(),
  mirror_direct: z.boolean().optional(),
  discard_new_per_subject: z.boolean().optional(),
  republish: z.object({ src: z.string().optional(), dest: z.string(), headers_only: z.boolean().optional() }).nullable().optional(),
  compression: lower(["none", "s2"]).optional(),
  first_seq: int.nonnegative().optional(),
  subject_transform: z.object({ src: z.string().optional(), dest: z.string() }).nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  consumer_limits: z.object({ inactive_threshold: int.optional(), max_ack_pending: int.optional() }).nullable().optional(),
  allow_msg_ttl: z.boolean().optional(),
  subject_delete_marker_ttl: int.optional(),
  allow_msg_counter: z.boolean().optional(),
  allow_atomic: z.boolean().optional(),
  allow_msg_schedules: z.boolean().optional(),
  allow_batched: z.boolean().optional(),
  persist_mode: z.string().optional(),
  pedantic: z.boolean().optional(),
});

export type StreamConfigRequest = z.infer<typeof streamConfigRequestSchema>;

export type Retention = "limits" | "interest" | "workqueue";

export interface Republish {
  src: string;
  dest: string;
  headers_only?: boolean;
}

/** A normalised stream config: every field nats-server always echoes is present. */
export interface StreamConfig {
  name: string;
  description?: string;
  subjects: string[];
  retention: Retention;
  max_consumers: number;
  max_msgs: number;
  max_bytes: number;
  max_age: number;
  max_msgs_per_subject: number;
  max_msg_size: number;
  discard: "old" | "new";
  storage: "file" | "memory";
  num_replicas: number;
  no_ack?: boolean;
  template_owner?: string;
  duplicate_window: number;
  placement?: { cluster?: string; tags?: string[] };
  mirror?: StreamSource;
  sources?: StreamSource[];
  republish?: Republish;
  allow_direct: boolean;
  mirror_direct: boolean;
  sealed: boolean;
  deny_delete: boolean;
  deny_purge: boolean;
  allow_rollup_hdrs: boolean;
  discard_new_per_subject?: boolean;
  compression?: "none" | "s2";
  first_seq?: number;
  subject_transform?: { src: string; dest: string };
  metadata?: Record<string, string>;
  consumer_limits?: { inactive_threshold?: number; max_ack_pending?: number };
  allow_msg_ttl?: boolean;
  subject_delete_marker_ttl?: number;
}

/** nats-server's isValidName: non-empty, no whitespace, '.', '*' or '>'. */
export function isValidName(name: string): boolean {
  return name.length > 0 && !/[ \t\r\n\f.*>]/.test(name);
}

function limit(v: number | undefined): number {
  return v === undefined || v === 0 || v < -1 ? -1 : v;
}

/**
 * Normalises and validates a requested config as nats-server's checkStreamCfg does.
 * Cross-stream checks (subject overlap with other streams) are the manager's.
 */
export function checkStreamConfig(req: StreamConfigRequest, opts: { clustered: boolean }): StreamConfig | ApiError {
  const name = req.name ?? "";
  if (!isValidName(name)) return invalidConfig("stream name is required and can not contain '.', '*', '>'");
  if (name.includes("/") || name.includes("\\")) return jsError("JSStreamNameContainsPathSeparatorsErr");
  if (Buffer.byteLength(name) > JS_MAX_NAME_LEN) return invalidConfig(`stream name is too long, maximum allowed is ${JS_MAX_NAME_LEN}`);
  if (req.description !== undefined && Buffer.byteLength(req.description) > JS_MAX_DESCRIPTION_LEN) {
    return invalidConfig(`stream description is too long, maximum allowed is ${JS_MAX_DESCRIPTION_LEN}`);
  }
  // Features tsnats does not implement are refused rather than silently ignored.
  const sources = checkSources(req.sources);
  if ("errCode" in sources) return sources;
  const mirror = checkMirror(req.mirror);
  if (mirror !== null && "errCode" in mirror) return mirror;
  if (mirror !== null) {
    if (req.first_seq) return jsError("JSMirrorWithFirstSeqErr");
    if (sources.length > 0) return jsError("JSMirrorWithSourcesErr");
    if (req.subjects && req.subjects.length > 0) return jsError("JSMirrorWithSubjectsErr");
  } else if (req.mirror_direct) {
    return invalidConfig("stream has no mirror but does have mirror direct");
  }
  for (const f of ["allow_msg_counter", "allow_atomic", "allow_msg_schedules", "allow_batched"] as const) {
    if (req[f]) return invalidConfig(`${f} is not supported by this server yet`);
  }
  if (req.persist_mode !== undefined && req.persist_mode !== "" && req.persist_mode !== "default") {
    return invalidConfig("persist_mode async is not supported by this server yet");
  }

  let replicas = req.num_replicas ?? 0;
  if (replicas === 0) replicas = 1;
  if (replicas > 5) return invalidConfig("maximum replicas is 5");
  if (replicas < 0) return jsError("JSReplicasCountCannotBeNegative");
  if (replicas > 1 && !opts.clustered) return jsError("JSStreamReplicasNotSupportedErr");

  // nats-server's order of checks, which decides the message a bad pair of values gets.
  const maxAge = req.max_age ?? 0;
  let dup = req.duplicate_window ?? 0;
  // A mirror stores what its origin stored, duplicates included: it gets no window of its own.
  if (dup === 0 && mirror === null) dup = maxAge !== 0 && maxAge < DEFAULT_DUPLICATE_WINDOW ? maxAge : DEFAULT_DUPLICATE_WINDOW;
  if (maxAge > 0 && maxAge < MIN_WINDOW) return invalidConfig("max age needs to be >= 100ms");
  if (dup < 0) return invalidConfig("duplicates window can not be negative");
  if (maxAge !== 0 && dup > maxAge) return invalidConfig("duplicates window can not be larger then max age");
  if (dup > 0 && dup < MIN_WINDOW) return invalidConfig("duplicates window needs to be >= 100ms");

  const cfg: StreamConfig = {
    name,
    ...(req.description ? { description: req.description } : {}),
    // A stream that only sources needs no subjects of its own.
    subjects: req.subjects && req.subjects.length > 0 ? [...req.subjects] : sources.length > 0 || mirror !== null ? [] : [name],
    retention: req.retention ?? "limits",
    max_consumers: limit(req.max_consumers),
    max_msgs: limit(req.max_msgs),
    max_bytes: limit(req.max_bytes),
    max_age: maxAge,
    max_msgs_per_subject: limit(req.max_msgs_per_subject),
    max_msg_size: limit(req.max_msg_size),
    discard: req.discard ?? "old",
    storage: req.storage ?? "file",
    num_replicas: replicas,
    ...(req.no_ack ? { no_ack: true } : {}),
    ...(req.template_owner ? { template_owner: req.template_owner } : {}),
    duplicate_window: dup,
    ...(req.placement && (req.placement.cluster || (req.placement.tags && req.placement.tags.length > 0))
      ? { placement: { ...(req.placement.cluster ? { cluster: req.placement.cluster } : {}), ...(req.placement.tags?.length ? { tags: [...req.placement.tags] } : {}) } }
      : {}),
    ...(mirror !== null ? { mirror } : {}),
    ...(sources.length > 0 ? { sources } : {}),
    allow_direct: req.allow_direct ?? false,
    // The registry sets it from the origin's allow_direct, as nats-server does.
    mirror_direct: mirror !== null && !!req.mirror_direct,
    sealed: req.sealed ?? false,
    deny_delete: req.deny_delete ?? false,
    deny_purge: req.deny_purge ?? false,
    allow_rollup_hdrs: req.allow_rollup_hdrs ?? false,
  };
  if (req.discard_new_per_subject) cfg.discard_new_per_subject = true;
  if (req.compression && req.compression !== "none") cfg.compression = req.compression;
  if (req.first_seq) cfg.first_seq = req.first_seq;
  if (req.metadata && Object.keys(req.metadata).length > 0) {
    let size = 0;
    for (const [k, v] of Object.entries(req.metadata)) size += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (size > JS_MAX_METADATA_LEN) return jsError("JSStreamInvalidConfigF", { err: `stream metadata exceeds maximum size of ${JS_MAX_METADATA_LEN} bytes` });
    cfg.metadata = { ...req.metadata };
  }
  if (req.consumer_limits && (req.consumer_limits.inactive_threshold || req.consumer_limits.max_ack_pending)) {
    cfg.consumer_limits = { ...req.consumer_limits };
  }
  if (req.subject_delete_marker_ttl !== undefined && req.subject_delete_marker_ttl !== 0) {
    if (req.subject_delete_marker_ttl < 1_000 * NS_PER_MS) return invalidConfig("subject delete marker TTL must be at least 1 second");
    cfg.subject_delete_marker_ttl = req.subject_delete_marker_ttl;
    // Markers are TTL'd rollups, so they switch both features on.
    cfg.allow_msg_ttl = true;
    cfg.allow_rollup_hdrs = true;
  }
  if (req.allow_msg_ttl) cfg.allow_msg_ttl = true;

  if (cfg.deny_purge && cfg.allow_rollup_hdrs) return invalidConfig("roll-ups require the purge permission");
  if (cfg.discard_new_per_subject) {
    if (cfg.discard !== "new") return invalidConfig("discard new per subject requires discard new policy to be set");
    if (cfg.max_msgs_per_subject <= 0) return invalidConfig("discard new per subject requires max msgs per subject > 0");
  }

  const seen = new Set<string>();
  for (const subj of cfg.subjects) {
    if (seen.has(subj)) return invalidConfig("duplicate subjects detected");
    if (isSubsetMatch(subj, "$JS.API.>")) return invalidConfig("subjects overlap with jetstream api");
    if (!isValidSubject(subj)) return invalidConfig("invalid subject");
    seen.add(subj);
  }
  if (cfg.subjects.length > 1) {
    for (const a of cfg.subjects) {
      for (const b of cfg.subjects) {
        if (a !== b && subjectsCollide(a, b)) return invalidConfig(`subject ${JSON.stringify(a)} overlaps with ${JSON.stringify(b)}`);
      }
    }
  }

  if (req.subject_transform && req.subject_transform.dest) {
    const src = req.subject_transform.src || ">";
    if (!isValidSubject(src)) return jsError("JSStreamTransformInvalidSource", { err: `invalid subject ${src}` });
    const t = parseTransform(src, req.subject_transform.dest);
    if (t === null) return jsError("JSStreamTransformInvalidDestination", { err: transformDestProblem(req.subject_transform.dest) });
    cfg.subject_transform = { src, dest: req.subject_transform.dest };
  }

  if (req.republish) {
    const src = req.republish.src || ">";
    if (!cfg.subjects.some((s) => subjectsCollide(src, s))) return invalidConfig("stream configuration for republish source is not valid subset of subjects");
    if (cfg.subjects.some((s) => subjectsCollide(req.republish!.dest, s))) return invalidConfig("stream configuration for republish destination forms a cycle");
    if (parseTransform(src, req.republish.dest) === null) return invalidConfig("stream configuration for republish not valid");
    cfg.republish = { src, dest: req.republish.dest, ...(req.republish.headers_only ? { headers_only: true } : {}) };
  }
  return cfg;
}

/** nats-server's configUpdateCheck: what an update may not change. */
export function checkStreamUpdate(old: StreamConfig, next: StreamConfig): StreamConfig | ApiError {
  if (next.name !== old.name) return invalidConfig("stream configuration name must match original");
  if (next.max_consumers !== old.max_consumers) return invalidConfig("stream configuration update can not change MaxConsumers");
  if (next.storage !== old.storage) return invalidConfig("stream configuration update can not change storage type");
  if (next.retention !== old.retention) {
    // limits <-> interest is allowed by newer servers; workqueue never changes.
    if (next.retention === "workqueue" || old.retention === "workqueue") return invalidConfig("stream configuration update can not change retention policy");
  }
  if (old.template_owner) return invalidConfig("stream configuration update not allowed on template owned stream");
  if (next.template_owner) return invalidConfig("stream configuration update can not be owned by a template");
  if (!next.sealed && old.sealed) return invalidConfig("stream configuration update can not unseal a sealed stream");
  if (!next.deny_delete && old.deny_delete) return invalidConfig("stream configuration update can not cancel deny message deletes");
  if (!next.deny_purge && old.deny_purge) return invalidConfig("stream configuration update can not cancel deny purge");
  if (JSON.stringify(next.republish ?? null) !== JSON.stringify(old.republish ?? null)) return invalidConfig("stream configuration update can not change RePublish");
  if (old.allow_msg_ttl && !next.allow_msg_ttl) return invalidConfig("message TTL status can not be disabled");
  if ((next.first_seq ?? 0) !== (old.first_seq ?? 0)) return invalidConfig("stream configuration update can not change first sequence");
  // A mirror stays what it mirrors; taking the mirror away (promotion) is allowed.
  if (next.mirror && JSON.stringify(next.mirror) !== JSON.stringify(old.mirror ?? null)) return jsError("JSStreamMirrorNotUpdatableErr");
  const out = { ...next };
  if (out.sealed) {
    out.max_age = 0;
    out.discard = "new";
    out.deny_delete = true;
    out.deny_purge = true;
    out.allow_rollup_hdrs = false;
  }
  return out;
}

/** Deep equality of normalised configs (what makes a repeated CREATE idempotent). */
export function sameConfig(a: StreamConfig, b: StreamConfig): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val) => {
    if (val && typeof val === "object" && !Array.isArray(val)) {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(val).sort()) if (val[k] !== undefined) o[k] = val[k];
      return o;
    }
    return val;
  });
}

/** Why a transform destination was refused: a mapping function tsnats lacks, or nats-server's word for a bad one. */
function transformDestProblem(dest: string): string {
  const fn = /\{\{\s*(\w+)\s*\(/.exec(dest);
  if (fn !== null && fn[1]!.toLowerCase() !== "wildcard") return `mapping function ${fn[1]} is not supported by tsnats yet`;
  return "invalid mapping destination";
}

/**
 * The config as nats-server shows it: a stream without subjects of its own (a mirror, or one that
 * only sources) has none listed, and a window of 0 (a mirror's) is left out.
 */
export function clientConfig(cfg: StreamConfig): Record<string, unknown> {
  if (cfg.subjects.length > 0 && cfg.duplicate_window !== 0) return cfg as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { ...cfg };
  if (cfg.subjects.length === 0) delete out.subjects;
  if (cfg.duplicate_window === 0) delete out.duplicate_window;
  return out;
}
