// The key-value store of @nats-io/kv 3.4.0 end to end: every operation the library has, on a file
// bucket (direct get) and through a handle opened without direct get (STREAM.MSG.GET).
import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { Kvm, type KV, type KvWatchEntry } from "@nats-io/kv";
import { jetstreamManager } from "@nats-io/jetstream";
import { api, jsClientFixture } from "./helpers.js";
import { waitFor, within } from "../helpers/wait.js";

/** Collects from an iterator until `done` says stop (or the deadline passes). */
async function collect<T>(it: AsyncIterable<T> & { stop(): void }, done: (got: T[]) => boolean, ms = 10_000): Promise<T[]> {
  const got: T[] = [];
  await within(ms, (async () => {
    if (done(got)) return;
    for await (const e of it) {
      got.push(e);
      if (done(got)) break;
    }
  })(), "iterator");
  it.stop();
  return got;
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

for (const storage of ["file", "memory"] as const) {
  describe(`@nats-io/kv (${storage} storage)`, () => {
    const fx = jsClientFixture();
    let kvm: Kvm;
    before(() => {
      kvm = new Kvm(fx.nc);
    });

    test("bucket creation sends the stream config K expects back", async () => {
      await kvm.create("cfg", { history: 3, storage: storage === "file" ? "file" : "memory" } as never);
      const si = await api(fx.nc, "$JS.API.STREAM.INFO.KV_cfg");
      assert.equal(si.config.name, "KV_cfg");
      assert.deepEqual(si.config.subjects, ["$KV.cfg.>"]);
      assert.equal(si.config.max_msgs_per_subject, 3);
      assert.equal(si.config.discard, "new");
      assert.equal(si.config.allow_rollup_hdrs, true);
      assert.equal(si.config.allow_direct, true);
      assert.equal(si.config.storage, storage);
      // A second create opens the existing bucket (STREAM.INFO finds it).
      const again = await kvm.create("cfg", { history: 3 });
      assert.equal((await again.status()).history, 3);
    });

    test("put, get, get by revision, create, update, delete, purge", async () => {
      const kv = await kvm.create("ops", { history: 5, storage: storage === "file" ? "file" : "memory" } as never);
      const r1 = await kv.put("a.b", "one");
      const r2 = await kv.put("a.b", "two");
      assert.equal(r2, r1 + 1);
      const e = await kv.get("a.b");
      assert.equal(e?.string(), "two");
      assert.equal(e?.revision, r2);
      assert.equal(e?.operation, "PUT");
      assert.equal(e?.key, "a.b");
      assert.ok(e!.created instanceof Date && Math.abs(e!.created.getTime() - Date.now()) < 60_000);
      assert.equal((await kv.get("a.b", { revision: r1 }))?.string(), "one");
      assert.equal(await kv.get("missing"), null);
      // A revision of another key is not this key's.
      const other = await kv.put("c", "x");
      assert.equal(await kv.get("a.b", { revision: other }), null);

      // create: only if absent (10071 otherwise), and again after a delete (tombstone retry).
      const c1 = await kv.create("new", "first");
      await assert.rejects(kv.create("new", "second"), (err: Error) => /wrong last sequence/.test(err.message));
      assert.equal((await kv.get("new"))?.string(), "first");

      // update: with the right revision only.
      const u1 = await kv.update("new", "updated", c1);
      await assert.rejects(kv.update("new", "stale", c1), (err: Error) => /wrong last sequence: \d+/.test(err.message));
      assert.equal((await kv.get("new"))?.revision, u1);

      await kv.delete("new");
      const del = await kv.get("new");
      assert.equal(del?.operation, "DEL", "a delete leaves a DEL tombstone");
      assert.equal(del?.length, 0);
      const c2 = await kv.create("new", "reborn");
      assert.ok(c2 > u1, "create succeeds on a deleted key");
      assert.equal((await kv.get("new"))?.string(), "reborn");

      // delete with an expected revision.
      await assert.rejects(kv.delete("new", { previousSeq: c1 }));
      await kv.delete("new", { previousSeq: c2 });

      // purge: one PURGE tombstone replaces every revision of the key.
      await kv.put("p", "1");
      await kv.put("p", "2");
      await kv.purge("p");
      const h = await all(await kv.history({ key: "p" }));
      assert.deepEqual(h.map((x) => x.operation), ["PURGE"]);
      assert.equal((await kv.get("p"))?.operation, "PURGE");
      assert.equal((await kv.create("p", "again")) > 0, true, "create succeeds on a purged key");
    });

    test("history limits, keys, status", async () => {
      const kv = await kvm.create("hist", { history: 3, storage: storage === "file" ? "file" : "memory" } as never);
      for (let i = 1; i <= 5; i++) await kv.put("k", `v${i}`);
      await kv.put("x.y", "1");
      await kv.put("x.z", "2");
      await kv.delete("x.z");
      const h = await all(await kv.history({ key: "k" }));
      assert.deepEqual(h.map((e) => e.string()), ["v3", "v4", "v5"], "history keeps the last 3 revisions");
      assert.deepEqual(h.map((e) => e.revision), [3, 4, 5]);
      const keys = (await all(await kv.keys())).sort();
      assert.deepEqual(keys, ["k", "x.y"], "deleted keys are not listed");
      assert.deepEqual(await all(await kv.keys("x.*")), ["x.y"]);
      const st = await kv.status();
      assert.equal(st.bucket, "hist");
      assert.equal(st.history, 3);
      assert.equal(st.values, 3 + 1 + 2);
      assert.equal(st.storage, storage);
      assert.equal(st.streamInfo.config.name, "KV_hist");
      assert.ok(st.size > 0);
      // Discard new with a full history still accepts new revisions (the per-subject limit evicts).
      await kv.put("k", "v6");
      assert.equal((await kv.get("k"))?.string(), "v6");
    });

    test("watch: initial values, then updates; history; updates only; deletes ignored", async () => {
      const kv = await kvm.create("w", { history: 10, storage: storage === "file" ? "file" : "memory" } as never);
      await kv.put("a", "1");
      await kv.put("b", "1");
      await kv.put("a", "2");
      await kv.delete("b");
      const w = await kv.watch();
      const initial: KvWatchEntry[] = [];
      const done = within(10_000, (async () => {
        for await (const e of w) {
          initial.push(e);
          if (initial.length === 2) await kv.put("c", "3");
          if (initial.length === 3) break;
        }
      })(), "watch");
      await done;
      w.stop();
      assert.deepEqual(initial.map((e) => [e.key, e.operation, e.isUpdate]), [
        ["a", "PUT", false],
        // The client counts the create response's num_pending (2): the entry that reaches it is
        // already flagged as an update.
        ["b", "DEL", true],
        ["c", "PUT", true],
      ]);
      assert.equal(initial[0]!.string(), "2");
      assert.equal(initial[2]!.delta, 0, "the update has nothing pending after it");

      const hw = await kv.watch({ include: "history" });
      const hist = await collect(hw, (g) => g.length >= 5);
      assert.deepEqual(hist.map((e) => `${e.key}:${e.operation}`), ["a:PUT", "b:PUT", "a:PUT", "b:DEL", "c:PUT"]);
      assert.deepEqual(hist.map((e) => e.revision), [1, 2, 3, 4, 5]);

      const uw = await kv.watch({ include: "updates" });
      const updates = collect(uw, (g) => g.length >= 1);
      // The watcher is created (and its consumer exists) before the put: nothing before it shows.
      await waitFor("watch consumer", async () => (await api(fx.nc, "$JS.API.STREAM.INFO.KV_w")).state.consumer_count >= 1, 5000);
      await kv.put("d", "4");
      assert.deepEqual((await updates).map((e) => [e.key, e.string(), e.isUpdate]), [["d", "4", true]]);

      const iw = await kv.watch({ ignoreDeletes: true, key: "b" });
      await kv.put("b", "again");
      const ig = await collect(iw, (g) => g.length >= 1);
      assert.deepEqual(ig.map((e) => [e.key, e.string()]), [["b", "again"]], "the DEL of b was skipped");

      const rw = await kv.watch({ resumeFromRevision: 5 });
      const resumed = await collect(rw, (g) => g.length >= 3);
      assert.deepEqual(resumed.map((e) => e.revision), [5, 6, 7]);
    });

    test("purgeDeletes, list of buckets, destroy", async () => {
      const kv = await kvm.create("pd", { history: 5, storage: storage === "file" ? "file" : "memory" } as never);
      await kv.put("a", "1");
      await kv.put("b", "1");
      await kv.delete("a");
      await kv.purge("b");
      const before = (await api(fx.nc, "$JS.API.STREAM.INFO.KV_pd")).state.messages;
      assert.equal(before, 3, "a: PUT and DEL; b: its PURGE rolled up the PUT");
      // Markers newer than olderMillis are kept (keep 1); -1 removes all of them.
      const r = await (kv as unknown as { purgeDeletes(ms: number): Promise<{ success: boolean; purged: number }> }).purgeDeletes(-1);
      assert.equal(r.success, true);
      assert.equal(r.purged, 3);
      assert.equal((await api(fx.nc, "$JS.API.STREAM.INFO.KV_pd")).state.messages, 0);

      const names = (await all(kvm.list())).map((b) => b.bucket).sort();
      for (const n of ["pd", "ops", "hist", "w", "cfg"]) assert.ok(names.includes(n), `${n} listed in ${names}`);
      assert.equal(await kv.destroy(), true);
      assert.equal((await api(fx.nc, "$JS.API.STREAM.INFO.KV_pd")).error.err_code, 10059);
      await assert.rejects(kvm.open("pd").then((k) => k.status()));
    });

    test("a handle opened without direct get reads through STREAM.MSG.GET", async () => {
      const w = await kvm.create("od", { history: 2, storage: storage === "file" ? "file" : "memory" } as never);
      await w.put("k", "v1");
      await w.put("k", "v2");
      const ro: KV = await kvm.open("od");
      assert.equal((ro as unknown as { direct: boolean }).direct, false);
      assert.equal((await ro.get("k"))?.string(), "v2");
      assert.equal((await ro.get("k", { revision: 1 }))?.string(), "v1");
      assert.equal(await ro.get("zz"), null);
    });

    test("bucket limits: max value size, max bytes, ttl", async () => {
      const kv = await kvm.create("lim", { maxValueSize: 8, max_bytes: 4096, ttl: 2000, storage: storage === "file" ? "file" : "memory" } as never);
      const si = await api(fx.nc, "$JS.API.STREAM.INFO.KV_lim");
      assert.equal(si.config.max_msg_size, 8);
      assert.equal(si.config.max_bytes, 4096);
      assert.equal(si.config.max_age, 2_000_000_000);
      assert.equal(si.config.duplicate_window, 2_000_000_000, "the duplicate window follows a short ttl");
      await assert.rejects(kv.put("big", "123456789"), (err: Error) => /message size exceeds maximum allowed/.test(err.message));
      await kv.put("t", "brief");
      await waitFor("value aged out", async () => (await kv.get("t")) === null, 10_000, 50);
    });

    test("the JetStream manager sees the KV stream like any other", async () => {
      const jsm = await jetstreamManager(fx.nc);
      const info = await jsm.streams.info("KV_ops");
      assert.equal(info.config.name, "KV_ops");
      const found = await jsm.streams.find("$KV.ops.a.b");
      assert.equal(found, "KV_ops");
    });
  });
}
