// One stream: its config, its store, and the state machine every change goes through. Changes are
// StreamCommands (commands.ts: a message, a purge, a delete, an expiry, a config update) given to
// apply(); their outcome depends only on the command and the current state (time arrives inside
// the command), so a replicated log can feed the same commands to every replica. The proposing
// side (onInbound, the API handlers, the expiry timer) reads the clock and builds the commands.
// On one server the commands are applied as they are made; the answers go out once the store
// says the change is durable.

import type { StreamStore, StoredMsg } from "../store/store.js";
import { DiscardNewError, PurgeArgError, StoreFlags, TTL_NEVER } from "../store/index.js";
import { CommitBatches } from "../store/commit_batches.js";
import { jsError, type ApiError } from "../api/errors.js";
import { parseHeaders, appendHeaders, buildHeaders } from "../util/headers.js";
import { goDuration } from "../../server/go_duration.js";
import { nowNanos, parseGoDuration, rfc3339, NS_PER_SEC, type Nanos } from "../util/time.js";
import { DedupWindow } from "./dedup.js";
import { pubAckErrorJson, pubAckPrefix, pubAckRest } from "./pub_ack.js";
import type { StreamConfig } from "./config.js";
import { parseTransform, type Transform } from "./transform.js";
import type { StreamCommand } from "./commands.js";
import { sourceIndexName } from "./source_config.js";
import type { StreamSources } from "./sources.js";

export const MAX_HEADER_SIZE = 65535;

/** What a stream needs from JetStream and the server around it. */
export interface StreamHost {
  /** Publishes a message from inside the server (PubAcks, republish, advisories). */
  publish(subject: string, reply: string | null, hdr: Buffer | null, payload: Buffer): void;
  warn(msg: string): void;
  domain?: string;
  /** Interest retention: does any consumer want messages on this subject, or a copier the message at seq? */
  hasInterest(stream: Stream, subject: string, seq: number): boolean;
  /** Is the server over its max_file_store / max_memory_store for this storage kind? */
  resourcesExceeded?(storage: "file" | "memory"): boolean;
  /**
   * Interest and workqueue retention: a copier's copies of these messages are durable, so what
   * nothing else needs goes (nats-server: its source consumers ack on delivery).
   */
  copied?(origin: Stream, by: StreamCopier, msgs: readonly { seq: number; subject: string }[]): void;
  /** Interest retention: removes what in [from, to] (on by's subjects, if given) nothing needs. */
  release?(origin: Stream, from: number, to: number, by: StreamCopier | null): void;
}

/**
 * A stream copying this one's messages (a source or a mirror). Interest and workqueue retention
 * count it as nats-server counts a source's consumer: a message it will copy is kept for it.
 */
export interface StreamCopier {
  /** The origin subjects it copies (">" for all). */
  readonly filters: readonly string[];
  /** Will it copy messages on this subject? */
  wants(subject: string): boolean;
  /** Has it still to copy this message durably? (subject null: not known, judged by seq alone) */
  needs(seq: number, subject: string | null): boolean;
}

/** Told about every change to a stream's messages (consumers listen). */
export interface StreamListener {
  onMessage(seq: number, subject: string): void;
  onRemoved?(seq: number): void;
  onPurged?(): void;
}

export type PublishOutcome = { seq: number; duplicate: boolean } | { error: ApiError };

export interface PurgeRequest {
  filter?: string;
  seq?: number;
  keep?: number;
}

export class Stream {
  config: StreamConfig;
  readonly listeners = new Set<StreamListener>();
  /** The sources and mirrors copying from this stream (retention keeps what they still need). */
  readonly copiers = new Set<StreamCopier>();
  private readonly dedup: DedupWindow;
  private lastMsgId = "";
  private transform: Transform | null = null;
  private republish: Transform | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private expiryAt: Nanos | null = null;
  /** PubAcks waiting for their commit: reply subject, ack JSON, in turn. */
  private readonly acks = new CommitBatches<string>((acks, err) => this.sendAcks(acks, err));
  private readonly ackPrefix: string;
  /** The acks are pure ASCII (stream name and domain), so their length is their byte count. */
  private readonly asciiAcks: boolean;
  closed = false;
  /** The copying from the streams in config.sources, when there are any (sources.ts). */
  sourcing: StreamSources | null = null;
  /**
   * Per source (index name): the origin sequence below which its copies are durable. Outlives a
   * StreamSources (a config update makes a new one while the old one's commits finish).
   */
  readonly sourceDurable = new Map<string, number>();

