// In-process subscribers: JetStream, the system account and other server internals receive
// messages through a callback instead of a socket, on the same routing path as clients.
import type { Subscriber, Subscription } from "./subscription.js";

/**
 * Returns false to decline the message: then it counts as not delivered, as if nobody
 * subscribed (a request gets no-responders), which is what nats-server's per-object subscriptions
 * give where tsnats has one wildcard subscription (an ack to a consumer that does not exist).
 */
export type MsgHandler = (subject: string, reply: string | null, hdrLen: number, msg: Buffer, publisher: Subscriber | null, sub: Subscription) => void | boolean;

export class InternalSubscriber implements Subscriber {
  readonly kind = "internal" as const;

  /** borrow: the handler is done with the message when it returns, and gets a view, not a copy. */
  constructor(
    readonly name: string,
    private readonly handler: MsgHandler,
    private readonly borrow = false,
  ) {}

  deliver(sub: Subscription, subject: string, reply: string | null, hdrLen: number, buf: Buffer, start: number, end: number, publisher: Subscriber | null): boolean {
    if (sub.closed) return false;
    sub.nm++;
    if (this.borrow) return this.handler(subject, reply, hdrLen, buf.subarray(start, end), publisher, sub) !== false;
    // Handlers may keep the message past the call, and buf may be a transport's read buffer
    // that is reused once the parser returns: they get their own copy.
    const copy = Buffer.allocUnsafe(end - start);
    buf.copy(copy, 0, start, end);
    return this.handler(subject, reply, hdrLen, copy, publisher, sub) !== false;
  }
}
