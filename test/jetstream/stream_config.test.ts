// Stream config features not covered elsewhere: max_consumers, metadata, compression, fields
// tsnats refuses rather than ignores, subjects_filter paging, the duplicate window running out,
// and account info usage numbers.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { api, errCode, jsClientFixture, pub } from "./helpers.js";
import { waitFor } from "../helpers/wait.js";

describe("stream config", () => {
  const fx = jsClientFixture();

  test("max_consumers limits consumer creation with 10026", async () => {
    const r = await api(fx.nc, "$JS.API.STREAM.CREATE.MC", { name: "MC", subjects: ["mc.>"], max_consumers: 1 });
    assert.equal(r.config.max_consumers, 1);
    const c1 = await api(fx.nc, "$JS.API.CONSUMER.CREATE.MC.c1", { stream_name: "MC", config: { durable_name: "c1", ack_policy: "explicit" } });
    assert.equal(c1.error, undefined);
    const c2 = await api(fx.nc, "$JS.API.CONSUMER.CREATE.MC.c2", { stream_name: "MC", config: { durable_name: "c2", ack_policy: "explicit" } });
    assert.deepEqual(c2.error, { code: 400, err_code: 10026, description: "maximum consumers limit reached" });
    assert.equal((await api(fx.nc, "$JS.API.STREAM.INFO.MC")).state.consumer_count, 1);
    const upd = await api(fx.nc, "$JS.API.STREAM.UPDATE.MC", { name: "MC", subjects: ["mc.>"], max_consumers: 2 });
    assert.equal(upd.error.description, "stream configuration update can not change MaxConsumers");
  });

  test("metadata and compression are accepted and echoed", async () => {
    const r = await api(fx.nc, "$JS.API.STREAM.CREATE.META", { name: "META", metadata: { owner: "team-a", tier: "gold" }, compression: "s2" });
    assert.deepEqual(r.config.metadata, { owner: "team-a", tier: "gold" });
    assert.equal(r.config.compression, "s2");
    await pub(fx.nc, "META", "compressed or not, it reads back");
    assert.equal(Buffer.from((await api(fx.nc, "$JS.API.STREAM.MSG.GET.META", { seq: 1 })).message.data, "base64").toString(), "compressed or not, it reads back");
    const none = await api(fx.nc, "$JS.API.STREAM.CREATE.PLAIN", { name: "PLAIN", compression: "none" });
    assert.equal(none.error, undefined);
    const big = await api(fx.nc, "$JS.API.STREAM.CREATE.BIGMETA", { name: "BIGMETA", metadata: { k: "v".repeat(130 * 1024) } });
    assert.deepEqual(big.error, { code: 500, err_code: 10052, description: "stream metadata exceeds maximum size of 131072 bytes" });
    const bad = await api(fx.nc, "$JS.API.STREAM.CREATE.BADC", { name: "BADC", compression: "zstd" });
    assert.equal(errCode(bad), 10025);
    // Updating the metadata is allowed.
    const upd = await api(fx.nc, "$JS.API.STREAM.UPDATE.META", { name: "META", metadata: { owner: "team-b" }, compression: "s2" });
    assert.deepEqual(upd.config.metadata, { owner: "team-b" });
  });

  test("features tsnats does not implement are refused with a clear error, and nothing is created", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ mirror: { name: "META", external: { api: "$JS.hub.API" } } }, "stream mirrors of another account or domain (external) are not supported by this server yet"],
      [{ sources: [{ name: "META", external: { api: "$JS.acc.API" } }] }, "stream sources from another account or domain (external) are not supported by this server yet"],
      [{ allow_msg_counter: true }, "allow_msg_counter is not supported by this server yet"],
      [{ allow_atomic: true }, "allow_atomic is not supported by this server yet"],
      [{ allow_msg_schedules: true }, "allow_msg_schedules is not supported by this server yet"],
      [{ allow_batched: true }, "allow_batched is not supported by this server yet"],
      [{ persist_mode: "async" }, "persist_mode async is not supported by this server yet"],
      [{ mirror_direct: true }, "stream has no mirror but does have mirror direct"],
    ];
    for (const [extra, text] of cases) {
      const r = await api(fx.nc, "$JS.API.STREAM.CREATE.NOPE", { name: "NOPE", ...extra });
      assert.deepEqual(r.error, { code: 500, err_code: 10052, description: text }, JSON.stringify(extra));
    }
    assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.INFO.NOPE")), 10059);
    // The same on update.
    const u = await api(fx.nc, "$JS.API.STREAM.UPDATE.META", { name: "META", metadata: { owner: "team-b" }, compression: "s2", allow_batched: true });
    assert.equal(u.error.description, "allow_batched is not supported by this server yet");
    // Empty sources and the default persist mode are no feature at all.
    assert.equal((await api(fx.nc, "$JS.API.STREAM.CREATE.EMPTYSRC", { name: "EMPTYSRC", sources: [], persist_mode: "default" })).error, undefined);
  });

  test("subjects_filter paging: offset into the sorted subjects, total and limit", async () => {
    await api(fx.nc, "$JS.API.STREAM.CREATE.PAGE", { name: "PAGE", subjects: ["page.>"], storage: "memory" });
    for (const k of ["e", "a", "d", "b", "c", "a"]) await pub(fx.nc, `page.${k}`, k);
    const all = await api(fx.nc, "$JS.API.STREAM.INFO.PAGE", { subjects_filter: "page.*" });
    assert.deepEqual([all.total, all.offset, all.limit], [5, 0, 100000]);
    assert.deepEqual(all.state.subjects, { "page.a": 2, "page.b": 1, "page.c": 1, "page.d": 1, "page.e": 1 });
    const rest = await api(fx.nc, "$JS.API.STREAM.INFO.PAGE", { subjects_filter: "page.*", offset: 3 });
    assert.deepEqual([rest.total, rest.offset], [5, 3]);
    assert.deepEqual(Object.keys(rest.state.subjects), ["page.d", "page.e"]);
    const past = await api(fx.nc, "$JS.API.STREAM.INFO.PAGE", { subjects_filter: "page.*", offset: 10 });
    assert.deepEqual([past.total, past.offset, past.state.subjects], [5, 5, undefined]);
    // The client library pages the same way and merges the pages.
    const jsm = await jetstreamManager(fx.nc);
    const si = await jsm.streams.info("PAGE", { subjects_filter: ">" });
    assert.equal(Object.keys(si.state.subjects ?? {}).length, 5);
  });

  test("a Nats-Msg-Id is a duplicate only within the duplicate window", async () => {
    await api(fx.nc, "$JS.API.STREAM.CREATE.DW", { name: "DW", duplicate_window: 200_000_000, storage: "memory" });
    const first = await pub(fx.nc, "DW", "1", { "Nats-Msg-Id": "same" });
    assert.deepEqual(first, { stream: "DW", seq: 1 });
    assert.deepEqual(await pub(fx.nc, "DW", "1", { "Nats-Msg-Id": "same" }), { stream: "DW", seq: 1, duplicate: true });
    // Once the window has passed the same id is a new message.
    const later = await waitFor("the id to leave the window", async () => {
      const r = await pub(fx.nc, "DW", "2", { "Nats-Msg-Id": "same" });
      return r.duplicate ? null : r;
    }, 10_000, 50);
    assert.equal(later.seq, 2);
    assert.equal((await api(fx.nc, "$JS.API.STREAM.INFO.DW")).state.messages, 2);
  });

  test("account info counts streams, consumers, stored bytes per storage, requests and errors", async () => {
    const before = await api(fx.nc, "$JS.API.INFO");
    await api(fx.nc, "$JS.API.STREAM.CREATE.USAGEF", { name: "USAGEF", subjects: ["usagef"], storage: "file" });
    await api(fx.nc, "$JS.API.STREAM.CREATE.USAGEM", { name: "USAGEM", subjects: ["usagem"], storage: "memory" });
    await pub(fx.nc, "usagef", "x".repeat(100));
    await pub(fx.nc, "usagem", "y".repeat(100));
    await api(fx.nc, "$JS.API.CONSUMER.CREATE.USAGEF.u1", { stream_name: "USAGEF", config: { durable_name: "u1" } });
    await api(fx.nc, "$JS.API.STREAM.INFO.MISSING");
    const after = await api(fx.nc, "$JS.API.INFO");
    assert.equal(after.streams, before.streams + 2);
    assert.equal(after.consumers, before.consumers + 1);
    // nats-server's accounting: file 22 + subject + payload + 8; memory subject + payload + 16.
    assert.equal(after.storage - before.storage, 22 + 6 + 100 + 8);
    assert.equal(after.memory - before.memory, 6 + 100 + 16);
    // INFO itself is not counted until it has answered: 2 creates, 1 consumer create, 1 failed info, the previous INFO.
    assert.equal(after.api.total - before.api.total, 5);
    assert.equal(after.api.errors - before.api.errors, 1);
    assert.deepEqual(after.limits, { max_memory: -1, max_storage: -1, max_streams: -1, max_consumers: -1, max_ack_pending: -1, memory_max_stream_bytes: -1, storage_max_stream_bytes: -1, max_bytes_required: false });
  });
});

