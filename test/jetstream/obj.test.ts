// The object store of @nats-io/obj 3.4.0 end to end: multi-chunk put/get with the client's
// digest check, info, list, update (rename and metadata), delete, links, watch, seal, status.
import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Objm, type ObjectStore, type ObjectWatchInfo } from "@nats-io/obj";
import { api, jsClientFixture } from "./helpers.js";
import { within } from "../helpers/wait.js";

/** Deterministic bytes (a seeded xorshift), so a wrong chunk order changes the digest. */
function bytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function sha(b: Uint8Array): string {
  // base64url with its padding, as the client writes it.
  return "SHA-256=" + createHash("sha256").update(b).digest("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

function streamOf(b: Uint8Array, piece: number): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= b.length) return c.close();
      c.enqueue(b.subarray(off, off + piece));
      off += piece;
    },
  });
}

async function readAll(rs: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const r = rs.getReader();
  for (;;) {
    const { done, value } = await r.read();
    if (done) break;
    parts.push(value);
  }
  return Buffer.concat(parts);
}

for (const storage of ["file", "memory"] as const) {
  describe(`@nats-io/obj (${storage} storage)`, () => {
    const fx = jsClientFixture();
    let objm: Objm;
    let os: ObjectStore;
    before(async () => {
      objm = new Objm(fx.nc);
      os = await objm.create("files", { storage: storage === "file" ? "file" : "memory" } as never);
    });

    test("the bucket's stream", async () => {
      const si = await api(fx.nc, "$JS.API.STREAM.INFO.OBJ_files");
      assert.deepEqual(si.config.subjects, ["$O.files.C.>", "$O.files.M.>"]);
      assert.equal(si.config.allow_rollup_hdrs, true);
      assert.equal(si.config.discard, "new");
      assert.equal(si.config.storage, storage);
    });

    test("put and get of a multi-chunk object, streamed, with the digest checked", async () => {
      const data = bytes(128 * 1024 * 3 + 1234);
      const info = await os.put({ name: "big.bin", description: "three chunks and a bit", metadata: { k: "v" } }, streamOf(data, 50_000));
      assert.equal(info.size, data.length);
      assert.equal(info.chunks, 4);
      assert.equal(info.digest, sha(data));
      assert.equal(info.deleted, false);
      const r = await os.get("big.bin");
      assert.ok(r);
      const back = await readAll(r.data);
      assert.ok((await r.error) == null, "the client verified the digest (a mismatch errors the stream)");
      assert.equal(Buffer.compare(Buffer.from(back), Buffer.from(data)), 0);
      assert.equal(r.info.description, "three chunks and a bit");
      assert.deepEqual(r.info.metadata, { k: "v" });
      // Chunks are messages on $O.files.C.<nuid>, the meta a rollup on $O.files.M.<name>.
      const st = (await api(fx.nc, "$JS.API.STREAM.INFO.OBJ_files", { subjects_filter: "$O.files.C.>" })).state;
      assert.deepEqual(Object.values(st.subjects), [4]);
    });

    test("small objects, empty objects, custom chunk sizes; replacing an object purges the old chunks", async () => {
      const small = new TextEncoder().encode("hello world");
      await os.putBlob({ name: "hello.txt" }, small);
      assert.equal(new TextDecoder().decode((await os.getBlob("hello.txt"))!), "hello world");
      const empty = await os.putBlob({ name: "empty" }, new Uint8Array(0));
      assert.equal(empty.size, 0);
      assert.equal(empty.chunks, 0);
      assert.equal((await os.getBlob("empty"))!.length, 0);
      const data = bytes(10_000, 3);
      const tiny = await os.putBlob({ name: "tiny-chunks", options: { max_chunk_size: 1000 } }, data);
      assert.equal(tiny.chunks, 10);
      assert.equal(Buffer.compare(Buffer.from((await os.getBlob("tiny-chunks"))!), Buffer.from(data)), 0);

      const before = await os.info("hello.txt");
      const v2 = await os.putBlob({ name: "hello.txt" }, new TextEncoder().encode("hello again"));
      assert.notEqual(v2.nuid, before!.nuid);
      assert.ok(v2.revision > before!.revision);
      const old = await api(fx.nc, "$JS.API.STREAM.INFO.OBJ_files", { subjects_filter: `$O.files.C.${before!.nuid}` });
      assert.equal(old.state.subjects, undefined, "the previous version's chunks were purged");
      assert.equal(new TextDecoder().decode((await os.getBlob("hello.txt"))!), "hello again");
      assert.equal(await os.get("nope"), null);
      assert.equal(await os.info("nope"), null);
    });

    test("list, update (rename, metadata), delete", async () => {
      await os.putBlob({ name: "a.txt" }, new TextEncoder().encode("A"));
      await os.putBlob({ name: "b.txt" }, new TextEncoder().encode("B"));
      let names = (await os.list()).map((i) => i.name).sort();
      assert.ok(names.includes("a.txt") && names.includes("b.txt"), String(names));
      await os.update("a.txt", { name: "renamed.txt", description: "was a.txt", metadata: { x: "1" } });
      assert.equal(await os.info("a.txt"), null);
      const ren = await os.info("renamed.txt");
      assert.equal(ren?.description, "was a.txt");
      assert.deepEqual(ren?.metadata, { x: "1" });
      assert.equal(new TextDecoder().decode((await os.getBlob("renamed.txt"))!), "A");
      const pr = await os.delete("b.txt");
      assert.equal(pr.success, true);
      const del = await os.info("b.txt");
      assert.equal(del?.deleted, true, "a deleted object keeps a meta entry marked deleted");
      assert.equal(del?.size, 0);
      assert.equal(await os.get("b.txt"), null);
      names = (await os.list()).map((i) => i.name);
      assert.ok(!names.includes("b.txt") && names.includes("renamed.txt"), String(names));
    });

    test("links to objects and to other buckets", async () => {
      await os.putBlob({ name: "target" }, new TextEncoder().encode("linked content"));
      const t = await os.info("target");
      const l = await os.link("alias", t!);
      assert.deepEqual(l.options?.link, { bucket: "files", name: "target" });
      assert.equal(new TextDecoder().decode((await os.getBlob("alias"))!), "linked content", "a get follows the link");
      const other = await objm.create("other", { storage: storage === "file" ? "file" : "memory" } as never);
      await other.putBlob({ name: "there" }, new TextEncoder().encode("in the other bucket"));
      const bl = await os.linkStore("to-other", other);
      assert.deepEqual(bl.options?.link, { bucket: "other" });
      await assert.rejects(os.link("link-to-link", l));
    });

    test("watch: current entries (with history), then changes; plain watch sees changes only", async () => {
      const wos = await objm.create("watched", { storage: storage === "file" ? "file" : "memory" } as never);
      await wos.putBlob({ name: "one" }, new TextEncoder().encode("1"));
      const plain = await wos.watch();
      const w = await wos.watch({ includeHistory: true });
      const got: ObjectWatchInfo[] = [];
      await within(10_000, (async () => {
        for await (const e of w) {
          if (e === null) continue;
          got.push(e);
          if (got.length === 1) await wos.putBlob({ name: "two" }, new TextEncoder().encode("2"));
          if (got.length === 2) await wos.delete("one");
          if (got.length === 3) break;
        }
      })(), "object watch");
      w.stop();
      assert.deepEqual(got.map((e) => [e.name, e.deleted, e.isUpdate]), [
        ["one", false, true],
        ["two", false, true],
        ["one", true, true],
      ]);
      const changes: ObjectWatchInfo[] = [];
      await within(10_000, (async () => {
        for await (const e of plain) {
          if (e === null) continue;
          changes.push(e);
          if (changes.length === 2) break;
        }
      })(), "plain object watch");
      plain.stop();
      assert.deepEqual(changes.map((e) => [e.name, e.deleted]), [
        ["two", false],
        ["one", true],
      ]);
    });

    test("seal, status, list of stores, destroy", async () => {
      const sos = await objm.create("sealme", { storage: storage === "file" ? "file" : "memory", description: "to be sealed" } as never);
      await sos.putBlob({ name: "kept" }, new TextEncoder().encode("keep me"));
      const st = await sos.seal();
      assert.equal(st.sealed, true);
      assert.equal(st.bucket, "sealme");
      assert.equal(st.description, "to be sealed");
      assert.equal(st.storage, storage);
      assert.ok(st.size > 0);
      await assert.rejects(sos.putBlob({ name: "refused" }, new TextEncoder().encode("x")), (e: Error) => /sealed/.test(e.message));
      assert.equal(new TextDecoder().decode((await sos.getBlob("kept"))!), "keep me", "a sealed store is still readable");
      const si = await api(fx.nc, "$JS.API.STREAM.INFO.OBJ_sealme");
      assert.equal(si.config.sealed, true);
      assert.equal(si.config.deny_delete, true);
      assert.equal(si.config.deny_purge, true);
      const names: string[] = [];
      for await (const x of objm.list()) names.push(x.bucket);
      for (const n of ["files", "watched", "sealme"]) assert.ok(names.includes(n), `${n} in ${names}`);
      assert.equal(await sos.destroy(), true);
      assert.equal((await api(fx.nc, "$JS.API.STREAM.INFO.OBJ_sealme")).error.err_code, 10059);
    });
  });
}
