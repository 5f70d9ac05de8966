// What @nats-io/kv and @nats-io/obj build on ordered push consumers: KV watch (initial values, the
// switch to live updates, deletes and purges), history and keys, and object gets that span many
// chunks. Each script runs against tsnats and nats-server 2.9.10 and both must look the same to
// the library; the expected values are also spelled out. (Bucket CRUD is in test/jetstream.)
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Kvm, KvWatchInclude, type KvWatchEntry } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { onBoth, type Side } from "./both.js";
import { waitFor } from "../helpers/wait.js";

interface Seen {
  key: string;
  op: string;
  value: string;
  revision: number;
  isUpdate: boolean;
  delta: number;
}

function record(e: KvWatchEntry): Seen {
  return { key: e.key, op: e.operation, value: e.string(), revision: e.revision, isUpdate: e.isUpdate, delta: e.delta ?? -1 };
}


/** Runs the script on both servers; both must observe the same, and that must be `expected`. */
async function same<T>(script: (side: Side) => Promise<T>, expected?: T): Promise<T> {
  const { ours, ref } = await onBoth(script);
  if (ref !== null) assert.deepEqual(ours, ref, "tsnats and nats-server differ");
  if (expected !== undefined) assert.deepEqual(ours, expected);
  return ours;
}

async function collect<T>(iter: AsyncIterable<T>, into: T[]): Promise<void> {
  for await (const x of iter) into.push(x);
}

describe("@nats-io/kv watch and history", () => {
  test("watch: last values first, then live puts, deletes and purges", async () => {
    const seen = await same(async ({ nc }) => {
      const kv = await new Kvm(nc).create("w1", { history: 5 });
      await kv.put("a", "a1");
      await kv.put("b", "b1");
      await kv.put("a", "a2");
      await kv.put("c.d", "c1");
      await kv.delete("b");
      const seen: KvWatchEntry[] = [];
      const w = await kv.watch();
      const done = collect(w, seen);
      await waitFor("initial values", () => seen.length >= 3, 10_000);
      await kv.put("a", "a3");
      await kv.delete("c.d");
      await kv.purge("a");
      await kv.put("e", "e1");
      await waitFor("live updates", () => seen.length >= 7, 10_000);
      w.stop();
      await done;
      // A live update's delta is what was stored after it by the time it went out: timing, so
      // only the initial values' deltas are compared.
      return seen.map((e, i) => ({ ...record(e), delta: i < 3 ? record(e).delta : -1 }));
    });
    // Last value per key in stream order: a (rev 3), c.d (rev 4), b's delete marker (rev 5). The
    // library counts the create response's num_pending: the last initial value is where
    // isUpdate turns true.
    assert.deepEqual(seen, [
      { key: "a", op: "PUT", value: "a2", revision: 3, isUpdate: false, delta: 2 },
      { key: "c.d", op: "PUT", value: "c1", revision: 4, isUpdate: false, delta: 1 },
      { key: "b", op: "DEL", value: "", revision: 5, isUpdate: true, delta: 0 },
      { key: "a", op: "PUT", value: "a3", revision: 6, isUpdate: true, delta: -1 },
      { key: "c.d", op: "DEL", value: "", revision: 7, isUpdate: true, delta: -1 },
      { key: "a", op: "PURGE", value: "", revision: 8, isUpdate: true, delta: -1 },
      { key: "e", op: "PUT", value: "e1", revision: 9, isUpdate: true, delta: -1 },
    ]);
  });

  test("watch of an empty bucket: everything is an update", async () => {
    await same(
      async ({ nc }) => {
        const kv = await new Kvm(nc).create("w2");
        const seen: KvWatchEntry[] = [];
        const w = await kv.watch();
        const done = collect(w, seen);
        await kv.put("x", "1");
        await kv.put("y", "2");
        await waitFor("updates", () => seen.length >= 2, 10_000);
        w.stop();
        await done;
        return seen.map((s) => [s.key, s.string(), s.isUpdate]);
      },
      [
        ["x", "1", true],
        ["y", "2", true],
      ],
    );
  });

  test("watch of one key with all history, updates only, and resume from a revision", async () => {
    await same(
      async ({ nc }) => {
        const kv = await new Kvm(nc).create("w3", { history: 10 });
        for (let i = 1; i <= 4; i++) await kv.put("k", `v${i}`);
        await kv.put("other", "o");
        const all: KvWatchEntry[] = [];
        const upd: KvWatchEntry[] = [];
        const res: KvWatchEntry[] = [];
        const w = await kv.watch({ key: "k", include: KvWatchInclude.AllHistory });
        const wu = await kv.watch({ key: "k", include: KvWatchInclude.UpdatesOnly });
        const wr = await kv.watch({ key: "k", resumeFromRevision: 3 });
        const runs = [collect(w, all), collect(wu, upd), collect(wr, res)];
        await waitFor("history", () => all.length >= 4 && res.length >= 2, 10_000);
        await kv.put("k", "v5");
        await waitFor("the update everywhere", () => all.length >= 5 && upd.length >= 1 && res.length >= 3, 10_000);
        w.stop();
        wu.stop();
        wr.stop();
        await Promise.all(runs);
        const f = (xs: KvWatchEntry[]) => xs.map((s) => [s.string(), s.revision, s.isUpdate]);
        return { all: f(all), upd: f(upd), res: f(res) };
      },
      {
        all: [
          ["v1", 1, false],
          ["v2", 2, false],
          ["v3", 3, false],
          ["v4", 4, true],
          ["v5", 6, true],
        ],
        upd: [["v5", 6, true]],
        res: [
          ["v3", 3, false],
          ["v4", 4, true],
          ["v5", 6, true],
        ],
      },
    );
  });

  test("history and keys end by themselves", async () => {
    await same(
      async ({ nc }) => {
        const kv = await new Kvm(nc).create("h1", { history: 10 });
        await kv.put("a", "1");
        await kv.put("b", "2");
        await kv.put("a", "3");
        await kv.delete("b");
        const hist: string[] = [];
        for await (const x of await kv.history()) hist.push(`${x.key}:${x.operation}:${x.string()}`);
        const ha: string[] = [];
        for await (const x of await kv.history({ key: "a" })) ha.push(x.string());
        const keys: string[] = [];
        for await (const k of await kv.keys()) keys.push(k);
        const none: string[] = [];
        for await (const x of await kv.history({ key: "nope" })) none.push(x.key);
        return { hist, ha, keys, none };
      },
      { hist: ["a:PUT:1", "b:PUT:2", "a:PUT:3", "b:DEL:"], ha: ["1", "3"], keys: ["a"], none: [] },
    );
  });
});