  constructor(
    readonly host: StreamHost,
    config: StreamConfig,
    readonly store: StreamStore,
    readonly created: Nanos,
  ) {
    this.config = config;
    this.ackPrefix = pubAckPrefix(config.name, host.domain);
    this.asciiAcks = /^[\x20-\x7e]*$/.test(this.ackPrefix);
    this.dedup = new DedupWindow(BigInt(config.duplicate_window));
    this.compile();
    this.applyLimits();
  }

  get name(): string {
    return this.config.name;
  }

  private compile(): void {
    const c = this.config;
    this.transform = c.subject_transform ? parseTransform(c.subject_transform.src, c.subject_transform.dest) : null;
    this.republish = c.republish ? parseTransform(c.republish.src, c.republish.dest) : null;
  }

  private applyLimits(): void {
    const c = this.config;
    this.store.setLimits({
      maxMsgs: c.max_msgs,
      maxBytes: c.max_bytes,
      maxMsgsPerSubject: c.max_msgs_per_subject,
      maxAgeNanos: BigInt(c.max_age),
      discardNew: c.discard === "new",
      discardNewPerSubject: !!c.discard_new_per_subject,
    });
  }

  /**
   * After a restart: rebuilds the de-duplication window and the last message id from the stored
   * messages, and arms the expiry timer.
   */
  recover(now: Nanos): void {
    const st = this.store.state();
    if (st.msgs > 0) {
      const from = this.store.seqFromTime(now - BigInt(this.config.duplicate_window));
      // Only messages with headers can carry a Nats-Msg-Id.
      for (let seq = from; seq <= st.lastSeq; ) {
        const m = this.store.loadNextWithHeaders(seq);
        if (m === null) break;
        const id = parseHeaders(m.hdr!).get("Nats-Msg-Id");
        if (id) this.dedup.add(id, m.seq, m.ts);
        seq = m.seq + 1;
      }
      const last = this.store.loadMsg(st.lastSeq);
      this.lastMsgId = last?.hdr ? (parseHeaders(last.hdr).get("Nats-Msg-Id") ?? "") : "";
    }
    this.apply({ kind: "expire", now });
  }

  // --- the inbound path -----------------------------------------------------------------------

  /** A core message arrived on one of the stream's subjects. */
  onInbound(subject: string, reply: string | null, hdrLen: number, msg: Buffer): void {
    if (this.closed) return;
    const hdr = hdrLen > 0 ? msg.subarray(0, hdrLen) : null;
    const data = hdrLen > 0 ? msg.subarray(hdrLen) : msg;
    const stored = this.transform?.apply(subject) ?? subject;
    const overLimit = this.host.resourcesExceeded?.(this.config.storage) ?? false;
    const out = this.apply({ kind: "msg", subject: stored, hdr, data, ts: this.nextTimestamp(), overLimit });
    if (reply === null || this.config.no_ack) return;
    if ("error" in out) {
      this.host.publish(reply, null, null, Buffer.from(pubAckErrorJson(this.name, out.error)));
      return;
    }
    // The ack waits for the commit that holds the message: acknowledged means durable.
    this.acks.current(this.store).push(reply, this.ackPrefix + pubAckRest(out.seq, out.duplicate));
  }

  private sendAcks(acks: string[], err: Error | null): void {
    if (err !== null) {
      const e = Buffer.from(pubAckErrorJson(this.name, jsError("JSStreamStoreFailedF", { err: err.message })));
      for (let i = 0; i < acks.length; i += 2) this.host.publish(acks[i]!, null, null, e);
      return;
    }
    if (!this.asciiAcks) {
      for (let i = 0; i < acks.length; i += 2) this.host.publish(acks[i]!, null, null, Buffer.from(acks[i + 1]!));
      return;
    }
    // One buffer for the whole commit's PubAcks (the server copies what it sends), written in
    // one call: the acks are ASCII, one byte per character.
    let all = "";
    for (let i = 1; i < acks.length; i += 2) all += acks[i]!;
    const buf = Buffer.from(all, "latin1");
    let off = 0;
    for (let i = 0; i < acks.length; i += 2) {
      const n = acks[i + 1]!.length;
      this.host.publish(acks[i]!, null, null, buf.subarray(off, off + n));
      off += n;
    }
  }

  /** Timestamps only grow within a stream, even if the wall clock steps back. */
  nextTimestamp(): Nanos {
    const now = nowNanos();
    const last = this.store.lastTs();
    return now > last ? now : last + 1n;
  }

  // --- commands -------------------------------------------------------------------------------

