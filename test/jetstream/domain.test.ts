// A JetStream domain: the API answers on $JS.<domain>.API.> as on $JS.API.>, so clients that
// address the domain (jetstream(nc, { domain })) work end to end, pull consumers included.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v3 from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { api, startJs } from "./helpers.js";

test("the domain's API subjects serve streams, publishes and pull consumers", async () => {
  const s = await startJs({}, undefined, { domain: "hub" });
  const nc = await v3.connect({ servers: s.url });
  try {
    const jsm = await jetstreamManager(nc, { domain: "hub" });
    const info = await jsm.getAccountInfo();
    assert.equal(info.domain, "hub");
    await jsm.streams.add({ name: "DS", subjects: ["ds.>"] });
    const js = jetstream(nc, { domain: "hub" });
    const ack = await js.publish("ds.a", "one");
    assert.deepEqual({ stream: ack.stream, seq: ack.seq, domain: ack.domain }, { stream: "DS", seq: 1, domain: "hub" });
    await jsm.consumers.add("DS", { durable_name: "c", ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get("DS", "c");
    const m = await c.next({ expires: 5000 });
    assert.equal(m?.string(), "one");
    await m!.ackAck();
    assert.equal((await jsm.consumers.info("DS", "c")).ack_floor.stream_seq, 1);
    // The plain API is the same account's.
    assert.equal((await api(nc, "$JS.API.STREAM.INFO.DS")).state.messages, 1);
  } finally {
    await nc.close();
    await s.destroy();
  }
});
