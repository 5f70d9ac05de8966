// Monitor test helpers: an in-process server with a random monitoring port, JetStream options, and a
// small HTTP getter.
import { Server } from "../../server/server.js";
import { defaultOptions, type ServerOptions } from "../../server/config/options.js";
import { createLogger, silentLogger } from "../../server/logger.js";
import { installExtensions } from "../../server/extensions.js";

export interface Monitored {
  server: Server;
  port: number;
  url: string;
  httpUrl: string;
  get(path: string): Promise<HttpResult>;
  json<T = Record<string, any>>(path: string): Promise<T>;
  stop(): Promise<void>;
}

export interface HttpResult {
  status: number;
  type: string;
  body: string;
}

/** Options for JetStream in `dir` with fixed limits (64 MiB memory, 1 GiB file), syncing every commit. */
export function jsOptions(dir: string): Pick<ServerOptions, "jetstream"> {
  return { jetstream: { enabled: true, storeDir: dir, maxMemoryStore: 64 * 1024 * 1024, maxFileStore: 1024 * 1024 * 1024, syncInterval: "always" } };
}

export async function getHttp(base: string, path: string): Promise<HttpResult> {
  const r = await fetch(base + path);
  return { status: r.status, type: r.headers.get("content-type") ?? "", body: await r.text() };
}

/** An in-process server with what the options configure (JetStream, websocket) and monitoring. */
export async function startMonitored(overrides: Partial<ServerOptions> = {}): Promise<Monitored> {
  const opts: ServerOptions = { ...defaultOptions(), host: "127.0.0.1", port: -1, http: { host: "127.0.0.1", port: -1, basePath: "/" }, ...overrides };
  const log = process.env.TSNATS_TEST_LOG ? createLogger({ debug: true, trace: false, logtime: true, logJson: false }) : silentLogger();
  const server = new Server(opts, log);
  installExtensions(server, opts, log);
  await server.start();
  const httpUrl = server.portsReport().monitoring![0]!;
  const get = (path: string) => getHttp(httpUrl, path);
  return {
    server,
    port: server.port,
    url: `nats://127.0.0.1:${server.port}`,
    httpUrl,
    get,
    json: async <T>(path: string) => {
      const r = await get(path);
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body}`);
      return JSON.parse(r.body) as T;
    },
    stop: () => server.shutdown(),
  };
}