  /** Applies one command; no clock, no randomness, no outside state but consumer interest. */
  apply(cmd: StreamCommand & { kind: "msg" }): PublishOutcome;
  apply(cmd: StreamCommand & { kind: "mirror" }): PublishOutcome;
  apply(cmd: StreamCommand & { kind: "purge" }): number | ApiError;
  apply(cmd: StreamCommand & { kind: "delete" }): boolean | ApiError;
  apply(cmd: StreamCommand & { kind: "expire" }): void;
  apply(cmd: StreamCommand & { kind: "update" }): void;
  apply(cmd: StreamCommand): PublishOutcome | number | boolean | ApiError | void;
  apply(cmd: StreamCommand): PublishOutcome | number | boolean | ApiError | void {
    switch (cmd.kind) {
      case "msg":
        if (cmd.source !== undefined) return this.applySourced(cmd.subject, cmd.hdr, cmd.data, cmd.ts, cmd.overLimit ?? false, cmd.source);
        return this.applyMsg(cmd.subject, cmd.hdr, cmd.data, cmd.ts, cmd.overLimit ?? false);
      case "mirror":
        return this.applyMirrored(cmd.seq, cmd.ts, cmd.subject, cmd.hdr, cmd.data, cmd.ttl);
      case "purge":
        return this.applyPurge(cmd);
      case "delete":
        return this.applyDelete(cmd.seq, cmd.erase);
      case "expire":
        return this.applyExpire(cmd.now);
      case "update":
        return this.applyUpdate(cmd.config);
    }
  }

  /**
   * A message copied from a source: stored like a publish, and the source's position moves past
   * it in the same transaction (also when it was a duplicate or not kept), so a restart resumes
   * exactly after the last message this stream has.
   */
  private applySourced(subject: string, hdr: Buffer | null, data: Buffer, ts: Nanos, overLimit: boolean, source: { iname: string; seq: number }): PublishOutcome {
    const out = this.applyMsg(subject, hdr, data, ts, overLimit);
    if (!("error" in out)) this.store.setMeta(sourcePositionKey(source.iname), String(source.seq));
    return out;
  }

  /**
   * A message of the origin a mirror copies, stored as it is there: same sequence, time, headers
   * and TTL (the store's limits still apply). Sequences the mirror skipped (other subjects, or
   * removed at the origin) become a gap; one it already has is a duplicate.
   */
  private applyMirrored(seq: number, ts: Nanos, subject: string, hdr: Buffer | null, data: Buffer, ttl: number): PublishOutcome {
    const store = this.store;
    const last = store.lastSeq();
    if (seq <= last) return { seq, duplicate: true };
    if (seq > last + 1) store.skipMsgs(last + 1, seq - last - 1, ts);
    try {
      store.storeMsg(seq, ts, subject, hdr !== null && hdr.length > 0 ? hdr : null, data, ttl, 0);
    } catch (e) {
      if (e instanceof DiscardNewError) return { error: jsError("JSStreamStoreFailedF", { err: e.message }) };
      throw e;
    }
    for (const l of this.listeners) l.onMessage(seq, subject);
    if (ttl > 0 || this.config.max_age > 0) this.scheduleExpiry();
    return { seq, duplicate: false };
  }

  /** Where a source left off (its last sequence copied here), 0 if nothing was copied yet. */
  sourcePosition(iname: string): number {
    return Number(this.store.getMeta(sourcePositionKey(iname)) ?? 0);
  }

