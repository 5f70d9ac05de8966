// An ack that no consumer takes (its consumer was deleted, or the subject names none) gets what
// nats-server gives it, where each consumer has its own ack subscription: no responders. A client
// waiting on an ack reply (ackAck, AckSync) learns it at once instead of waiting out its timeout.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v3 from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy, type Consumer, type JetStreamManager } from "@nats-io/jetstream";
import { startJs } from "../jetstream/helpers.js";

/** A server, a stream `name` holding "one" and "two", and a durable consumer `durable` on it; fn runs with them. */
async function withConsumer(name: string, durable: string, ackPolicy: AckPolicy, fn: (nc: v3.NatsConnection, jsm: JetStreamManager, c: Consumer) => Promise<void>): Promise<void> {
  const s = await startJs();
  const nc = await v3.connect({ servers: s.url });
  try {
    const jsm = await jetstreamManager(nc);
    const subject = `${name.toLowerCase()}.a`;
    await jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`] });
    const js = jetstream(nc);
    await js.publish(subject, "one");
    await js.publish(subject, "two");
    await jsm.consumers.add(name, { durable_name: durable, ack_policy: ackPolicy });
    await fn(nc, jsm, await js.consumers.get(name, durable));
  } finally {
    await nc.close();
    await s.destroy();
  }
}

test("an ack request to a consumer that does not exist gets no-responders; a live consumer's ack still works", () =>
  withConsumer("K", "c", AckPolicy.Explicit, async (nc, jsm, c) => {
    const first = await c.next({ expires: 5000 });
    const second = await c.next({ expires: 5000 });
    assert.equal(await first!.ackAck(), true, "a live consumer answers the ack");
    await jsm.consumers.delete("K", "c");
    const noResponders = (e: Error) => e instanceof v3.errors.NoRespondersError || (e as Error & { cause?: unknown }).cause instanceof v3.errors.NoRespondersError;
    // The second delivery's own ack subject, after its consumer is gone.
    await assert.rejects(nc.request((second as unknown as { reply: string }).reply, "+ACK", { timeout: 20_000 }), noResponders);
    await assert.rejects(nc.request("$JS.ACK.not.an.ack", "+ACK", { timeout: 20_000 }), noResponders);
  }));

test("an ack to an ack_policy none consumer finds no responder, as current nats-server gives such consumers no ack subscription", () =>
  withConsumer("N", "none", AckPolicy.None, async (_nc, _jsm, c) => {
    const m = await c.next({ expires: 5000 });
    assert.ok(m, "delivered");
    await assert.rejects(m!.ackAck(), (e: Error) => e instanceof v3.errors.RequestError && (e as InstanceType<typeof v3.errors.RequestError>).isNoResponders());
    // Delivery goes on regardless.
    assert.equal((await c.next({ expires: 5000 }))?.string(), "two");
  }));
