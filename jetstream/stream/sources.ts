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
//
// An origin with interest or workqueue retention counts each source and mirror as nats-server
// counts a source's consumer: a message one will copy is stored and kept for it, and goes once
// every copy of it is durable (sooner would lose it to a crash) and nothing else needs it. When a
// stream stops copying for good (deleted, or the source taken out of its config), its origin drops
// what only that copy still needed (a workqueue only what a worker has taken).

import { jsError, type ApiError } from "../api/errors.js";
import { dropHeaders, appendHeaders } from "../util/headers.js";
import { nowNanos, parseRfc3339, type Nanos } from "../util/time.js";
import { sourceIndexName, type StreamSource } from "./source_config.js";
import { parseTransform, type Transform } from "./transform.js";
import { subjectMatches } from "../store/subject_match.js";
import type { Stream, StreamCopier, StreamListener } from "./stream.js";

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
  /** How the origin's retention sees this copy. */
  readonly copier: StreamCopier;
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

  /** recovering: made as the server starts, when copies a crash left behind are looked for. */
  constructor(
    private readonly stream: Stream,
    private readonly lookup: OriginLookup,
    recovering = false,
  ) {
    const m = stream.config.mirror;
    this.runs = m ? [this.makeRun(m, true)] : (stream.config.sources ?? []).map((cfg) => this.makeRun(cfg, false));
    this.tick = setInterval(() => this.onTick(), TICK_MS);
    this.tick.unref();
    for (const r of this.runs) this.attach(r, recovering);
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
      copier: {
        filters,
        wants: (subject) => wants(run, subject),
        needs: (seq, subject) => seq >= this.durable(run) && (subject === null || wants(run, subject)),
      },
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
    for (const r of this.runs) if (r.origin !== null && r.cfg.name === name) this.detach(r);
  }

  /**
   * Stops copying. "deleted" and "updated" stop for good the sources the stream's config no
   * longer has (after an update a new StreamSources has already taken over the others), and
   * their origins let go of what only those still needed. "shutdown" keeps everything.
   */
  close(why: "shutdown" | "deleted" | "updated"): void {
    this.closed = true;
    clearInterval(this.tick);
    if (why === "shutdown") {
      // The origins go on counting these sources until their stores close: copies in flight
      // still commit, and what acks and publishes meanwhile leave is copied after the restart.
      for (const r of this.runs) r.origin?.listeners.delete(r.listener);
      return;
    }
    const keep = new Set(why === "deleted" ? [] : this.currentInames());
    for (const r of this.runs) {
      const origin = r.origin;
      const from = this.durable(r);
      if (origin !== null) this.detach(r);
      if (keep.has(r.iname)) continue;
      this.stream.sourceDurable.delete(r.iname);
      if (origin !== null && !origin.closed) origin.host.release?.(origin, from, Number.MAX_SAFE_INTEGER, null);
    }
  }

  private currentInames(): string[] {
    const c = this.stream.config;
    return c.mirror ? [sourceIndexName(c.mirror)] : (c.sources ?? []).map(sourceIndexName);
  }

  private detach(r: SourceRun): void {
    r.origin!.listeners.delete(r.listener);
    r.origin!.copiers.delete(r.copier);
    r.origin = null;
  }

  /** Origin sequences below this are copied durably (kept on the stream, so a config update's new runs see the old runs' commits). */
  private durable(r: SourceRun): number {
    return this.stream.sourceDurable.get(r.iname) ?? r.next;
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

  private attach(r: SourceRun, recovering = false): void {
    if (this.closed) return;
    const origin = this.lookup.stream(r.cfg.name);
    if (origin === undefined || origin.closed || origin === this.stream) return;
    r.origin = origin;
    origin.listeners.add(r.listener);
    r.last = nowNanos();
    if (r.next === 0) r.next = this.startSeq(r, origin);
    // At a restart the stored position is durable; after a config update the old run's entry stays.
    if (!this.stream.sourceDurable.has(r.iname)) this.stream.sourceDurable.set(r.iname, r.next);
    origin.copiers.add(r.copier);
    // After a crash the origin may still hold copies whose commit was durable and whose removal
    // there was not: they go now, if nothing else needs them.
    if (recovering && (this.stream.store.afterCrash || origin.store.afterCrash)) origin.host.release?.(origin, 0, this.durable(r) - 1, r.copier);
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
    // Interest and workqueue origins remove what was copied, once the copies are durable.
    const done: { seq: number; subject: string }[] | null = origin.config.retention === "limits" ? null : [];
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
      done?.push({ seq: m.seq, subject: m.subject });
    }
    r.last = nowNanos();
    if (done !== null && done.length > 0) this.afterDurable(r, origin, done);
    if (n === BATCH) this.schedule(r);
  }

  private afterDurable(r: SourceRun, origin: Stream, done: { seq: number; subject: string }[]): void {
    const upTo = done[done.length - 1]!.seq + 1;
    const iname = r.iname;
    const sourcing = this.stream;
    sourcing.store.afterCommit((err) => {
      if (err !== null || sourcing.closed) return;
      // No entry: the source was dropped meanwhile (its origin has let go already).
      const was = sourcing.sourceDurable.get(iname);
      if (was !== undefined && upTo > was) sourcing.sourceDurable.set(iname, upTo);
      if (!origin.closed) origin.host.copied?.(origin, r.copier, done);
    });
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

function wants(r: SourceRun, subject: string): boolean {
  for (const f of r.filters) if (f === ">" || subjectMatches(subject, f)) return true;
  return false;
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
