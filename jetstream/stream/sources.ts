// Copying messages into a stream from the streams its config names in `sources`, or from the
// stream it is a `mirror` of (same account, same server). A mirror keeps the origin's sequences,
// times and headers as they are; the rest of this comment is about sources. Each source reads
// its origin's store from where it left off, maps the subject through the source's filter and
// transforms, and hands every message to the stream as a "msg" command that carries the origin
// sequence: the stream stores it like a publish (dedup, limits, retention) and keeps the source's
// position in the same transaction, so after a restart each source resumes right after the last
// message that was copied. Headers get Nats-Stream-Source ("<origin> <origin seq> <filters>
// <destinations>", as nats-server 2.10 writes it); a copy of a copy drops the older one.
//
// The origin's appends wake the copy; a one-second tick re-finds origins that did not exist yet
// (or were deleted and made again), retries after a refused message (a full stream with discard
// new, say) and keeps `active` current, as nats-server's source heartbeats do.

import { jsError, type ApiError } from "../api/errors.js";
import { dropHeaders, appendHeaders } from "../util/headers.js";
import { nowNanos, parseRfc3339, type Nanos } from "../util/time.js";
import { sourceIndexName, type StreamSource } from "./source_config.js";
import { parseTransform, type Transform } from "./transform.js";
import type { Stream, StreamListener } from "./stream.js";

export const SOURCE_HEADER = "Nats-Stream-Source";
/** Messages copied per source per turn before yielding to the event loop. */
const BATCH = 256;
const TICK_MS = 1000;

interface SourceRun {
  readonly cfg: StreamSource;
  /** The stream's mirror (origin sequences and times kept) rather than one of its sources. */
  readonly mirror: boolean;
  readonly iname: string;
  /** Origin subjects taken (">" for all). */
  readonly filters: string[];
  /** With subject_transforms, one per filter (null: the subject is kept). */
  readonly maps: (Transform | null)[] | null;
  origin: Stream | null;
  readonly listener: StreamListener;
  /** The next origin sequence to look at; 0 until the start position is known. */
  next: number;
  /** Last contact with the origin (0: never). */
  last: Nanos;
  /** Why the last message was refused; retried on the next tick. */
  err: ApiError | null;
  scheduled: boolean;
}

/** How a stream's sources find their origins. */
export interface OriginLookup {
  stream(name: string): Stream | undefined;
}

