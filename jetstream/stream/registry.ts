// The streams of the account: creating, updating and deleting them (with the cross-stream rules:
// no two streams may capture the same subject), recovering them from the store at start, and
// keeping each stream's subscription on its subjects in step with its config.

import type { Subscription } from "../../server/client/subscription.js";
import { subjectsCollide } from "../../server/subjects/subject.js";
import { invalidConfig, jsError, type ApiError } from "../api/errors.js";
import type { StoreManager, StreamStore } from "../store/index.js";
import { parseRfc3339, rfc3339, type Nanos } from "../util/time.js";
import { checkStreamConfig, checkStreamUpdate, sameConfig, type StreamConfig, type StreamConfigRequest } from "./config.js";
import { Stream, type StreamHost } from "./stream.js";
import { StreamSources } from "./sources.js";

export const ACCOUNT = "$G";

/** How the registry reaches the server's subject routing. */
export interface SubscribeFn {
  /** borrow: msg is only valid during the call (the handler copies what it keeps). */
  subscribe(subject: string, handler: (subject: string, reply: string | null, hdrLen: number, msg: Buffer) => void, borrow: boolean): Subscription;
  unsubscribe(sub: Subscription): void;
}

export interface RegistryLimits {
  maxStreams: number;
  clustered: boolean;
  /** Server-wide max_memory_store / max_file_store in bytes; -1 = unlimited. */
  maxMemory: number;
  maxStore: number;
}

export class StreamRegistry {
  readonly streams = new Map<string, Stream>();
  private readonly subs = new Map<string, Subscription[]>();
  /** Called when a stream is deleted (consumers clean up). */
  onDelete: ((s: Stream) => void) | null = null;

  constructor(
    private readonly stores: StoreManager,
    private readonly host: StreamHost,
    private readonly routing: SubscribeFn,
    private readonly limits: RegistryLimits,
  ) {}

  get(name: string): Stream | undefined {
    return this.streams.get(name);
  }

