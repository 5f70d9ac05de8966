// The consumers of every stream: creating, updating, deleting and recovering them, routing acks
// and flow-control replies to them, telling them about stream changes, and the stream-side rules
// consumers drive (interest and workqueue retention). This is the ConsumerLayer JetStream calls.

import type { Server } from "../../server/server.js";
import type { Subscription } from "../../server/client/subscription.js";
import type { ConsumerLayer, JetStream } from "../jetstream.js";
import type { Stream, StreamCopier, StreamListener } from "../stream/stream.js";
import type { StreamConfig } from "../stream/config.js";
import type { CommitCallback, ConsumerStore } from "../store/store.js";
import { jsError, type ApiError } from "../api/errors.js";
import { nowNanos, parseRfc3339, rfc3339, type Nanos } from "../util/time.js";
import { ackKind, parseAckSubject } from "./ack.js";
import {
  applyDefaults,
  checkConfig,
  checkUpdate,
  configJson,
  filtersOf,
  isValidName,
  JS_MAX_NAME_LEN,
  sameConfig,
  startTimeNs,
  type ConsumerConfig,
} from "./config.js";
import { Consumer, randomToken, type ConsumerHost } from "./consumer.js";
import { NULL_LOG, StoreLog } from "./log.js";
import { subjectsCollide } from "../../server/subjects/subject.js";

/** The consumers of one stream, and the stream listener that keeps them informed. */
class StreamConsumers implements StreamListener {
  readonly byName = new Map<string, Consumer>();
  /** Messages the stream held as of the last change we were told about. */
  knownMsgs: number;

  constructor(readonly stream: Stream) {
    this.knownMsgs = stream.store.state().msgs;
  }

  onMessage(seq: number, subject: string): void {
    this.knownMsgs++;
    for (const c of this.byName.values()) c.onStreamMessage(seq, subject);
  }

  onRemoved(seq: number): void {
    this.removed(seq, null);
  }

  removed(seq: number, subject: string | null, except: Consumer | null = null): void {
    this.knownMsgs--;
    for (const c of this.byName.values()) if (c !== except) c.onStreamRemoved(seq, subject);
  }

  onPurged(): void {
    this.knownMsgs = this.stream.store.state().msgs;
    for (const c of this.byName.values()) c.onStreamPurged();
  }
}

/** What is saved with each persisted consumer (nats-server's FileConsumerInfo). */
interface SavedConsumer {
  name: string;
  created: string;
  config: ConsumerConfig;
}

export class ConsumerManager implements ConsumerLayer, ConsumerHost {
  /** shutdown() has run. */
  private stopped = false;
  readonly server: Server;
  private readonly groups = new Map<string, StreamConsumers>();
  /** "<stream>.<consumer>" -> consumer, for acks and flow control replies. */
  private readonly byKey = new Map<string, Consumer>();
  private ackSub: Subscription | null = null;
  private fcSub: Subscription | null = null;

  constructor(private readonly js: JetStream) {
    this.server = js.server;
  }

  start(): void {
    const server = this.server;
    // Both read the message within the call (an ack's kind, a NAK's delay, a TERM's reason, a
    // +NXT's request): they borrow it instead of getting a copy.
    this.ackSub = server.subscribe("$JS.ACK.>", (subject, reply, hdrLen, msg) => this.onAck(subject, reply, hdrLen, msg), { name: "jetstream-acks", borrow: true });
    this.fcSub = server.subscribe("$JS.FC.>", (subject) => this.onFlowControl(subject), { name: "jetstream-fc", borrow: true });
    this.recover();
  }

  // --- ConsumerLayer --------------------------------------------------------------------------

  count(stream: Stream): number {
    return this.groups.get(stream.name)?.byName.size ?? 0;
  }

  total(): number {
    return this.byKey.size;
  }

  /** Interest retention: is some consumer's filter matching this subject, or will a source or mirror copy this message? */
  hasInterest(stream: Stream, subject: string, seq: number): boolean {
    const g = this.groups.get(stream.name);
    if (g && this.anyMatches(g, subject)) return true;
    for (const cp of stream.copiers) if (cp.needs(seq, subject)) return true;
    return false;
  }

