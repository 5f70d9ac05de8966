// One consumer at the edge: it owns the timers and the I/O around its ConsumerCore. Deliveries go
// out in passes (one per event-loop turn when there is work, bounded so a large backlog cannot
// starve other connections); pull requests wait in a WaitQueue; push consumers deliver while their
// deliver subject has interest, with idle heartbeats and flow control; acks arrive from the
// layer's single $JS.ACK.> subscription.

import type { Server } from "../../server/server.js";
import type { Subscription } from "../../server/client/subscription.js";
import { goDuration } from "../../server/go_duration.js";
import type { Stream } from "../stream/stream.js";
import type { ConsumerStore, Nanos } from "../store/store.js";
import { CommitBatches } from "../store/commit_batches.js";
import { parseGoDuration, rfc3339 } from "../util/time.js";
import { AckKind, nakDelayMs, nextRequestBody, termReason, type AckSubject } from "./ack.js";
import { configJson, filtersOf, isPush, type ConsumerConfig } from "./config.js";
import { ConsumerCore, Stall, type CoreParams } from "./core.js";
import { StoreLog, type ConsumerLog } from "./log.js";
import { parsePullRequest } from "./pull_request.js";
import * as S from "./status.js";
import { clockMs, Deadline } from "./timer.js";
import { WaitQueue, type WaitingHost, type WaitingRequest } from "./waiting.js";

/** What a consumer needs from the layer that owns it. */
export interface ConsumerHost {
  readonly server: Server;
  advisory(subject: string, type: string, fields: Record<string, unknown>): void;
  warn(msg: string): void;
  /** Interest/workqueue retention: stream sequences [from, to] were acknowledged. */
  acked(c: Consumer, from: number, to: number): void;
  /** ack_policy none on a retention stream: delivered means done. */
  deliveredNoAck(c: Consumer, seq: number): void;
  /** Inactivity: the consumer deletes itself. */
  expire(c: Consumer): void;
  /** Before counting pending messages: catch stream changes no listener was told about. */
  sync(c: Consumer): void;
}

/**
 * A pull request's batch goes out while it is being read: the first write once this many bytes
 * (subjects, ack replies, headers and payloads) are queued, each next one once the batch has
 * doubled. The client, which waits for the batch, starts on its first messages (and acks them)
 * while the server reads the rest. A batch of 100 16-byte messages leaves in three writes instead
 * of one, a batch of 1000 in six. Push consumers do not: their subscriber is already busy with
 * the previous pass.
 */
const PULL_FIRST_FLUSH = 2048;
/** At most this much per delivery pass; the rest follows in the next turn. */
const PASS_MSGS = 2048;
const PASS_BYTES = 8 * 1024 * 1024;
/** Push delivery waits while the subscriber's connection has this much unsent. */
const PUSH_BACKLOG = 8 * 1024 * 1024;
/** Flow control window (nats-server JsFlowControlMaxPending), starting at 1/16 of it. */
const FC_MAX_PENDING = 32 * 1024 * 1024;

const ADV = "$JS.EVENT.ADVISORY.CONSUMER";
/** How long consumer state may stay unwritten (nats-server flushes its consumer state at ~10/s). */
const STATE_FLUSH_MS = 100;

export function coreParams(cfg: ConsumerConfig): CoreParams {
  return {
    ackPolicy: cfg.ack_policy,
    ackWaitMs: (cfg.ack_wait ?? 30e9) / 1e6,
    backoffMs: (cfg.backoff ?? []).map((ns) => ns / 1e6),
    maxDeliver: cfg.max_deliver ?? -1,
    maxAckPending: cfg.ack_policy === "none" ? 0 : (cfg.max_ack_pending ?? 0),
    filters: filtersOf(cfg),
  };
}

export class Consumer {
  readonly core: ConsumerCore;
  readonly ackPrefix: string;
  readonly key: string;
  closed = false;
  /** Push: the deliver subject has interest. */
  active = false;
  readonly waiting: WaitQueue | null;
  /** Last delivery and last ack (ms; 0 = never). */
  ldt = 0;
  lat = 0;

