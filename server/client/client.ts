// One client connection: CONNECT and auth, its subscriptions and permissions, its outbound buffer,
// pings and limits. Wire behaviour (texts, which errors close the connection) follows nats-server.

import { Parser, ParseErrorKind, type ParseError, type ProtocolHandler } from "../protocol/parser.js";
import { Outbound } from "./outbound.js";
import { Subscription, type Subscriber } from "./subscription.js";
import { CompiledPermissions } from "../auth/permissions.js";
import type { AuthResult, ConnectCredentials } from "../auth/auth.js";
import { isValidLiteralSubject, isValidSubject } from "../subjects/subject.js";
import type { ClientTransport } from "../transport/transport.js";
import type { ClientHost } from "./host.js";
import { ClosedReason } from "./closed.js";
import { endStall, stallMs, StallGate, type Stallable, type StallWait } from "./stall.js";

/** What a client says about itself in CONNECT. Field names are the wire's. */
export interface ConnectInfo {
  verbose: boolean;
  pedantic: boolean;
  echo: boolean;
  headers: boolean;
  no_responders: boolean;
  protocol: number;
  name: string;
  lang: string;
  version: string;
  user?: string;
  pass?: string;
  auth_token?: string;
  nkey?: string;
  sig?: string;
  account?: string;
  new_account?: boolean;
  tls_required?: boolean;
}

const PING = "PING\r\n";
const PONG = "PONG\r\n";
const OK = "+OK\r\n";
const NO_RESPONDERS_HDR = Buffer.from("NATS/1.0 503\r\n\r\n");

interface ResponseGrant {
  n: number;
  at: number;
}

export class Client implements Subscriber, ProtocolHandler, Stallable {
  readonly kind = "client" as const;
  readonly parser: Parser;
  readonly out = new Outbound();
  readonly subs = new Map<string, Subscription>();
  readonly start = Date.now();

  connect: ConnectInfo = { verbose: true, pedantic: true, echo: true, headers: false, no_responders: false, protocol: 0, name: "", lang: "", version: "" };
  connected = false;
  closed = false;
  closeReason: ClosedReason | null = null;
  /** Queued for the end-of-turn flush. */
  dirty = false;
  user: string | undefined;
  /** Kept so a config reload can check the connection against the new auth settings. */
  credentials: ConnectCredentials | null = null;
  /** The nonce of this client's INFO (nkey users sign it), if the server gave one. */
  nonce: string | undefined = undefined;
  perms: CompiledPermissions | null = null;
  private replies: Map<string, ResponseGrant> | null = null;

  // Counters, as /connz shows them.
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
  lastActivity = Date.now();
  rttMs = 0;
  stopTime = 0;

  private pingsOut = 0;
  private pingSentAt = 0;
  private lastPingIn = 0;
  private pingTimer: NodeJS.Timeout | null = null;
  private authTimer: NodeJS.Timeout | null = null;
  private writeTimer: NodeJS.Timeout | null = null;
  /** Bytes the transport accepted but has not sent yet, as of the last flush. */
  private backlog = 0;
  /** As a producer: the consumer this connection waits on, if any (stall.ts). */
  stalled: StallWait | null = null;
  /** As a consumer: the producers waiting for this connection's output to go down. */
  private readonly gate = new StallGate();

  constructor(
    readonly cid: number,
    readonly host: ClientHost,
    readonly transport: ClientTransport,
  ) {
    const o = host.options;
    this.parser = new Parser(this, { maxControlLine: o.maxControlLine, maxPayload: o.maxPayload });
    this.parser.trace = host.log.traceEnabled;
  }

  get echo(): boolean {
    return this.connect.echo;
  }

  get headers(): boolean {
    return this.parser.headers;
  }

  /** Pending outbound bytes: queued here plus what the socket has not sent yet. */
  get pendingBytes(): number {
    return this.out.size + this.backlog;
  }

