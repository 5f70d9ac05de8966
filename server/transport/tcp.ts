// Client connections over TCP (and, later, TLS): a thin adapter from node:net to ClientTransport.
import { Socket } from "node:net";
import type { ClientTransport, TransportSink } from "./transport.js";

/**
 * Every TCP connection reads into this one buffer. A `data` event allocates a fresh 64 KB buffer
 * per read, and that allocation, not parsing, is what limits how fast Node takes in bytes
 * (measured: about 5x more throughput with a reused buffer). Reads are handled synchronously one
 * at a time on the event loop, so one buffer serves all connections; input is therefore borrowed
 * (TransportSink.onData) and whatever is kept is copied.
 */
const READ_BUFFER_SIZE = 1 << 20;
let readBuffer: Buffer | null = null;

/** The accepted socket's handle, if this Node exposes it in the form we rely on. */
type HandleCarrier = Socket & { _handle?: { useUserBuffer?: unknown } | null };

export class SocketTransport implements ClientTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  private sock: Socket;

  /**
   * `sock` should be accepted paused (pauseOnConnect), so that no byte is read before attach()
   * decides how reading is done.
   */
  constructor(
    sock: Socket,
    readonly kind: "tcp" | "tls" = "tcp",
  ) {
    this.sock = sock;
    this.remoteAddress = normalizeAddress(sock.remoteAddress ?? "");
    this.remotePort = sock.remotePort ?? 0;
  }

  attach(sink: TransportSink): void {
    const s = this.kind === "tcp" ? this.withSharedReadBuffer(sink) : null;
    if (s === null) {
      this.sock.on("data", (b: Buffer) => sink.onData(b));
      this.sock.resume();
    }
    this.listen(sink);
  }

  /**
   * Moves the connection's handle to a socket that reads into the shared buffer (net.Server has
   * no `onread` option; net.Socket does, for a handle it is given). Null where the handle is not
   * reachable, and the caller falls back to `data` events.
   */
  private withSharedReadBuffer(sink: TransportSink): Socket | null {
    const old = this.sock as HandleCarrier;
    const handle = old._handle;
    if (!handle || typeof handle.useUserBuffer !== "function") return null;
    readBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
    old._handle = null;
    // `handle` is accepted by the constructor but not declared in the typings.
    const opts = {
      handle,
      readable: true,
      writable: true,
      onread: { buffer: readBuffer, callback: (n: number, buf: Uint8Array) => void sink.onData((buf as Buffer).subarray(0, n)) },
    };
    const s = new Socket(opts as ConstructorParameters<typeof Socket>[0]);
    s.setNoDelay(true);
    // The old socket owns nothing now; destroying it settles the listener's connection count.
    old.destroy();
    this.sock = s;
    return s;
  }

  private listen(sink: TransportSink): void {
    const s = this.sock;
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
