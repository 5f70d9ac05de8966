// A raw-protocol load generator over WebSocket, written straight on a TCP socket so the generator
// costs as little per message as bench/core's RawClient: publishers send pre-built frames (masked
// with an all-zero key, which RFC 6455 allows and which leaves the payload as it is, so a batch is
// framed once and written many times), and subscribers walk frame headers and count payload bytes
// without copying them. The `ws` package did the same job at several times the CPU per message,
// enough to make the generator, not nats-server, the bottleneck.
import net from "node:net";
import { PongScan } from "../lib/pong_scan.js";
import { once } from "node:events";

/** One client-to-server binary frame around `payload`, masked with the zero key. */
export function binaryFrame(payload: Buffer): Buffer {
  const len = payload.length;
  let head: Buffer;
  if (len < 126) head = Buffer.from([0x82, 0x80 | len]);
  else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x82;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x82;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

export class WsRawClient {
  private sock!: net.Socket;
  private upgraded = false;
  private head = Buffer.alloc(0);
  /** Payload bytes left in the current frame, and whether that frame's payload is text to scan. */
  private left = 0;
  private readonly scan = new PongScan();
  /** Data-frame payload bytes received since countOnly(). */
  received = 0;
  private waiter: { bytes: number; resolve: () => void } | null = null;
  private opened: (() => void) | null = null;

  static async connect(url: string, connect = '{"verbose":false,"pedantic":false,"headers":true}'): Promise<WsRawClient> {
    const u = new URL(url);
    const c = new WsRawClient();
    c.sock = net.connect({ port: Number(u.port), host: u.hostname, noDelay: true });
    c.sock.on("data", (b: Buffer) => c.onData(b));
    c.sock.on("error", () => {});
    await once(c.sock, "connect");
    const upgraded = new Promise<void>((r) => (c.opened = r));
    c.sock.write(`GET / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await upgraded;
    await c.until(() => c.scan.hasLine);
    c.send(`CONNECT ${connect}\r\n`);
    await c.sync();
    return c;
  }

  private onData(b: Buffer): void {
    let off = 0;
    if (!this.upgraded) {
      this.head = Buffer.concat([this.head, b]);
      const end = this.head.indexOf("\r\n\r\n");
      if (end < 0) return;
      if (!this.head.subarray(0, 12).toString().startsWith("HTTP/1.1 101")) throw new Error(`upgrade refused: ${this.head.toString().split("\r\n")[0]}`);
      this.upgraded = true;
      b = this.head.subarray(end + 4);
      this.head = Buffer.alloc(0);
      this.opened?.();
    }
    while (off < b.length) {
      if (this.left > 0) {
        const n = Math.min(this.left, b.length - off);
        this.received += n;
        if (this.scan.scanning) this.scan.feed(b.toString("latin1", off, off + n));
        this.left -= n;
        off += n;
        continue;
      }
      // A frame header, read in place when it is whole in this chunk (the usual case)...
      if (this.head.length === 0 && off + 2 <= b.length) {
        const l7 = b[off + 1]! & 0x7f;
        const hl = l7 === 126 ? 4 : l7 === 127 ? 10 : 2;
        if (off + hl <= b.length) {
          this.left = l7 === 126 ? b.readUInt16BE(off + 2) : l7 === 127 ? Number(b.readBigUInt64BE(off + 2)) : l7;
          off += hl;
          continue;
        }
      }
      // ...else gathered in this.head across reads.
      const need = (h: Buffer) => (h.length < 2 ? 2 : (h[1]! & 0x7f) === 126 ? 4 : (h[1]! & 0x7f) === 127 ? 10 : 2);
      while (off < b.length && (this.head.length < 2 || this.head.length < need(this.head))) {
        this.head = Buffer.concat([this.head, b.subarray(off, off + 1)]);
        off++;
      }
      if (this.head.length < 2 || this.head.length < need(this.head)) break;
      const h = this.head;
      const l7 = h[1]! & 0x7f;
      this.left = l7 === 126 ? h.readUInt16BE(2) : l7 === 127 ? Number(h.readBigUInt64BE(2)) : l7;
      this.head = Buffer.alloc(0);
    }
    if (this.waiter && this.received >= this.waiter.bytes) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve();
    }
  }

  private async until(f: () => boolean): Promise<void> {
    while (!f()) await new Promise((r) => setTimeout(r, 1));
  }

  async sync(): Promise<void> {
    await this.scan.roundTrip(() => this.send("PING\r\n"));
  }

  /** From now on incoming payload is only counted, not scanned. */
  countOnly(): void {
    this.scan.scanning = false;
    this.received = 0;
  }

  waitBytes(total: number): Promise<void> {
    if (this.received >= total) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { bytes: total, resolve }));
  }

  /** Sends protocol text or bytes in one binary frame. */
  send(b: Buffer | string): void {
    this.sock.write(binaryFrame(typeof b === "string" ? Buffer.from(b) : b));
  }

  /** Writes a pre-built frame (see binaryFrame). */
  write(frame: Buffer): void {
    this.sock.write(frame);
  }

  /** Writes a pre-built frame `times` times, waiting for the socket to drain when it is full. */
  async sendAll(frame: Buffer, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      if (!this.sock.write(frame)) await once(this.sock, "drain");
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