  /** "127.0.0.1:5432 - cid:7" plus the client's name, as nats-server prefixes its log lines. */
  get logPrefix(): string {
    const c = this.connect;
    let tag = "";
    if (c.version) tag = `v${c.version}`;
    if (c.lang) tag = tag ? `${tag}:${c.lang}` : c.lang;
    if (c.name) tag = tag ? `${tag}:${c.name}` : c.name;
    const base = `${this.transport.remoteAddress}:${this.transport.remotePort} - cid:${this.cid}`;
    return tag ? `${base} - ${JSON.stringify(tag)}` : base;
  }

  /** Sends INFO and arms the auth and first-ping timers. */
  begin(): void {
    if (this.host.auth.needsNonce) this.nonce = this.host.auth.newNonce();
    this.sendRaw(this.host.clientInfo(this));
    const host = this.host;
    if (host.auth.required) {
      this.parser.awaitingConnect = true;
      this.authTimer = setTimeout(() => this.authTimeout(), host.options.authTimeoutMs);
    }
    this.schedulePing(Math.min(host.options.pingIntervalMs, 2000));
    host.log.debug(`${this.logPrefix} - Client connection created`);
  }

  // --- input ---

  onData(buf: Buffer): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    const err = this.parser.parse(buf);
    if (err) this.onParseError(err);
  }

  private onParseError(err: ParseError): void {
    switch (err.kind) {
      case ParseErrorKind.UnknownOp:
        this.sendErr("Unknown Protocol Operation");
        this.host.log.error(`${this.logPrefix} - Client parser ERROR: ${err.detail}`);
        // nats-server's read loop closes a connection whose input does not parse as a protocol
        // violation; "Parse Error" is for a client that sends -ERR.
        this.close(ClosedReason.ProtocolViolation);
        break;
      case ParseErrorKind.MaxControlLine:
        this.sendErr("maximum control line exceeded");
        this.close(ClosedReason.MaxControlLineExceeded);
        break;
      case ParseErrorKind.MaxPayload:
        this.host.log.error(`${this.logPrefix} - maximum payload exceeded: ${err.detail}`);
        this.sendErr("Maximum Payload Violation");
        this.close(ClosedReason.MaxPayloadExceeded);
        break;
      case ParseErrorKind.AuthViolation:
        this.authViolation();
        break;
      case ParseErrorKind.BadArgs:
      case ParseErrorKind.HeadersNotSupported:
        this.host.log.error(`${this.logPrefix} - ${err.detail}`);
        this.close(ClosedReason.ProtocolViolation);
        break;
    }
  }

  traceIn(op: string, arg: string | null): void {
    this.host.log.trace(`${this.logPrefix} - <<- [${arg === null ? op : `${op} ${arg}`}]`);
  }

  private traceOut(line: string): void {
    this.host.log.trace(`${this.logPrefix} - ->> [${line}]`);
  }

  onOpBeforeConnect(): boolean {
    const id = this.host.auth.noAuthIdentity();
    if (!id) return false;
    this.clearAuthTimer();
    this.connected = true;
    this.credentials = {};
    this.applyIdentity(id);
    return true;
  }

  onConnect(arg: string): void {
    this.clearAuthTimer();
    let raw: Partial<ConnectInfo>;
    try {
      raw = JSON.parse(arg) as Partial<ConnectInfo>;
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error("CONNECT is not a JSON object");
    } catch (e) {
      this.host.log.error(`${this.logPrefix} - ${(e as Error).message}`);
      this.close(ClosedReason.ProtocolViolation);
      return;
    }
    // Fields a client leaves out keep nats-server's defaults (verbose, pedantic and echo are on).
    const c = this.connect;
    if (typeof raw.verbose === "boolean") c.verbose = raw.verbose;
    if (typeof raw.pedantic === "boolean") c.pedantic = raw.pedantic;
    if (typeof raw.echo === "boolean") c.echo = raw.echo;
    if (typeof raw.headers === "boolean") c.headers = raw.headers;
    if (typeof raw.no_responders === "boolean") c.no_responders = raw.no_responders;
    if (typeof raw.protocol === "number") c.protocol = raw.protocol;
    if (typeof raw.name === "string") c.name = raw.name;
    if (typeof raw.lang === "string") c.lang = raw.lang;
    if (typeof raw.version === "string") c.version = raw.version;
    this.connected = true;
    this.parser.headers = c.headers && this.host.headersSupported;

    const creds = { user: strOrUndef(raw.user), pass: strOrUndef(raw.pass), auth_token: strOrUndef(raw.auth_token), nkey: strOrUndef(raw.nkey), sig: strOrUndef(raw.sig) };
    this.credentials = creds;
    const result = this.host.auth.authenticate(creds, this.nonce);
    if (result instanceof Promise) {
      // Hold further input until the hash comparison is done, so ops are handled in order.
      this.pauseInput();
      result.then(
        (r) => this.finishConnect(r, raw),
        () => this.finishConnect(null, raw),
      );
      return;
    }
    this.finishConnect(result, raw);
  }

  private finishConnect(result: AuthResult | null, raw: Partial<ConnectInfo>): void {
    if (this.closed) return;
    if (result === null || raw.account || raw.new_account) {
      if (result === null) this.host.log.error(`${this.logPrefix} - authentication error${raw.user ? ` - User "${raw.user}"` : ""}`);
      this.authViolation();
      return;
    }
    this.applyIdentity(result);
    const c = this.connect;
    if (c.protocol < 0 || c.protocol > 1) {
      this.sendErr("invalid client protocol");
      this.close(ClosedReason.BadClientProtocolVersion);
      return;
    }
    if (c.no_responders && !this.headers) {
      this.sendErr("no responders requires headers support");
      this.close(ClosedReason.NoRespondersRequiresHeaders);
      return;
    }
    if (c.verbose) this.sendRaw(OK);
    if (this.parser.paused) this.resumeInput();
  }

  private applyIdentity(id: AuthResult): void {
    this.user = id.user;
    this.perms = id.permissions ? new CompiledPermissions(id.permissions) : null;
    this.replies = this.perms?.responses ? new Map() : null;
  }

  onPub(subject: string, reply: string | null, hdrLen: number, buf: Buffer, start: number, end: number): void {
    const host = this.host;
    const size = end - start;
    this.inMsgs++;
    this.inBytes += size;
    host.stats.inMsgs++;
    host.stats.inBytes += size;
    if (this.connect.pedantic && !isValidLiteralSubject(subject)) this.sendErr("Invalid Publish Subject");
    if (this.parser.trace) this.host.log.trace(`${this.logPrefix} - <<- MSG_PAYLOAD: [${JSON.stringify(buf.toString("latin1", start + Math.max(hdrLen, 0), end))}]`);
    if (this.perms !== null && this.perms.restrictsPublish && !this.canPublish(subject)) {
      this.sendErr(`Permissions Violation for Publish to ${JSON.stringify(subject)}`);
      host.log.error(`${this.logPrefix} - Publish Violation - User ${JSON.stringify(this.user ?? "")}, Subject ${JSON.stringify(subject)}`);
      return;
    }
    if (reply !== null && isReservedReply(reply)) {
      this.sendErr(`Permissions Violation for Publish with Reply of ${JSON.stringify(reply)}`);
      return;
    }
    if (this.connect.verbose) this.sendRaw(OK);
    // Only a message somebody wants gets its own Buffer view.
    const r = host.sublist.match(subject);
    const delivered = (r.psubs.length > 0 || r.qsubs.length > 0) && host.deliverTo(r, this, subject, reply, hdrLen, buf, start, end);
    if (!delivered && reply !== null && this.connect.no_responders && this.headers) this.sendNoResponders(reply);
  }

  private canPublish(subject: string): boolean {
    if (this.perms!.canPublish(subject)) return true;
    const replies = this.replies;
    if (replies === null) return false;
    const grant = replies.get(subject);
    if (!grant) return false;
    const rp = this.perms!.responses!;
    grant.n++;
    if ((rp.maxMsgs > 0 && grant.n > rp.maxMsgs) || (rp.expiresMs > 0 && Date.now() - grant.at > rp.expiresMs)) {
      replies.delete(subject);
      return false;
    }
    return true;
  }

  private sendNoResponders(reply: string): void {
    const r = this.host.sublist.match(reply);
    for (const sub of r.psubs) {
      if (sub.owner === this) {
        const out = this.out;
        out.writeString(`HMSG ${reply} ${sub.sid} ${NO_RESPONDERS_HDR.length} ${NO_RESPONDERS_HDR.length}\r\n`);
        out.writeBytes(NO_RESPONDERS_HDR);
        out.writeCRLF();
        this.markDirty();
        return;
      }
    }
  }

  onSub(subject: string, queue: string | null, sid: string): void {
    const host = this.host;
    if (this.perms !== null && !this.perms.canSubscribe(subject, queue)) {
      const q = queue !== null ? ` using queue ${JSON.stringify(queue)}` : "";
      this.sendErr(`Permissions Violation for Subscription to ${JSON.stringify(subject)}${q}`);
      host.log.error(`${this.logPrefix} - Subscription Violation - User ${JSON.stringify(this.user ?? "")}, Subject ${JSON.stringify(subject)}${queue !== null ? `, Queue: ${JSON.stringify(queue)}` : ""}, SID ${sid}`);
      return;
    }
    const max = host.options.maxSubscriptions;
    if (max > 0 && this.subs.size >= max) {
      this.sendErr("maximum subscriptions exceeded");
      host.log.error(`${this.logPrefix} - maximum subscriptions exceeded`);
      return;
    }
    if (this.subs.has(sid)) {
      if (this.connect.verbose) this.sendRaw(OK);
      return;
    }
    if (!isValidSubject(subject) || (queue !== null && !isValidQueue(queue))) {
      this.sendErr("Invalid Subject");
      return;
    }
    const sub = new Subscription(this, subject, queue, sid);
    if (this.perms !== null && this.perms.needsDeliveryDenyCheck(subject)) sub.checkDeny = true;
    this.subs.set(sid, sub);
    host.addSubscription(sub);
    if (this.connect.verbose) this.sendRaw(OK);
  }

  onUnsub(sid: string, max: number): void {
    const sub = this.subs.get(sid);
    if (sub !== undefined) {
      if (max > 0 && max > sub.nm) sub.max = max;
      else this.removeSub(sub);
    }
    if (this.connect.verbose) this.sendRaw(OK);
  }

  removeSub(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    this.subs.delete(sub.sid);
    this.host.removeSubscription(sub);
  }

  onPing(): void {
    this.sendRaw(PONG);
    this.lastPingIn = Date.now();
  }

  onPong(): void {
    this.pingsOut = 0;
    if (this.pingSentAt > 0) {
      // High resolution: loopback round trips are well under a millisecond.
      this.rttMs = performance.now() - this.pingSentAt;
      this.pingSentAt = 0;
    }
  }

  onInfo(_arg: string): void {
    // Clients have nothing to tell the server through INFO.
  }

  onOk(): void {}

  onErr(arg: string): void {
    this.host.log.error(`${this.logPrefix} - Client Error ${arg}`);
    this.close(ClosedReason.ParseError);
  }

  // --- output ---

  deliver(sub: Subscription, subject: string, reply: string | null, hdrLen: number, buf: Buffer, start: number, end: number, publisher: Subscriber | null): boolean {
    if (this.closed) return false;
    if (publisher === this && !this.connect.echo) return false;
    if (sub.checkDeny && this.perms!.deliveryDenied(subject)) return false;
    if (sub.max > 0) {
      const nm = sub.nm + 1;
      if (nm > sub.max) {
        this.removeSub(sub);
        return false;
      }
      sub.nm = nm;
      if (nm === sub.max) this.removeSub(sub);
    } else {
      sub.nm++;
    }
    const out = this.out;
    const withHeaders = hdrLen > 0 && this.parser.headers;
    // Without header support a client gets the payload alone.
    const bodyStart = !withHeaders && hdrLen > 0 ? start + hdrLen : start;
    const size = end - bodyStart;
    const pfx = sub.prefix(subject, withHeaders);
    if (pfx !== null) out.writeBytes(pfx);
    else out.writeString(`${withHeaders ? "HMSG" : "MSG"} ${subject} ${sub.sid} `);
    if (reply !== null) {
      out.writeString(reply);
      out.writeByte(32);
    }
    if (withHeaders) {
      out.writeUint(hdrLen);
      out.writeByte(32);
    }
    out.writeUint(size);
    out.writeCRLF();
    out.writeRange(buf, bodyStart, end);
    out.writeCRLF();
    this.outMsgs++;
    this.outBytes += size;
    const stats = this.host.stats;
    stats.outMsgs++;
    stats.outBytes += size;
    if (this.replies !== null && reply !== null) this.grantReply(reply);
    if (this.parser.trace) this.traceOut(`${withHeaders ? "HMSG" : "MSG"} ${subject} ${sub.sid}${reply ? ` ${reply}` : ""} ${withHeaders ? `${hdrLen} ` : ""}${size}`);
    if (!this.dirty) this.markDirty();
    const pending = out.size + this.backlog;
    const maxPending = this.host.options.maxPending;
    if (pending > maxPending) this.slowConsumer("pending");
    else if (pending > maxPending / 2 && publisher instanceof Client && publisher !== this) this.gate.hold(publisher, stallMs(pending, maxPending));
    return true;
  }

  // --- Stallable: a producer pauses while a consumer it fills writes its backlog down ---

  pauseInput(): void {
    this.parser.paused = true;
    this.transport.pause();
  }

  resumeInput(): void {
    this.transport.resume();
    const err = this.parser.resume();
    if (err) this.onParseError(err);
  }

  private grantReply(reply: string): void {
    const replies = this.replies!;
    replies.set(reply, { n: 0, at: Date.now() });
    if (replies.size > 10_000) {
      // Bound the map: drop grants past their expiry first, then the oldest.
      const rp = this.perms!.responses!;
      const now = Date.now();
      for (const [k, g] of replies) if (now - g.at > rp.expiresMs) replies.delete(k);
      for (const k of replies.keys()) {
        if (replies.size <= 5_000) break;
        replies.delete(k);
      }
    }
  }

  /** Queues protocol text (INFO, PING, -ERR, ...) for the end-of-turn flush. */
  sendRaw(text: string): void {
    if (this.closed) return;
    this.out.writeString(text);
    if (this.parser.trace && text !== OK) this.traceOut(text.trimEnd());
    if (!this.dirty) this.markDirty();
  }

  sendErr(text: string): void {
    this.sendRaw(`-ERR '${text}'\r\n`);
  }

  markDirty(): void {
    this.dirty = true;
    this.host.scheduleFlush(this);
  }

  /**
   * Writes out everything queued. Called once per event-loop turn by the host, or sooner by
   * Server.flushNow; deferRelease resumes the producers waiting on this connection in a microtask.
   */
  flush(deferRelease = false): void {
    this.dirty = false;
    if (this.out.size === 0) return;
    const chunks = this.out.take();
    const ok = this.transport.write(chunks);
    this.backlog = this.transport.backlog;
    if (this.backlog <= this.host.options.maxPending / 2) {
      if (deferRelease) queueMicrotask(this.releaseGate);
      else this.gate.release();
    }
    if (!ok && this.writeTimer === null && !this.closed) {
      this.writeTimer = setTimeout(() => {
        this.writeTimer = null;
        if (this.transport.backlog > 0) this.slowConsumer("deadline");
      }, this.host.options.writeDeadlineMs);
    }
  }

  private readonly releaseGate = (): void => this.gate.release();

  /** The transport drained everything it was given. */
  onDrain(): void {
    this.backlog = 0;
    this.gate.release();
    if (this.writeTimer !== null) {
      clearTimeout(this.writeTimer);
      this.writeTimer = null;
    }
  }

  private slowConsumer(why: "pending" | "deadline"): void {
    if (this.closed) return;
    const host = this.host;
    host.stats.slowConsumers++;
    if (why === "pending") {
      host.log.info(`${this.logPrefix} - Slow Consumer Detected: MaxPending of ${host.options.maxPending} Exceeded`);
      // Drop what is queued (the client could not take it) and tell it why before closing.
      this.out.clear();
      this.out.writeString("-ERR 'Slow Consumer'\r\n");
      this.close(ClosedReason.SlowConsumerPendingBytes);
    } else {
      host.log.info(`${this.logPrefix} - Slow Consumer Detected: WriteDeadline of ${host.options.writeDeadlineMs}ms exceeded`);
      this.close(ClosedReason.SlowConsumerWriteDeadline, false);
    }
  }

  // --- liveness ---

  private schedulePing(ms: number): void {
    if (this.closed) return;
    this.pingTimer = setTimeout(() => this.onPingTimer(), ms);
    this.pingTimer.unref();
  }

  private onPingTimer(): void {
    this.pingTimer = null;
    if (this.closed) return;
    const o = this.host.options;
    const now = Date.now();
    const needRtt = this.rttMs === 0 && this.pingSentAt === 0;
    const recent = now - this.lastActivity < o.pingIntervalMs || now - this.lastPingIn < o.pingIntervalMs;
    if (!recent || needRtt) {
      if (this.pingsOut + 1 > o.pingMax) {
        this.host.log.debug(`${this.logPrefix} - Stale Client Connection - Closing`);
        this.sendErr("Stale Connection");
        this.close(ClosedReason.StaleConnection);
        return;
      }
      this.pingsOut++;
      if (this.pingSentAt === 0) this.pingSentAt = performance.now();
      this.sendRaw(PING);
    }
    this.schedulePing(o.pingIntervalMs);
  }

  private authTimeout(): void {
    this.authTimer = null;
    if (this.closed || this.connected) return;
    this.sendErr("Authentication Timeout");
    this.close(ClosedReason.AuthenticationTimeout);
  }

  private clearAuthTimer(): void {
    if (this.authTimer !== null) {
      clearTimeout(this.authTimer);
      this.authTimer = null;
    }
  }

  authViolation(): void {
    this.sendErr("Authorization Violation");
    this.close(ClosedReason.AuthenticationViolation);
  }

  /** Applies reloaded permissions; subscriptions no longer allowed are removed with an -ERR. */
  resetPermissions(id: AuthResult): void {
    this.applyIdentity(id);
    if (this.perms === null) {
      for (const sub of this.subs.values()) sub.checkDeny = false;
      return;
    }
    for (const sub of [...this.subs.values()]) {
      if (!this.perms.canSubscribe(sub.subject, sub.queue)) {
        this.removeSub(sub);
        this.sendErr(`Permissions Violation for Subscription to ${JSON.stringify(sub.subject)} (sid ${JSON.stringify(sub.sid)})`);
      } else {
        sub.checkDeny = this.perms.needsDeliveryDenyCheck(sub.subject);
      }
    }
  }

  // --- teardown ---

  /**
   * Closes the connection. With flush (the default) whatever is queued, an -ERR included, is
   * written before the socket is ended.
   */
  close(reason: ClosedReason, flush = true): void {
    if (this.closed) return;
    if (flush && this.out.size > 0) {
      const chunks = this.out.take();
      this.transport.write(chunks);
    }
    this.closed = true;
    this.closeReason = reason;
    this.stopTime = Date.now();
    this.parser.closed = true;
    this.out.clear();
    endStall(this, false);
    this.gate.release();
    for (const t of [this.pingTimer, this.authTimer, this.writeTimer]) if (t !== null) clearTimeout(t);
    this.pingTimer = this.authTimer = this.writeTimer = null;
    for (const sub of this.subs.values()) {
      sub.closed = true;
      this.host.removeSubscription(sub);
    }
    this.host.removeClient(this);
    if (flush) this.transport.end(reason);
    else this.transport.destroy(reason);
  }

  /** The transport went away on its own (peer closed, reset). */
  onTransportClosed(): void {
    if (!this.closed) this.close(ClosedReason.ClientClosed, false);
  }
}

/** Reply subjects the server reserves for itself (service imports, JetStream acks, gateways). */
function isReservedReply(reply: string): boolean {
  return (reply.length > 4 && reply.startsWith("_R_.")) || (reply.length > 8 && reply.startsWith("$JS.ACK.")) || (reply.length > 5 && reply.startsWith("$GNR."));
}

function strOrUndef(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function isValidQueue(q: string): boolean {
  for (let i = 0; i < q.length; i++) {
    const c = q.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) return false;
  }
  return q.length > 0;
}
