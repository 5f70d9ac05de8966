// Wires the optional parts of the server (JetStream, monitoring, websocket, clustering) to the core
// through Server.use(), and decides which configured features tsnats refuses to start with
// because running without them would weaken security.

import type { Server } from "./server.js";
import type { ServerOptions } from "./config/options.js";
import type { Logger } from "./logger.js";
import { securityRefusals } from "./config/load.js";
import { Monitor } from "./monitor/monitor.js";
import { WebSocketListener } from "./transport/websocket.js";
import { JetStream } from "../jetstream/jetstream.js";
import { JetStreamReport } from "../jetstream/monitor_report.js";

/** A message naming every configured feature that must not be silently ignored, or null. */
export function refuseUnsupported(o: ServerOptions): string | null {
  const problems: string[] = [];
  if (o.tls) problems.push("tls: TLS is not implemented yet; refusing to serve in plain text");
  if (o.accounts && Object.keys(o.accounts).length > 0) problems.push("accounts: multi-account isolation is not implemented yet");
  problems.push(...securityRefusals(o));
  return problems.length === 0 ? null : problems.join("; ");
}

/** Configured features that are parsed but not acted on yet, and do not weaken security if ignored. */
export function unsupportedWarnings(o: ServerOptions): string[] {
  return o.unsupported.filter((u) => !u.weakensSecurity).map((u) => `${u.where}: ${u.path}: not supported by tsnats yet; ignored`);
}

export function installExtensions(server: Server, o: ServerOptions, log: Logger): void {
  const js = o.jetstream;
  if (js?.enabled) {
    const jetstream = new JetStream({ storeDir: js.storeDir, maxMemoryStore: js.maxMemoryStore, maxFileStore: js.maxFileStore, domain: js.domain, syncInterval: js.syncInterval });
    server.use(jetstream);
    // After JetStream, so it starts once the streams are recovered.
    server.use(new JetStreamReport(jetstream, js.syncInterval));
  }
  if (o.http) server.use(new Monitor());
  if (o.websocket && o.websocket.port !== 0) server.use(new WebSocketListener(o.websocket));
  if (o.cluster) log.warn("clustering is not implemented yet in this build; running standalone");
}
