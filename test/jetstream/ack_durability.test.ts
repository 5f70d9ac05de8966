// Acknowledged means durable, checked at the moment of the acknowledgement: with sync_interval
// always, a PubAck (and the reply to a consumer ack that asked for one) goes out only after the
// fdatasync that covers its write has returned. The test holds every fdatasync of the server (it
// runs in this process) until it releases it, so it sees which replies a sync lets out.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import * as v3 from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { startJs } from "./helpers.js";

type SyncCb = (err: NodeJS.ErrnoException | null) => void;

/** Replaces fs.fdatasync (named imports included) with one whose calls wait to be released. */
class HeldSyncs {
  private readonly real = fs.fdatasync;
  private readonly held: (() => void)[] = [];
  private readonly takers: ((release: () => void) => void)[] = [];

  install(): void {
    (fs as { fdatasync: unknown }).fdatasync = (fd: number, cb: SyncCb) => {
      const release = () => this.real(fd, cb);
      const t = this.takers.shift();
      if (t) t(release);
      else this.held.push(release);
    };
    syncBuiltinESMExports();
  }

  uninstall(): void {
    (fs as { fdatasync: unknown }).fdatasync = this.real;
    syncBuiltinESMExports();
    for (const r of this.held.splice(0)) r();
  }

  /** The release of the next fdatasync the server starts (in call order). */
  next(): Promise<() => void> {
    const r = this.held.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve) => this.takers.push(resolve));
  }

  get waiting(): number {
    return this.held.length;
  }
}

/** Settles when p does; `done` tells whether it has. */
function track<T>(p: Promise<T>): { p: Promise<T>; done: () => boolean } {
  let settled = false;
  const q = p.finally(() => (settled = true));
  return { p: q, done: () => settled };
}

test("a PubAck waits for the sync of its own commit, not an earlier one", async () => {
  const s = await startJs();
  const nc = await v3.connect({ servers: s.url });
  const syncs = new HeldSyncs();
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "S", subjects: ["a"] });
    const js = jetstream(nc);
    syncs.install();
    const a = track(js.publish("a", "1"));
    // A's commit is written and its sync has started.
    const releaseA = await syncs.next();
    const b = track(js.publish("a", "2"));
    // Two round trips: B has been read, and the turn that read it has committed it.
    await nc.flush();
    await nc.flush();
    assert.equal(a.done(), false, "no PubAck before its sync returns");
    releaseA();
    assert.equal((await a.p).seq, 1);
    await nc.flush();
    assert.equal(b.done(), false, "B was committed after A's sync started: A's sync does not cover it");
    const releaseB = await syncs.next();
    releaseB();
    assert.equal((await b.p).seq, 2);
    assert.equal(syncs.waiting, 0);
  } finally {
    syncs.uninstall();
    await nc.close();
    await s.destroy();
  }
});

test("the reply to a consumer ack waits for the sync of that ack's commit", async () => {
  const s = await startJs();
  const nc = await v3.connect({ servers: s.url });
  const syncs = new HeldSyncs();
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "S", subjects: ["a"] });
    await jsm.consumers.add("S", { durable_name: "C", ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    await js.publish("a", "1");
    await js.publish("a", "2");
    const c = await js.consumers.get("S", "C");
    const got = [];
    for await (const m of await c.fetch({ max_messages: 2, expires: 5000 })) {
      got.push(m);
      if (got.length === 2) break;
    }
    assert.equal(got.length, 2);
    // Whatever the deliveries wrote is synced before the acks start.
    await nc.flush();
    syncs.install();
    const first = track(got[0]!.ackAck());
    const releaseFirst = await syncs.next();
    const second = track(got[1]!.ackAck());
    await nc.flush();
    await nc.flush();
    assert.equal(first.done(), false, "no ack reply before its sync returns");
    releaseFirst();
    assert.equal(await first.p, true);
    await nc.flush();
    assert.equal(second.done(), false, "the second ack was committed after the first ack's sync started");
    const releaseSecond = await syncs.next();
    releaseSecond();
    assert.equal(await second.p, true);
    const info = await jsm.consumers.info("S", "C");
    assert.equal(info.ack_floor.stream_seq, 2);
  } finally {
    syncs.uninstall();
    await nc.close();
    await s.destroy();
  }
});
