// Stream features that involve time or other subjects: max_age and per-message TTL expiry on
// time, subject delete markers, republish, subject transforms, first_seq, direct get.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as v3 from "@nats-io/transport-node";
import { api, errCode, jsClientFixture, pub } from "./helpers.js";
import { waitFor } from "../helpers/wait.js";

const MS = 1_000_000;

describe("stream features", () => {
  const fx = jsClientFixture();

  test("max_age removes messages on time, not on the next publish", async () => {
    await api(fx.nc, "$JS.API.STREAM.CREATE.AGE", { name: "AGE", subjects: ["age"], max_age: 300 * MS, storage: "memory" });
    await pub(fx.nc, "age", "1");
    await pub(fx.nc, "age", "2");
    assert.equal((await api(fx.nc, "$JS.API.STREAM.INFO.AGE")).state.messages, 2);
    // No further publish: the server's own timer must remove them.
    await waitFor("messages aged out", async () => (await api(fx.nc, "$JS.API.STREAM.INFO.AGE")).state.messages === 0, 5000, 50);
    const st = (await api(fx.nc, "$JS.API.STREAM.INFO.AGE")).state;
    assert.equal(st.first_seq, 3);
    assert.equal(st.last_seq, 2);
  });

  test("per-message TTL", async () => {
    await api(fx.nc, "$JS.API.STREAM.CREATE.NOTTL", { name: "NOTTL", subjects: ["nottl"] });
    assert.deepEqual((await pub(fx.nc, "nottl", "x", { "Nats-TTL": "1s" })).error, { code: 400, err_code: 10166, description: "per-message TTL is disabled" });
    await api(fx.nc, "$JS.API.STREAM.CREATE.TTL", { name: "TTL", subjects: ["ttl.>"], allow_msg_ttl: true });
    assert.deepEqual((await pub(fx.nc, "ttl.a", "x", { "Nats-TTL": "500ms" })).error, { code: 400, err_code: 10165, description: "invalid per-message TTL" });
    assert.equal(errCode(await pub(fx.nc, "ttl.a", "x", { "Nats-TTL": "bogus" })), 10165);
    assert.equal((await pub(fx.nc, "ttl.a", "short", { "Nats-TTL": "1s" })).seq, 1);
    assert.equal((await pub(fx.nc, "ttl.b", "forever")).seq, 2);
    assert.equal((await pub(fx.nc, "ttl.c", "never", { "Nats-TTL": "never" })).seq, 3);
    await waitFor("the 1s message expired", async () => (await api(fx.nc, "$JS.API.STREAM.INFO.TTL")).state.messages === 2, 5000, 50);
    assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.MSG.GET.TTL", { seq: 1 })), 10037);
    assert.equal((await api(fx.nc, "$JS.API.STREAM.MSG.GET.TTL", { seq: 2 })).message.seq, 2);
    // Once on, message TTLs stay on (nats-server's text).
    const off = await api(fx.nc, "$JS.API.STREAM.UPDATE.TTL", { name: "TTL", subjects: ["ttl.>"], allow_msg_ttl: false });
    assert.deepEqual(off.error, { code: 500, err_code: 10052, description: "message TTL status can not be disabled" });
  });

  test("subject delete markers replace the last message of a subject removed by max_age", async () => {
    const r = await api(fx.nc, "$JS.API.STREAM.CREATE.SDM", { name: "SDM", subjects: ["sdm.>"], max_age: 400 * MS, subject_delete_marker_ttl: 1000 * MS, storage: "memory" });
    assert.equal(r.config.allow_msg_ttl, true, "markers switch message TTLs on");
    assert.equal(r.config.allow_rollup_hdrs, true);
    await pub(fx.nc, "sdm.k", "v1");
    await waitFor("marker written", async () => {
      const m = await api(fx.nc, "$JS.API.STREAM.MSG.GET.SDM", { last_by_subj: "sdm.k" });
      return m.message && m.message.seq === 2 ? m : null;
    }, 5000, 50).then((m) => {
      const hdrs = Buffer.from(m.message.hdrs, "base64").toString();
      assert.match(hdrs, /Nats-Marker-Reason: MaxAge\r\n/);
      assert.match(hdrs, /Nats-TTL: 1s\r\n/);
      assert.match(hdrs, /Nats-Rollup: sub\r\n/);
    });
    // The marker itself expires by its TTL and is not re-marked.
    await waitFor("marker expired", async () => (await api(fx.nc, "$JS.API.STREAM.INFO.SDM")).state.messages === 0, 5000, 50);
    assert.equal((await api(fx.nc, "$JS.API.STREAM.INFO.SDM")).state.last_seq, 2);
  });

  test("a key-value purge with its own TTL counts as a marker: when it expires, no new marker takes its place", async () => {
    await api(fx.nc, "$JS.API.STREAM.CREATE.KV_sdm", { name: "KV_sdm", subjects: ["$KV.sdm.>"], allow_rollup_hdrs: true, subject_delete_marker_ttl: 1000 * MS, storage: "memory" });
    await pub(fx.nc, "$KV.sdm.k", "v1");
    // What @nats-io/kv's purge(key, { ttl }) sends.
    const purge = await pub(fx.nc, "$KV.sdm.k", "", { "KV-Operation": "PURGE", "Nats-Rollup": "sub", "Nats-TTL": "1s" });
    assert.equal(purge.seq, 2);
    await waitFor("the purge marker expired", async () => (await api(fx.nc, "$JS.API.STREAM.INFO.KV_sdm")).state.messages === 0, 5000, 50);
    // Another message of the stream, published after the expiry: had a marker been written, it would come first.
    assert.equal((await pub(fx.nc, "$KV.sdm.other", "x")).seq, 3);
    assert.equal(errCode(await api(fx.nc, "$JS.API.STREAM.MSG.GET.KV_sdm", { last_by_subj: "$KV.sdm.k" })), 10037);
  });

  test("republish carries the stream metadata headers", async () => {
    await api(fx.nc, "$JS.API.STREAM.CREATE.REP", { name: "REP", subjects: ["rep.>"], republish: { src: "rep.>", dest: "out.>" } });
    const bad = await api(fx.nc, "$JS.API.STREAM.CREATE.REPX", { name: "REPX", subjects: ["repx.>"], republish: { src: "repx.>", dest: "repx.>" } });
    assert.equal(bad.error.description, "stream configuration for republish destination forms a cycle");
    const sub = fx.nc.subscribe("out.>", { max: 2 });
    await fx.nc.flush();
    await pub(fx.nc, "rep.a", "one");
    await pub(fx.nc, "rep.a", "two", { "X-Orig": "h" });
    const got: v3.Msg[] = [];
    for await (const m of sub) got.push(m);
    assert.equal(got[0]!.subject, "out.a");
    assert.equal(got[0]!.headers?.get("Nats-Stream"), "REP");
    assert.equal(got[0]!.headers?.get("Nats-Sequence"), "1");
    assert.equal(got[0]!.headers?.get("Nats-Last-Sequence"), "0");
    assert.equal(got[1]!.headers?.get("Nats-Last-Sequence"), "1");
    assert.equal(got[1]!.headers?.get("X-Orig"), "h", "original headers come first and are kept");
    assert.equal(got[1]!.string(), "two");
  });

  test("subject transform and first_seq", async () => {
    await api(fx.nc, "$JS.API.STREAM.CREATE.TR", { name: "TR", subjects: ["in.*.*"], subject_transform: { src: "in.*.*", dest: "stored.$2.{{wildcard(1)}}" }, first_seq: 100 });
    assert.equal((await pub(fx.nc, "in.a.b", "x")).seq, 100);
    const m = await api(fx.nc, "$JS.API.STREAM.MSG.GET.TR", { seq: 100 });
    assert.equal(m.message.subject, "stored.b.a");
    const bad = async (subject_transform: unknown) => (await api(fx.nc, "$JS.API.STREAM.CREATE.TRX", { name: "TRX", subjects: ["trx.*"], subject_transform })).error;
    assert.deepEqual(await bad({ src: "trx..a", dest: "x.>" }), { code: 400, err_code: 10155, description: "stream transform source: invalid subject trx..a" });
    assert.deepEqual(await bad({ src: "trx.*", dest: "x.$2" }), { code: 400, err_code: 10156, description: "stream transform: invalid mapping destination" });
    assert.deepEqual(await bad({ src: "trx.*", dest: "x.{{partition(3,1)}}" }), { code: 400, err_code: 10156, description: "stream transform: mapping function partition is not supported by tsnats yet" });
  });

  test("direct get: both forms, stored headers first, 404 and 408; silence for streams without allow_direct", async () => {
    await api(fx.nc, "$JS.API.STREAM.CREATE.KV_d", { name: "KV_d", subjects: ["$KV.d.>"], allow_direct: true, max_msgs_per_subject: 5 });
    await pub(fx.nc, "$KV.d.a", "1", { "Nats-Expected-Last-Subject-Sequence": "0" });
    await pub(fx.nc, "$KV.d.a", "2");
    const last = await fx.nc.request("$JS.API.DIRECT.GET.KV_d.$KV.d.a", "", { timeout: 2000 });
    assert.equal(last.string(), "2");
    assert.equal(last.headers?.get("Nats-Sequence"), "2");
    assert.equal(last.headers?.get("Nats-Subject"), "$KV.d.a");
    assert.equal(last.headers?.get("Nats-Stream"), "KV_d");
    assert.match(last.headers?.get("Nats-Time-Stamp") ?? "", /Z$/);
    const bySeq = await fx.nc.request("$JS.API.DIRECT.GET.KV_d", JSON.stringify({ seq: 1 }), { timeout: 2000 });
    assert.equal(bySeq.string(), "1");
    const raw = bySeq.headers!.toString();
    assert.ok(raw.indexOf("Nats-Expected-Last-Subject-Sequence: 0") < raw.indexOf("Nats-Stream:"), "stored headers are kept, metadata appended after them");
    const miss = await fx.nc.request("$JS.API.DIRECT.GET.KV_d.$KV.d.zzz", "", { timeout: 2000 });
    assert.equal(miss.headers?.code, 404);
    assert.equal(miss.headers?.description, "Message Not Found");
    const bodyOnSubjectForm = await fx.nc.request("$JS.API.DIRECT.GET.KV_d.$KV.d.a", JSON.stringify({ seq: 1 }), { timeout: 2000 });
    assert.equal(bodyOnSubjectForm.headers?.code, 408);
    const empty = await fx.nc.request("$JS.API.DIRECT.GET.KV_d", "", { timeout: 2000 });
    assert.equal(empty.headers?.code, 408);
    // nats-server's texts: a request naming nothing, and one naming a last subject and more.
    for (const [body, text] of [["{}", "Empty Request"], ['{"seq":0}', "Empty Request"], ['{"last_by_subj":"$KV.d.a","next_by_subj":"$KV.d.a"}', "Bad Request"], ['{"last_by_subj":"$KV.d.a","seq":1}', "Bad Request"]]) {
      const r = await fx.nc.request("$JS.API.DIRECT.GET.KV_d", body!, { timeout: 2000 });
      assert.deepEqual([r.headers?.code, r.headers?.description], [408, text], body);
      const g = await api(fx.nc, "$JS.API.STREAM.MSG.GET.KV_d", body);
      assert.equal(g.error?.err_code, 10003, body);
    }
    assert.equal((await api(fx.nc, "$JS.API.STREAM.MSG.GET.NOSUCH", "{}")).error?.err_code, 10003, "the request is checked before the stream is looked up");
    await api(fx.nc, "$JS.API.STREAM.CREATE.NODIRECT", { name: "NODIRECT", subjects: ["nd"] });
    const silent = fx.nc.request("$JS.API.DIRECT.GET.NODIRECT", JSON.stringify({ seq: 1 }), { timeout: 300 });
    await assert.rejects(silent);
  });

  test("direct get batches and multi_last end with an EOB frame", async () => {
    await api(fx.nc, "$JS.API.STREAM.CREATE.KV_b", { name: "KV_b", subjects: ["$KV.b.>"], allow_direct: true });
    for (const [k, v] of [["a", "1"], ["b", "2"], ["a", "3"], ["c", "4"]]) await pub(fx.nc, `$KV.b.${k}`, v!);
    const inbox = v3.createInbox();
    const sub = fx.nc.subscribe(inbox);
    fx.nc.publish("$JS.API.DIRECT.GET.KV_b", JSON.stringify({ seq: 1, batch: 2, next_by_subj: "$KV.b.>" }), { reply: inbox });
    const got: v3.Msg[] = [];
    for await (const m of sub) {
      got.push(m);
      if (m.headers?.code === 204) break;
    }
    assert.deepEqual(got.map((m) => m.headers?.get("Nats-Sequence") || m.headers?.description), ["1", "2", "EOB"]);
    assert.deepEqual(got.map((m) => m.headers?.get("Nats-Num-Pending")), ["3", "2", "2"]);
    assert.deepEqual(got.map((m) => m.headers?.get("Nats-Last-Sequence")), ["0", "1", "2"]);
    const sub2 = fx.nc.subscribe(inbox + ".m");
    fx.nc.publish("$JS.API.DIRECT.GET.KV_b", JSON.stringify({ multi_last: ["$KV.b.>"], up_to_seq: 3 }), { reply: inbox + ".m" });
    const multi: v3.Msg[] = [];
    for await (const m of sub2) {
      multi.push(m);
      if (m.headers?.code === 204) break;
    }
    assert.deepEqual(multi.map((m) => m.string()), ["2", "3", ""], "as of seq 3: b=2, a=3, and c does not exist yet");
    assert.equal(multi[2]!.headers?.get("Nats-UpTo-Sequence"), "3");
  });

  test("direct get requests nats-server refuses, max_bytes and no_hdr in batches", async () => {
    await api(fx.nc, "$JS.API.STREAM.CREATE.KV_r", { name: "KV_r", subjects: ["$KV.r.>"], allow_direct: true });
    for (const [k, v] of [["a", "1"], ["b", "2"], ["a", "3"]]) await pub(fx.nc, `$KV.r.${k}`, v!, { "X-Kept": k! });
    const now = new Date().toISOString();
    const refused: [unknown, string][] = [
      [{ batch: 3 }, "Empty Request"],
      [{ max_bytes: 100 }, "Empty Request"],
      [{ seq: 1, start_time: now }, "Bad Request"],
      [{ last_by_subj: "$KV.r.a", start_time: now }, "Bad Request"],
      [{ last_by_subj: "$KV.r.a", batch: 2 }, "Bad Request"],
      [{ last_by_subj: "$KV.r.a", multi_last: ["$KV.r.>"] }, "Bad Request"],
      [{ next_by_subj: "$KV.r.a", multi_last: ["$KV.r.>"] }, "Bad Request"],
      [{ multi_last: ["$KV.r.>"], up_to_seq: 2, up_to_time: now }, "Bad Request"],
      [{ start_time: "yesterday" }, "Malformed Request"],
      [{ multi_last: ["$KV.r.>"], up_to_time: "soon" }, "Malformed Request"],
    ];
    for (const [body, text] of refused) {
      const r = await fx.nc.request("$JS.API.DIRECT.GET.KV_r", JSON.stringify(body), { timeout: 2000 });
      assert.deepEqual([r.headers?.code, r.headers?.description], [408, text], JSON.stringify(body));
    }
    const collect = async (body: unknown): Promise<v3.Msg[]> => {
      const inbox = v3.createInbox();
      const sub = fx.nc.subscribe(inbox);
      fx.nc.publish("$JS.API.DIRECT.GET.KV_r", JSON.stringify(body), { reply: inbox });
      const out: v3.Msg[] = [];
      for await (const m of sub) {
        out.push(m);
        const code = m.headers?.code ?? 0;
        if (code === 204 || code >= 400) break;
      }
      return out;
    };
    // Each message counts subject + headers + payload; the one that reaches max_bytes is still sent.
    const size = "$KV.r.a".length + "NATS/1.0\r\nX-Kept: a\r\n\r\n".length + 1;
    const capped = await collect({ seq: 1, batch: 10, max_bytes: size + 1 });
    assert.deepEqual(capped.map((m) => m.headers?.get("Nats-Sequence") || m.headers?.description), ["1", "2", "EOB"]);
    assert.equal(capped[2]!.headers?.get("Nats-Num-Pending"), "1");
    const bare = await collect({ seq: 2, batch: 5, no_hdr: true });
    assert.deepEqual(bare.map((m) => [m.string(), m.headers?.code ?? 0]), [["2", 0], ["3", 0], ["", 204]], "payloads without headers, then the EOB");
    const single = await fx.nc.request("$JS.API.DIRECT.GET.KV_r", JSON.stringify({ seq: 3, no_hdr: true }), { timeout: 2000 });
    assert.equal(single.string(), "3");
    assert.equal(single.headers, undefined);
    const past = await collect({ seq: 4, batch: 2 });
    assert.deepEqual(past.map((m) => [m.headers?.code, m.headers?.description]), [[404, "Message Not Found"]]);
    const multiBytes = await collect({ multi_last: ["$KV.r.>"], max_bytes: 1 });
    assert.deepEqual(multiBytes.map((m) => m.string()), ["2", ""], "multi_last stops at max_bytes too");
    assert.equal(multiBytes[1]!.headers?.get("Nats-Num-Pending"), "1");
    const before = await collect({ multi_last: ["$KV.r.>"], up_to_time: "2000-01-01T00:00:00Z" });
    assert.deepEqual(before.map((m) => [m.headers?.code, m.headers?.description]), [[404, "No Results"]]);
  });
});
