// JetStream's figures for the monitoring endpoints (/jsz, /varz "jetstream", /healthz, /metrics and
// the dashboard), counted from the live streams and consumers on each request. Registered beside
// the JetStream extension (server/extensions.ts) under the name "jetstream-monitor"; the monitor
// knows only the JetStreamMonitor interface (server/monitor/jetstream.ts).

import { statfsSync } from "node:fs";
import { totalmem } from "node:os";
import { join } from "node:path";
import type { Server, ServerExtension } from "../server/server.js";
import type { AccountDetailReport, ConsumerInfoReport, JetStreamConfigReport, JetStreamMonitor, JetStreamStatsReport, JszOptions, JszReport, StreamDetailReport } from "../server/monitor/jetstream.js";
import type { JetStream } from "./jetstream.js";
import type { ConsumerManager } from "./consumer/layer.js";
import { ACCOUNT } from "./stream/registry.js";
import { streamState } from "./api/stream_info.js";
import { clientConfig } from "./stream/config.js";
import { rfc3339 } from "./util/time.js";

/** nats-server's fallback when the store's file system cannot be asked (JetStreamMaxStoreDefault). */
const MAX_STORE_DEFAULT = 1024 ** 4;

export class JetStreamReport implements ServerExtension, JetStreamMonitor {
  readonly name = "jetstream-monitor";
  private running = false;

  constructor(
    private readonly js: JetStream,
    /** "always" or milliseconds, as configured. */
    private readonly syncInterval: "always" | number,
  ) {}

  /** Started after the JetStream extension (extensions start in registration order). */
  async start(_server: Server): Promise<void> {
    this.running = this.js.registry !== undefined;
  }

  async shutdown(): Promise<void> {
    this.running = false;
  }

  get enabled(): boolean {
    return this.running;
  }

  /**
   * The configured limits, or, where unlimited (-1), what nats-server would compute: 75% of the
   * machine's memory and the space available to the store directory.
   */
  private config(): JetStreamConfigReport {
    const js = this.js;
    const storeDir = join(js.storeDir, "jetstream");
    const { maxMemory, maxStorage } = js.limits;
    const cfg: JetStreamConfigReport & Record<string, unknown> = {
      max_memory: maxMemory >= 0 ? maxMemory : Math.floor(totalmem() / 4) * 3,
      max_storage: maxStorage >= 0 ? maxStorage : diskAvailable(storeDir),
      store_dir: storeDir,
    };
    // Newer nats-server (2.10+) reports the sync policy the same way.
    const sync = this.syncInterval;
    if (sync === "always") cfg.sync_always = true;
    else cfg.sync_interval = sync * 1e6;
    if (js.domain) cfg.domain = js.domain;
    return cfg;
  }

  private stats(): JetStreamStatsReport {
    const usage = this.js.registry.usage();
    return {
      memory: usage.memory,
      storage: usage.storage,
      reserved_memory: 0,
      reserved_storage: 0,
      accounts: 1,
      ha_assets: 0,
      api: { total: this.js.apiStats.total, errors: this.js.apiStats.errors },
    };
  }

  varz(): { config: JetStreamConfigReport; stats: JetStreamStatsReport } {
    return { config: this.config(), stats: this.stats() };
  }

  jsz(o: JszOptions): JszReport {
    const js = this.js;
    const streams = js.registry.list();
    let messages = 0;
    let bytes = 0;
    for (const s of streams) {
      const st = s.store.state();
      messages += st.msgs;
      bytes += st.bytes;
    }
    const report: JszReport = { config: this.config(), ...this.stats(), streams: streams.length, consumers: js.consumerTotal(), messages, bytes };
    // nats-server pages the account list; `acc` naming a JetStream account selects it regardless.
    const selected = o.account === ACCOUNT;
    if (selected || (o.accounts && o.offset <= 0)) report.account_details = [this.accountDetail(o)];
    return report;
  }

  private accountDetail(o: JszOptions): AccountDetailReport {
    const st = this.stats();
    // nats-server puts the account's reservation here (uint64(-1) when unlimited); 0 says "none" without a number JSON cannot carry.
    const detail: AccountDetailReport = { name: ACCOUNT, id: ACCOUNT, ...st, reserved_memory: 0, reserved_storage: 0, accounts: 0 };
    if (!o.streams) return detail;
    const mgr = this.js.consumers as ConsumerManager | null;
    const leader = this.js.server.name;
    const list: StreamDetailReport[] = [];
    for (const s of this.js.registry.list()) {
      const consumers = mgr?.consumers(s) ?? [];
      // Field order is nats-server's: name, created, cluster, config, state, consumer_detail.
      const d = { name: s.name, created: rfc3339(s.created), cluster: { leader } } as StreamDetailReport;
      if (o.config) d.config = clientConfig(s.config);
      d.state = streamState(s, { consumerCount: consumers.length }).state as unknown as StreamDetailReport["state"];
      if (o.consumers && consumers.length > 0) {
        d.consumer_detail = consumers.map((c) => {
          const info = c.info() as unknown as ConsumerInfoReport;
          if (!o.config) delete info.config;
          return info;
        });
      }
      list.push(d);
    }
    detail.stream_detail = list;
    return detail;
  }
}

function diskAvailable(dir: string): number {
  for (let d = dir; ; ) {
    try {
      const s = statfsSync(d);
      return s.bavail * s.bsize;
    } catch {
      // The directory may not exist yet: ask its parent.
      const up = join(d, "..");
      if (up === d) return MAX_STORE_DEFAULT;
      d = up;
    }
  }
}
