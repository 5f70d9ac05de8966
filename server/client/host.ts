// What a client connection needs from the server that owns it. Kept as an interface so the
// client can be driven by tests without a listening server.
import type { Authenticator } from "../auth/auth.js";
import type { Sublist, SublistResult } from "../subjects/sublist.js";
import type { Logger } from "../logger.js";
import type { Client } from "./client.js";
import type { Subscriber, Subscription } from "./subscription.js";

export interface ClientLimits {
  maxControlLine: number;
  maxPayload: number;
  maxPending: number;
  maxSubscriptions: number;
  writeDeadlineMs: number;
  pingIntervalMs: number;
  pingMax: number;
  authTimeoutMs: number;
}

export interface ServerStats {
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
  slowConsumers: number;
}

export interface ClientHost {
  readonly options: ClientLimits;
  readonly log: Logger;
  readonly auth: Authenticator;
  readonly sublist: Sublist<Subscription>;
  readonly stats: ServerStats;
  readonly headersSupported: boolean;
  /** The INFO line (with CRLF) for this client. */
  clientInfo(c: Client): string;
  /** Routes a message to every matching subscription; true if anyone took it. */
  route(publisher: Subscriber | null, subject: string, reply: string | null, hdrLen: number, msg: Buffer): boolean;
  /** Routes to a result the caller already matched. */
  deliverTo(r: SublistResult<Subscription>, publisher: Subscriber | null, subject: string, reply: string | null, hdrLen: number, buf: Buffer, start: number, end: number): boolean;
  addSubscription(sub: Subscription): void;
  removeSubscription(sub: Subscription): void;
  scheduleFlush(c: Client): void;
  removeClient(c: Client): void;
}
