// Shared bits for the consumer tests: a JetStream server, v3 client handles, publishing helpers and
// consumer info in the shape the API returns it.
import * as v3 from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { startJs, type JsTestServer } from "../jetstream/helpers.js";
import type { ServerOptions } from "../../server/config/options.js";

export { api, errCode, type Json } from "../jetstream/helpers.js";

export interface Env {
  s: JsTestServer;
  nc: v3.NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  close(): Promise<void>;
}

/** A JetStream server and one @nats-io connection with its JetStream handles. */
export async function env(overrides: Partial<ServerOptions> = {}): Promise<Env> {
  const s = await startJs(overrides);
  const nc = await v3.connect({ servers: s.url });
  const js = jetstream(nc, { timeout: 10_000 });
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  return {
    s,
    nc,
    js,
    jsm,
    close: async () => {
      await nc.close();
      await s.destroy();
    },
  };
}

/** Publishes n messages (`${prefix}${i}` payloads, i from 1) to subject(s) and waits for every PubAck. */
export async function fill(js: JetStreamClient, subject: string | ((i: number) => string), n: number, payload: (i: number) => string = (i) => `m${i}`): Promise<number[]> {
  const acks = [];
  for (let i = 1; i <= n; i++) acks.push(js.publish(typeof subject === "string" ? subject : subject(i), payload(i)));
  return (await Promise.all(acks)).map((a) => a.seq);
}

/** The counters of a consumer info that tests assert exactly. */
export function counts(ci: { delivered: { consumer_seq: number; stream_seq: number }; ack_floor: { consumer_seq: number; stream_seq: number }; num_ack_pending: number; num_redelivered: number; num_waiting: number; num_pending: number }) {
  return {
    delivered: [ci.delivered.consumer_seq, ci.delivered.stream_seq],
    ack_floor: [ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq],
    num_ack_pending: ci.num_ack_pending,
    num_redelivered: ci.num_redelivered,
    num_waiting: ci.num_waiting,
    num_pending: ci.num_pending,
  };
}
