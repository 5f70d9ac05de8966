// A stream's `sources`: the request schema, nats-server's normalisation and checks (checkStreamCfg's
// source rules, 2.10 subject_transforms included), and the index name that identifies one source
// in the Nats-Stream-Source header and in the stored position.

import { z } from "zod";
import { invalidConfig, jsError, type ApiError } from "../api/errors.js";
import { isValidSubject, isSubsetMatch } from "../../server/subjects/subject.js";
import { parseRfc3339 } from "../util/time.js";
import { parseTransform } from "./transform.js";

const transformSchema = z.looseObject({ src: z.string().optional(), dest: z.string().optional() });

export const streamSourceSchema = z.looseObject({
  name: z.string().optional(),
  opt_start_seq: z.number().int().nonnegative().optional(),
  opt_start_time: z.string().nullable().optional(),
  filter_subject: z.string().optional(),
  subject_transforms: z.array(transformSchema).nullable().optional(),
  external: z.looseObject({ api: z.string().optional(), deliver: z.string().optional() }).nullable().optional(),
  consumer: z.unknown().optional(),
});

export type StreamSourceRequest = z.infer<typeof streamSourceSchema>;

/** One normalised source, echoed in the stream config as nats-server does (empty fields omitted). */
export interface StreamSource {
  name: string;
  opt_start_seq?: number;
  opt_start_time?: string;
  filter_subject?: string;
  subject_transforms?: { src: string; dest: string }[];
}

/**
 * composeIName: "<stream> <filters> <destinations>" (several joined by a form feed), '>' for an
 * empty filter or destination. Two sources of one stream are the same source when these match.
 */
export function sourceIndexName(s: StreamSource): string {
  const tr = s.subject_transforms ?? [];
  if (tr.length === 0) return `${s.name} ${s.filter_subject || ">"} >`;
  return `${s.name} ${tr.map((t) => t.src || ">").join("\f")} ${tr.map((t) => t.dest || ">").join("\f")}`;
}

/** The source entries of a create or update request, normalised, or the error nats-server gives. */
export function checkSources(raw: unknown): StreamSource[] | ApiError {
  if (raw === undefined || raw === null) return [];
  const arr = z.array(streamSourceSchema.nullable()).safeParse(raw);
  if (!arr.success) return jsError("JSInvalidJSONErr");
  const out: StreamSource[] = [];
  const seen = new Set<string>();
  for (const src of arr.data) {
    if (src === null || !isValidStreamName(src.name ?? "")) return jsError("JSSourceInvalidStreamName");
    // Sourcing through another account's or domain's API is not implemented: refused, not ignored.
    if (src.external) return invalidConfig("stream sources from another account or domain (external) are not supported by this server yet");
    if (src.consumer !== undefined && src.consumer !== null) return invalidConfig("stream source consumer config is not supported by this server yet");
    if (src.opt_start_time && parseRfc3339(src.opt_start_time) === null) return jsError("JSInvalidJSONErr");
    const s = normalised(src);
    const iname = sourceIndexName(s);
    if (seen.has(iname)) return jsError("JSSourceDuplicateDetected");
    seen.add(iname);
    const bad = checkFilters(s, "Source", () => invalidConfig("invalid subject"));
    if (bad !== null) return bad;
    out.push(s);
  }
  return out;
}

/** The `mirror` of a create or update request, normalised (null: none), or nats-server's error. */
export function checkMirror(raw: unknown): StreamSource | null | ApiError {
  if (raw === undefined || raw === null) return null;
  const r = streamSourceSchema.safeParse(raw);
  if (!r.success) return jsError("JSInvalidJSONErr");
  const src = r.data;
  if (src.external) return invalidConfig("stream mirrors of another account or domain (external) are not supported by this server yet");
  if (src.consumer !== undefined && src.consumer !== null) return invalidConfig("stream mirror consumer config is not supported by this server yet");
  const m = normalised(src);
  const bad = checkFilters(m, "Mirror", (f) => jsError("JSMirrorInvalidSubjectFilter", { err: `invalid subject ${f}` }));
  if (bad !== null) return bad;
  if (src.opt_start_seq && src.opt_start_time) return jsError("JSMirrorWithStartSeqAndTimeErr");
  if (!isValidStreamName(src.name ?? "")) return jsError("JSMirrorInvalidStreamName");
  if (src.opt_start_time && parseRfc3339(src.opt_start_time) === null) return jsError("JSInvalidJSONErr");
  return m;
}

/** The entry as echoed: empty fields left out, transforms with both sides. */
function normalised(src: StreamSourceRequest): StreamSource {
  const s: StreamSource = { name: src.name ?? "" };
  if (src.opt_start_seq) s.opt_start_seq = src.opt_start_seq;
  if (src.opt_start_time) s.opt_start_time = src.opt_start_time;
  if (src.filter_subject) s.filter_subject = src.filter_subject;
  const trs = (src.subject_transforms ?? []).map((t) => ({ src: t.src ?? "", dest: t.dest ?? "" }));
  if (trs.length > 0) s.subject_transforms = trs;
  return s;
}

/**
 * The filter and subject_transforms rules sources and mirrors share, with each one's errors (a
 * bad plain filter is reported differently by the two).
 */
function checkFilters(s: StreamSource, kind: "Source" | "Mirror", badFilter: (filter: string) => ApiError): ApiError | null {
  const trs = s.subject_transforms ?? [];
  if (s.filter_subject && trs.length > 0) return jsError(`JS${kind}MultipleFiltersNotAllowed`);
  if (s.filter_subject && !isValidSubject(s.filter_subject)) return badFilter(s.filter_subject);
  for (const t of trs) {
    if (t.src !== "" && !isValidSubject(t.src)) return jsError(`JS${kind}InvalidSubjectFilter`, { err: `invalid subject ${t.src}` });
    if (t.dest !== "" && parseTransform(t.src || ">", t.dest) === null) return jsError(`JS${kind}InvalidTransformDestination`, { err: "invalid subject transform destination" });
  }
  for (let i = 0; i < trs.length; i++) {
    for (let j = 0; j < trs.length; j++) {
      if (i !== j && isSubsetMatch(trs[i]!.src || ">", trs[j]!.src || ">")) return jsError(`JS${kind}OverlappingSubjectFilters`);
    }
  }
  return null;
}

/** isValidAssetName: what a stream name may be. */
function isValidStreamName(name: string): boolean {
  return name.length > 0 && !/[ \t\r\n\f.*>\\/]/.test(name);
}