describe("server resource limits", () => {
  const fx = jsClientFixture({}, undefined, { maxMemoryStore: 4096, maxFileStore: 1 << 20 });

  test("reservations beyond max_file_store / max_memory_store are refused; a full memory store refuses publishes", async () => {
    assert.deepEqual((await api(fx.nc, "$JS.API.STREAM.CREATE.F", { name: "F", max_bytes: 2 << 20 })).error, { code: 500, err_code: 10047, description: "insufficient storage resources available" });
    assert.deepEqual((await api(fx.nc, "$JS.API.STREAM.CREATE.M", { name: "M", storage: "memory", max_bytes: 8192 })).error, { code: 500, err_code: 10028, description: "insufficient memory resources available" });
    assert.equal((await api(fx.nc, "$JS.API.STREAM.CREATE.F1", { name: "F1", max_bytes: 600_000 })).error, undefined);
    assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.UPDATE.F1", { name: "F1", max_bytes: 1_100_000 })), 10047, "raising a reservation is checked too");
    assert.equal((await api(fx.nc, "$JS.API.STREAM.UPDATE.F1", { name: "F1", max_bytes: 500_000 })).error, undefined, "lowering is always fine");
    await api(fx.nc, "$JS.API.STREAM.CREATE.MEM", { name: "MEM", storage: "memory" });
    // The publish that crosses the limit is stored; the next is refused, as with nats-server.
    assert.equal((await pub(fx.nc, "MEM", "x".repeat(3000))).seq, 1);
    assert.equal((await pub(fx.nc, "MEM", "x".repeat(3000))).seq, 2);
    assert.deepEqual((await pub(fx.nc, "MEM", "x")).error, { code: 503, err_code: 10023, description: "insufficient resources" });
    await api(fx.nc, "$JS.API.STREAM.PURGE.MEM");
    assert.equal((await pub(fx.nc, "MEM", "x")).seq, 3, "room again after a purge");
  });
});