  /** A source's or mirror's copies are durable: what nothing else needs goes (nats-server's ackMsg for a source's consumer). */
  copied(stream: Stream, by: StreamCopier, msgs: readonly { seq: number; subject: string }[]): void {
    // After shutdown() the consumers are gone, and with them what they still need.
    if (this.stopped || stream.config.retention === "limits") return;
    const g = this.groups.get(stream.name) ?? null;
    const store = stream.store;
    for (const { seq, subject } of msgs) {
      if (this.othersNeed(g, stream, seq, subject, by)) continue;
      if (store.removeMsg(seq)) g?.removed(seq, subject);
    }
  }

  /**
   * Removes the messages in [from, to] (only on by's subjects when by is given) that no consumer
   * and no copier needs: at an interest stream all of them; at a workqueue stream those a worker
   * has taken, since one nobody took yet waits for a worker. Nothing still needed is touched.
   */
  release(stream: Stream, from: number, to: number, by: StreamCopier | null): void {
    const wq = stream.config.retention === "workqueue";
    if (this.stopped || (!wq && stream.config.retention !== "interest")) return;
    const g = this.groups.get(stream.name) ?? null;
    if (wq && g === null) return;
    const store = stream.store;
    const filters = by?.filters ?? [">"];
    let seq = Math.max(from, store.state().firstSeq);
    while (seq <= to) {
      const m = filters.length === 1 ? store.loadNextMsg(filters[0]!, seq) : store.loadNextMsgMulti(filters, seq);
      if (m === null || m.seq > to) break;
      seq = m.seq + 1;
      if (this.othersNeed(g, stream, m.seq, m.subject, null)) continue;
      // A workqueue's worker for the subject, not needing the message, has acked it.
      if (wq && !this.anyMatches(g!, m.subject)) continue;
      if (store.removeMsg(m.seq)) g?.removed(m.seq, m.subject);
    }
  }

  /** Does some consumer's filter match this subject? */
  private anyMatches(g: StreamConsumers, subject: string): boolean {
    for (const c of g.byName.values()) if (c.core.matches(subject)) return true;
    return false;
  }

  onStreamDeleted(stream: Stream): void {
    const g = this.groups.get(stream.name);
    if (!g) return;
    for (const c of g.byName.values()) {
      c.stop("deleted");
      this.byKey.delete(c.key);
    }
    stream.listeners.delete(g);
    this.groups.delete(stream.name);
  }

  shutdown(): void {
    this.stopped = true;
    if (this.ackSub) this.server.unsubscribe(this.ackSub);
    if (this.fcSub) this.server.unsubscribe(this.fcSub);
    for (const g of this.groups.values()) {
      for (const c of g.byName.values()) c.stop("shutdown");
      g.stream.listeners.delete(g);
    }
    this.groups.clear();
    this.byKey.clear();
  }

  // --- lookups --------------------------------------------------------------------------------

  stream(name: string): Stream | undefined {
    return this.js.registry.get(name);
  }

  consumer(stream: Stream, name: string): Consumer | undefined {
    return this.groups.get(stream.name)?.byName.get(name);
  }

