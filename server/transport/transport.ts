// A client connection's byte stream, whatever carries it (TCP, TLS, WebSocket).
export interface ClientTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly kind: "tcp" | "tls" | "websocket";
  /** Writes the chunks in order; false when the peer is not keeping up (backpressure). */
  write(chunks: Buffer[]): boolean;
  /** Bytes accepted by write() and not yet sent. */
  readonly backlog: number;
  pause(): void;
  resume(): void;
  /**
   * Ends the connection after what was written is sent. `reason` is the close reason text
   * (ClosedReason); framed transports such as WebSocket put it in their close frame.
   */
  end(reason?: string): void;
  /** Drops the connection now. */
  destroy(reason?: string): void;
}

/** The events a transport delivers to its connection. */
export interface TransportSink {
  /**
   * Input bytes. The buffer is borrowed: it is valid only during the call (TCP reads into one
   * buffer shared by every connection), so whatever is kept must be copied.
   */
  onData(buf: Buffer): void;
  onDrain(): void;
  onTransportClosed(): void;
}