  private push: boolean;
  private deliverSubject: string;
  private reqSub: Subscription | null = null;
  private unwatch: (() => void) | null = null;
  private scheduled = false;
  private readonly ackTimer = new Deadline(() => this.onAckTimer());
  private readonly waitTimer = new Deadline(() => this.onWaitTimer());
  private readonly hbTimer = new Deadline(() => this.onHeartbeatTimer());
  private readonly deleteTimer = new Deadline(() => this.onDeleteTimer());
  private readonly retryTimer = new Deadline(() => this.signal());
  private readonly flushTimer = new Deadline(() => this.persist());
  private hbMs = 0;
  private dthresh = 0;
  private lastActivity = 0;
  // Flow control (push).
  private maxpb = 0;
  private pblimit = 0;
  private pbytes = 0;
  private fcsz = 0;
  private fcid = "";
  // replay_policy original: deliveries keep the stored spacing until caught up.
  private replayUntil = 0;
  private replayLastTs = 0n;
  private replayReadySeq = 0;
  // rate_limit_bps: a token bucket in bytes.
  private rate = 0;
  private burst = 0;
  private tokens = 0;
  private tokensAt = 0;
  private sampleFreq = 0;
  /** Ack replies waiting for the commit that holds their ack. */
  private readonly ackAcks = new CommitBatches<string>((replies, err) => {
    if (err !== null) return;
    const server = this.host.server;
    for (const r of replies) server.publish(r, S.NO_REPLY, null, S.EMPTY);
  });
  private readonly retention: boolean;
  private readonly waitHost: WaitingHost;

  constructor(
    private readonly host: ConsumerHost,
    readonly stream: Stream,
    readonly name: string,
    public cfg: ConsumerConfig,
    readonly created: Nanos,
    readonly store: ConsumerStore | null,
    private readonly log: ConsumerLog,
  ) {
    this.key = `${stream.name}.${name}`;
    this.ackPrefix = `$JS.ACK.${this.key}.`;
    this.core = new ConsumerCore(coreParams(cfg), stream.store, log);
    this.push = isPush(cfg);
    this.deliverSubject = cfg.deliver_subject ?? "";
    this.waiting = this.push ? null : new WaitQueue(cfg.max_waiting ?? 512);
    this.retention = stream.config.retention !== "limits";
    if (this.retention) this.core.onAcked = (from, to) => this.host.acked(this, from, to);
    this.core.onDirty = () => queueMicrotask(() => this.core.settle());
    if (log instanceof StoreLog) {
      log.source = this.core;
      log.onBuffered = () => {
        if (this.closed) return;
        const now = clockMs();
        this.flushTimer.armBy(now + STATE_FLUSH_MS, now);
      };
    }
    this.core.onMaxDeliveries = (seq, n) =>
      this.host.advisory(`${ADV}.MAX_DELIVERIES.${this.key}`, "io.nats.jetstream.advisory.v1.max_deliver", { stream: stream.name, consumer: name, stream_seq: seq, deliveries: n });
    const server = host.server;
    this.waitHost = {
      hasInterest: (reply) => server.sublist.hasInterest(reply),
      status: (wr, code, desc, withPending) => server.publish(wr.reply, S.NO_REPLY, withPending ? S.pendingStatus(code, desc, wr.n, wr.b) : S.simpleStatus(code, desc), S.EMPTY),
      heartbeat: (reply) => server.publish(reply, S.NO_REPLY, S.idleHeartbeat(this.core.dseq - 1, this.core.sseq - 1, ""), S.EMPTY),
    };
    this.applyConfig(cfg);
  }

  get isPush(): boolean {
    return this.push;
  }

  get durable(): boolean {
    return !!this.cfg.durable_name;
  }

  private applyConfig(cfg: ConsumerConfig): void {
    this.hbMs = this.push ? (cfg.idle_heartbeat ?? 0) / 1e6 : 0;
    this.dthresh = (cfg.inactive_threshold ?? 0) > 0 ? cfg.inactive_threshold! / 1e6 : 0;
    if (this.push && cfg.flow_control) {
      if (this.pblimit === 0) {
        this.pblimit = FC_MAX_PENDING;
        this.maxpb = FC_MAX_PENDING / 16;
      }
    } else {
      this.pblimit = this.maxpb = 0;
    }
    const bps = cfg.rate_limit_bps ?? 0;
    if (bps > 0) {
      this.rate = bps / 8 / 1000; // bytes per ms
      const maxMsg = this.stream.config.max_msg_size;
      this.burst = maxMsg > 0 ? maxMsg : this.host.server.options.maxPayload;
      if (this.tokensAt === 0) this.tokens = this.burst;
    } else {
      this.rate = 0;
    }
    const sf = cfg.sample_freq ? Number(cfg.sample_freq.replace(/%$/, "")) : 0;
    this.sampleFreq = Number.isFinite(sf) ? sf : 0;
  }