  /** Sorted by name, as nats-server lists them. */
  list(subjectFilter?: string): Stream[] {
    let all = [...this.streams.values()];
    if (subjectFilter) all = all.filter((s) => s.config.subjects.some((x) => subjectsCollide(x, subjectFilter)));
    return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Opens every stream saved in the store directory. Failures are reported, never "repaired". */
  recover(now: Nanos): { recovered: number; errors: string[] } {
    const res = this.stores.recover();
    const errors = res.failures.map((f) => f.message);
    for (const r of res.streams) {
      try {
        if (r.config === null) throw new Error("no saved config");
        const cfg = JSON.parse(r.config) as StreamConfig;
        const created = parseRfc3339(r.store.getMeta("created") ?? "") ?? now;
        // A create that crashed before its first sequence was applied finishes here.
        if (cfg.first_seq && cfg.first_seq > 1 && r.store.state().lastSeq === 0) r.store.compact(cfg.first_seq);
        const stream = new Stream(this.host, cfg, r.store, created);
        this.streams.set(cfg.name, stream);
        stream.recover(now);
        this.subscribeStream(stream);
      } catch (e) {
        errors.push(`stream ${JSON.stringify(r.name)}: could not be recovered: ${(e as Error).message}`);
      }
    }
    // Once every stream is open, so that each source finds its origin.
    for (const s of this.streams.values()) this.startSources(s, true);
    return { recovered: this.streams.size, errors };
  }

  /**
   * STREAM.CREATE: an identical config for an existing stream is not an error. `created` is the
   * creation time the proposer chose (an input, like every time in a command).
   */
  create(req: StreamConfigRequest, created: Nanos): { stream: Stream; created: boolean } | ApiError {
    if (req.sealed) return invalidConfig("stream configuration for create can not be sealed");
    const cfg = checkStreamConfig(req, { clustered: this.limits.clustered });
    if ("errCode" in cfg) return cfg;
    this.settleMirrorDirect(cfg);
    const existing = this.streams.get(cfg.name);
    if (existing) {
      if (sameConfig(existing.config, cfg)) return { stream: existing, created: false };
      return jsError("JSStreamNameExistErr");
    }
    // nats-server's order: the server's resources, then subjects, then the stream count.
    const res = this.checkResources(cfg.storage, cfg.max_bytes > 0 ? cfg.max_bytes : 1);
    if (res !== null) return res;
    if (this.overlaps(cfg.subjects, null)) return jsError("JSStreamSubjectOverlapErr");
    if (this.limits.maxStreams > 0 && this.streams.size >= this.limits.maxStreams) return jsError("JSMaximumStreamsLimitErr");
    const srcErr = this.checkSourceGraph(cfg);
    if (srcErr !== null) return srcErr;
    let store: StreamStore;
    try {
      store = this.stores.createStream(ACCOUNT, cfg.name, cfg.storage, { config: JSON.stringify(cfg), meta: { created: rfc3339(created) } });
    } catch (e) {
      return jsError("JSStreamCreateErrF", { err: (e as Error).message });
    }
    if (cfg.first_seq && cfg.first_seq > 1) store.compact(cfg.first_seq);
    const stream = new Stream(this.host, cfg, store, created);
    this.streams.set(cfg.name, stream);
    this.subscribeStream(stream);
    for (const s of this.streams.values()) s.sourcing?.originAppeared(stream);
    this.startSources(stream);
    return { stream, created: true };
  }

  update(req: StreamConfigRequest): Stream | ApiError {
    const cfg = checkStreamConfig(req, { clustered: this.limits.clustered });
    if ("errCode" in cfg) return cfg;
    this.settleMirrorDirect(cfg);
    const stream = this.streams.get(cfg.name);
    if (!stream) return jsError("JSStreamNotFoundErr");
    const next = checkStreamUpdate(stream.config, cfg);
    if ("errCode" in next) return next;
    // Only a raise of max_bytes reserves more (nats-server's update check).
    const res = this.checkResources(next.storage, Math.max(0, next.max_bytes - stream.config.max_bytes));
    if (res !== null) return res;
    if (this.overlaps(next.subjects, stream.name)) return jsError("JSStreamSubjectOverlapErr");
    const srcErr = this.checkSourceGraph(next);
    if (srcErr !== null) return srcErr;
    const resourced = JSON.stringify([next.mirror ?? null, next.sources ?? []]) !== JSON.stringify([stream.config.mirror ?? null, stream.config.sources ?? []]);
    const resubscribe = JSON.stringify(next.subjects) !== JSON.stringify(stream.config.subjects);
    stream.store.saveConfig(JSON.stringify(next));
    stream.apply({ kind: "update", config: next });
    if (resubscribe) {
      this.unsubscribeStream(stream);
      this.subscribeStream(stream);
    }
    // Positions are in the store: a new StreamSources resumes every source that stayed.
    if (resourced) {
      // The new runs register with their origins before the old ones let go of anything.
      const old = stream.sourcing;
      stream.sourcing = null;
      this.startSources(stream);
      old?.close("updated");
    }
    return stream;
  }

  delete(name: string): boolean {
    const stream = this.streams.get(name);
    if (!stream) return false;
    this.unsubscribeStream(stream);
    this.stopSources(stream, "deleted");
    this.onDelete?.(stream);
    stream.close();
    this.streams.delete(name);
    for (const s of this.streams.values()) s.sourcing?.originGone(name);
    this.stores.deleteStream(ACCOUNT, name);
    return true;
  }

  /**
   * Shutdown, first step: no more copying from sources and mirrors (what they copied can then
   * finish, and their origins' retention see it, while consumers are still there).
   */
  stopAllSources(): void {
    for (const s of this.streams.values()) this.stopSources(s, "shutdown");
  }

  /** Stops every stream (shutdown). Stores are closed by the store manager. */
  closeAll(): void {
    for (const s of this.streams.values()) {
      this.unsubscribeStream(s);
      this.stopSources(s, "shutdown");
      s.close();
    }
  }

  /**
   * nats-server's server-side check of a stream's reservation: the max_bytes of every stream of
   * that storage kind plus what this one adds must fit in max_memory_store / max_file_store.
   */
  private checkResources(storage: "file" | "memory", add: number): ApiError | null {
    const max = storage === "memory" ? this.limits.maxMemory : this.limits.maxStore;
    if (max < 0) return null;
    let reserved = 0;
    for (const s of this.streams.values()) if (s.config.storage === storage && s.config.max_bytes > 0) reserved += s.config.max_bytes;
    if (reserved + add <= max) return null;
    return jsError(storage === "memory" ? "JSMemoryResourcesExceededErr" : "JSStorageResourcesExceededErr");
  }

  /** Whether the stored bytes of that storage kind are over the server's limit (publishes are refused). */
  overLimit(storage: "file" | "memory"): boolean {
    const max = storage === "memory" ? this.limits.maxMemory : this.limits.maxStore;
    if (max < 0) return false;
    let used = 0;
    for (const s of this.streams.values()) if (s.config.storage === storage) used += s.store.state().bytes;
    return used > max;
  }

  private overlaps(subjects: string[], except: string | null): boolean {
    for (const s of this.streams.values()) {
      if (s.name === except) continue;
      for (const a of s.config.subjects) for (const b of subjects) if (subjectsCollide(a, b)) return true;
    }
    return false;
  }

  /** A mirror answers direct gets for its origin exactly when the origin allows them (nats-server). */
  private settleMirrorDirect(cfg: StreamConfig): void {
    const o = cfg.mirror ? this.streams.get(cfg.mirror.name) : undefined;
    if (o) cfg.mirror_direct = o.config.allow_direct;
  }

  private startSources(stream: Stream, recovering = false): void {
    if (!stream.config.mirror && !(stream.config.sources && stream.config.sources.length > 0)) return;
    if (stream.sourcing !== null) return;
    stream.sourcing = new StreamSources(stream, { stream: (n) => this.streams.get(n) }, recovering);
  }

  private stopSources(stream: Stream, why: "shutdown" | "deleted"): void {
    stream.sourcing?.close(why);
    stream.sourcing = null;
  }

  /**
   * checkStreamCfg's rules that need the other streams: a source's messages must fit this
   * stream's max_msg_size, and sources must not form a cycle whose subjects feed each other.
   */
  private checkSourceGraph(cfg: StreamConfig): ApiError | null {
    for (const src of cfg.sources ?? []) {
      const o = this.streams.get(src.name);
      if (o && cfg.max_msg_size > 0 && o.config.max_msg_size > 0 && cfg.max_msg_size < o.config.max_msg_size) return jsError("JSSourceMaxMessageSizeTooBigErr");
    }
    if (cfg.mirror) {
      const o = this.streams.get(cfg.mirror.name);
      if (o && cfg.max_msg_size > 0 && o.config.max_msg_size > 0 && cfg.max_msg_size < o.config.max_msg_size) return jsError("JSMirrorMaxMessageSizeTooBigErr");
    }
    const overlaps = (subjects: string[], filter: string | undefined) => !filter || subjects.some((s) => subjectsCollide(s, filter));
    const toVisit: StreamConfig[] = [cfg];
    const visited = new Set<string>();
    while (toVisit.length > 0) {
      const c = toVisit.shift()!;
      visited.add(c.name);
      for (const src of c.sources ?? []) {
        if (visited.has(src.name)) {
          if (overlaps(c.subjects, src.filter_subject)) return invalidConfig("detected cycle");
        } else {
          const o = src.name === cfg.name ? cfg : this.streams.get(src.name)?.config;
          if (o) toVisit.push(o);
        }
      }
      if (c.mirror) {
        if (visited.has(c.mirror.name) || c.mirror.name === cfg.name) return invalidConfig("detected cycle");
        const o = this.streams.get(c.mirror.name)?.config;
        if (o) toVisit.push(o);
      }
    }
    return null;
  }

  private subscribeStream(stream: Stream): void {
    // A file store copies what it holds of a message; a memory store keeps the buffer it gets.
    const borrow = stream.store.storage === "file";
    const subs = stream.config.subjects.map((subj) =>
      this.routing.subscribe(subj, (subject, reply, hdrLen, msg) => stream.onInbound(subject, reply, hdrLen, msg), borrow),
    );
    this.subs.set(stream.name, subs);
  }

  private unsubscribeStream(stream: Stream): void {
    for (const sub of this.subs.get(stream.name) ?? []) this.routing.unsubscribe(sub);
    this.subs.delete(stream.name);
  }

  /** A mirror of `origin` that answers direct gets for it (mirror_direct), if there is one. */
  directMirror(origin: string): Stream | undefined {
    for (const s of this.streams.values()) if (s.config.mirror?.name === origin && s.config.mirror_direct && !s.closed) return s;
    return undefined;
  }

  /** Bytes stored, by storage kind (account info). */
  usage(): { memory: number; storage: number } {
    let memory = 0;
    let storage = 0;
    for (const s of this.streams.values()) {
      const b = s.store.state().bytes;
      if (s.config.storage === "memory") memory += b;
      else storage += b;
    }
    return { memory, storage };
  }
}

export type { Nanos };
