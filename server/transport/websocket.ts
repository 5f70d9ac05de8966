// NATS over WebSocket on uWebSockets.js: a listener that upgrades HTTP requests with nats-server's
// checks (websocket.go) and turns each WebSocket into an ordinary client connection through
// Server.addClient, so the protocol engine, limits and slow-consumer rules are the TCP ones.
//
// Framing is uWS's. Where it differs from nats-server (both close the connection; neither crashes):
// uWS closes on a text frame that is not valid UTF-8 (nats-server parses it like binary), on a
// message above maxPayloadLength (nats-server streams frames), and answers frame-level protocol
// errors by dropping the TCP connection without a 1002 close frame (nats-server's is best effort).
// uWS does not expose the peer's port, so ws clients report port 0 in /connz.
// handshake_timeout: uWS gives no hook on a socket before its HTTP request is complete, so the
// bound on an unfinished upgrade is uWS's own fixed HTTP timeout (about 10 s, slow-drip requests
// included), not the configured value; start-up says so when a different value is configured.
// Requests uWS cannot parse (no Host, garbage, absolute-form targets) get no 400 as from
// nats-server: uWS drops them at that timeout, or at once when a header block is too large.

import uWS, { type HttpRequest, type HttpResponse, type TemplatedApp, type WebSocket, type us_listen_socket, type us_socket_context_t } from "uWebSockets.js";
import type { Server, ServerExtension } from "../server.js";
import type { ClientTransport, TransportSink } from "./transport.js";
import { advertiseHost, hostPort } from "../server.js";
import { DEFAULT_WS_HANDSHAKE_TIMEOUT_MS } from "../config/options.js";
import { muxPrecheck, type MuxAnswer } from "../monitor/paths.js";
import { STATUS_TEXT, checkOrigin, checkUpgrade, forwardedFor, normalizeWsAddress, offersDeflate, originPolicy, type HandshakeError, type OriginPolicy } from "./ws_handshake.js";

/** uWebSockets.js closes an HTTP connection idle this long (HTTP_IDLE_TIMEOUT_S, not configurable). */
export const UWS_HTTP_TIMEOUT_S = 10;

/** nats-server does not compress small buffers (wsCompressThreshold). */
const COMPRESS_THRESHOLD = 64;

/** Per-connection state uWS keeps for us from upgrade to close. */
interface WsUserData {
  ip: string;
  transport: WebSocketTransport | null;
}

/** Close frame status per close reason, as nats-server's wsEnqueueCloseMessage maps them. */
export function closeStatus(reason: string | undefined): number {
  switch (reason) {
    case "Client Closed":
      return 1000;
    case "Authentication Timeout":
    case "Authentication Failure":
    case "Slow Consumer (Pending Bytes)":
    case "Slow Consumer (Write Deadline)":
    case "Maximum Account Connections Exceeded":
    case "Maximum Connections Exceeded":
    case "Maximum Control Line Exceeded":
    case "Maximum Subscriptions Exceeded":
    case "Missing Account":
    case "Authentication Expired":
    case "Credentials Revoked":
      return 1008;
    case "TLS Handshake Failure":
      return 1015;
    case "Parse Error":
    case "Protocol Violation":
    case "Bad Client Protocol Version":
      return 1002;
    case "Maximum Message Payload Exceeded":
      return 1009;
    case "Server Shutdown":
      return 1001;
    case "Write Error":
    case "Read Error":
    case "Stale Connection":
      return 1006;
    default:
      return 1011;
  }
}

/** A WebSocket as a client connection's byte stream: binary frames both ways. */
export class WebSocketTransport implements ClientTransport {
  readonly kind = "websocket" as const;
  readonly remotePort = 0;
  private sink: TransportSink | null = null;

  constructor(
    /** Null once the socket closed: uWS sockets must not be touched after their close event. */
    private ws: WebSocket<WsUserData> | null,
    readonly remoteAddress: string,
    private readonly compress: boolean,
  ) {}

  attach(sink: TransportSink): void {
    this.sink = sink;
  }

