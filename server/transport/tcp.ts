// Client connections over TCP (and, later, TLS): a thin adapter from node:net to ClientTransport.
import type { Socket } from "node:net";
import type { ClientTransport, TransportSink } from "./transport.js";

export class SocketTransport implements ClientTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(
    private readonly sock: Socket,
    readonly kind: "tcp" | "tls" = "tcp",
  ) {
    this.remoteAddress = normalizeAddress(sock.remoteAddress ?? "");
    this.remotePort = sock.remotePort ?? 0;
  }

  attach(sink: TransportSink): void {
    const s = this.sock;
    s.on("data", (b: Buffer) => sink.onData(b));
    s.on("drain", () => sink.onDrain());
    s.on("close", () => sink.onTransportClosed());
    // An error is always followed by close; the close handler does the cleanup.
    s.on("error", () => {});
  }

  write(chunks: Buffer[]): boolean {
    const s = this.sock;
    if (s.destroyed) return true;
    if (chunks.length === 1) return s.write(chunks[0]!);
    s.cork();
    let ok = true;
    for (const c of chunks) ok = s.write(c);
    s.uncork();
    return ok;
  }

  get backlog(): number {
    return this.sock.writableLength;
  }

  pause(): void {
    this.sock.pause();
  }

  resume(): void {
    this.sock.resume();
  }

  end(): void {
    this.sock.end();
    // A peer that never reads must not keep the socket alive forever.
    const t = setTimeout(() => this.sock.destroy(), 5000);
    t.unref();
    this.sock.once("close", () => clearTimeout(t));
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** "::ffff:127.0.0.1" -> "127.0.0.1", as Go reports IPv4 peers. */
export function normalizeAddress(a: string): string {
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}
