// A stand-in JetStream for monitor tests: an extension named "jetstream" that implements the
// monitor interface (server/monitor/jetstream.ts) over real traffic. Each stream is an internal
// subscriber counting what is published to its subjects; each consumer's pending count is the
// stream's messages past its acknowledged floor. It exercises /jsz, /varz, /healthz, /metrics and
// the dashboard exactly as the real JetStream extension will feed them.
import type { Server, ServerExtension } from "../../server/server.js";
import type { Subscription } from "../../server/client/subscription.js";
import type { JetStreamMonitor, JszOptions, JszReport, StreamDetailReport } from "../../server/monitor/jetstream.js";
import { goTime } from "../../server/monitor/gofmt.js";

interface FakeStream {
  name: string;
  subjects: string[];
  created: number;
  messages: number;
  bytes: number;
  firstTs: number;
  lastTs: number;
  subjectsSeen: Set<string>;
  consumers: Map<string, { created: number; acked: number }>;
  subs: Subscription[];
}

export class FakeJetStream implements ServerExtension, JetStreamMonitor {
  readonly name = "jetstream";
  enabled = true;
  apiTotal = 0;
  apiErrors = 0;
  private server: Server | null = null;
  private readonly streams = new Map<string, FakeStream>();
  private readonly pending: Array<{ name: string; subjects: string[]; consumers: string[] }> = [];

  constructor(readonly storeDir = "/tmp/fake-js") {}

  /** Declares a stream (and its consumers); it starts capturing once the server runs. */
  addStream(name: string, subjects: string[], consumers: string[] = []): void {
    if (this.server) this.create(name, subjects, consumers);
    else this.pending.push({ name, subjects, consumers });
  }

  /** Acknowledges a consumer up to `n` messages of its stream. */
  ack(stream: string, consumer: string, n: number): void {
    const c = this.streams.get(stream)!.consumers.get(consumer)!;
    c.acked = n;
  }

  async start(server: Server): Promise<void> {
    this.server = server;
    for (const p of this.pending.splice(0)) this.create(p.name, p.subjects, p.consumers);
  }

  async shutdown(): Promise<void> {
    for (const st of this.streams.values()) for (const s of st.subs) this.server?.unsubscribe(s);
  }

  infoFields(): Record<string, unknown> {
    return { jetstream: true };
  }

  private create(name: string, subjects: string[], consumers: string[]): void {
    const now = Date.now();
    const st: FakeStream = { name, subjects, created: now, messages: 0, bytes: 0, firstTs: 0, lastTs: 0, subjectsSeen: new Set(), consumers: new Map(), subs: [] };
    for (const c of consumers) st.consumers.set(c, { created: now, acked: 0 });
    for (const subj of subjects) {
      st.subs.push(
        this.server!.subscribe(
          subj,
          (subject, _reply, _hdrLen, msg) => {
            st.messages++;
            st.bytes += subject.length + msg.length;
            st.lastTs = Date.now();
            if (st.firstTs === 0) st.firstTs = st.lastTs;
            st.subjectsSeen.add(subject);
          },
          { name: `stream ${name}` },
        ),
      );
    }
    this.streams.set(name, st);
  }

  private totals() {
    let messages = 0;
    let bytes = 0;
    let consumers = 0;
    for (const st of this.streams.values()) {
      messages += st.messages;
      bytes += st.bytes;
      consumers += st.consumers.size;
    }
    return { messages, bytes, consumers };
  }

  private stats() {
    const t = this.totals();
    return { memory: 0, storage: t.bytes, reserved_memory: 0, reserved_storage: 0, accounts: 1, ha_assets: 0, api: { total: this.apiTotal, errors: this.apiErrors } };
  }

  varz() {
    return { config: { max_memory: 1 << 30, max_storage: 1 << 32, store_dir: this.storeDir }, stats: this.stats() };
  }

  jsz(o: JszOptions): JszReport {
    const t = this.totals();
    const r: JszReport = { config: this.varz().config, ...this.stats(), streams: this.streams.size, consumers: t.consumers, messages: t.messages, bytes: t.bytes };
    if (o.accounts) {
      const detail: StreamDetailReport[] = [];
      for (const st of this.streams.values()) {
        const d: StreamDetailReport = {
          name: st.name,
          created: goTime(st.created),
          cluster: { leader: this.server!.name },
          state: { messages: st.messages, bytes: st.bytes, first_seq: st.messages > 0 ? 1 : 0, first_ts: goTime(st.firstTs), last_seq: st.messages, last_ts: goTime(st.lastTs), num_subjects: st.subjectsSeen.size, consumer_count: st.consumers.size },
        };
        if (o.config) d.config = { name: st.name, subjects: st.subjects };
        if (o.consumers && st.consumers.size > 0) {
          d.consumer_detail = [...st.consumers.entries()].map(([name, c]) => ({
            stream_name: st.name,
            name,
            created: goTime(c.created),
            delivered: { consumer_seq: c.acked, stream_seq: c.acked },
            ack_floor: { consumer_seq: c.acked, stream_seq: c.acked },
            num_ack_pending: 0,
            num_redelivered: 0,
            num_waiting: 0,
            num_pending: st.messages - c.acked,
          }));
        }
        if (o.streams) detail.push(d);
      }
      r.account_details = [{ name: "$G", id: "$G", ...this.stats(), ...(o.streams ? { stream_detail: detail } : {}) }];
    }
    return r;
  }
}
