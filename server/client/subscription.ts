import type { SublistEntry } from "../subjects/sublist.js";

/**
 * Whatever owns subscriptions and receives messages: a client connection, or an internal
 * subscriber (JetStream, the system account) that handles messages in-process.
 */
export interface Subscriber {
  readonly kind: "client" | "internal";
  /**
   * Delivers one message: buf[start, end) holds headers (hdrLen bytes, or hdrLen -1 for none) then
   * payload. The range is only valid during the call. Returns false when the message was not taken
   * (echo off, auto-unsubscribed, closed).
   */
  deliver(sub: Subscription, subject: string, reply: string | null, hdrLen: number, buf: Buffer, start: number, end: number, publisher: Subscriber | null): boolean;
}

export class Subscription implements SublistEntry {
  /** Messages delivered so far. */
  nm = 0;
  /** Auto-unsubscribe after this many messages (0: none). */
  max = 0;
  closed = false;
  /** Set when a wildcard subscription overlaps the owner's subscribe deny list. */
  checkDeny = false;

  // The "MSG <subject> <sid> " / "HMSG <subject> <sid> " bytes for the subject last delivered,
  // built once that subject repeats: most subscriptions see one subject over and over.
  private lastSubject: string | null = null;
  private pfxSubject: string | null = null;
  private msgPfx: Buffer | null = null;
  private hmsgPfx: Buffer | null = null;

  constructor(
    readonly owner: Subscriber,
    readonly subject: string,
    readonly queue: string | null,
    readonly sid: string,
  ) {}

  /** The cached MSG/HMSG line prefix for this subject, or null (the caller writes it as text). */
  prefix(subject: string, headers: boolean): Buffer | null {
    if (subject !== this.pfxSubject) {
      if (subject !== this.lastSubject) {
        this.lastSubject = subject;
        return null;
      }
      this.pfxSubject = subject;
      this.msgPfx = this.hmsgPfx = null;
    }
    if (headers) return (this.hmsgPfx ??= Buffer.from(`HMSG ${subject} ${this.sid} `));
    return (this.msgPfx ??= Buffer.from(`MSG ${subject} ${this.sid} `));
  }
}