  /** Sorted by name, as nats-server lists them. */
  consumers(stream: Stream): Consumer[] {
    const g = this.groups.get(stream.name);
    if (!g) return [];
    return [...g.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private group(stream: Stream): StreamConsumers {
    let g = this.groups.get(stream.name);
    if (!g) {
      g = new StreamConsumers(stream);
      this.groups.set(stream.name, g);
      stream.listeners.add(g);
      // Messages the store drops for limits (max_msgs, max_msgs_per_subject, ...) matter to
      // pending counts; the stream does not relay them.
      const grp = g;
      stream.store.onLimitRemoval((seq, subject) => grp.removed(seq, subject));
    }
    return g;
  }

  /**
   * gatherSourceMirrorSubjects: the subjects a stream's messages can have, its own and, through
   * its mirror or sources, those of its origins; null when a subject transform makes them open-ended.
   */
  private interestSubjects(cfg: StreamConfig, seen: Set<string>): string[] | null {
    seen.add(cfg.name);
    const out = [...cfg.subjects];
    for (const src of cfg.mirror ? [cfg.mirror] : (cfg.sources ?? [])) {
      if (src.subject_transforms) return null;
      if (seen.has(src.name)) continue;
      const origin = this.js.registry.get(src.name);
      if (!origin) continue;
      const more = this.interestSubjects(origin.config, seen);
      if (more === null) return null;
      out.push(...more);
    }
    return out;
  }

  /** Runs cb once what a consumer store wrote is durable (at once for unpersisted consumers). */
  whenDurable(store: ConsumerStore | null, cb: CommitCallback): void {
    if (store === null) cb(null);
    else store.afterCommit(cb);
  }

  // --- create, update, delete -----------------------------------------------------------------

  /** addConsumerWithAssignment: a new consumer, or an update of an existing one. */
  addConsumer(stream: Stream, cfg: ConsumerConfig, action: "" | "create" | "update", pedantic = false): { info: Record<string, unknown>; store: ConsumerStore | null } | ApiError {
    const scfg = stream.config;
    const g = this.group(stream);
    const cname = cfg.durable_name || cfg.name || "";
    const existing = cname ? g.byName.get(cname) : undefined;
    // Durability is the existing consumer's (nats-server's o.isDurable()): an update that names a
    // durable by `name` alone must not give it an ephemeral's inactivity threshold.
    const bad = applyDefaults(cfg, scfg, !cfg.durable_name && !(existing?.durable ?? false), pedantic) ?? checkConfig(cfg, scfg, this.interestSubjects(scfg, new Set()));
    if (bad) return bad;
    if (existing) {
      if (action === "create") {
        if (sameConfig(existing.cfg, cfg)) return { info: existing.info(), store: null };
        return jsError("JSConsumerAlreadyExists");
      }
      const why = checkUpdate(existing.cfg, cfg, existing.isPush && existing.active);
      if (typeof why === "string") return jsError("JSConsumerCreateErrF", { err: why });
      if (why) return why;
      if (!sameConfig(existing.cfg, cfg)) {
        existing.update(cfg);
        if (existing.store) existing.store.updateConfig(this.savedJson(existing), cfg.ack_policy);
      }
      existing.persist();
      return { info: existing.info(), store: existing.store };
    }
    if (action === "update") return jsError("JSConsumerDoesNotExist");
    if (scfg.max_consumers > 0 && g.byName.size >= scfg.max_consumers) return jsError("JSMaximumConsumersLimitErr");
    if (scfg.retention === "workqueue" && !cfg.direct) {
      if (cfg.ack_policy !== "explicit") return jsError("JSConsumerWQRequiresExplicitAckErr");
      if (g.byName.size > 0) {
        const mine = filtersOf(cfg);
        if (mine.length === 0) return jsError("JSConsumerWQMultipleUnfilteredErr");
        for (const o of g.byName.values()) {
          const theirs = filtersOf(o.cfg);
          if (theirs.length === 0 || theirs.some((a) => mine.some((b) => subjectsCollide(a, b)))) return jsError("JSConsumerWQConsumerNotUniqueErr");
        }
      }
      if (cfg.deliver_policy !== "all") return jsError("JSConsumerWQConsumerNotDeliverAllErr");
    }
    let name: string;
    if (cfg.durable_name) {
      if (Buffer.byteLength(cfg.durable_name) > JS_MAX_NAME_LEN) return jsError("JSConsumerNameTooLongErrF", { max: JS_MAX_NAME_LEN });
      name = cfg.durable_name;
    } else if (cfg.name) {
      if (Buffer.byteLength(cfg.name) > JS_MAX_NAME_LEN) return jsError("JSConsumerNameTooLongErrF", { max: JS_MAX_NAME_LEN });
      name = cfg.name;
    } else {
      do name = randomToken(8);
      while (g.byName.has(name));
    }
    if (!isValidName(name)) return jsError("JSConsumerBadDurableNameErr");
    const created = nowNanos();
    const persist = scfg.storage === "file" && !cfg.mem_storage;
    let store: ConsumerStore | null = null;
    if (persist) {
      try {
        store = stream.store.createConsumer(name, JSON.stringify({ name, created: rfc3339(created), config: cfg } satisfies SavedConsumer), cfg.ack_policy);
      } catch (e) {
        return jsError("JSConsumerStoreFailedErrF", { err: (e as Error).message });
      }
    }
    const c = this.makeConsumer(stream, name, cfg, created, store);
    c.core.selectStart({ deliverPolicy: cfg.deliver_policy, optStartSeq: cfg.opt_start_seq ?? 0, optStartTimeNs: startTimeNs(cfg) });
    c.bindInterest();
    // The create response describes the consumer before any delivery: num_pending is what
    // watchers count their initial values by.
    const info = c.info();
    c.start();
    // Confirmed creation includes the starting position.
    c.persist();
    this.js.advisory(`$JS.EVENT.ADVISORY.CONSUMER.CREATED.${c.key}`, "io.nats.jetstream.advisory.v1.consumer_action", { stream: stream.name, consumer: name, action: "create" });
    return { info, store };
  }

  private makeConsumer(stream: Stream, name: string, cfg: ConsumerConfig, created: Nanos, store: ConsumerStore | null): Consumer {
    const g = this.group(stream);
    const log = store === null ? NULL_LOG : new StoreLog(store, (e) => this.warn(`JetStream consumer '${stream.name} > ${name}' state not saved: ${(e as Error).message}`));
    const c = new Consumer(this, stream, name, cfg, created, store, log);
    g.byName.set(name, c);
    this.byKey.set(c.key, c);
    return c;
  }

  private savedJson(c: Consumer): string {
    return JSON.stringify({ name: c.name, created: rfc3339(c.created), config: c.cfg } satisfies SavedConsumer);
  }

  /** Deletes a consumer (API request or inactivity), with its advisory. */
  deleteConsumer(c: Consumer): void {
    const stream = c.stream;
    const g = this.groups.get(stream.name);
    if (!g || g.byName.get(c.name) !== c) return;
    c.stop("deleted");
    g.byName.delete(c.name);
    this.byKey.delete(c.key);
    if (c.store !== null) {
      try {
        stream.store.deleteConsumer(c.name);
      } catch (e) {
        this.warn(`JetStream consumer '${c.key}' could not be removed from the store: ${(e as Error).message}`);
      }
    }
    this.js.advisory(`$JS.EVENT.ADVISORY.CONSUMER.DELETED.${c.key}`, "io.nats.jetstream.advisory.v1.consumer_action", { stream: stream.name, consumer: c.name, action: "delete" });
    if (stream.config.retention === "interest") this.removeUninterested(g, c);
  }

  /** An interest stream lost a consumer: what nobody else wants goes (from its ack floor on). */
  private removeUninterested(g: StreamConsumers, gone: Consumer): void {
    const store = g.stream.store;
    const st = store.state();
    if (st.msgs === 0) return;
    let seq = Math.max(gone.core.asflr, st.firstSeq);
    for (;;) {
      const m = store.loadNextMsg(">", seq);
      if (m === null) break;
      seq = m.seq + 1;
      if (this.othersNeed(g, g.stream, m.seq, m.subject, null)) continue;
      if (store.removeMsg(m.seq)) g.removed(m.seq, m.subject);
    }
  }

  // --- recovery -------------------------------------------------------------------------------

  /** Reopens the consumers saved with each stream (after the streams are recovered). */
  private recover(): void {
    let n = 0;
    for (const stream of this.js.registry.streams.values()) {
      let names: string[];
      try {
        names = stream.store.consumerNames();
      } catch (e) {
        this.warn(`JetStream: consumers of stream '${stream.name}' could not be listed: ${(e as Error).message}`);
        continue;
      }
      for (const name of names) {
        try {
          const store = stream.store.consumer(name);
          if (store === null) continue;
          const saved = JSON.parse(store.config()) as SavedConsumer;
          const created = parseRfc3339(saved.created) ?? nowNanos();
          const c = this.makeConsumer(stream, name, saved.config, created, store);
          c.core.restore(store.state());
          c.start();
          n++;
        } catch (e) {
          this.warn(`JetStream: consumer '${stream.name} > ${name}' could not be recovered: ${(e as Error).message}`);
        }
      }
    }
    if (n > 0) this.server.log.info(`  Recovered ${n} consumer(s)`);
  }

  // --- acks and flow control ------------------------------------------------------------------

  /**
   * False (not delivered: a request gets no-responders) when no consumer takes this ack, as in
   * nats-server: a missing consumer, or one with ack_policy none (current servers give those no
   * ack subscription at all).
   */
  private onAck(subject: string, reply: string | null, hdrLen: number, msg: Buffer): boolean {
    const a = parseAckSubject(subject);
    if (a === null) return false;
    const c = this.byKey.get(a.key);
    if (c === undefined || c.cfg.ack_policy === "none") return false;
    const body = hdrLen > 0 ? msg.subarray(hdrLen) : msg;
    try {
      c.onAck(a, ackKind(body), reply, body);
    } catch (e) {
      this.warn(`JetStream consumer '${c.key}' ack failed: ${(e as Error).stack ?? e}`);
    }
    return true;
  }

  private onFlowControl(subject: string): void {
    // $JS.FC.<stream>.<consumer>.<token>
    const end = subject.lastIndexOf(".");
    if (end <= 7) return;
    this.byKey.get(subject.substring(7, end))?.onFlowControl(subject);
  }

  // --- ConsumerHost ---------------------------------------------------------------------------

  advisory(subject: string, type: string, fields: Record<string, unknown>): void {
    this.js.advisory(subject, type, fields);
  }

  warn(msg: string): void {
    this.server.log.warn(msg);
  }

  expire(c: Consumer): void {
    this.deleteConsumer(c);
  }

  sync(c: Consumer): void {
    const g = this.groups.get(c.stream.name);
    if (!g) return;
    const msgs = g.stream.store.state().msgs;
    if (msgs === g.knownMsgs) return;
    // The stream changed in a way no listener call announced (a rollup, for one): recount.
    g.knownMsgs = msgs;
    for (const o of g.byName.values()) o.core.invalidatePending();
  }

  /** Interest and workqueue retention (nats-server stream.ackMsg) for acknowledged [from, to]. */
  acked(c: Consumer, from: number, to: number): void {
    const stream = c.stream;
    const g = this.groups.get(stream.name);
    if (!g) return;
    const store = stream.store;
    const st = store.state();
    if (st.msgs === 0) return;
    if (from < st.firstSeq) from = st.firstSeq;
    if (to > st.lastSeq) to = st.lastSeq;
    // A workqueue message goes at its ack unless a source or mirror has still to copy it.
    const judge = stream.config.retention !== "workqueue" || stream.copiers.size > 0;
    // Other consumers and copiers need the subject: to judge their interest, and to keep their counts exact.
    const needSubject = g.byName.size > 1 || stream.copiers.size > 0;
    for (let seq = from; seq <= to; seq++) {
      let subject: string | null = null;
      if (needSubject || to > from) {
        const m = store.loadMsg(seq);
        if (m === null) {
          // Skip the gap in one step when acking a range.
          if (to > from) {
            const nx = store.loadNextMsg(">", seq);
            if (nx === null || nx.seq > to) break;
            seq = nx.seq - 1;
          }
          continue;
        }
        subject = m.subject;
      }
      if (judge && this.othersNeed(g, stream, seq, subject, c)) continue;
      if (store.removeMsg(seq)) g.removed(seq, subject, c);
    }
  }

  deliveredNoAck(c: Consumer, seq: number): void {
    this.acked(c, seq, seq);
  }

  /** checkInterest: does a consumer or copier other than `except` still need this message? */
  private othersNeed(g: StreamConsumers | null, stream: Stream, seq: number, subject: string | null, except: Consumer | StreamCopier | null): boolean {
    if (g) for (const o of g.byName.values()) if (o !== except && o.core.needAck(seq, subject)) return true;
    for (const cp of stream.copiers) if (cp !== except && cp.needs(seq, subject)) return true;
    return false;
  }
}
