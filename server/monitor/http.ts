// The monitoring HTTP listener on uWebSockets.js: routes nats-server's endpoint paths (under the
// configured base path) to the handlers, answers JSON or JSONP (?callback=) as nats-server's
// ResponseHandler does, 400 with the decoder's text for a bad parameter and 404 for anything else.
// Handlers run synchronously inside the request callback, so no abort handling is needed.

import uWS, { type HttpRequest, type HttpResponse, type TemplatedApp, type us_listen_socket } from "uWebSockets.js";
import type { Server } from "../server.js";
import { type MonitorContext, countRequest } from "./context.js";
import { goJson } from "./gofmt.js";
import { BadRequest, Query } from "./query.js";
import { muxPrecheck } from "./paths.js";
import { ProcessStats } from "./process.js";
import { varz } from "./varz.js";
import { connzOptions, connzPage } from "./connz.js";
import { subsz } from "./subsz.js";
import { leafz, routez, routezOptions } from "./routez.js";
import { accountz } from "./accountz.js";
import { healthz, healthzOptions } from "./healthz.js";
import { jsz, jszOptions } from "./jsz.js";
import { metrics } from "./metrics.js";
import { dashboardHtml } from "./dashboard/page.js";

/** Records built per event-loop turn when a list is streamed. */
const STREAM_BATCH = 250;

interface Reply {
  status: string;
  contentType: string;
  /** Text, or with `binary` bytes as a binary string (errors echo the request's raw bytes). */
  body: string;
  binary?: boolean;
  location?: string;
  close?: boolean;
  /** A body too large to build in one turn: its pieces, built one per turn (see jsonStream). */
  chunks?: Iterator<string>;
}

type Handler = (ctx: MonitorContext, q: Query) => Reply;

const JSON_TYPE = "application/json";
const TEXT_TYPE = "text/plain; charset=utf-8";

function json(q: Query, v: unknown, indent = true): Reply {
  const body = goJson(v, indent);
  const cb = q.get("callback");
  // nats-server echoes any callback; a JavaScript name is all JSONP needs, so nothing else is reflected.
  if (cb !== "" && !/^[A-Za-z_$][\w$.]{0,127}$/.test(cb)) throw new BadRequest("invalid callback name");
  if (cb !== "") return { status: "200 OK", contentType: "application/javascript", body: `${cb}(${body})` };
  return { status: "200 OK", contentType: JSON_TYPE, body };
}

/**
 * The JSON of `head` with `list` as its last field (what json() would produce, byte for byte),
 * with the list's items built STREAM_BATCH at a time as the pieces are pulled.
 */
export function jsonStream<T>(q: Query, head: Record<string, unknown>, field: string, list: T[], build: (x: T) => unknown): Reply {
  const cb = q.get("callback");
  if (cb !== "" && !/^[A-Za-z_$][\w$.]{0,127}$/.test(cb)) throw new BadRequest("invalid callback name");
  // MarshalIndent nests the list two levels deep: its items start four spaces in.
  const whole = goJson({ ...head, [field]: null });
  const open = whole.slice(0, whole.length - "null\n}".length) + "[\n";
  function* pieces(): Generator<string> {
    yield (cb !== "" ? `${cb}(` : "") + open;
    for (let i = 0; i < list.length; i += STREAM_BATCH) {
      const part = list.slice(i, i + STREAM_BATCH).map((x) => goJson(build(x)).replace(/^/gm, "    "));
      yield part.join(",\n") + (i + STREAM_BATCH < list.length ? ",\n" : "");
    }
    yield "\n  ]\n}" + (cb !== "" ? ")" : "");
  }
  return { status: "200 OK", contentType: cb !== "" ? "application/javascript" : JSON_TYPE, body: "", chunks: pieces() };
}

/**
 * Each route counts itself in http_req_stats where nats-server does: most on arrival, /connz and
 * /routez only once their parameters decoded.
 */
