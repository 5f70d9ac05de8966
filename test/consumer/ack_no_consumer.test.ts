// An ack that no consumer takes (its consumer was deleted, or the subject names none) gets what
// nats-server gives it, where each consumer has its own ack subscription: no responders. A client
// waiting on an ack reply (ackAck, AckSync) learns it at once instead of waiting out its timeout.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v3 from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { startJs } from "../jetstream/helpers.js";

test("an ack request to a consumer that does not exist gets no-responders; a live consumer's ack still works", async () => {
  const s = await startJs();
  const nc = await v3.connect({ servers: s.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "K", subjects: ["k.>"] });
    const js = jetstream(nc);
    await js.publish("k.a", "one");
    await js.publish("k.a", "two");
    await jsm.consumers.add("K", { durable_name: "c", ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get("K", "c");
    const first = await c.next({ expires: 5000 });
    const second = await c.next({ expires: 5000 });
    assert.equal(await first!.ackAck(), true, "a live consumer answers the ack");
    await jsm.consumers.delete("K", "c");
    const noResponders = (e: Error) => e instanceof v3.errors.NoRespondersError || (e as Error & { cause?: unknown }).cause instanceof v3.errors.NoRespondersError;
    // The second delivery's own ack subject, after its consumer is gone.
    await assert.rejects(nc.request((second as unknown as { reply: string }).reply, "+ACK", { timeout: 20_000 }), noResponders);
    await assert.rejects(nc.request("$JS.ACK.not.an.ack", "+ACK", { timeout: 20_000 }), noResponders);
  } finally {
    await nc.close();
    await s.destroy();
  }
});

test("an ack to an ack_policy none consumer finds no responder, as current nats-server gives such consumers no ack subscription", async () => {
  const s = await startJs();
  const nc = await v3.connect({ servers: s.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "N", subjects: ["n.>"] });
    const js = jetstream(nc);
    await js.publish("n.a", "one");
    await js.publish("n.a", "two");
    await jsm.consumers.add("N", { durable_name: "none", ack_policy: AckPolicy.None });
    const c = await js.consumers.get("N", "none");
    const m = await c.next({ expires: 5000 });
    assert.ok(m, "delivered");
    await assert.rejects(m!.ackAck(), (e: Error) => e instanceof v3.errors.RequestError && (e as InstanceType<typeof v3.errors.RequestError>).isNoResponders());
    // Delivery goes on regardless.
    assert.equal((await c.next({ expires: 5000 }))?.string(), "two");
  } finally {
    await nc.close();
    await s.destroy();
  }
});
