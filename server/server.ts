// The server: listeners, the set of connections, message routing through the subject index, the
// end-of-turn flush of every connection that has output, and the hook extensions (JetStream) use.

import net from "node:net";
import { Client } from "./client/client.js";
import { ClosedReason } from "./client/closed.js";
import type { ClientHost, ClientLimits, ServerStats } from "./client/host.js";
import { InternalSubscriber, type MsgHandler } from "./client/internal.js";
import { Subscription, type Subscriber } from "./client/subscription.js";
import { Authenticator } from "./auth/auth.js";
import { Sublist, type SublistResult } from "./subjects/sublist.js";
import { subjectHasWildcard, subjectMatchesFilter } from "./subjects/subject.js";
import { SocketTransport } from "./transport/tcp.js";
import type { Logger } from "./logger.js";
import type { ServerOptions } from "./config/options.js";
import { newServerId } from "./server_id.js";
import { PROTO_VERSION, VERSION } from "./version.js";
import { ClosedConnections, type ClosedConnection } from "./closed_ring.js";

/** A part of the server that starts and stops with it (JetStream, monitoring, ...). */
export interface ServerExtension {
  readonly name: string;
  start(server: Server): Promise<void>;
  shutdown(): Promise<void>;
  /** Fields this extension adds to INFO (e.g. `jetstream: true`). */
  infoFields?(): Record<string, unknown>;
  /** Listener URLs for the ports file, by kind ("monitoring", "websocket", ...). */
  ports?(): Record<string, string[]>;
}

export class Server implements ClientHost {
  readonly serverId = newServerId();
  readonly sublist = new Sublist<Subscription>();
  readonly clients = new Map<number, Client>();
  readonly closedConns = new ClosedConnections(10_000);
  readonly stats: ServerStats = { inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0, slowConsumers: 0 };
  readonly startTime = new Date();
  /** Client connections accepted since start (/varz total_connections). */
  totalConnections = 0;
  /** When the options in effect were loaded: start, then each reload (/varz config_load_time). */
  configLoadTime = Date.now();
  auth: Authenticator;
  options: ClientLimits;
  opts: ServerOptions;
  port = 0;
  /** Set once shutdown begins; new connections are refused. */
  shuttingDown = false;
  lameDuck = false;

  private listener: net.Server | null = null;
  private nextCid = 1;
  private flushList: Client[] = [];
  private flushScheduled = false;
  private extensions: ServerExtension[] = [];
  /** Interest watchers by literal subject (push consumers watch their deliver subjects). */
  private readonly watchers = new Map<string, Set<(hasInterest: boolean) => void>>();
  private readonly changedWatched = new Set<string>();
  private infoBase: Record<string, unknown> = {};

  constructor(
    opts: ServerOptions,
    readonly log: Logger,
  ) {
    this.opts = opts;
    this.options = limitsOf(opts);
    this.auth = new Authenticator(opts.authorization, opts.noAuthUser);
  }

  get name(): string {
    return this.opts.serverName || this.serverId;
  }

  get headersSupported(): boolean {
    return !this.opts.noHeaderSupport;
  }

  get subscriptionCount(): number {
    return this.sublist.size;
  }

  use(ext: ServerExtension): void {
    this.extensions.push(ext);
  }

  extension<T extends ServerExtension>(name: string): T | undefined {
    return this.extensions.find((e) => e.name === name) as T | undefined;
  }