  // --- lifecycle ------------------------------------------------------------------------------

  /** Push: whether the deliver subject has interest now (before the first info snapshot). */
  bindInterest(): void {
    if (!this.push) return;
    this.active = this.host.server.sublist.hasInterest(this.deliverSubject);
  }

  /** Starts delivering: subscriptions, interest watch, timers. */
  start(): void {
    const server = this.host.server;
    const now = clockMs();
    this.reqSub = server.subscribe(`$JS.API.CONSUMER.MSG.NEXT.${this.key}`, (_s, reply, hdrLen, msg) => {
      if (reply === null) return;
      this.guard(() => this.onNextRequest(reply, hdrLen > 0 ? msg.subarray(hdrLen) : msg));
    }, { name: "jetstream-consumer" });
    if (this.push) {
      this.unwatch = server.watchInterest(this.deliverSubject, (has) => this.guard(() => this.onInterest(has)));
      this.active = server.sublist.hasInterest(this.deliverSubject);
      if (!this.active && this.dthresh > 0) this.deleteTimer.set(now + this.dthresh, now);
      if (this.hbMs > 0) {
        this.lastActivity = now;
        this.hbTimer.set(now + this.hbMs, now);
      }
    } else {
      this.waiting!.last = now;
      if (this.dthresh > 0) this.deleteTimer.set(now + this.dthresh, now);
    }
    if (this.cfg.replay_policy === "original") this.replayUntil = this.stream.store.state().lastSeq;
    // Restored pending acks: look at them soon rather than a full ack wait later.
    if (this.core.pending.size > 0) this.ackTimer.set(now + Math.min(this.core.params.ackWaitMs, 1000), now);
    this.signal();
  }

  /** Writes what the state log holds into the store's next commit. */
  persist(): void {
    this.flushTimer.clear();
    this.core.settle();
    this.log.flush();
  }

  /** Stops everything; waiting pull requests hear why. */
  stop(reason: "deleted" | "shutdown"): void {
    if (this.closed) return;
    if (reason === "shutdown") this.persist();
    else if (this.log instanceof StoreLog) this.log.discard();
    this.closed = true;
    this.flushTimer.clear();
    this.ackTimer.clear();
    this.waitTimer.clear();
    this.hbTimer.clear();
    this.deleteTimer.clear();
    this.retryTimer.clear();
    const server = this.host.server;
    if (this.reqSub !== null) server.unsubscribe(this.reqSub);
    this.reqSub = null;
    this.unwatch?.();
    this.unwatch = null;
    if (this.waiting !== null) {
      for (const wr of this.waiting.drain()) {
        const hdr = reason === "deleted" ? S.CONSUMER_DELETED : S.pendingStatus(409, "Server Shutdown", wr.n, wr.b);
        server.publish(wr.reply, S.NO_REPLY, hdr, S.EMPTY);
      }
    }
  }

