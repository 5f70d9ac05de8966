// A raw-protocol load generator over WebSocket (the `ws` package): like bench/core's RawClient it
// sends pre-built batches of PUB commands, one WebSocket message per batch, and its subscribers
// only count bytes, so the client does little work per message.
import { WebSocket } from "ws";
import { once } from "node:events";

export class WsRawClient {
  private ws!: WebSocket;
  private text = "";
  private scanning = true;
  received = 0;
  private waiter: { bytes: number; resolve: () => void } | null = null;
  private pongWaiter: (() => void) | null = null;
  private pongs = 0;

  static async connect(url: string, connect = '{"verbose":false,"pedantic":false,"headers":true}'): Promise<WsRawClient> {
    const c = new WsRawClient();
    c.ws = new WebSocket(url, { perMessageDeflate: false });
    c.ws.binaryType = "nodebuffer";
    c.ws.on("message", (b: Buffer) => c.onData(b));
    c.ws.on("error", () => {});
    await once(c.ws, "open");
    await c.until(() => c.text.includes("\r\n"));
    c.ws.send(Buffer.from(`CONNECT ${connect}\r\n`));
    await c.sync();
    return c;
  }

  private onData(b: Buffer): void {
    this.received += b.length;
    if (this.scanning) {
      this.text += b.toString("latin1");
      let i: number;
      while ((i = this.text.indexOf("PONG\r\n")) >= 0) {
        this.pongs++;
        this.text = this.text.slice(i + 6);
      }
      if (this.text.length > 4096) this.text = this.text.slice(-16);
      if (this.pongWaiter && this.pongs > 0) {
        this.pongs--;
        const w = this.pongWaiter;
        this.pongWaiter = null;
        w();
      }
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
    this.scanning = true;
    const p = new Promise<void>((r) => (this.pongWaiter = r));
    this.ws.send(Buffer.from("PING\r\n"));
    await p;
  }

  countOnly(): void {
    this.scanning = false;
    this.received = 0;
  }

  waitBytes(total: number): Promise<void> {
    if (this.received >= total) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { bytes: total, resolve }));
  }

  send(b: Buffer | string): void {
    this.ws.send(typeof b === "string" ? Buffer.from(b) : b);
  }

  /** Sends `buf` `times` times, keeping at most 4 MiB written but not yet flushed to the socket. */
  async sendAll(buf: Buffer, times: number): Promise<void> {
    let inflight = 0;
    let wake: (() => void) | null = null;
    const sent = () => {
      inflight -= buf.length;
      if (wake && inflight <= 1024 * 1024) {
        const w = wake;
        wake = null;
        w();
      }
    };
    for (let i = 0; i < times; i++) {
      inflight += buf.length;
      this.ws.send(buf, sent);
      if (inflight > 4 * 1024 * 1024) await new Promise<void>((r) => (wake = r));
    }
  }

  close(): void {
    this.ws.terminate();
  }
}