  write(chunks: Buffer[]): boolean {
    const ws = this.ws;
    if (ws === null) return true;
    ws.cork(() => {
      if (chunks.length === 1) {
        const c = chunks[0]!;
        ws.send(c, true, this.compress && c.length > COMPRESS_THRESHOLD);
      } else if (this.compress) {
        // A compressed message has to be one deflate stream: join the chunks.
        const b = Buffer.concat(chunks);
        ws.send(b, true, b.length > COMPRESS_THRESHOLD);
      } else {
        // One message in fragments, one per chunk: no copy to join them.
        ws.sendFirstFragment(chunks[0]!, true);
        for (let i = 1; i < chunks.length - 1; i++) ws.sendFragment(chunks[i]!);
        ws.sendLastFragment(chunks[chunks.length - 1]!);
      }
    });
    return ws.getBufferedAmount() === 0;
  }

  get backlog(): number {
    return this.ws === null ? 0 : this.ws.getBufferedAmount();
  }

  // uWS reads are not pausable; the parser holds input back while it is paused.
  pause(): void {}
  resume(): void {}

  end(reason?: string): void {
    const ws = this.ws;
    if (ws === null) return;
    this.ws = null;
    ws.end(closeStatus(reason), reason ?? "");
  }

  destroy(): void {
    const ws = this.ws;
    if (ws === null) return;
    this.ws = null;
    ws.close();
  }

  // --- events from the listener ---

  onMessage(msg: ArrayBuffer): void {
    if (this.sink === null) return;
    // uWS reclaims the ArrayBuffer when the callback returns, and a paused parser keeps its input.
    const buf = Buffer.allocUnsafe(msg.byteLength);
    buf.set(new Uint8Array(msg));
    this.sink.onData(buf);
  }

  onDrain(): void {
    if (this.ws !== null && this.ws.getBufferedAmount() === 0) this.sink?.onDrain();
  }

  onClose(): void {
    this.ws = null;
    this.sink?.onTransportClosed();
  }
}

/** The `websocket { }` listener, registered with Server.use under the name "websocket". */
export class WebSocketListener implements ServerExtension {
  readonly name = "websocket";
  port = 0;
  private app: TemplatedApp | null = null;
  private listenSocket: us_listen_socket | null = null;
  private server: Server | null = null;
  private policy: OriginPolicy;

  constructor(private readonly opts: NonNullable<Server["opts"]["websocket"]>) {
    this.policy = originPolicy(opts.sameOrigin, opts.allowedOrigins);
  }

  /**
   * The largest WebSocket message uWS will assemble. Clients batch protocol ops into messages
   * (nats.js up to 32 KiB plus one message), so this leaves room for a maximal PUB several times
   * over: an oversized PUB reaches the parser and gets nats-server's -ERR and 1009 close.
   */
  static maxMessage(maxPayload: number, maxControlLine: number): number {
    return Math.max(maxPayload, 1 << 20) * 4 + maxControlLine;
  }