const ROUTES = new Map<string, Handler>(Object.entries({
  "/varz": (ctx, q) => {
    countRequest(ctx, "/varz");
    return json(q, varz(ctx));
  },
  "/connz": (ctx, q) => {
    const o = connzOptions(q);
    countRequest(ctx, "/connz");
    const p = connzPage(ctx, o);
    if (p.page.length <= STREAM_BATCH) return json(q, { ...p.head, connections: p.page.map(p.build) });
    return jsonStream(q, p.head, "connections", p.page, p.build);
  },
  "/routez": (ctx, q) => {
    const o = routezOptions(q);
    countRequest(ctx, "/routez");
    return json(q, routez(ctx, o));
  },
  "/subsz": subszRoute,
  "/subscriptionsz": subszRoute,
  "/leafz": (ctx, q) => {
    countRequest(ctx, "/leafz");
    return json(q, leafz(ctx, q));
  },
  "/accountz": (ctx, q) => {
    countRequest(ctx, "/accountz");
    return json(q, accountz(ctx, q));
  },
  "/jsz": (ctx, q) => {
    countRequest(ctx, "/jsz");
    return json(q, jsz(ctx, jszOptions(q)));
  },
  "/healthz": (ctx, q) => {
    countRequest(ctx, "/healthz");
    const h = healthz(ctx, healthzOptions(q));
    const r = json(q, h, false);
    if (h.error !== undefined) r.status = "503 Service Unavailable";
    return r;
  },
  "/metrics": (ctx) => {
    countRequest(ctx, "/metrics");
    return { status: "200 OK", contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics(ctx) };
  },
} satisfies Record<string, Handler>));

function subszRoute(ctx: MonitorContext, q: Query): Reply {
  countRequest(ctx, "/subsz");
  return json(q, subsz(ctx, q));
}

export class MonitorHttp {
  private readonly app = uWS.App();
  private listenSocket: us_listen_socket | null = null;
  private readonly ctx: MonitorContext;
  private readonly base: string;
  port = 0;

  constructor(private readonly server: Server) {
    this.ctx = { server, proc: new ProcessStats(), reqStats: new Map() };
    const bp = server.opts.http?.basePath ?? "/";
    this.base = bp === "/" ? "" : bp.replace(/\/+$/, "");
    this.app.any("/*", (res, req) => this.handle(res, req));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port === -1 ? 0 : port, (ls) => {
        if (!ls) {
          reject(new Error(`can't listen to the monitor port: ${host}:${port}`));
          return;
        }
        this.listenSocket = ls;
        this.port = uWS.us_socket_local_port(ls);
        resolve(this.port);
      });
    });
  }

  close(): void {
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    // Also drops idle keep-alive connections, which would otherwise hold the process open.
    (this.app as TemplatedApp & { close(): void }).close();
  }

  private handle(res: HttpResponse, req: HttpRequest): void {
    let reply: Reply;
    try {
      reply = this.route(req.getMethod(), req.getUrl(), req.getQuery() ?? "");
    } catch (e) {
      if (e instanceof BadRequest) reply = { status: "400 Bad Request", contentType: TEXT_TYPE, body: e.message, binary: true };
      else {
        this.server.log.error(`monitoring: error handling ${req.getUrl()}: ${(e as Error).stack ?? e}`);
        reply = { status: "500 Internal Server Error", contentType: TEXT_TYPE, body: "Internal Server Error\n" };
      }
    }
    if (reply.chunks) return this.stream(res, reply, reply.chunks);
    res.cork(() => {
      res.writeStatus(reply.status);
      if (reply.contentType) res.writeHeader("Content-Type", reply.contentType);
      if (reply.location !== undefined) res.writeHeader("Location", reply.location);
      if (reply.status.startsWith("404")) res.writeHeader("X-Content-Type-Options", "nosniff");
      res.end(reply.binary ? Buffer.from(reply.body, "latin1") : reply.body, reply.close === true);
    });
  }

  /** Writes one piece per event-loop turn until the body is complete or the client went away. */
  private stream(res: HttpResponse, reply: Reply, chunks: Iterator<string>): void {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    const step = (first: boolean) => {
      if (aborted) return;
      let next: IteratorResult<string>;
      try {
        next = chunks.next();
      } catch (e) {
        this.server.log.error(`monitoring: error streaming a response: ${(e as Error).stack ?? e}`);
        res.close();
        return;
      }
      res.cork(() => {
        if (first) res.writeStatus(reply.status).writeHeader("Content-Type", reply.contentType);
        if (next.done) res.end();
        else res.write(next.value);
      });
      if (!next.done) setImmediate(step, false);
    };
    step(true);
  }

  private route(method: string, rawPath: string, rawQuery: string): Reply {
    // Go's server decodes the path (a bad escape is a 400 before any handler), and its ServeMux
    // redirects a path that is not clean to the clean one.
    const pre = muxPrecheck(method, rawPath, rawQuery);
    if ("answer" in pre) return pre.answer;
    const path = pre.path;
    const q = new Query(rawQuery);
    if (path === this.base || path === `${this.base}/`) {
      countRequest(this.ctx, "/");
      return { status: "200 OK", contentType: "text/html; charset=utf-8", body: dashboardHtml(this.base) };
    }
    const handler = path.startsWith(this.base) ? ROUTES.get(path.slice(this.base.length)) : undefined;
    if (handler === undefined) return { status: "404 Not Found", contentType: TEXT_TYPE, body: "404 page not found\n" };
    return handler(this.ctx, q);
  }
}