  /** An allowed config update (checked by the caller). */
  update(next: ConsumerConfig): void {
    const prev = this.cfg;
    this.cfg = next;
    this.core.setParams(coreParams(next));
    this.applyConfig(next);
    const now = clockMs();
    if (this.push && (next.deliver_subject ?? "") !== this.deliverSubject) {
      this.unwatch?.();
      this.deliverSubject = next.deliver_subject!;
      const server = this.host.server;
      this.unwatch = server.watchInterest(this.deliverSubject, (has) => this.guard(() => this.onInterest(has)));
      this.onInterest(server.sublist.hasInterest(this.deliverSubject));
    }
    if ((prev.ack_wait ?? 0) !== (next.ack_wait ?? 0) && this.core.pending.size > 0) this.ackTimer.set(now + 100, now);
    if ((prev.inactive_threshold ?? 0) !== (next.inactive_threshold ?? 0)) {
      this.deleteTimer.clear();
      if (this.dthresh > 0 && (!this.push || !this.active)) this.deleteTimer.set(now + this.dthresh, now);
    }
    this.signal();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.host.warn(`JetStream consumer '${this.key}': ${(e as Error).stack ?? e}`);
    }
  }

  // --- delivery -------------------------------------------------------------------------------

  /** Something may be deliverable: run a delivery pass once the current work is done. */
  signal(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    if (this.closed) return;
    this.guard(() => this.deliverPass());
  };

  private readonly runLater = (): void => {
    this.signal();
  };

  private deliverPass(): void {
    const push = this.push;
    const core = this.core;
    if (push) {
      if (!this.active || (this.maxpb > 0 && this.pbytes > this.maxpb)) return;
      if (this.backlogged()) return;
    } else if (this.waiting!.isEmpty()) {
      return;
    }
    if (this.retryTimer.armed) return;
    this.host.sync(this);
    const now = clockMs();
    const headersOnly = !!this.cfg.headers_only;
    const noAckRetention = this.retention && this.cfg.ack_policy === "none";
    // Paced deliveries (replay original, rate limit) take one message at a time: no read-ahead.
    const paced = this.replayUntil > 0 || this.rate > 0;
    core.beginPass(paced ? 1 : push ? PASS_MSGS : this.waiting!.wanted(PASS_MSGS));
    try {
      this.deliverMsgs(now, push, headersOnly, noAckRetention);
    } finally {
      core.endPass();
    }
    if (!push) this.processWaiting(now, core.stall !== Stall.MaxAckPending);
  }

  private deliverMsgs(now: number, push: boolean, headersOnly: boolean, noAckRetention: boolean): void {
    const server = this.host.server;
    const core = this.core;
    let msgs = 0;
    let bytes = 0;
    let flushAt = PULL_FIRST_FLUSH;
    for (;;) {
      if (!push && this.waiting!.isEmpty()) break;
      const m = core.next();
      if (m === null) break;
      const dc = core.dc;
      const dseq = core.dseq;
      const ackReply = `${this.ackPrefix}${dc}.${m.seq}.${dseq}.${m.ts}.${core.numPending()}`;
      const hdr = m.hdr;
      const hlen = hdr === null ? 0 : hdr.length;
      const size = m.subject.length + ackReply.length + hlen + m.data.length;
      if (this.replayUntil > 0 && !this.replayAllows(m.seq, m.ts, now)) {
        core.undo();
        break;
      }
      if (this.rate > 0 && !this.rateAllows(size, now)) {
        core.undo();
        break;
      }
      let route: string;
      let wr: WaitingRequest | null = null;
      if (push) {
        route = this.deliverSubject;
      } else {
        wr = this.waiting!.next(size, now, this.waitHost);
        if (wr === null) {
          core.undo();
          break;
        }
        route = wr.reply;
        if (wr.n > 0 && wr.hb > 0) wr.hbt = now + wr.hb;
      }
      if (headersOnly) server.deliverAs(route, m.subject, ackReply, S.headersOnly(hdr, m.data.length), S.EMPTY);
      else server.deliverAs(route, m.subject, ackReply, hdr, m.data);
      core.commit(m.seq, dc, now);
      if (this.replayUntil > 0) this.replayLastTs = m.ts;
      if (noAckRetention) this.host.deliveredNoAck(this, m.seq);
      msgs++;
      bytes += size;
      if (!push && bytes >= flushAt) {
        server.flushNow();
        flushAt = bytes * 2;
      }
      if (push) {
        if (this.maxpb > 0) this.trackFlowControl(this.deliverSubject.length + ackReply.length + hlen + m.data.length);
        if (this.maxpb > 0 && this.pbytes > this.maxpb) break;
      }
      if (msgs >= PASS_MSGS || bytes >= PASS_BYTES) {
        setImmediate(this.runLater);
        break;
      }
    }
    if (msgs > 0) {
      this.ldt = now;
      this.lastActivity = now;
      if (!push) this.waiting!.last = now;
      if (this.cfg.ack_policy !== "none") this.ackTimer.armBy(now + this.minAckWait() + 1, now);
    }
  }

  private minAckWait(): number {
    const p = this.core.params;
    if (p.backoffMs.length === 0) return p.ackWaitMs;
    return Math.min(...p.backoffMs);
  }

  /** Push backpressure: the subscriber's connection has too much unsent. Retries shortly. */
  private backlogged(): boolean {
    const r = this.host.server.sublist.match(this.deliverSubject);
    let worst = 0;
    for (const s of r.psubs) worst = Math.max(worst, pendingOf(s.owner));
    for (const g of r.qsubs) for (const s of g) worst = Math.max(worst, pendingOf(s.owner));
    if (worst < PUSH_BACKLOG) return false;
    const now = clockMs();
    this.retryTimer.set(now + 2, now);
    return true;
  }

  private replayAllows(seq: number, ts: bigint, now: number): boolean {
    if (seq > this.replayUntil) {
      // Caught up with what was stored at start: live messages go out as they come.
      this.replayUntil = 0;
      return true;
    }
    if (this.replayLastTs === 0n || this.replayReadySeq === seq) return true;
    const delayMs = Number(ts - this.replayLastTs) / 1e6;
    if (delayMs <= 1) return true;
    this.replayReadySeq = seq;
    this.retryTimer.set(now + delayMs, now);
    return false;
  }

  private rateAllows(size: number, now: number): boolean {
    if (this.tokensAt > 0) this.tokens = Math.min(this.burst, this.tokens + (now - this.tokensAt) * this.rate);
    this.tokensAt = now;
    const need = Math.min(size, this.burst);
    if (this.tokens >= need) {
      this.tokens -= need;
      return true;
    }
    this.retryTimer.set(now + (need - this.tokens) / this.rate, now);
    return false;
  }

  // --- flow control and heartbeats (push) -----------------------------------------------------

  private trackFlowControl(size: number): void {
    this.pbytes += size;
    if (this.fcid === "" && this.pbytes > this.maxpb / 2) this.sendFlowControl();
    else if (this.fcid !== "" && this.pbytes - this.fcsz >= this.maxpb) this.fcsz += size;
  }

  private sendFlowControl(): void {
    this.fcid = `$JS.FC.${this.key}.${randomToken(4)}`;
    this.fcsz = this.pbytes;
    this.host.server.publish(this.deliverSubject, this.fcid, S.FLOW_CONTROL_REQUEST, S.EMPTY);
  }

  /** A reply to our flow control request: open the window again (and wider, up to the limit). */
  onFlowControl(subject: string): void {
    if (subject !== this.fcid || this.closed) return;
    if (this.maxpb < this.pblimit) this.maxpb = Math.min(this.maxpb * 2, this.pblimit);
    this.pbytes = Math.max(0, this.pbytes - this.fcsz);
    this.fcid = "";
    this.fcsz = 0;
    this.signal();
  }

  private onHeartbeatTimer(): void {
    if (this.closed) return;
    const now = clockMs();
    if (now - this.lastActivity >= this.hbMs - 1) {
      if (this.active) {
        const hb = S.idleHeartbeat(this.core.dseq - 1, this.core.sseq - 1, this.fcid);
        this.host.server.publish(this.deliverSubject, S.NO_REPLY, hb, S.EMPTY);
      }
      this.lastActivity = now;
    }
    this.hbTimer.set(this.lastActivity + this.hbMs, now);
  }

  private onInterest(has: boolean): void {
    if (this.closed || !this.push) return;
    const now = clockMs();
    if (has) {
      const was = this.active;
      this.active = true;
      this.deleteTimer.clear();
      if (!was) this.signal();
    } else {
      this.active = false;
      if (this.dthresh > 0 && !this.deleteTimer.armed) this.deleteTimer.set(now + this.dthresh, now);
    }
  }

  // --- inactivity -----------------------------------------------------------------------------

  private onDeleteTimer(): void {
    if (this.closed || this.dthresh <= 0) return;
    const now = clockMs();
    if (this.push) {
      if (!this.active) this.host.expire(this);
      return;
    }
    const w = this.waiting!;
    const elapsed = now - w.last;
    if (elapsed <= this.dthresh) {
      this.deleteTimer.set(w.last + this.dthresh + 1, now);
      return;
    }
    this.processWaiting(now, true);
    if (w.anyInterest(this.waitHost)) {
      this.deleteTimer.set(now + this.dthresh, now);
      return;
    }
    this.host.expire(this);
  }

  /** Ack activity keeps an inactive consumer alive. */
  private suppressDeletion(now: number): void {
    if (this.dthresh <= 0) return;
    if (this.push) {
      if (this.deleteTimer.armed) this.deleteTimer.set(now + this.dthresh, now);
    } else {
      this.waiting!.last = now;
    }
  }

  // --- pull requests --------------------------------------------------------------------------

  private processWaiting(now: number, eos: boolean): number {
    const w = this.waiting!;
    const { batchPending, nextAt } = w.process(now, eos, this.waitHost);
    if (nextAt > 0) this.waitTimer.armBy(nextAt, now);
    return batchPending;
  }

  private onWaitTimer(): void {
    if (this.closed || this.waiting === null) return;
    this.processWaiting(clockMs(), true);
  }

  /** processNextMsgRequest: a pull request (MSG.NEXT, or the request inside +NXT). */
  onNextRequest(reply: string, body: Buffer): void {
    if (this.closed) return;
    const server = this.host.server;
    const send = (hdr: Buffer) => server.publish(reply, S.NO_REPLY, hdr, S.EMPTY);
    if (this.push) return void send(S.PUSH_BASED);
    const req = parsePullRequest(body);
    if (typeof req === "string") return void send(S.simpleStatus(400, `Bad Request - ${req}`));
    const cfg = this.cfg;
    const batch = req.batch;
    if ((cfg.max_batch ?? 0) > 0 && batch > cfg.max_batch!) return void send(S.simpleStatus(409, `Exceeded MaxRequestBatch of ${cfg.max_batch}`));
    if (req.expires > 0 && (cfg.max_expires ?? 0) > 0 && req.expires > cfg.max_expires!) {
      return void send(S.simpleStatus(409, `Exceeded MaxRequestExpires of ${goDuration(cfg.max_expires!)}`));
    }
    if (req.maxBytes > 0 && (cfg.max_bytes ?? 0) > 0 && req.maxBytes > cfg.max_bytes!) return void send(S.simpleStatus(409, `Exceeded MaxRequestMaxBytes of ${cfg.max_bytes}`));
    const w = this.waiting!;
    const now = clockMs();
    if (w.isFull()) this.processWaiting(now, false);
    if (req.noWait) {
      this.host.sync(this);
      const msgsPending = this.core.numPending() + this.core.redeliveryCount;
      if (msgsPending === 0 && req.expires === 0) {
        w.last = now;
        return void send(S.NO_MESSAGES);
      }
      if (msgsPending > 0 && msgsPending < this.processWaiting(now, false)) {
        w.last = now;
        return void send(S.REQUESTS_PENDING);
      }
    }
    const hb = req.heartbeat / 1e6;
    const wr: WaitingRequest = {
      reply,
      // nats-server takes a batch of 0 as one message.
      n: batch > 0 ? batch : 1,
      d: 0,
      b: req.maxBytes > 0 ? req.maxBytes : 0,
      expires: req.expires > 0 ? now + req.expires / 1e6 : 0,
      received: now,
      hb,
      hbt: hb > 0 ? now + hb : 0,
      noWait: req.noWait,
    };
    if (!w.add(wr)) return void send(S.EXCEEDED_MAX_WAITING);
    const first = wr.hbt > 0 && (wr.expires === 0 || wr.hbt < wr.expires) ? wr.hbt : wr.expires;
    if (first > 0) this.waitTimer.armBy(first, now);
    this.signal();
  }

  // --- acknowledgements -----------------------------------------------------------------------

  /** processAck: one acknowledgement for this consumer. */
  onAck(a: AckSubject, kind: AckKind, reply: string | null, body: Buffer): void {
    if (this.closed) return;
    const core = this.core;
    const now = clockMs();
    const sseq = a.sseq;
    const dseq = a.dseq;
    const dc = a.dc;
    let replyNow = true;
    switch (kind) {
      case AckKind.Ack:
        this.ackOne(sseq, dseq, dc, now, true);
        replyNow = false;
        break;
      case AckKind.Next:
        this.ackOne(sseq, dseq, dc, now, true);
        if (reply !== null) this.onNextRequest(reply, nextRequestBody(body));
        reply = null;
        break;
      case AckKind.Nak: {
        const delay = nakDelayMs(body, parseGoDuration);
        if (core.nak(sseq, dseq, delay, now)) {
          this.host.advisory(`${ADV}.MSG_NAKED.${this.key}`, "io.nats.jetstream.advisory.v1.nak", { stream: this.stream.name, consumer: this.name, consumer_seq: dseq, stream_seq: sseq, deliveries: dc });
          if (delay !== undefined) this.ackTimer.armBy(now + Math.max(0, delay) + 1, now);
          else this.signal();
        }
        break;
      }
      case AckKind.Progress:
        core.progress(sseq, now);
        break;
      case AckKind.Term: {
        this.ackOne(sseq, dseq, dc, now, false);
        const reason = termReason(body);
        this.host.advisory(`${ADV}.MSG_TERMINATED.${this.key}`, "io.nats.jetstream.advisory.v1.terminated", {
          stream: this.stream.name,
          consumer: this.name,
          consumer_seq: dseq,
          stream_seq: sseq,
          deliveries: dc,
          ...(reason ? { reason } : {}),
        });
        replyNow = false;
        break;
      }
      default:
        break;
    }
    this.suppressDeletion(now);
    if (reply === null) return;
    if (replyNow || this.store === null) this.host.server.publish(reply, S.NO_REPLY, null, S.EMPTY);
    else this.ackAfterCommit(reply);
  }

  private ackOne(sseq: number, dseq: number, dc: number, now: number, sample: boolean): void {
    const core = this.core;
    if (sample && this.sampleFreq > 0 && (this.sampleFreq >= 100 || Math.random() * 100 <= this.sampleFreq)) {
      const pe = core.pending.get(sseq);
      if (pe !== undefined) {
        this.host.advisory(`$JS.EVENT.METRIC.CONSUMER.ACK.${this.key}`, "io.nats.jetstream.metric.v1.consumer_ack", {
          stream: this.stream.name,
          consumer: this.name,
          consumer_seq: dseq,
          stream_seq: sseq,
          ack_time: Math.round((now - pe.ts) * 1e6),
          deliveries: dc,
        });
      }
    }
    this.lat = now;
    if (core.ack(sseq, dseq)) this.signal();
  }

  /** The empty reply to an ack that asked for one goes out once the ack is durable. */
  private ackAfterCommit(reply: string): void {
    this.persist();
    this.ackAcks.current(this.store!).push(reply);
  }

  private onAckTimer(): void {
    if (this.closed) return;
    const now = clockMs();
    const next = this.core.checkPending(now);
    if (this.core.hasRedeliveries()) this.signal();
    if (next !== null) this.ackTimer.set(next + 1, now);
  }

  // --- the stream changed ---------------------------------------------------------------------

  onStreamMessage(seq: number, subject: string): void {
    if (!this.core.onStreamMessage(seq, subject)) return;
    if (this.push ? this.active : !this.waiting!.isEmpty()) this.signal();
  }

  onStreamRemoved(seq: number, subject: string | null): void {
    this.core.onStreamRemoved(seq, subject);
  }

  onStreamPurged(): void {
    this.core.onStreamPurged();
  }

  // --- info -----------------------------------------------------------------------------------

  info(): Record<string, unknown> {
    const core = this.core;
    if (!this.push && !this.closed) this.processWaiting(clockMs(), false);
    this.host.sync(this);
    const info: Record<string, unknown> = {
      stream_name: this.stream.name,
      name: this.name,
      created: rfc3339(this.created),
      config: configJson(this.cfg),
      delivered: seqInfo(core.dseq - 1, core.sseq - 1, this.ldt),
      ack_floor: seqInfo(core.adflr, core.asflr, this.lat),
      num_ack_pending: core.pending.size,
      num_redelivered: core.rdc.size,
      num_waiting: this.waiting?.length ?? 0,
      num_pending: core.numPending(),
    };
    if (this.push && this.active) info.push_bound = true;
    return info;
  }
}

function seqInfo(consumerSeq: number, streamSeq: number, last: number): Record<string, unknown> {
  const o: Record<string, unknown> = { consumer_seq: consumerSeq, stream_seq: streamSeq };
  if (last > 0) o.last_active = rfc3339(BigInt(Math.round(last * 1000)) * 1000n);
  return o;
}

function pendingOf(owner: unknown): number {
  const p = (owner as { pendingBytes?: number }).pendingBytes;
  return typeof p === "number" ? p : 0;
}

const TOKEN_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomToken(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += TOKEN_CHARS[(Math.random() * TOKEN_CHARS.length) | 0];
  return s;
}
