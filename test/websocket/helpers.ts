// WebSocket test helpers: servers with a websocket (and monitoring) listener, the nats.js
// wsconnect client on Node 20, and a raw frame-level client for the byte-exact error tests.
import net from "node:net";
import { WebSocket as WsWebSocket } from "ws";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import type { ServerOptions } from "../../server/config/options.js";

/**
 * nats.js's wsconnect uses the global WebSocket, which Node 20 only has behind
 * --experimental-websocket; the `ws` package supplies the same browser-style API.
 */
export function installWebSocketGlobal(): void {
  const g = globalThis as { WebSocket?: unknown };
  if (typeof g.WebSocket === "undefined") g.WebSocket = WsWebSocket;
}

export type WsOptions = NonNullable<ServerOptions["websocket"]>;

export function wsOptions(over: Partial<WsOptions> = {}): WsOptions {
  return { host: "127.0.0.1", port: -1, noTls: true, compression: false, sameOrigin: false, allowedOrigins: [], handshakeTimeoutMs: 2000, ...over };
}

export interface WsTestServer extends TestServer {
  wsPort: number;
  wsUrl: string;
  httpPort: number;
  httpUrl: string;
}

/** An in-process tsnats with random client, websocket and monitoring ports. */
export async function startWsServer(overrides: Partial<ServerOptions> = {}, ws: Partial<WsOptions> = {}): Promise<WsTestServer> {
  const ts = await startServer({ http: { host: "127.0.0.1", port: -1, basePath: "/" }, websocket: wsOptions(ws), ...overrides });
  const ports = ts.server.portsReport();
  const wsUrl = ports.websocket![0]!;
  const httpUrl = ports.monitoring![0]!;
  return { ...ts, wsUrl, wsPort: Number(new URL(wsUrl).port), httpUrl, httpPort: Number(new URL(httpUrl).port) };
}

export interface Frame {
  op: number;
  fin: boolean;
  rsv1: boolean;
  payload: Buffer;
}

export interface FrameSpec {
  op: number;
  payload?: string | Buffer;
  fin?: boolean;
  mask?: boolean;
  rsv1?: boolean;
}

export function encodeFrame(f: FrameSpec): Buffer {
  const payload = typeof f.payload === "string" ? Buffer.from(f.payload, "latin1") : (f.payload ?? Buffer.alloc(0));
  const len = payload.length;
  const mask = f.mask !== false;
  const b0 = (f.fin === false ? 0 : 0x80) | (f.rsv1 ? 0x40 : 0) | f.op;
  let hdr: Buffer;
  if (len < 126) hdr = Buffer.from([b0, (mask ? 0x80 : 0) | len]);
  else if (len < 65536) {
    hdr = Buffer.alloc(4);
    hdr[0] = b0;
    hdr[1] = (mask ? 0x80 : 0) | 126;
    hdr.writeUInt16BE(len, 2);
  } else {
    hdr = Buffer.alloc(10);
    hdr[0] = b0;
    hdr[1] = (mask ? 0x80 : 0) | 127;
    hdr.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!mask) return Buffer.concat([hdr, payload]);
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i & 3]!;
  return Buffer.concat([hdr, key, masked]);
}

/** A WebSocket client at the byte level: it sends any frame, well-formed or not. */
export class RawWs {
  private buf = Buffer.alloc(0);
  readonly frames: Frame[] = [];
  status = 0;
  response = "";
  closed = false;

  private constructor(readonly sock: net.Socket) {
    sock.on("data", (d) => this.onData(d));
    sock.on("error", () => {});
    sock.on("close", () => (this.closed = true));
  }

  /** Connects and sends the upgrade request; resolves once the HTTP response head arrived. */
  static async open(port: number, headers: Record<string, string> = {}, opts: { method?: string; path?: string } = {}): Promise<RawWs> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(s));
      s.once("error", reject);
    });
    const ws = new RawWs(sock);
    const h: Record<string, string> = {
      Host: `127.0.0.1:${port}`,
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version": "13",
      ...headers,
    };
    const lines = Object.entries(h)
      .filter(([, v]) => v !== "")
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    sock.write(`${opts.method ?? "GET"} ${opts.path ?? "/"} HTTP/1.1\r\n${lines}\r\n`);
    await waitFor("HTTP response head", () => ws.status !== 0 || ws.closed);
    return ws;
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (this.status === 0) {
      const i = this.buf.indexOf("\r\n\r\n");
      if (i < 0) return;
      this.response = this.buf.subarray(0, i + 4).toString("latin1");
      this.status = Number(/^HTTP\/1\.1 (\d+)/.exec(this.response)?.[1] ?? -1);
      this.buf = this.buf.subarray(i + 4);
      // A refused upgrade carries a plain HTTP body, not frames.
      if (this.status !== 101) {
        this.response += this.buf.toString("latin1");
        this.buf = Buffer.alloc(0);
        return;
      }
    }
    if (this.status !== 101) {
      this.response += d.toString("latin1");
      return;
    }
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b.length < off + len) return;
      this.frames.push({ op: b[0]! & 0x0f, fin: (b[0]! & 0x80) !== 0, rsv1: (b[0]! & 0x40) !== 0, payload: Buffer.from(b.subarray(off, off + len)) });
      this.buf = b.subarray(off + len);
    }
  }

  send(f: FrameSpec): void {
    this.sock.write(encodeFrame(f));
  }

  /** Sends protocol text in one binary frame. */
  sendProto(text: string): void {
    this.send({ op: 2, payload: text });
  }

  /** Everything received in data frames (binary or text), as latin1. */
  get text(): string {
    return this.frames
      .filter((f) => f.op === 1 || f.op === 2 || f.op === 0)
      .map((f) => f.payload.toString("latin1"))
      .join("");
  }

  get closeFrame(): { code: number; reason: string } | null {
    const f = this.frames.find((x) => x.op === 8);
    if (!f) return null;
    return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 0, reason: f.payload.subarray(2).toString("utf8") };
  }

  async expect(what: string | RegExp, timeoutMs = 5000): Promise<void> {
    await waitFor(`${String(what)} in ${JSON.stringify(this.text.slice(-300))}`, () => (typeof what === "string" ? this.text.includes(what) : what.test(this.text)), timeoutMs);
  }

  async expectClosed(timeoutMs = 5000): Promise<void> {
    await waitFor("TCP close", () => this.closed, timeoutMs);
  }

  /** Sends PING and waits for a PONG after it: the server has handled everything before it. */
  async flush(): Promise<void> {
    const before = (this.text.match(/PONG\r\n/g) ?? []).length;
    this.sendProto("PING\r\n");
    await waitFor("PONG", () => (this.text.match(/PONG\r\n/g) ?? []).length > before);
  }

  destroy(): void {
    this.sock.destroy();
  }
}