  /** Stores a message at the next sequence, after nats-server's checks, in its order. */
  private applyMsg(subject: string, hdr: Buffer | null, data: Buffer, ts: Nanos, overLimit: boolean): PublishOutcome {
    const c = this.config;
    if (c.sealed) return { error: jsError("JSStreamSealedErr") };
    const h = hdr !== null && hdr.length > 0 ? parseHeaders(hdr) : null;
    const store = this.store;
    let ttl = 0;
    let rollup: "sub" | "all" | null = null;
    let msgId: string | undefined;
    if (h !== null) {
      // An empty expectation header is no expectation (nats-server reads it as absent).
      const expStream = h.get("Nats-Expected-Stream");
      if (expStream && expStream !== c.name) return { error: jsError("JSStreamNotMatchErr") };
      const ttlHdr = h.get("Nats-TTL");
      if (ttlHdr !== undefined && !c.allow_msg_ttl) return { error: jsError("JSMessageTTLDisabledErr") };
      const expSubjSeq = h.get("Nats-Expected-Last-Subject-Sequence");
      if (expSubjSeq) {
        const want = Number(expSubjSeq);
        const on = h.get("Nats-Expected-Last-Subject-Sequence-Subject") || subject;
        const actual = this.lastSeqOn(on);
        if (!Number.isInteger(want) || want !== actual) return { error: jsError("JSStreamWrongLastSequenceErrF", { seq: actual }) };
      }
      const expSeq = h.get("Nats-Expected-Last-Sequence");
      if (expSeq) {
        const last = store.lastSeq();
        if (Number(expSeq) !== last) return { error: jsError("JSStreamWrongLastSequenceErrF", { seq: last }) };
      }
      msgId = h.get("Nats-Msg-Id");
      if (msgId !== undefined && msgId !== "") {
        const dup = this.dedup.lookup(msgId, ts);
        if (dup !== undefined) return { seq: dup, duplicate: true };
      }
      const expId = h.get("Nats-Expected-Last-Msg-Id");
      if (expId && expId !== this.lastMsgId) return { error: jsError("JSStreamWrongLastMsgIDErrF", { id: this.lastMsgId }) };
      const r = h.get("Nats-Rollup");
      if (r !== undefined) {
        if (!c.allow_rollup_hdrs || c.deny_purge) return { error: jsError("JSStreamRollupFailedF", { err: "rollup not permitted" }) };
        const v = r.toLowerCase();
        if (v !== "sub" && v !== "all") return { error: jsError("JSStreamRollupFailedF", { err: `rollup value invalid: ${JSON.stringify(r)}` }) };
        rollup = v;
      }
      if (ttlHdr !== undefined) {
        const t = parseTtl(ttlHdr);
        if (t === null) return { error: jsError("JSMessageTTLInvalidErr") };
        ttl = t;
      }
    }
    const hdrLen = hdr?.length ?? 0;
    if (hdrLen > MAX_HEADER_SIZE) return { error: jsError("JSStreamHeaderExceedsMaximumErr") };
    if (c.max_msg_size > 0 && hdrLen + data.length > c.max_msg_size) return { error: jsError("JSStreamMessageExceedsMaximumErr") };
    if (overLimit) return { error: jsError("JSInsufficientResourcesErr") };

    const seq = store.lastSeq() + 1;
    if (c.retention === "interest" && !this.host.hasInterest(this, subject, seq)) {
      // Nobody would ever read it: the sequence is used, nothing is kept.
      store.skipMsgs(seq, 1, ts);
      this.noteStored(msgId, seq, ts);
      return { seq, duplicate: false };
    }
    try {
      store.storeMsg(seq, ts, subject, hdr !== null && hdr.length > 0 ? hdr : null, data, ttl, rollup !== null ? StoreFlags.SkipDiscardNewPerSubject : 0);
    } catch (e) {
      if (e instanceof DiscardNewError) return { error: jsError("JSStreamStoreFailedF", { err: e.message }) };
      throw e;
    }
    this.noteStored(msgId, seq, ts);
    // purgeEx reads a sequence of 0 or 1 as "no bound"; at 1 there is nothing older to remove.
    if (rollup !== null && seq > 1) store.purgeEx(rollup === "sub" ? subject : ">", seq, 0);
    for (const l of this.listeners) l.onMessage(seq, subject);
    if (this.republish !== null) this.doRepublish(seq, subject, hdr, data, ts);
    if (ttl > 0 || c.max_age > 0) this.scheduleExpiry();
    return { seq, duplicate: false };
  }

  private noteStored(msgId: string | undefined, seq: number, ts: Nanos): void {
    if (msgId) this.dedup.add(msgId, seq, ts);
    this.lastMsgId = msgId ?? "";
  }

  /** The last sequence stored on a subject (a wildcard means "any matching subject"); 0 if none. */
  private lastSeqOn(subject: string): number {
    if (!subject.includes("*") && !subject.includes(">")) return this.store.subjectState(subject)?.last ?? 0;
    return this.store.loadLastMsg(subject)?.seq ?? 0;
  }

  private doRepublish(seq: number, subject: string, hdr: Buffer | null, data: Buffer, ts: Nanos): void {
    const dest = this.republish!.apply(subject);
    if (dest === null) return;
    const prev = this.store.loadPrevMsg(seq - 1, subject);
    const pairs: [string, string][] = [
      ["Nats-Stream", this.name],
      ["Nats-Subject", subject],
      ["Nats-Sequence", String(seq)],
      ["Nats-Time-Stamp", rfc3339(ts)],
      ["Nats-Last-Sequence", String(prev?.seq ?? 0)],
    ];
    const headersOnly = !!this.config.republish!.headers_only;
    if (headersOnly) pairs.push(["Nats-Msg-Size", String(data.length)]);
    this.host.publish(dest, null, appendHeaders(hdr !== null && hdr.length > 0 ? hdr : null, pairs), headersOnly ? Buffer.alloc(0) : data);
  }

