// JetStream as a server extension: opens the store directory, recovers the streams saved there,
// answers the $JS.API, and lets each stream capture its subjects. The core server knows it only
// through the ServerExtension interface and its internal subscribe/publish calls.

import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server, ServerExtension } from "../server/server.js";
import type { Subscription } from "../server/client/subscription.js";
import { StoreManager, type SyncInterval } from "./store/index.js";
import { StreamRegistry } from "./stream/registry.js";
import type { Stream, StreamCopier, StreamHost } from "./stream/stream.js";
import { ApiRouter } from "./api/router.js";
import { installConsumers } from "./consumer/index.js";
import { nowNanos, rfc3339 } from "./util/time.js";
import { randomBytes } from "node:crypto";

export interface JetStreamOptions {
  storeDir?: string;
  maxMemoryStore: number;
  maxFileStore: number;
  domain?: string;
  syncInterval: SyncInterval;
}

/** Where JetStream keeps its data when no store_dir is configured (nats-server uses the temp dir). */
export function defaultStoreDir(): string {
  return join(tmpdir(), "nats", "jetstream");
}

/** The hooks the consumer layer provides. */
export interface ConsumerLayer {
  count(stream: Stream): number;
  total(): number;
  hasInterest(stream: Stream, subject: string, seq: number): boolean;
  copied(stream: Stream, by: StreamCopier, msgs: readonly { seq: number; subject: string }[]): void;
  release(stream: Stream, from: number, to: number, by: StreamCopier | null): void;
  onStreamDeleted(stream: Stream): void;
  shutdown(): void;
}

export class JetStream implements ServerExtension, StreamHost {
  readonly name = "jetstream";
  server!: Server;
  stores!: StoreManager;
  registry!: StreamRegistry;
  readonly router = new ApiRouter(this);
  readonly apiStats = { total: 0, errors: 0 };
  readonly storeDir: string;
  consumers: ConsumerLayer | null = null;
  /** release() calls made before the consumers were recovered. */
  private releases: (() => void)[] = [];
  private apiSub: Subscription | null = null;
  private domainSub: Subscription | null = null;

  constructor(private readonly opts: JetStreamOptions) {
    this.storeDir = opts.storeDir ?? defaultStoreDir();
  }

  get domain(): string | undefined {
    return this.opts.domain;
  }

  get limits(): { maxMemory: number; maxStorage: number } {
    return { maxMemory: this.opts.maxMemoryStore, maxStorage: this.opts.maxFileStore };
  }

  async start(server: Server): Promise<void> {
    this.server = server;
    const log = server.log;
    log.info("Starting JetStream");
    // Streams live under <store_dir>/jetstream, as with nats-server.
    this.stores = StoreManager.open(join(this.storeDir, "jetstream"), { syncInterval: this.opts.syncInterval });
    this.registry = new StreamRegistry(
      this.stores,
      this,
      {
        subscribe: (subject, handler, borrow) => server.subscribe(subject, (s, r, h, m) => handler(s, r, h, m), { name: "jetstream", borrow }),
        unsubscribe: (sub) => server.unsubscribe(sub),
      },
      { maxStreams: -1, clustered: false, maxMemory: this.opts.maxMemoryStore, maxStore: this.opts.maxFileStore },
    );
    this.registry.onDelete = (s) => this.consumers?.onStreamDeleted(s);
    const { recovered, errors } = this.registry.recover(nowNanos());
    for (const e of errors) log.error(`JetStream: ${e}`);
    log.info(`  Store Directory: ${JSON.stringify(this.storeDir)}`);
    log.info(`  Sync Interval: ${this.opts.syncInterval === "always" ? "always (fsync on every commit)" : `${this.opts.syncInterval}ms`}`);
    if (recovered > 0) log.info(`  Recovered ${recovered} stream(s)`);
    installConsumers(this);
    for (const r of this.releases.splice(0)) r();
    this.apiSub = server.subscribe("$JS.API.>", (subject, reply, hdrLen, msg) => this.router.handle(subject, reply, hdrLen, msg), { name: "jetstream-api" });
    const domain = this.opts.domain;
    if (domain) {
      // nats-server maps $JS.<domain>.API.> onto $JS.API.> for the account: the same requests,
      // pull requests on consumers' own subscriptions included.
      const prefix = `$JS.${domain}.API`;
      this.domainSub = server.subscribe(`${prefix}.>`, (subject, reply, hdrLen, msg) => server.route(null, `$JS.API${subject.slice(prefix.length)}`, reply, hdrLen, msg), { name: "jetstream-domain-api" });
    }
  }

  async shutdown(): Promise<void> {
    if (this.apiSub) this.server.unsubscribe(this.apiSub);
    if (this.domainSub) this.server.unsubscribe(this.domainSub);
    // Copies that are in flight finish first, so that their origins' retention sees them.
    this.registry?.stopAllSources();
    await this.stores?.flush();
    this.consumers?.shutdown();
    this.registry?.closeAll();
    await this.stores?.flush();
    this.stores?.close();
  }

  infoFields(): Record<string, unknown> {
    return this.opts.domain ? { jetstream: true, domain: this.opts.domain } : { jetstream: true };
  }

  // --- StreamHost ---

  publish(subject: string, reply: string | null, hdr: Buffer | null, payload: Buffer): void {
    this.server.publish(subject, reply, hdr, payload);
  }

  /** A message already laid out as header block + payload (hdrLen bytes of headers). */
  publishMsg(subject: string, hdrLen: number, msg: Buffer): void {
    // Not counted in stats.in*, as Server.publish: nats-server counts only what clients send.
    this.server.route(null, subject, null, hdrLen, msg);
  }

  warn(msg: string): void {
    this.server.log.warn(msg);
  }

  hasInterest(stream: Stream, subject: string, seq: number): boolean {
    return this.consumers?.hasInterest(stream, subject, seq) ?? false;
  }

  copied(stream: Stream, by: StreamCopier, msgs: readonly { seq: number; subject: string }[]): void {
    this.consumers?.copied(stream, by, msgs);
  }

  release(stream: Stream, from: number, to: number, by: StreamCopier | null): void {
    // At a restart sources start before consumers are back, and only they can say what is needed.
    if (this.consumers === null) this.releases.push(() => this.release(stream, from, to, by));
    else if (!stream.closed) this.consumers.release(stream, from, to, by);
  }

  resourcesExceeded(storage: "file" | "memory"): boolean {
    return this.registry.overLimit(storage);
  }

  consumerCount(stream: Stream): number {
    return this.consumers?.count(stream) ?? 0;
  }

  consumerTotal(): number {
    return this.consumers?.total() ?? 0;
  }

  /** Publishes an advisory if anyone listens (they are informational). */
  advisory(subject: string, type: string, fields: Record<string, unknown>): void {
    if (!this.server.sublist.hasInterest(subject)) return;
    const body = { type, id: randomBytes(11).toString("base64url"), timestamp: rfc3339(nowNanos()), ...fields, ...(this.domain ? { domain: this.domain } : {}) };
    this.server.publish(subject, null, null, Buffer.from(JSON.stringify(body)));
  }
}
