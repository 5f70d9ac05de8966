// A raw protocol connection for tests that look at the exact bytes a server sends.
import net from "node:net";
import { waitFor } from "./wait.js";

export class RawConn {
  private chunks: Buffer[] = [];
  closed = false;
  readonly closedP: Promise<void>;
  private constructor(readonly sock: net.Socket) {
    sock.on("data", (b) => this.chunks.push(b));
    sock.on("error", () => {});
    this.closedP = new Promise((r) =>
      sock.on("close", () => {
        this.closed = true;
        r();
      }),
    );
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new RawConn(s)));
      s.once("error", reject);
    });
  }

  /** Everything received so far, as latin1 text. */
  get text(): string {
    return Buffer.concat(this.chunks).toString("latin1");
  }

  send(s: string | Buffer): void {
    this.sock.write(s);
  }

  /** Waits until the received text contains `what` (or matches it). */
  async expect(what: string | RegExp, timeoutMs = 5000): Promise<string> {
    await waitFor(`${JSON.stringify(String(what))} in ${JSON.stringify(this.text.slice(-300))}`, () => (typeof what === "string" ? this.text.includes(what) : what.test(this.text)), timeoutMs);
    return this.text;
  }

  /** Sends PING and waits for the PONG: everything sent before it has been processed. */
  async flush(timeoutMs = 5000): Promise<void> {
    const before = (this.text.match(/PONG\r\n/g) ?? []).length;
    this.send("PING\r\n");
    await waitFor("PONG", () => (this.text.match(/PONG\r\n/g) ?? []).length > before, timeoutMs);
  }

  async expectClosed(timeoutMs = 5000): Promise<void> {
    await waitFor("connection close", () => this.closed, timeoutMs);
  }

  clear(): void {
    this.chunks = [];
  }

  close(): void {
    this.sock.destroy();
  }
}
