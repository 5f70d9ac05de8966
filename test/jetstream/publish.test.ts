// The publish path into streams: PubAcks, de-duplication, expectations, rollups, limits and
// discard policies, retention, sealed and no_ack streams.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { api, jsClientFixture, pub } from "./helpers.js";
import { RawConn } from "../helpers/raw.js";

for (const storage of ["file", "memory"] as const) {
  describe(`publish path (${storage} storage)`, () => {
    const fx = jsClientFixture();

    test("PubAck bytes, and duplicates within the window", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.ORDERS", { name: "ORDERS", subjects: ["orders.>"], storage });
      const c = await RawConn.connect(fx.s.port);
      c.send('CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\nSUB ack.> 1\r\n');
      const h = "NATS/1.0\r\nNats-Msg-Id: abc\r\n\r\n";
      c.send(`HPUB orders.new ack.1 ${h.length} ${h.length + 2}\r\n${h}o1\r\n`);
      c.send(`HPUB orders.new ack.2 ${h.length} ${h.length + 2}\r\n${h}o1\r\n`);
      c.send("HPUB orders.new ack.3 0 2\r\no2\r\n");
      await c.expect("ack.3");
      await c.flush();
      assert.ok(c.text.includes(`MSG ack.1 1 28\r\n{"stream":"ORDERS", "seq":1}\r\n`), c.text);
      assert.ok(c.text.includes(`MSG ack.2 1 46\r\n{"stream":"ORDERS", "seq":1,"duplicate": true}\r\n`), c.text);
      assert.ok(c.text.includes(`{"stream":"ORDERS", "seq":2}`), "an empty header block is accepted and stored");
      const m = await api(fx.nc, "$JS.API.STREAM.MSG.GET.ORDERS", { seq: 2 });
      assert.equal(m.message.hdrs, undefined, "HPUB with a 0-byte header block stores a message without headers");
      c.close();
    });

    test("a burst of distinct messages is stored byte for byte", async () => {
      // Thousands of messages in a few socket reads: the server reuses its read buffer between
      // reads, so a stored message that still pointed into it would change under the next read.
      await api(fx.nc, "$JS.API.STREAM.CREATE.BURST", { name: "BURST", subjects: ["burst.*"], storage });
      const n = 3000;
      const payload = (i: number) => `p${i}-`.repeat(1 + ((i * 37) % 400)).slice(0, 1 + ((i * 53) % 1500));
      const header = (i: number) => (i % 3 === 0 ? `NATS/1.0\r\nIdx: ${i}\r\n\r\n` : "");
      const c = await RawConn.connect(fx.s.port);
      let out = 'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\nSUB ack.> 1\r\n';
      for (let i = 1; i <= n; i++) {
        const h = header(i);
        const p = payload(i);
        out += h ? `HPUB burst.${i % 7} ack.${i} ${h.length} ${h.length + p.length}\r\n${h}${p}\r\n` : `PUB burst.${i % 7} ack.${i} ${p.length}\r\n${p}\r\n`;
      }
      c.send(out);
      await c.expect(`{"stream":"BURST", "seq":${n}}`, 20_000);
      c.close();
      for (let i = 1; i <= n; i++) {
        const m = (await api(fx.nc, "$JS.API.STREAM.MSG.GET.BURST", { seq: i })).message;
        assert.equal(m.subject, `burst.${i % 7}`);
        assert.equal(Buffer.from(m.data, "base64").toString(), payload(i), `payload of message ${i}`);
        assert.equal(m.hdrs === undefined ? "" : Buffer.from(m.hdrs, "base64").toString(), header(i), `headers of message ${i}`);
      }
    });

    test("expectations: stream, last sequence, last subject sequence, last msg id", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.EXP", { name: "EXP", subjects: ["exp.>"], storage });
      assert.deepEqual(await pub(fx.nc, "exp.a", "1", { "Nats-Expected-Stream": "NOPE" }), { error: { code: 400, err_code: 10060, description: "expected stream does not match" }, stream: "EXP", seq: 0 });
      assert.equal((await pub(fx.nc, "exp.a", "1", { "Nats-Expected-Stream": "EXP", "Nats-Msg-Id": "m1" })).seq, 1);
      assert.deepEqual((await pub(fx.nc, "exp.a", "2", { "Nats-Expected-Last-Sequence": "5" })).error, { code: 400, err_code: 10071, description: "wrong last sequence: 1" });
      assert.equal((await pub(fx.nc, "exp.a", "2", { "Nats-Expected-Last-Sequence": "1" })).seq, 2);
      // KV create: 0 means "no message on this subject yet".
      assert.equal((await pub(fx.nc, "exp.b", "3", { "Nats-Expected-Last-Subject-Sequence": "0" })).seq, 3);
      assert.deepEqual((await pub(fx.nc, "exp.b", "4", { "Nats-Expected-Last-Subject-Sequence": "0" })).error, { code: 400, err_code: 10071, description: "wrong last sequence: 3" });
      assert.equal((await pub(fx.nc, "exp.b", "4", { "Nats-Expected-Last-Subject-Sequence": "3" })).seq, 4);
      assert.deepEqual((await pub(fx.nc, "exp.c", "5", { "Nats-Expected-Last-Msg-Id": "other" })).error, { code: 400, err_code: 10070, description: "wrong last msg ID: " });
      assert.equal((await pub(fx.nc, "exp.c", "5", { "Nats-Msg-Id": "m5" })).seq, 5);
      assert.equal((await pub(fx.nc, "exp.c", "6", { "Nats-Expected-Last-Msg-Id": "m5" })).seq, 6);
      assert.equal((await api(fx.nc, "$JS.API.STREAM.INFO.EXP")).state.messages, 6, "failed expectations store nothing");
      // Empty expectation headers are no expectations (nats-server reads them as absent).
      assert.equal((await pub(fx.nc, "exp.d", "7", { "Nats-Msg-Id": "m7" })).seq, 7);
      const empty = { "Nats-Expected-Stream": "", "Nats-Expected-Last-Sequence": "", "Nats-Expected-Last-Subject-Sequence": "", "Nats-Expected-Last-Msg-Id": "" };
      assert.deepEqual(await pub(fx.nc, "exp.d", "8", empty), { stream: "EXP", seq: 8 });
    });

    test("rollups", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.NOROLL", { name: "NOROLL", subjects: ["noroll"], storage });
      assert.deepEqual((await pub(fx.nc, "noroll", "x", { "Nats-Rollup": "sub" })).error, { code: 500, err_code: 10111, description: "rollup not permitted" });
      await api(fx.nc, "$JS.API.STREAM.CREATE.ROLL", { name: "ROLL", subjects: ["roll.>"], storage, allow_rollup_hdrs: true });
      for (const x of ["roll.a", "roll.a", "roll.b", "roll.a"]) await pub(fx.nc, x, "v");
      assert.deepEqual((await pub(fx.nc, "roll.a", "x", { "Nats-Rollup": "nope" })).error, { code: 500, err_code: 10111, description: 'rollup value invalid: "nope"' });
      assert.equal((await pub(fx.nc, "roll.a", "r", { "Nats-Rollup": "sub" })).seq, 5);
      let st = (await api(fx.nc, "$JS.API.STREAM.INFO.ROLL", { subjects_filter: ">" })).state;
      assert.deepEqual(st.subjects, { "roll.a": 1, "roll.b": 1 }, "sub keeps only the rollup on its subject");
      assert.equal((await pub(fx.nc, "roll.c", "r", { "Nats-Rollup": "all" })).seq, 6);
      st = (await api(fx.nc, "$JS.API.STREAM.INFO.ROLL")).state;
      assert.equal(st.messages, 1);
      assert.equal(st.first_seq, 6, "all keeps only the rollup message");
    });

    test("limits with discard old evict; discard new refuses with nats-server's texts", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.OLD", { name: "OLD", subjects: ["old.>"], storage, max_msgs: 3, max_msgs_per_subject: 2 });
      for (let i = 1; i <= 5; i++) assert.equal((await pub(fx.nc, "old.a", String(i))).seq, i);
      let st = (await api(fx.nc, "$JS.API.STREAM.INFO.OLD")).state;
      assert.equal(st.messages, 2);
      assert.equal(st.first_seq, 4, "the per-subject limit evicts the oldest of that subject");
      await pub(fx.nc, "old.b", "6");
      await pub(fx.nc, "old.c", "7");
      st = (await api(fx.nc, "$JS.API.STREAM.INFO.OLD")).state;
      assert.equal(st.messages, 3);
      assert.equal(st.first_seq, 5);

      await api(fx.nc, "$JS.API.STREAM.CREATE.NEWM", { name: "NEWM", subjects: ["newm"], storage, max_msgs: 2, discard: "new" });
      await pub(fx.nc, "newm", "1");
      await pub(fx.nc, "newm", "2");
      assert.deepEqual((await pub(fx.nc, "newm", "3")).error, { code: 503, err_code: 10077, description: "maximum messages exceeded" });
      await api(fx.nc, "$JS.API.STREAM.CREATE.NEWB", { name: "NEWB", subjects: ["newb"], storage, max_bytes: 200, discard: "new" });
      await pub(fx.nc, "newb", "x".repeat(50));
      assert.deepEqual((await pub(fx.nc, "newb", "x".repeat(150))).error, { code: 503, err_code: 10077, description: "maximum bytes exceeded" });
      await api(fx.nc, "$JS.API.STREAM.CREATE.NEWS", { name: "NEWS", subjects: ["news.*"], storage, max_msgs_per_subject: 1, discard: "new", discard_new_per_subject: true });
      await pub(fx.nc, "news.a", "1");
      assert.deepEqual((await pub(fx.nc, "news.a", "2")).error, { code: 503, err_code: 10077, description: "maximum messages per subject exceeded" });
      assert.equal((await pub(fx.nc, "news.b", "3")).seq, 2, "a sequence refused by discard new is not consumed");
      const bad = await api(fx.nc, "$JS.API.STREAM.CREATE.NEWX", { name: "NEWX", subjects: ["newx"], storage, discard_new_per_subject: true });
      assert.equal(bad.error.description, "discard new per subject requires discard new policy to be set");
    });

    test("max_msg_size, sealed and no_ack streams", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.SIZE", { name: "SIZE", subjects: ["size"], storage, max_msg_size: 10 });
      assert.deepEqual((await pub(fx.nc, "size", "x".repeat(11))).error, { code: 400, err_code: 10054, description: "message size exceeds maximum allowed" });
      assert.equal((await pub(fx.nc, "size", "x".repeat(10))).seq, 1);
      await api(fx.nc, "$JS.API.STREAM.CREATE.NOACK", { name: "NOACK", subjects: ["noack"], storage, no_ack: true });
      // A no_ack stream sends no PubAck: the request times out while the message is stored.
      await assert.rejects(fx.nc.request("noack", "x", { timeout: 300 }));
      assert.equal((await api(fx.nc, "$JS.API.STREAM.INFO.NOACK")).state.messages, 1);
    });

    test("interest retention without consumers uses the sequence but keeps nothing", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.INT", { name: "INT", subjects: ["int"], storage, retention: "interest" });
      assert.equal((await pub(fx.nc, "int", "1")).seq, 1);
      assert.equal((await pub(fx.nc, "int", "2")).seq, 2);
      const st = (await api(fx.nc, "$JS.API.STREAM.INFO.INT")).state;
      assert.equal(st.messages, 0);
      assert.equal(st.last_seq, 2);
    });

    test("publishes without a reply are stored silently; core subscribers see them too", async () => {
      await api(fx.nc, "$JS.API.STREAM.CREATE.SIL", { name: "SIL", subjects: ["sil"], storage });
      const sub = fx.nc.subscribe("sil", { max: 1 });
      fx.nc.publish("sil", "x");
      for await (const m of sub) assert.equal(m.string(), "x");
      assert.equal((await api(fx.nc, "$JS.API.STREAM.INFO.SIL")).state.messages, 1);
    });
  });
}
