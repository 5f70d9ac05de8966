// The stream API over the wire: config normalisation, create/update/delete rules, info, paging,
// purge, message get/delete, with nats-server's err_codes and texts.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as v3 from "@nats-io/transport-node";
import { api, errCode, jsClientFixture, pub } from "./helpers.js";

for (const storage of ["file", "memory"] as const) {
  describe(`stream API (${storage} storage)`, () => {
    const fx = jsClientFixture();

    test("account info", async () => {
      const r = await api(fx.nc, "$JS.API.INFO");
      assert.equal(r.type, "io.nats.jetstream.api.v1.account_info_response");
      assert.deepEqual(r.limits, { max_memory: -1, max_storage: -1, max_streams: -1, max_consumers: -1, max_ack_pending: -1, memory_max_stream_bytes: -1, storage_max_stream_bytes: -1, max_bytes_required: false });
      assert.equal(typeof r.api.total, "number");
    });

    test("create normalises the config as nats-server does", async () => {
      const r = await api(fx.nc, "$JS.API.STREAM.CREATE.NORM", { name: "NORM", subjects: ["norm.>"], max_msgs: 0, max_bytes: 0, max_consumers: 0, max_msgs_per_subject: 0, num_replicas: 0, storage });
      assert.equal(r.type, "io.nats.jetstream.api.v1.stream_create_response");
      assert.equal(r.did_create, true);
      assert.deepEqual(r.config, {
        name: "NORM",
        subjects: ["norm.>"],
        retention: "limits",
        max_consumers: -1,
        max_msgs: -1,
        max_bytes: -1,
        max_age: 0,
        max_msgs_per_subject: -1,
        max_msg_size: -1,
        discard: "old",
        storage,
        num_replicas: 1,
        duplicate_window: 120_000_000_000,
        allow_direct: false,
        mirror_direct: false,
        sealed: false,
        deny_delete: false,
        deny_purge: false,
        allow_rollup_hdrs: false,
      });
      assert.deepEqual(r.state, { messages: 0, bytes: 0, first_seq: 0, first_ts: "0001-01-01T00:00:00Z", last_seq: 0, last_ts: "0001-01-01T00:00:00Z", consumer_count: 0 });
      assert.match(r.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      // Default subjects, duplicate window capped by max_age, discard lower-cased.
      const d = await api(fx.nc, "$JS.API.STREAM.CREATE.DEFS", { name: "DEFS", max_age: 30_000_000_000, discard: "NEW", storage });
      assert.deepEqual(d.config.subjects, ["DEFS"]);
      assert.equal(d.config.duplicate_window, 30_000_000_000);
      assert.equal(d.config.discard, "new");
    });

    test("create is idempotent for an identical config, 10058 otherwise; overlaps and mismatches", async () => {
      const cfg = { name: "IDEM", subjects: ["idem.*"], storage };
      assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.CREATE.IDEM", cfg)), undefined);
      const again = await api(fx.nc, "$JS.API.STREAM.CREATE.IDEM", cfg);
      assert.equal(again.error, undefined);
      assert.equal(again.config.name, "IDEM");
      const diff = await api(fx.nc, "$JS.API.STREAM.CREATE.IDEM", { ...cfg, max_msgs: 10 });
      assert.deepEqual(diff.error, { code: 400, err_code: 10058, description: "stream name already in use with a different configuration" });
      const overlap = await api(fx.nc, "$JS.API.STREAM.CREATE.OVER", { name: "OVER", subjects: ["idem.x"], storage });
      assert.deepEqual(overlap.error, { code: 400, err_code: 10065, description: "subjects overlap with an existing stream" });
      const mismatch = await api(fx.nc, "$JS.API.STREAM.CREATE.X", { name: "Y", subjects: ["y"] });
      assert.deepEqual(mismatch.error, { code: 400, err_code: 10056, description: "stream name in subject does not match request" });
      const badEnum = await api(fx.nc, "$JS.API.STREAM.CREATE.A", { name: "A", subjects: ["a"], storage: "disk" });
      assert.deepEqual(badEnum.error, { code: 400, err_code: 10025, description: "invalid JSON" });
      // Retention and storage are case-sensitive in nats-server; discard is not.
      for (const bad of [{ storage: "File" }, { retention: "Limits" }, { retention: "WorkQueue" }]) {
        assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.CREATE.A", { name: "A", subjects: ["a"], ...bad })), 10025, JSON.stringify(bad));
      }
      const discardCase = await api(fx.nc, "$JS.API.STREAM.CREATE.DC", { name: "DC", subjects: ["dc"], storage, discard: "New" });
      assert.equal(discardCase.config?.discard, "new", JSON.stringify(discardCase));
      const notJson = await api(fx.nc, "$JS.API.STREAM.CREATE.A", "{nope");
      assert.equal(errCode(notJson), 10025);
      const sealed = await api(fx.nc, "$JS.API.STREAM.CREATE.SEALED", { name: "SEALED", sealed: true });
      assert.deepEqual(sealed.error, { code: 500, err_code: 10052, description: "stream configuration for create can not be sealed" });
      const replicas = await api(fx.nc, "$JS.API.STREAM.CREATE.R3", { name: "R3", num_replicas: 3 });
      assert.deepEqual(replicas.error, { code: 500, err_code: 10074, description: "replicas > 1 not supported in non-clustered mode" });
      const inner = await api(fx.nc, "$JS.API.STREAM.CREATE.INNER", { name: "INNER", subjects: ["a.*", "a.b"] });
      assert.equal(inner.error.err_code, 10052);
      assert.equal(inner.error.description, 'subject "a.*" overlaps with "a.b"');
      const api_ = await api(fx.nc, "$JS.API.STREAM.CREATE.APIS", { name: "APIS", subjects: ["$JS.API.FOO"] });
      assert.equal(api_.error.description, "subjects overlap with jetstream api");
      const mirror = await api(fx.nc, "$JS.API.STREAM.CREATE.M", { name: "M", mirror: { name: "IDEM", external: { api: "$JS.hub.API" } } });
      assert.equal(mirror.error.err_code, 10052, "unimplemented features are refused, not ignored");
      const rollup = await api(fx.nc, "$JS.API.STREAM.CREATE.RP", { name: "RP", deny_purge: true, allow_rollup_hdrs: true });
      assert.equal(rollup.error.description, "roll-ups require the purge permission");
    });

    test("update rules", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.UPD", { name: "UPD", subjects: ["upd.>"], storage, deny_delete: true });
      const other = storage === "file" ? "memory" : "file";
      const st = await api(fx.nc, "$JS.API.STREAM.UPDATE.UPD", { name: "UPD", subjects: ["upd.>"], storage: other, deny_delete: true });
      assert.deepEqual(st.error, { code: 500, err_code: 10052, description: "stream configuration update can not change storage type" });
      const dd = await api(fx.nc, "$JS.API.STREAM.UPDATE.UPD", { name: "UPD", subjects: ["upd.>"], storage });
      assert.equal(dd.error.description, "stream configuration update can not cancel deny message deletes");
      for (let i = 0; i < 5; i++) await pub(fx.nc, `upd.${i}`, "x");
      const ok = await api(fx.nc, "$JS.API.STREAM.UPDATE.UPD", { name: "UPD", subjects: ["upd.>", "more"], storage, deny_delete: true, max_msgs: 2 });
      assert.equal(ok.type, "io.nats.jetstream.api.v1.stream_update_response");
      assert.equal(ok.config.max_msgs, 2);
      assert.equal(ok.state.messages, 2, "a lowered limit applies at once");
      assert.equal((await pub(fx.nc, "more", "y")).seq, 6, "new subjects are captured after the update");
      const missing = await api(fx.nc, "$JS.API.STREAM.UPDATE.NOPE", { name: "NOPE" });
      assert.equal(errCode(missing), 10059);
      const sealed = await api(fx.nc, "$JS.API.STREAM.UPDATE.UPD", { name: "UPD", subjects: ["upd.>", "more"], storage, deny_delete: true, max_msgs: 2, sealed: true, max_age: 5_000_000_000 });
      assert.equal(sealed.config.sealed, true);
      assert.equal(sealed.config.max_age, 0, "sealing forces max_age 0, discard new, deny delete and purge");
      assert.equal(sealed.config.deny_purge, true);
      assert.equal(errCode(await pub(fx.nc, "more", "z")), 10109);
      assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.PURGE.UPD")), 10109);
    });

    test("info, errors and paging of names and lists", async () => {
      const nf = await api(fx.nc, "$JS.API.STREAM.INFO.NOPE");
      assert.deepEqual(nf, { type: "io.nats.jetstream.api.v1.stream_info_response", error: { code: 404, err_code: 10059, description: "stream not found" }, total: 0, offset: 0, limit: 0 });
      for (let i = 0; i < 260; i++) {
        const n = `PG${String(i).padStart(3, "0")}`;
        await api(fx.nc, `$JS.API.STREAM.CREATE.${n}`, { name: n, subjects: [`pg.${i}`], storage });
      }
      const first = await api(fx.nc, "$JS.API.STREAM.LIST", { offset: 0 });
      const all = first.total;
      assert.equal(first.limit, 256);
      assert.equal(first.streams.length, 256);
      const second = await api(fx.nc, "$JS.API.STREAM.LIST", { offset: 256 });
      assert.equal(second.offset, 256);
      assert.equal(second.streams.length, all - 256);
      const names = await api(fx.nc, "$JS.API.STREAM.NAMES");
      assert.equal(names.limit, 1024);
      assert.equal(names.total, all);
      assert.deepEqual(names.streams, [...names.streams].sort());
      const filtered = await api(fx.nc, "$JS.API.STREAM.NAMES", { subject: "pg.7" });
      assert.deepEqual(filtered.streams, ["PG007"]);
      const beyond = await api(fx.nc, "$JS.API.STREAM.NAMES", { offset: 5000 });
      assert.equal(beyond.offset, all);
      assert.equal(beyond.streams, null, "an empty page of names is null, as nats-server sends it");
      for (let i = 0; i < 260; i++) await api(fx.nc, `$JS.API.STREAM.DELETE.PG${String(i).padStart(3, "0")}`);
    });

    test("subjects_filter and deleted_details in stream info", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.SUBJ", { name: "SUBJ", subjects: ["sj.>"], storage });
      for (const s_ of ["sj.a", "sj.a", "sj.b", "sj.c.d", "sj.a"]) await pub(fx.nc, s_, "v");
      await api(fx.nc, "$JS.API.STREAM.MSG.DELETE.SUBJ", { seq: 2 });
      const r = await api(fx.nc, "$JS.API.STREAM.INFO.SUBJ", { subjects_filter: "sj.*", deleted_details: true });
      assert.deepEqual(r.state.subjects, { "sj.a": 2, "sj.b": 1 });
      assert.equal(r.total, 2);
      assert.equal(r.limit, 100000);
      assert.equal(r.state.num_subjects, 3);
      assert.equal(r.state.num_deleted, 1);
      assert.deepEqual(r.state.deleted, [2]);
      const plain = await api(fx.nc, "$JS.API.STREAM.INFO.SUBJ");
      assert.equal(plain.state.subjects, undefined);
      assert.equal(plain.state.deleted, undefined);
    });

    test("delete", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.DEL", { name: "DEL", storage });
      assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.DELETE.DEL", { x: 1 })), 10038);
      assert.deepEqual(await api(fx.nc, "$JS.API.STREAM.DELETE.DEL"), { type: "io.nats.jetstream.api.v1.stream_delete_response", success: true });
      assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.DELETE.DEL")), 10059);
      assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.INFO.DEL")), 10059);
    });

    test("purge: all, by filter, keep, up to a sequence", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.PRG", { name: "PRG", subjects: ["prg.>"], storage });
      for (let i = 0; i < 10; i++) await pub(fx.nc, `prg.${i % 2 === 0 ? "even" : "odd"}`, String(i));
      assert.deepEqual(await api(fx.nc, "$JS.API.STREAM.PURGE.PRG", { filter: "prg.even", keep: 2 }), { type: "io.nats.jetstream.api.v1.stream_purge_response", success: true, purged: 3 });
      // Left: 2 4 6 7 8 9 10. Up to but not including 4 removes only 2 (1 and 3 went with the evens).
      assert.equal((await api(fx.nc, "$JS.API.STREAM.PURGE.PRG", { seq: 4 })).purged, 1);
      assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.PURGE.PRG", { seq: 4, keep: 1 })), 10003);
      const before = (await api(fx.nc, "$JS.API.STREAM.INFO.PRG")).state;
      assert.equal(before.messages, 6);
      assert.equal(before.first_seq, 4);
      assert.equal((await api(fx.nc, "$JS.API.STREAM.PURGE.PRG", { filter: "prg.>" })).purged, 6);
      const after = (await api(fx.nc, "$JS.API.STREAM.INFO.PRG")).state;
      assert.equal(after.messages, 0);
      assert.equal(after.first_seq, 11, "an emptied stream has first_seq = last_seq + 1");
      assert.equal(after.last_seq, 10);
      assert.equal(after.first_ts, "0001-01-01T00:00:00Z");
      assert.equal((await pub(fx.nc, "prg.x", "next")).seq, 11);
      assert.equal((await api(fx.nc, "$JS.API.STREAM.PURGE.PRG")).purged, 1);
      await api(fx.nc, "$JS.API.STREAM.CREATE.NOPRG", { name: "NOPRG", storage, deny_purge: true });
      assert.deepEqual((await api(fx.nc, "$JS.API.STREAM.PURGE.NOPRG")).error, { code: 500, err_code: 10110, description: "stream purge not permitted" });
    });

    test("message get and delete", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.GET", { name: "GET", subjects: ["get.>"], storage, allow_rollup_hdrs: true });
      await pub(fx.nc, "get.a", "one");
      await pub(fx.nc, "get.b", "two", { "X-Test": "yes" });
      await pub(fx.nc, "get.a", "");
      const bySeq = await api(fx.nc, "$JS.API.STREAM.MSG.GET.GET", { seq: 2 });
      assert.equal(bySeq.message.subject, "get.b");
      assert.equal(bySeq.message.seq, 2);
      assert.equal(Buffer.from(bySeq.message.data, "base64").toString(), "two");
      assert.equal(Buffer.from(bySeq.message.hdrs, "base64").toString(), "NATS/1.0\r\nX-Test: yes\r\n\r\n", "stored headers come back verbatim");
      const last = await api(fx.nc, "$JS.API.STREAM.MSG.GET.GET", { last_by_subj: "get.a" });
      assert.equal(last.message.seq, 3);
      assert.equal(last.message.data, undefined, "an empty payload is omitted");
      assert.equal(last.message.hdrs, undefined);
      assert.equal((await api(fx.nc, "$JS.API.STREAM.MSG.GET.GET", { last_by_subj: "get.*" })).message.seq, 3, "wildcards find the newest match");
      assert.equal((await api(fx.nc, "$JS.API.STREAM.MSG.GET.GET", { next_by_subj: "get.a", seq: 2 })).message.seq, 3);
      assert.deepEqual((await api(fx.nc, "$JS.API.STREAM.MSG.GET.GET", { seq: 999 })).error, { code: 404, err_code: 10037, description: "no message found" });
      assert.deepEqual((await api(fx.nc, "$JS.API.STREAM.MSG.GET.GET")).error, { code: 400, err_code: 10003, description: "bad request" });
      assert.deepEqual(await api(fx.nc, "$JS.API.STREAM.MSG.DELETE.GET", { seq: 1 }), { type: "io.nats.jetstream.api.v1.stream_msg_delete_response", success: true });
      assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.MSG.GET.GET", { seq: 1 })), 10037);
      const again = await api(fx.nc, "$JS.API.STREAM.MSG.DELETE.GET", { seq: 1 });
      assert.deepEqual(again.error, { code: 400, err_code: 10043, description: "sequence 1 not found" });
      assert.deepEqual((await api(fx.nc, "$JS.API.STREAM.MSG.DELETE.GET", { seq: 99 })).error, storage === "memory" ? { code: 400, err_code: 10043, description: "sequence 99 not found" } : { code: 500, err_code: 10057, description: "stream store EOF" });
      assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.MSG.DELETE.GET")), 10003);
      await api(fx.nc, "$JS.API.STREAM.CREATE.NODEL", { name: "NODEL", storage, deny_delete: true });
      await pub(fx.nc, "NODEL", "x");
      assert.deepEqual((await api(fx.nc, "$JS.API.STREAM.MSG.DELETE.NODEL", { seq: 1 })).error, { code: 500, err_code: 10057, description: "message delete not permitted" });
    });

    test("unknown API subjects get no reply; JetStream API subjects never get a 503", async () => {
      const r = fx.nc.request("$JS.API.STREAM.FOO.BAR", "", { timeout: 400 });
      // The following request is answered after the unknown one was handled, so its answer proves
      // the server has seen both.
      const info = await api(fx.nc, "$JS.API.INFO");
      assert.equal(info.type, "io.nats.jetstream.api.v1.account_info_response");
      await assert.rejects(r, (e: Error) => !(e instanceof v3.errors.NoRespondersError) && !((e as Error & { cause?: unknown }).cause instanceof v3.errors.NoRespondersError));
    });

    test("clustering, snapshot and restore requests get nats-server's errors, not silence", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.SNAP", { name: "SNAP", subjects: ["snap.>"], storage });
      const cluster = { code: 503, err_code: 10010, description: "JetStream clustering support required" };
      const cases: [string, unknown, string, unknown][] = [
        ["$JS.API.STREAM.LEADER.STEPDOWN.SNAP", "", "stream_leader_stepdown_response", cluster],
        ["$JS.API.CONSUMER.LEADER.STEPDOWN.SNAP.c", "", "consumer_leader_stepdown_response", cluster],
        ["$JS.API.STREAM.PEER.REMOVE.SNAP", { peer: "x" }, "stream_remove_peer_response", cluster],
        ["$JS.API.STREAM.SNAPSHOT.SNAP", "", "stream_snapshot_response", { code: 400, err_code: 10003, description: "bad request" }],
        ["$JS.API.STREAM.SNAPSHOT.NOPE", { deliver_subject: "x" }, "stream_snapshot_response", { code: 404, err_code: 10059, description: "stream not found" }],
        ["$JS.API.STREAM.SNAPSHOT.SNAP", { deliver_subject: "x" }, "stream_snapshot_response", { code: 500, err_code: 10064, description: "snapshot failed: stream snapshots are not supported by this server" }],
        ["$JS.API.STREAM.RESTORE.SNAP", { config: { name: "SNAP" } }, "stream_restore_response", { code: 400, err_code: 10130, description: "stream name already in use, cannot restore" }],
        ["$JS.API.STREAM.RESTORE.NEW", { config: { name: "NEW" } }, "stream_restore_response", { code: 500, err_code: 10062, description: "restore failed: stream restores are not supported by this server" }],
      ];
      for (const [subject, body, type, error] of cases) {
        const r = await api(fx.nc, subject, body);
        assert.deepEqual({ type: r.type, error: r.error }, { type: `io.nats.jetstream.api.v1.${type}`, error }, subject);
      }
      assert.equal((await api(fx.nc, "$JS.API.STREAM.INFO.SNAP")).config.name, "SNAP", "nothing changed");
    });
  });
}
