// The protocol text a raw benchmark client reads before it only counts bytes: it waits for INFO's
// line and counts PONGs, so a PING round trip can tell that the server processed everything sent
// before it. Shared by the TCP and the WebSocket load generators.

export class PongScan {
  private text = "";
  private pongs = 0;
  private waiter: (() => void) | null = null;
  /** Off once the client only counts bytes. */
  scanning = true;

  feed(s: string): void {
    this.text += s;
    let i: number;
    while ((i = this.text.indexOf("PONG\r\n")) >= 0) {
      this.pongs++;
      this.text = this.text.slice(i + 6);
    }
    if (this.text.length > 4096) this.text = this.text.slice(-16);
    if (this.waiter && this.pongs > 0) {
      this.pongs--;
      const w = this.waiter;
      this.waiter = null;
      w();
    }
  }

  /** Some complete line has arrived (INFO, before CONNECT). */
  get hasLine(): boolean {
    return this.text.includes("\r\n");
  }

  /** Scans again and resolves on the next PONG; `ping` sends the PING. */
  roundTrip(ping: () => void): Promise<void> {
    this.scanning = true;
    const p = new Promise<void>((r) => (this.waiter = r));
    ping();
    return p;
  }
}
