// Shared bits for JetStream tests: a server with JetStream on a temp store (also as a describe's
// fixture), and raw API calls that return the parsed JSON (so tests see exactly what clients see).
import { before, after } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v3 from "@nats-io/transport-node";
import { startServer, type TestServer } from "../helpers/server.js";
import type { ServerOptions } from "../../server/config/options.js";

export interface JsTestServer extends TestServer {
  dir: string;
  /** Stops the server and removes its store. */
  destroy(): Promise<void>;
}

/** js: JetStream options on top of the defaults (limits, sync interval). */
export async function startJs(overrides: Partial<ServerOptions> = {}, dir?: string, js: Partial<ServerOptions["jetstream"]> = {}): Promise<JsTestServer> {
  const storeDir = dir ?? mkdtempSync(join(tmpdir(), "tsnats-js-"));
  const s = await startServer({ jetstream: { enabled: true, storeDir, maxMemoryStore: -1, maxFileStore: -1, syncInterval: "always", ...js }, ...overrides });
  return {
    ...s,
    dir: storeDir,
    destroy: async () => {
      await s.stop();
      if (!dir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/**
 * For the enclosing describe: its before hook starts a JetStream server (startJs's arguments; a
 * random port, a temp store) and opens `connect`'s connections to it, its after hook closes them
 * with `close` and destroys the server. The returned object's fields are set once before has run.
 */
export function jsFixture<C extends object>(connect: (s: JsTestServer) => Promise<C>, close: (c: C) => unknown, ...start: Parameters<typeof startJs>): { s: JsTestServer } & C {
  const fx = {} as { s: JsTestServer } & C;
  let connected = false;
  before(async () => {
    fx.s = await startJs(...start);
    Object.assign(fx, await connect(fx.s));
    connected = true;
  });
  after(async () => {
    if (connected) await close(fx);
    await fx.s?.destroy();
  });
  return fx;
}

/** jsFixture with one @nats-io connection: s and nc. */
export function jsClientFixture(...start: Parameters<typeof startJs>): { s: JsTestServer; nc: v3.NatsConnection } {
  return jsFixture(async (s) => ({ nc: await v3.connect({ servers: s.url }) }), (c) => c.nc.close(), ...start);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** A JetStream API request; the response parsed. */
export async function api(nc: v3.NatsConnection, subject: string, body: unknown = undefined): Promise<Json> {
  const payload = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  const m = await nc.request(subject, payload, { timeout: 5000 });
  return JSON.parse(m.string());
}

/** Publishes and returns the PubAck (or PubAck error) body parsed. */
export async function pub(nc: v3.NatsConnection, subject: string, data: string, headers?: Record<string, string>): Promise<Json> {
  let h: v3.MsgHdrs | undefined;
  if (headers) {
    h = v3.headers();
    for (const [k, v] of Object.entries(headers)) h.set(k, v);
  }
  const m = await nc.request(subject, data, { timeout: 5000, headers: h });
  return JSON.parse(m.string());
}

export function errCode(r: Json): number | undefined {
  return r?.error?.err_code;
}