  async start(): Promise<void> {
    const o = this.opts;
    this.log.info(`Starting nats-server`);
    this.log.info(`  Version:  ${VERSION}`);
    this.log.info(`  Name:     ${this.name}`);
    this.log.info(`  ID:       ${this.serverId}`);
    const listener = net.createServer({ noDelay: true, pauseOnConnect: true }, (sock) => this.accept(sock));
    listener.maxConnections = Math.max(o.maxConnections * 2, 1024);
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(o.port === -1 ? 0 : o.port, o.host, () => {
        listener.off("error", reject);
        resolve();
      });
    });
    listener.on("error", (e) => this.log.error(`Error on client listener: ${e.message}`));
    this.listener = listener;
    this.port = (listener.address() as net.AddressInfo).port;
    this.rebuildInfo();
    for (const ext of this.extensions) await ext.start(this);
    this.rebuildInfo();
    this.log.info(`Listening for client connections on ${hostPort(o.host, this.port)}`);
  }

  /** The URLs each listener is reachable at, as the ports file reports them. */
  portsReport(): Record<string, string[]> {
    const report: Record<string, string[]> = { nats: [`nats://${advertiseHost(this.opts.host)}:${this.port}`] };
    for (const ext of this.extensions) Object.assign(report, ext.ports?.() ?? {});
    return report;
  }

  rebuildInfo(): void {
    const o = this.opts;
    const info: Record<string, unknown> = {
      server_id: this.serverId,
      server_name: this.name,
      version: VERSION,
      proto: PROTO_VERSION,
      go: `node${process.versions.node}`,
      host: o.host,
      port: this.port,
      headers: this.headersSupported,
    };
    if (this.auth.required) info.auth_required = true;
    info.max_payload = o.maxPayload;
    for (const ext of this.extensions) Object.assign(info, ext.infoFields?.() ?? {});
    if (this.lameDuck) info.ldm = true;
    this.infoBase = info;
  }

  clientInfo(c: Client): string {
    // Field order follows nats-server's INFO: client_id and client_ip come after the server fields.
    const info: Record<string, unknown> = { ...this.infoBase, client_id: c.cid, client_ip: c.transport.remoteAddress };
    if (c.nonce !== undefined) info.nonce = c.nonce;
    return `INFO ${JSON.stringify(info)} \r\n`;
  }

  private accept(sock: net.Socket): void {
    if (this.shuttingDown || this.lameDuck) {
      sock.destroy();
      return;
    }
    const transport = new SocketTransport(sock);
    this.addClient(transport);
  }

  /** Creates a connection for a transport (TCP here; WebSocket listeners call this too). */
  addClient(transport: SocketTransport | import("./transport/transport.js").ClientTransport): Client {
    const cid = this.nextCid++;
    this.totalConnections++;
    const c = new Client(cid, this, transport);
    if ("attach" in transport && typeof transport.attach === "function") transport.attach(c);
    const full = this.clients.size >= this.opts.maxConnections;
    this.clients.set(cid, c);
    c.begin();
    if (full) {
      this.log.error(`${c.logPrefix} - maximum connections exceeded`);
      c.sendErr("maximum connections exceeded");
      c.close(ClosedReason.MaxConnectionsExceeded);
    }
    return c;
  }

  removeClient(c: Client): void {
    if (this.clients.delete(c.cid)) {
      this.closedConns.add(closedRecord(c));
      this.log.debug(`${c.logPrefix} - Client connection closed: ${c.closeReason}`);
    }
  }

  addSubscription(sub: Subscription): void {
    this.sublist.insert(sub);
    if (this.watchers.size > 0) this.interestChanged(sub.subject);
  }

  removeSubscription(sub: Subscription): void {
    this.sublist.remove(sub);
    if (this.watchers.size > 0) this.interestChanged(sub.subject);
  }

  /**
   * Calls cb whenever interest in a literal subject may have changed (a subscription that matches
   * it came or went), with whether anyone is interested now. Calls are batched per turn and made
   * outside the operation that changed interest. Returns the function that stops watching.
   */
  watchInterest(subject: string, cb: (hasInterest: boolean) => void): () => void {
    let set = this.watchers.get(subject);
    if (!set) {
      set = new Set();
      this.watchers.set(subject, set);
    }
    set.add(cb);
    return () => {
      const s = this.watchers.get(subject);
      if (!s) return;
      s.delete(cb);
      if (s.size === 0) this.watchers.delete(subject);
    };
  }

  private interestChanged(subject: string): void {
    const before = this.changedWatched.size;
    if (this.watchers.has(subject)) this.changedWatched.add(subject);
    else if (subjectHasWildcard(subject)) {
      for (const w of this.watchers.keys()) if (subjectMatchesFilter(w, subject)) this.changedWatched.add(w);
    }
    if (before === 0 && this.changedWatched.size > 0) queueMicrotask(this.notifyWatchers);
  }

  private readonly notifyWatchers = (): void => {
    const subjects = [...this.changedWatched];
    this.changedWatched.clear();
    for (const subj of subjects) {
      const set = this.watchers.get(subj);
      if (!set) continue;
      const has = this.sublist.hasInterest(subj);
      for (const cb of [...set]) cb(has);
    }
  };

  route(publisher: Subscriber | null, subject: string, reply: string | null, hdrLen: number, msg: Buffer): boolean {
    return this.deliverTo(this.sublist.match(subject), publisher, subject, reply, hdrLen, msg, 0, msg.length);
  }

  /** Delivers to an already matched result: every plain subscriber, and one member of each queue group. */
  deliverTo(r: SublistResult<Subscription>, publisher: Subscriber | null, subject: string, reply: string | null, hdrLen: number, buf: Buffer, start: number, end: number): boolean {
    let delivered = false;
    const ps = r.psubs;
    for (let i = 0; i < ps.length; i++) {
      const sub = ps[i]!;
      if (!sub.closed && sub.owner.deliver(sub, subject, reply, hdrLen, buf, start, end, publisher)) delivered = true;
    }
    const qs = r.qsubs;
    for (let g = 0; g < qs.length; g++) {
      const members = qs[g]!;
      const n = members.length;
      const startAt = (Math.random() * n) | 0;
      for (let k = 0; k < n; k++) {
        const sub = members[(startAt + k) % n]!;
        if (!sub.closed && sub.owner.deliver(sub, subject, reply, hdrLen, buf, start, end, publisher)) {
          delivered = true;
          break;
        }
      }
    }
    return delivered;
  }

  scheduleFlush(c: Client): void {
    this.flushList.push(c);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushAll);
    }
  }

  private readonly flushAll = (): void => {
    this.flushScheduled = false;
    this.flushQueued(false);
  };

  /**
   * Writes out what every connection has queued now, not at the end of the turn, for a caller in
   * the middle of a long run of output. Producers a flush lets go resume in a microtask, after the
   * caller's run: their input must not be parsed inside it.
   */
  flushNow(): void {
    this.flushQueued(true);
  }

  private flushQueued(deferRelease: boolean): void {
    const list = this.flushList;
    this.flushList = [];
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (!c.closed) c.flush(deferRelease);
    }
  }

  // --- the internal API extensions build on ---

  /** Subscribes an in-process handler; returns the subscription to pass to unsubscribe(). */
  subscribe(subject: string, handler: MsgHandler, opts: { queue?: string; name?: string; borrow?: boolean } = {}): Subscription {
    const owner = new InternalSubscriber(opts.name ?? "internal", handler, opts.borrow === true);
    const sub = new Subscription(owner, subject, opts.queue ?? null, "");
    this.addSubscription(sub);
    return sub;
  }

  unsubscribe(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    this.removeSubscription(sub);
  }

  /**
   * Delivers a message to whoever subscribes to `routeSubject`, written with `subject`: JetStream
   * routes deliveries by a deliver subject or inbox but shows the stored message's subject.
   */
  deliverAs(routeSubject: string, subject: string, reply: string | null, hdr: Buffer | null, payload: Buffer): boolean {
    const hdrLen = hdr !== null && hdr.length > 0 ? hdr.length : -1;
    const msg = hdrLen > 0 ? Buffer.concat([hdr!, payload]) : payload;
    // Not counted in stats.in*: nats-server counts only what clients send (internal clients' messages are not).
    return this.deliverTo(this.sublist.match(routeSubject), null, subject, reply, hdrLen, msg, 0, msg.length);
  }

  /**
   * Publishes a message from inside the server. `hdr` is a complete header block
   * ("NATS/1.0\r\n...\r\n\r\n") or null.
   */
  publish(subject: string, reply: string | null, hdr: Buffer | null, payload: Buffer | Uint8Array, publisher: Subscriber | null = null): boolean {
    let msg: Buffer;
    let hdrLen = -1;
    if (hdr !== null && hdr.length > 0) {
      msg = Buffer.concat([hdr, payload]);
      hdrLen = hdr.length;
    } else {
      msg = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    }
    // Not counted in stats.in*, as deliverAs.
    return this.route(publisher, subject, reply, hdrLen, msg);
  }

  // --- lifecycle ---

  /** Applies reloaded options: auth, permissions, limits and logging. Returns the warnings. */
  reload(next: ServerOptions, changed: string[]): string[] {
    const warnings: string[] = [];
    const restartOnly = ["host", "port", "jetstream", "cluster", "websocket", "http", "tls"];
    for (const path of changed) {
      if (restartOnly.some((p) => path === p || path.startsWith(`${p}.`))) warnings.push(`config reload: "${path}" can not be changed without a restart; ignored`);
    }
    const keep = { host: this.opts.host, port: this.opts.port, jetstream: this.opts.jetstream, cluster: this.opts.cluster, websocket: this.opts.websocket, http: this.opts.http, tls: this.opts.tls };
    this.opts = { ...next, ...keep };
    this.configLoadTime = Date.now();
    this.options = limitsOf(this.opts);
    this.auth = new Authenticator(this.opts.authorization, this.opts.noAuthUser);
    this.log.configure({ debug: next.debug, trace: next.trace, logtime: next.logtime, logJson: next.logJson, logFile: next.logFile });
    this.rebuildInfo();
    // Re-check every connection against the new auth: those no longer allowed are closed,
    // the rest get their new permissions.
    for (const c of [...this.clients.values()]) {
      c.parser.maxPayload = this.options.maxPayload;
      c.parser.maxControlLine = this.options.maxControlLine;
      c.parser.trace = this.log.traceEnabled;
      if (!c.connected) continue;
      const r = this.auth.authenticate(c.credentials ?? {}, c.nonce);
      const apply = (id: Awaited<typeof r>) => {
        if (c.closed) return;
        if (id === null) c.authViolation();
        else c.resetPermissions(id);
      };
      if (r instanceof Promise) r.then(apply, () => apply(null));
      else apply(r);
    }
    return warnings;
  }

  /** Stops accepting, flushes what each client has queued, closes everything. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const closed = this.listener ? new Promise<void>((r) => this.listener!.close(() => r())) : Promise.resolve();
    for (const ext of [...this.extensions].reverse()) {
      try {
        await ext.shutdown();
      } catch (e) {
        this.log.error(`Error stopping ${ext.name}: ${(e as Error).message}`);
      }
    }
    for (const c of [...this.clients.values()]) c.close(ClosedReason.ServerShutdown);
    await closed;
    this.log.info("Server Exiting..");
  }

  /**
   * Lame duck mode: stop accepting, tell clients (INFO ldm), then close them spread over the
   * lame duck duration, and finally shut down.
   */
  async enterLameDuck(): Promise<void> {
    if (this.lameDuck || this.shuttingDown) return;
    this.lameDuck = true;
    this.log.info("Entering lame duck mode, stop accepting new clients");
    this.listener?.close();
    this.rebuildInfo();
    for (const c of this.clients.values()) if (c.connected) c.sendRaw(this.clientInfo(c));
    const grace = this.opts.lameDuckGracePeriodMs;
    const duration = Math.max(0, this.opts.lameDuckDurationMs - grace);
    await delay(grace);
    const clients = [...this.clients.values()];
    const step = clients.length > 0 ? duration / clients.length : 0;
    for (const c of clients) {
      c.close(ClosedReason.ServerShutdown);
      if (step >= 1) await delay(step);
    }
    await this.shutdown();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function limitsOf(o: ServerOptions): ClientLimits {
  return {
    maxControlLine: o.maxControlLine,
    maxPayload: o.maxPayload,
    maxPending: o.maxPending,
    maxSubscriptions: o.maxSubscriptions,
    writeDeadlineMs: o.writeDeadlineMs,
    pingIntervalMs: o.pingIntervalMs,
    pingMax: o.pingMax,
    authTimeoutMs: o.authorization?.timeoutMs ?? o.authTimeoutMs,
  };
}

function closedRecord(c: Client): ClosedConnection {
  return {
    cid: c.cid,
    transport: c.transport.kind,
    ip: c.transport.remoteAddress,
    port: c.transport.remotePort,
    start: c.start,
    lastActivity: c.lastActivity,
    stop: c.stopTime || Date.now(),
    reason: c.closeReason ?? ClosedReason.ClientClosed,
    name: c.connect.name,
    lang: c.connect.lang,
    version: c.connect.version,
    user: c.user,
    inMsgs: c.inMsgs,
    outMsgs: c.outMsgs,
    inBytes: c.inBytes,
    outBytes: c.outBytes,
    subs: [...c.subs.values()].map((s) => ({ subject: s.subject, queue: s.queue, sid: s.sid, msgs: s.nm, max: s.max })),
    rttMs: c.rttMs,
  };
}

export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The host clients should dial: a wildcard listen address is reported as loopback. */
export function advertiseHost(host: string): string {
  if (host === "0.0.0.0" || host === "" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