describe("@nats-io/obj get of multi-chunk objects", () => {
  test("objects of many chunks come back whole", async () => {
    const sizes = await same(async ({ nc }) => {
      const os = await new Objm(nc).create("files");
      const cases: [string, number, number | undefined][] = [
        ["empty", 0, undefined],
        ["one-chunk", 1000, undefined],
        ["exact-chunks", 4096, 1024],
        ["many-chunks", 300_000, 1000],
        ["default-chunks", 1_000_000, undefined],
      ];
      const out: Record<string, unknown> = {};
      for (const [name, size, chunk] of cases) {
        const data = randomBytes(size);
        const info = await os.putBlob({ name, options: chunk ? { max_chunk_size: chunk } : undefined }, data);
        const got = await os.getBlob(name);
        out[name] = [info.size, info.chunks, got?.length, got !== null && sha(got) === sha(data)];
      }
      // Replacing an object: the new version is what a get returns.
      const v2 = randomBytes(50_000);
      await os.putBlob({ name: "many-chunks", options: { max_chunk_size: 700 } }, v2);
      out.replaced = sha((await os.getBlob("many-chunks"))!) === sha(v2);
      // Several gets at once.
      const all = await Promise.all(["one-chunk", "exact-chunks", "many-chunks", "default-chunks"].map((n) => os.getBlob(n)));
      out.parallel = all.map((b) => b?.length);
      return out;
    });
    assert.deepEqual(sizes, {
      empty: [0, 0, 0, true],
      "one-chunk": [1000, 1, 1000, true],
      "exact-chunks": [4096, 4, 4096, true],
      "many-chunks": [300_000, 300, 300_000, true],
      "default-chunks": [1_000_000, 8, 1_000_000, true],
      replaced: true,
      parallel: [1000, 4096, 50_000, 1_000_000],
    });
  });

  test("object watch and list", async () => {
    await same(
      async ({ nc }) => {
        const os = await new Objm(nc).create("w");
        await os.putBlob({ name: "a" }, Buffer.from("1"));
        await os.putBlob({ name: "b" }, Buffer.from("22"));
        const names = (await os.list()).map((i) => i.name).sort();
        const seen: string[] = [];
        const w = await os.watch({ includeHistory: true });
        const done = (async () => {
          for await (const i of w) if (i !== null) seen.push(`${i.name}:${i.deleted ? "deleted" : i.size}`);
        })();
        await waitFor("initial", () => seen.length >= 2, 10_000);
        await os.putBlob({ name: "c" }, Buffer.from("333"));
        await os.delete("a");
        await waitFor("updates", () => seen.length >= 4, 10_000);
        w.stop();
        await done;
        return { names, seen };
      },
      { names: ["a", "b"], seen: ["a:1", "b:2", "c:3", "a:deleted"] },
    );
  });
});

function sha(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}