  async start(server: Server): Promise<void> {
    this.server = server;
    const o = this.opts;
    const compress = o.compression;
    const app = uWS.App();
    app.ws<WsUserData>("/*", {
      compression: compress ? uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR : uWS.DISABLED,
      maxPayloadLength: WebSocketListener.maxMessage(server.opts.maxPayload, server.opts.maxControlLine),
      // Liveness is NATS's PING/PONG; outbound limits are the client's max_pending and deadline.
      idleTimeout: 0,
      maxBackpressure: 0,
      closeOnBackpressureLimit: 0,
      sendPingsAutomatically: false,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => {
        const ud = ws.getUserData();
        const t = new WebSocketTransport(ws, ud.ip, compress);
        ud.transport = t;
        server.addClient(t);
      },
      message: (ws, msg) => ws.getUserData().transport?.onMessage(msg),
      drain: (ws) => ws.getUserData().transport?.onDrain(),
      close: (ws) => ws.getUserData().transport?.onClose(),
    });
    // Requests that are not upgrades get nats-server's answers.
    app.any("/*", (res, req) => {
      const method = req.getMethod();
      const pre = muxPrecheck(method, req.getUrl(), req.getQuery() ?? "");
      if ("answer" in pre) return this.answer(res, pre.answer);
      const err: HandshakeError = method.toUpperCase() !== "GET" ? { status: 405, reason: "request method must be GET" } : { status: 400, reason: "invalid value for header 'Upgrade'" };
      this.refuse(res, Buffer.from(res.getRemoteAddressAsText()).toString(), err);
    });
    await new Promise<void>((resolve, reject) => {
      app.listen(o.host, o.port === -1 ? 0 : o.port, (ls) => {
        if (!ls) {
          reject(new Error(`Unable to listen for websocket connections: ${hostPort(o.host, o.port)}`));
          return;
        }
        this.listenSocket = ls;
        this.port = uWS.us_socket_local_port(ls);
        resolve();
      });
    });
    this.app = app;
    server.log.info(`Listening for websocket clients on ws://${hostPort(o.host, this.port)}`);
    if (o.noTls) server.log.warn("Websocket not configured with TLS. DO NOT USE IN PRODUCTION!");
    if (o.handshakeTimeoutMs !== DEFAULT_WS_HANDSHAKE_TIMEOUT_MS) {
      server.log.warn(`websocket handshake_timeout ${o.handshakeTimeoutMs / 1000}s is not applied: unfinished handshakes end at uWebSockets.js's fixed ${UWS_HTTP_TIMEOUT_S}s HTTP timeout`);
    }
  }

  ports(): Record<string, string[]> {
    return this.port ? { websocket: [`ws://${advertiseHost(this.opts.host)}:${this.port}`] } : {};
  }

  async shutdown(): Promise<void> {
    // Open connections are closed by the server with a 1001 close frame; here only stop accepting.
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
  }

  private upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    const server = this.server!;
    const peer = normalizeWsAddress(Buffer.from(res.getRemoteAddressAsText()).toString());
    if (server.shuttingDown || server.lameDuck) {
      res.close();
      return;
    }
    // Go's server and mux answer some requests before nats-server's upgrade handler runs.
    const pre = muxPrecheck(req.getMethod(), req.getUrl(), req.getQuery() ?? "");
    if ("answer" in pre) return this.answer(res, pre.answer);
    const host = req.getHeader("host");
    const err = checkUpgrade({
      method: req.getMethod(),
      host,
      upgrade: req.getHeader("upgrade"),
      connection: req.getHeader("connection"),
      key: req.getHeader("sec-websocket-key"),
      version: req.getHeader("sec-websocket-version"),
      origin: "",
    });
    if (err) {
      this.refuse(res, peer, err);
      return;
    }
    const origin = req.getHeader("origin") || req.getHeader("sec-websocket-origin");
    const bad = checkOrigin(this.policy, origin, host);
    if (bad !== null) {
      this.refuse(res, peer, { status: 403, reason: `origin not allowed: ${bad}` });
      return;
    }
    const extensions = req.getHeader("sec-websocket-extensions");
    const ip = forwardedFor(req.getHeader("x-forwarded-for")) ?? peer;
    res.upgrade<WsUserData>(
      { ip, transport: null },
      req.getHeader("sec-websocket-key"),
      // nats-server selects no subprotocol whatever the client offers (only MQTT would get one).
      "",
      this.opts.compression && offersDeflate(extensions) ? extensions : "",
      context,
    );
  }

  private answer(res: HttpResponse, a: MuxAnswer): void {
    res.cork(() => {
      res.writeStatus(a.status);
      if (a.contentType) res.writeHeader("Content-Type", a.contentType);
      if (a.location !== undefined) res.writeHeader("Location", a.location);
      res.end(a.body, a.close === true);
    });
  }

  private refuse(res: HttpResponse, peer: string, err: HandshakeError): void {
    this.server?.log.error(`${peer} - websocket handshake error: ${err.reason}`);
    const text = STATUS_TEXT[err.status];
    res.cork(() => {
      res
        .writeStatus(text)
        .writeHeader("Content-Type", "text/plain; charset=utf-8")
        .writeHeader("Sec-Websocket-Version", "13")
        .writeHeader("X-Content-Type-Options", "nosniff")
        .end(`${text.slice(4)}\n`);
    });
  }
}
