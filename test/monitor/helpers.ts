// Monitor test helpers: an in-process server with a random monitoring port (and optional extra
// extensions registered before start, such as the stand-in JetStream), and a small HTTP getter.
import { Server, type ServerExtension } from "../../server/server.js";
import { defaultOptions, type ServerOptions } from "../../server/config/options.js";
import { createLogger, silentLogger } from "../../server/logger.js";
import { installExtensions } from "../../server/extensions.js";
import { Monitor } from "../../server/monitor/monitor.js";

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

export async function getHttp(base: string, path: string): Promise<HttpResult> {
  const r = await fetch(base + path);
  return { status: r.status, type: r.headers.get("content-type") ?? "", body: await r.text() };
}

/**
 * With `extensions`, those are registered first and installExtensions is not run for JetStream:
 * a stand-in registered as "jetstream" is the only one, even with `jetstream` in the options.
 */
export async function startMonitored(overrides: Partial<ServerOptions> = {}, extensions: ServerExtension[] = []): Promise<Monitored> {
  const opts: ServerOptions = { ...defaultOptions(), host: "127.0.0.1", port: -1, http: { host: "127.0.0.1", port: -1, basePath: "/" }, ...overrides };
  const log = process.env.TSNATS_TEST_LOG ? createLogger({ debug: true, trace: false, logtime: true, logJson: false }) : silentLogger();
  const server = new Server(opts, log);
  for (const e of extensions) server.use(e);
  if (extensions.some((e) => e.name === "jetstream")) server.use(new Monitor());
  else installExtensions(server, opts, log);
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
