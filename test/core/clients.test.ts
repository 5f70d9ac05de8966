// Core pub/sub, request/reply and headers with the official clients: nats (v2) and
// @nats-io/transport-node (v3).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as v2 from "nats";
import * as v3 from "@nats-io/transport-node";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitFor, within } from "../helpers/wait.js";

const sc = v2.StringCodec();

describe("official clients against tsnats", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s.stop();
  });

  test("v2: pub/sub with * and > wildcards", async () => {
    const nc = await v2.connect({ servers: s.url });
    const got: string[] = [];
    nc.subscribe("w.*.x", { callback: (_e, m) => got.push(`star:${m.subject}`) });
    nc.subscribe("w.>", { callback: (_e, m) => got.push(`fwc:${m.subject}`) });
    nc.subscribe("w.a.x", { callback: (_e, m) => got.push(`lit:${m.subject}:${sc.decode(m.data)}`) });
    await nc.flush();
    nc.publish("w.a.x", sc.encode("1"));
    nc.publish("w.b.x", sc.encode("2"));
    nc.publish("w.b.y.z", sc.encode("3"));
    nc.publish("w", sc.encode("4"));
    await nc.flush();
    await waitFor("6 deliveries", () => got.length >= 6);
    await nc.flush();
    // "w" alone matches nothing: ">" needs at least one more token.
    assert.deepEqual(got.sort(), ["fwc:w.a.x", "fwc:w.b.x", "fwc:w.b.y.z", "lit:w.a.x:1", "star:w.a.x", "star:w.b.x"]);
    await nc.close();
  });

  test("v3: queue groups deliver each message to exactly one member, spread across members, and to every plain subscriber", async () => {
    const nc = await v3.connect({ servers: s.url });
    const counts = [0, 0, 0, 0];
    let plain = 0;
    const seen = new Map<string, number>();
    for (let i = 0; i < 4; i++) {
      nc.subscribe("q.work", {
        queue: "workers",
        callback: (_e, m) => {
          counts[i]!++;
          seen.set(m.string(), (seen.get(m.string()) ?? 0) + 1);
        },
      });
    }
    nc.subscribe("q.work", { callback: () => { plain++; } });
    await nc.flush();
    const N = 2000;
    for (let i = 0; i < N; i++) nc.publish("q.work", String(i));
    await nc.flush();
    await waitFor("all deliveries", () => counts.reduce((a, b) => a + b, 0) === N && plain === N);
    await nc.flush();
    assert.equal(counts.reduce((a, b) => a + b, 0), N, "each message to exactly one member");
    assert.equal(seen.size, N);
    assert.ok([...seen.values()].every((v) => v === 1), "no message delivered twice in the group");
    assert.equal(plain, N);
    // Random choice over 2000 messages: every member gets a fair share (expected 500 each).
    for (const c of counts) assert.ok(c > 350 && c < 650, `member count ${c} in ${counts}`);
    await nc.close();
  });

  test("v2 and v3: request/reply and no responders", async () => {
    const a = await v2.connect({ servers: s.url });
    const b = await v3.connect({ servers: s.url });
    b.subscribe("svc.echo", { callback: (_e, m) => { m.respond(`echo:${m.string()}`); } });
    await b.flush();
    const r = await a.request("svc.echo", sc.encode("hi"), { timeout: 2000 });
    assert.equal(sc.decode(r.data), "echo:hi");
    await assert.rejects(a.request("svc.nobody", sc.encode("x"), { timeout: 2000 }), (e: v2.NatsError) => e.code === v2.ErrorCode.NoResponders);
    const t0 = Date.now();
    await assert.rejects(b.request("svc.nobody", "x", { timeout: 5000 }), (e: Error) => e instanceof v3.errors.NoRespondersError || (e as Error & { cause?: unknown }).cause instanceof v3.errors.NoRespondersError);
    assert.ok(Date.now() - t0 < 5000, "no-responders comes back before the timeout");
    await a.close();
    await b.close();
  });

  test("v3: headers, multi-valued, round trip", async () => {
    const nc = await v3.connect({ servers: s.url });
    const sub = nc.subscribe("h.test", { max: 1 });
    await nc.flush();
    const h = v3.headers();
    h.append("X-Multi", "one");
    h.append("X-Multi", "two");
    h.set("X-Single", "v");
    nc.publish("h.test", "body", { headers: h });
    const m = await within(
      5000,
      (async () => {
        for await (const m of sub) return m;
        throw new Error("no message");
      })(),
    );
    assert.deepEqual(m.headers?.values("X-Multi"), ["one", "two"]);
    assert.equal(m.headers?.get("X-Single"), "v");
    assert.equal(m.string(), "body");
    await nc.close();
  });

  test("v2: auto-unsubscribe after max messages", async () => {
    const nc = await v2.connect({ servers: s.url });
    let n = 0;
    const sub = nc.subscribe("auto.x", { callback: () => n++ });
    sub.unsubscribe(3);
    await nc.flush();
    for (let i = 0; i < 10; i++) nc.publish("auto.x");
    await nc.flush();
    await waitFor("subscription closed", () => sub.isClosed());
    assert.equal(n, 3);
    await waitFor("server removed the subscription", () => s.server.sublist.match("auto.x").psubs.length === 0);
    await nc.close();
  });

  test("v3: echo:false suppresses a connection's own messages", async () => {
    const quiet = await v3.connect({ servers: s.url, noEcho: true });
    const other = await v3.connect({ servers: s.url });
    let own = 0;
    quiet.subscribe("echo.t", { callback: () => { own++; } });
    await quiet.flush();
    quiet.publish("echo.t", "self");
    await quiet.flush();
    other.publish("echo.t", "other");
    await other.flush();
    await waitFor("message from the other connection", () => own === 1);
    await quiet.flush();
    assert.equal(own, 1);
    await quiet.close();
    await other.close();
  });

  test("v2: drain delivers what is in flight, then closes", async () => {
    const pub = await v2.connect({ servers: s.url });
    const nc = await v2.connect({ servers: s.url });
    let n = 0;
    nc.subscribe("drain.x", { callback: () => n++ });
    await nc.flush();
    for (let i = 0; i < 500; i++) pub.publish("drain.x");
    await pub.flush();
    await nc.drain();
    assert.equal(n, 500);
    assert.equal(nc.isClosed(), true);
    await pub.close();
  });

  test("v3: payloads of every size arrive intact while other connections publish at the same time", async () => {
    // Connections share one read buffer; a payload kept by reference would be overwritten by the
    // next read of another connection.
    const sizes = [0, 1, 63, 64, 1000, 16 * 1024 - 1, 16 * 1024, 70_000, 300_000, 1024 * 1024];
    const body = (pub: number, i: number) => {
      const b = Buffer.alloc(sizes[i % sizes.length]!);
      for (let j = 0; j < b.length; j++) b[j] = (pub * 31 + i * 7 + j) & 0xff;
      return b;
    };
    const sub = await v3.connect({ servers: s.url });
    const pubs = await Promise.all([0, 1, 2].map(() => v3.connect({ servers: s.url })));
    const rounds = sizes.length * 3;
    const got = new Map<string, Uint8Array>();
    // A slow subscriber too, so big payloads wait in its outbound queue across many reads.
    const done = new Promise<void>((resolve) => {
      sub.subscribe("intact.>", {
        callback: (_e, m) => {
          got.set(m.subject, m.data);
          if (got.size === pubs.length * rounds) resolve();
        },
      });
    });
    await sub.flush();
    await Promise.all(pubs.map(async (nc, p) => {
      for (let i = 0; i < rounds; i++) nc.publish(`intact.${p}.${i}`, body(p, i));
      await nc.flush();
    }));
    await within(30_000, done, "all deliveries");
    for (let p = 0; p < pubs.length; p++) {
      for (let i = 0; i < rounds; i++) assert.ok(Buffer.from(got.get(`intact.${p}.${i}`)!).equals(body(p, i)), `message ${p}.${i} (${sizes[i % sizes.length]} B) intact`);
    }
    await Promise.all([sub, ...pubs].map((c) => c.close()));
  });

  test("v3: a payload over max_payload is refused", async () => {
    const nc = await v3.connect({ servers: s.url });
    assert.equal(nc.info?.max_payload, 1024 * 1024);
    assert.throws(() => nc.publish("big", new Uint8Array(1024 * 1024 + 1)));
    await nc.close();
  });
});
