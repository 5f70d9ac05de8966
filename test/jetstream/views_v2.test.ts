// The key-value and object stores of the legacy `nats` v2 client (js.views.kv() / js.views.os()),
// which speak to the server through their own code paths (ordered push subscriptions, the
// subject-appended direct get, STREAM.NAMES lookups).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { connect, StringCodec } from "nats";
import { api, jsFixture } from "./helpers.js";
import { within } from "../helpers/wait.js";

const sc = StringCodec();

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("nats v2 client: js.views.kv() and js.views.os()", () => {
  const fx = jsFixture(
    async (s) => {
      const nc = await connect({ servers: s.url });
      return { nc, js: nc.jetstream() };
    },
    (c) => c.nc.close(),
  );

  test("kv: put, get, revisions, create, update, delete, purge, history, keys, status", async () => {
    const kv = await fx.js.views.kv("v2kv", { history: 4 });
    const r1 = await kv.put("a", sc.encode("1"));
    const r2 = await kv.put("a", sc.encode("2"));
    assert.equal(sc.decode((await kv.get("a"))!.value), "2");
    assert.equal(sc.decode((await kv.get("a", { revision: r1 }))!.value), "1");
    assert.equal(await kv.get("missing"), null);
    await assert.rejects(kv.create("a", sc.encode("x")));
    const c = await kv.create("b", sc.encode("new"));
    await assert.rejects(kv.update("b", sc.encode("stale"), r2));
    const u = await kv.update("b", sc.encode("fresh"), c);
    assert.ok(u > c);
    await kv.delete("b");
    assert.equal((await kv.get("b"))?.operation, "DEL");
    assert.ok((await kv.create("b", sc.encode("after delete"))) > u);
    await kv.put("p", sc.encode("1"));
    await kv.purge("p");
    assert.deepEqual((await all(await kv.history({ key: "p" }))).map((e) => e.operation), ["PURGE"]);
    for (let i = 3; i <= 6; i++) await kv.put("a", sc.encode(String(i)));
    const h = await all(await kv.history({ key: "a" }));
    assert.deepEqual(h.map((e) => sc.decode(e.value)), ["3", "4", "5", "6"], "history 4");
    assert.deepEqual((await all(await kv.keys())).sort(), ["a", "b"]);
    const st = await kv.status();
    assert.equal(st.bucket, "v2kv");
    assert.equal(st.history, 4);
    assert.equal(st.values, 4 + 4 + 1, "a: 4 revisions; b: create, update, del, create; p: purge marker");
  });

  test("kv: watch delivers current values, then updates", async () => {
    const kv = await fx.js.views.kv("v2watch");
    await kv.put("x", sc.encode("1"));
    await kv.put("y", sc.encode("2"));
    const w = await kv.watch();
    const got: string[] = [];
    await within(10_000, (async () => {
      for await (const e of w) {
        got.push(`${e.key}=${sc.decode(e.value)}`);
        if (got.length === 2) await kv.put("x", sc.encode("3"));
        if (got.length === 3) break;
      }
    })(), "v2 watch");
    w.stop();
    assert.deepEqual(got, ["x=1", "y=2", "x=3"]);
  });

  test("os: multi-chunk put/get, info, list, delete, seal", async () => {
    const os = await fx.js.views.os("v2obj");
    const data = new Uint8Array(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const info = await os.putBlob({ name: "blob", options: { max_chunk_size: 64 * 1024 } }, data);
    assert.equal(info.chunks, 5);
    assert.equal(info.size, data.length);
    const back = await os.getBlob("blob");
    assert.equal(Buffer.compare(Buffer.from(back!), Buffer.from(data)), 0);
    await os.putBlob({ name: "small" }, sc.encode("hi"));
    assert.deepEqual((await os.list()).map((i) => i.name).sort(), ["blob", "small"]);
    assert.equal((await os.info("small"))?.size, 2);
    await os.delete("small");
    assert.equal(await os.get("small"), null);
    assert.equal((await os.info("small"))?.deleted, true);
    const st = await os.seal();
    assert.equal(st.sealed, true);
    await assert.rejects(os.putBlob({ name: "late" }, sc.encode("x")));
    assert.equal((await api(fx.nc as never, "$JS.API.STREAM.INFO.OBJ_v2obj")).config.sealed, true);
  });
});