  private applyPurge(req: PurgeRequest): number | ApiError {
    if (this.config.sealed) return jsError("JSStreamSealedErr");
    if (this.config.deny_purge) return jsError("JSStreamPurgeFailedF", { err: "stream purge not permitted" });
    let n: number;
    try {
      const filter = req.filter ?? "";
      const seq = req.seq ?? 0;
      const keep = req.keep ?? 0;
      if ((filter === "" || filter === ">") && seq === 0 && keep === 0) n = this.store.purge();
      else n = this.store.purgeEx(filter, seq, keep);
    } catch (e) {
      if (e instanceof PurgeArgError) return jsError("JSBadRequestErr");
      throw e;
    }
    for (const l of this.listeners) l.onPurged?.();
    return n;
  }

  private applyDelete(seq: number, erase: boolean): boolean | ApiError {
    if (this.config.sealed) return jsError("JSStreamSealedErr");
    if (this.config.deny_delete) return jsError("JSStreamMsgDeleteFailedF", { err: "message delete not permitted" });
    const ok = erase ? this.store.eraseMsg(seq) : this.store.removeMsg(seq);
    if (ok) for (const l of this.listeners) l.onRemoved?.(seq);
    return ok;
  }

  /** Removes what max_age and message TTLs say is gone at `now`, leaving markers where configured. */
  private applyExpire(now: Nanos): void {
    const removed = this.store.expire(now);
    for (const l of this.listeners) for (const r of removed) l.onRemoved?.(r.seq);
    const sdm = this.config.subject_delete_marker_ttl;
    if (sdm && removed.length > 0) {
      // The subject's last message decides: a marker that ages out leaves nothing behind.
      const lastOf = new Map<string, boolean>();
      for (const r of removed) lastOf.set(r.subject, r.marker);
      for (const [subject, wasMarker] of lastOf) {
        if (wasMarker || this.store.subjectState(subject) !== null) continue;
        const hdr = buildHeaders([
          ["Nats-Marker-Reason", "MaxAge"],
          ["Nats-TTL", goDuration(BigInt(Math.max(1, Math.floor(sdm / 1e9))) * NS_PER_SEC)],
          ["Nats-Rollup", "sub"],
        ]);
        const lastTs = this.store.lastTs();
        this.applyMsg(subject, hdr, Buffer.alloc(0), now > lastTs ? now : lastTs + 1n, false);
      }
    }
    this.scheduleExpiry();
  }

  private applyUpdate(next: StreamConfig): void {
    // A source taken out of the config forgets where it was: added back, it starts over.
    const kept = new Set((next.sources ?? []).map(sourceIndexName));
    for (const s of this.config.sources ?? []) {
      const key = sourcePositionKey(sourceIndexName(s));
      if (!kept.has(sourceIndexName(s)) && this.store.getMeta(key) !== null) this.store.setMeta(key, null);
    }
    this.config = next;
    this.dedup.windowNs = BigInt(next.duplicate_window);
    this.compile();
    this.applyLimits();
    this.scheduleExpiry();
  }

  // --- reads ----------------------------------------------------------------------------------

  loadMsg(seq: number): StoredMsg | null {
    return this.store.loadMsg(seq);
  }

  // --- time -----------------------------------------------------------------------------------

  /** Arms one timer for the store's next expiry (max_age or a message TTL). */
  scheduleExpiry(): void {
    if (this.closed) return;
    const next = this.store.nextExpiry();
    if (next === null) {
      if (this.expiryTimer) clearTimeout(this.expiryTimer);
      this.expiryTimer = null;
      this.expiryAt = null;
      return;
    }
    if (this.expiryTimer !== null && this.expiryAt !== null && this.expiryAt <= next) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    const delayMs = Math.max(0, Number((next - nowNanos()) / 1_000_000n) + 1);
    this.expiryAt = next;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      this.expiryAt = null;
      if (!this.closed) this.apply({ kind: "expire", now: nowNanos() });
    }, Math.min(delayMs, 2 ** 31 - 1));
    this.expiryTimer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }
}

function sourcePositionKey(iname: string): string {
  return `source:${iname}`;
}

/** Nats-TTL: a Go duration or whole seconds, "never"; at least one second. Seconds, or null if invalid. */
export function parseTtl(v: string): number | null {
  if (v === "never") return TTL_NEVER;
  let ns: Nanos | null;
  if (/^\d+$/.test(v)) ns = BigInt(v) * NS_PER_SEC;
  else ns = parseGoDuration(v);
  if (ns === null || ns < NS_PER_SEC) return null;
  return Number(ns / NS_PER_SEC);
}