export class StreamSources {
  private readonly runs: SourceRun[];
  private readonly tick: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly stream: Stream,
    private readonly lookup: OriginLookup,
  ) {
    const m = stream.config.mirror;
    this.runs = m ? [this.makeRun(m, true)] : (stream.config.sources ?? []).map((cfg) => this.makeRun(cfg, false));
    this.tick = setInterval(() => this.onTick(), TICK_MS);
    this.tick.unref();
    for (const r of this.runs) this.attach(r);
  }

  private makeRun(cfg: StreamSource, mirror: boolean): SourceRun {
    const trs = cfg.subject_transforms ?? [];
    const filters = trs.length > 0 ? trs.map((t) => t.src || ">") : [cfg.filter_subject || ">"];
    const maps = trs.length > 0 ? trs.map((t) => (t.dest ? parseTransform(t.src || ">", t.dest) : null)) : null;
    const run: SourceRun = {
      cfg,
      mirror,
      iname: sourceIndexName(cfg),
      filters,
      maps,
      origin: null,
      listener: { onMessage: () => this.schedule(run) },
      next: 0,
      last: 0n,
      err: null,
      scheduled: false,
    };
    return run;
  }

  /** A stream was created (or recovered): sources waiting for it start copying. */
  originAppeared(origin: Stream): void {
    for (const r of this.runs) if (r.origin === null && r.cfg.name === origin.name) this.attach(r);
  }

  /** A stream was deleted: its sources wait for it to come back. */
  originGone(name: string): void {
    for (const r of this.runs) {
      if (r.origin !== null && r.cfg.name === name) {
        r.origin.listeners.delete(r.listener);
        r.origin = null;
      }
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.tick);
    for (const r of this.runs) r.origin?.listeners.delete(r.listener);
  }

  /** StreamInfo's mirror, or its sources in config order (StreamSourceInfo each). */
  info(): { mirror?: Record<string, unknown>; sources?: Record<string, unknown>[] } {
    const now = nowNanos();
    const all = this.runs.map((r) => {
      const o: Record<string, unknown> = { name: r.cfg.name, lag: this.lag(r), active: r.last === 0n ? -1 : Number(now - r.last) };
      if (r.err !== null) o.error = { code: r.err.code, err_code: r.err.errCode, description: r.err.description };
      if (r.cfg.filter_subject) o.filter_subject = r.cfg.filter_subject;
      if (r.cfg.subject_transforms) o.subject_transforms = r.cfg.subject_transforms;
      return o;
    });
    return this.runs[0]?.mirror ? { mirror: all[0]! } : { sources: all };
  }

  private lag(r: SourceRun): number {
    if (r.origin === null || r.origin.closed || r.next === 0) return 0;
    let n = 0;
    for (const f of r.filters) n += r.origin.store.numPending(r.next, f, false);
    return n;
  }

  private attach(r: SourceRun): void {
    if (this.closed) return;
    const origin = this.lookup.stream(r.cfg.name);
    if (origin === undefined || origin.closed || origin === this.stream) return;
    r.origin = origin;
    origin.listeners.add(r.listener);
    r.last = nowNanos();
    if (r.next === 0) r.next = this.startSeq(r, origin);
    this.schedule(r);
  }

  /** After the last copied message; else opt_start_seq, opt_start_time, or the origin's start. */
  private startSeq(r: SourceRun, origin: Stream): number {
    // A mirror is where its own last sequence says; a source where its stored position does.
    const pos = r.mirror ? this.stream.store.lastSeq() : this.stream.sourcePosition(r.iname);
    if (pos > 0) return pos + 1;
    if (r.cfg.opt_start_seq) return r.cfg.opt_start_seq;
    if (r.cfg.opt_start_time) {
      const t = parseRfc3339(r.cfg.opt_start_time);
      if (t !== null) return Math.max(1, origin.store.seqFromTime(t));
    }
    return 1;
  }

  private schedule(r: SourceRun): void {
    if (r.scheduled || this.closed) return;
    r.scheduled = true;
    setImmediate(() => {
      r.scheduled = false;
      try {
        this.copy(r);
      } catch (e) {
        // The stream's store failed (it reports that itself); this source stops until the next tick.
        r.err = jsError("JSStreamStoreFailedF", { err: (e as Error).message });
      }
    });
  }

  private onTick(): void {
    const now = nowNanos();
    for (const r of this.runs) {
      if (r.origin !== null && r.origin.closed) this.originGone(r.cfg.name);
      if (r.origin === null) this.attach(r);
      else {
        r.last = now;
        if (r.err !== null) this.schedule(r);
      }
    }
  }

  /** Copies up to BATCH messages; a refused one stops the copy until the next tick. */
  private copy(r: SourceRun): void {
    const origin = r.origin;
    if (this.closed || this.stream.closed || origin === null || origin.closed) return;
    const store = origin.store;
    let n = 0;
    for (; n < BATCH; n++) {
      const m = r.filters.length === 1 ? store.loadNextMsg(r.filters[0]!, r.next) : store.loadNextMsgMulti(r.filters, r.next);
      if (m === null) break;
      const out = r.mirror ? this.stream.apply({ kind: "mirror", seq: m.seq, ts: m.ts, subject: this.mapSubject(r, m.subject), hdr: m.hdr, data: m.data, ttl: m.ttl }) : this.stream.apply({
        kind: "msg",
        subject: this.mapSubject(r, m.subject),
        hdr: sourcedHeaders(m.hdr, sourceHeaderValue(r.iname, m.seq)),
        data: m.data,
        ts: this.stream.nextTimestamp(),
        overLimit: this.stream.host.resourcesExceeded?.(this.stream.config.storage) ?? false,
        source: { iname: r.iname, seq: m.seq },
      });
      if ("error" in out) {
        r.err = out.error;
        break;
      }
      r.err = null;
      r.next = m.seq + 1;
    }
    r.last = nowNanos();
    if (n === BATCH) this.schedule(r);
  }

  private mapSubject(r: SourceRun, subject: string): string {
    if (r.maps === null) return subject;
    for (const t of r.maps) {
      if (t === null) continue;
      const out = t.apply(subject);
      if (out !== null) return out;
    }
    return subject;
  }
}

/**
 * The origin's headers with this copy's Nats-Stream-Source. An older Nats-Stream-Source (a copy of
 * a copy) goes, and so do the Nats-Expected-* conditions, which the origin already checked.
 */
/** nats-server's Nats-Stream-Source value: "<stream> <seq> <filters> <destinations>". */
function sourceHeaderValue(iname: string, seq: number): string {
  const sp = iname.indexOf(" ");
  return `${iname.slice(0, sp)} ${seq}${iname.slice(sp)}`;
}

function sourcedHeaders(hdr: Buffer | null, value: string): Buffer {
  const base = hdr !== null && hdr.length > 0 ? dropHeaders(hdr, (k) => k === SOURCE_HEADER || k.startsWith("Nats-Expected-")) : null;
  return appendHeaders(base, [[SOURCE_HEADER, value]]);
}
