// Running one client script against tsnats and against the reference nats-server 2.9.10 (when
// installed), each on a fresh server with JetStream, so a test can compare what the client
// library observes on both: what the client does with a server's answers is the client's
// business; that it does the same with ours is what we must show.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v3 from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { referenceServer, spawnServer, type ChildServer } from "../helpers/server.js";
import { startJs, type JsTestServer } from "../jetstream/helpers.js";

export interface Side {
  who: "tsnats" | "nats-server";
  url: string;
  port: number;
  nc: v3.NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

export const REFERENCE = referenceServer();

/** Runs the script on both servers at once; `ref` is null when nats-server is not installed. */
export async function onBoth<T>(script: (side: Side) => Promise<T>): Promise<{ ours: T; ref: T | null }> {
  const dir = mkdtempSync(join(tmpdir(), "cboth-"));
  let child: ChildServer | null = null;
  let ours: JsTestServer | null = null;
  const conns: v3.NatsConnection[] = [];
  const run = async (who: Side["who"], port: number): Promise<T> => {
    const url = `nats://127.0.0.1:${port}`;
    const nc = await v3.connect({ servers: url });
    conns.push(nc);
    const side: Side = { who, url, port, nc, js: jetstream(nc, { timeout: 10_000 }), jsm: await jetstreamManager(nc, { timeout: 10_000 }) };
    try {
      return await script(side);
    } catch (e) {
      throw new Error(`${who}: ${(e as Error).stack ?? e}`);
    }
  };
  try {
    ours = await startJs();
    if (REFERENCE !== null) {
      child = await spawnServer(`port: -1\nhost: 127.0.0.1\njetstream { store_dir: "${join(dir, "ref")}" }\n`, { bin: REFERENCE, dir });
      const [a, b] = await Promise.all([run("tsnats", ours.port), run("nats-server", child.port)]);
      return { ours: a, ref: b };
    }
    return { ours: await run("tsnats", ours.port), ref: null };
  } finally {
    for (const nc of conns) await nc.close().catch(() => {});
    child?.cleanup();
    await ours?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
