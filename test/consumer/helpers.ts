// Shared bits for the consumer tests: a describe's JetStream server with v3 client handles or a raw
// Wire connection, publishing helpers and consumer info in the shape the API returns it.
import * as v3 from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { jsFixture, type JsTestServer } from "../jetstream/helpers.js";
import { Wire } from "./wire.js";

export { api, errCode, type Json } from "../jetstream/helpers.js";

/** jsFixture with one @nats-io connection and its JetStream handles: s, nc, js and jsm. */
export function jsEnvFixture(): { s: JsTestServer; nc: v3.NatsConnection; js: JetStreamClient; jsm: JetStreamManager } {
  return jsFixture(
    async (s) => {
      const nc = await v3.connect({ servers: s.url });
      return { nc, js: jetstream(nc, { timeout: 10_000 }), jsm: await jetstreamManager(nc, { timeout: 10_000 }) };
    },
    (c) => c.nc.close(),
  );
}

/** jsFixture with a raw protocol connection: s and w. */
export function jsWireFixture(): { s: JsTestServer; w: Wire } {
  return jsFixture(async (s) => ({ w: await Wire.connect(s.port) }), (c) => c.w.close());
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
