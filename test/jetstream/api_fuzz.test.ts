// Garbage in on the JetStream side: random requests (JSON of random shape built from the API's own
// field names and values, broken JSON, ack bodies, JetStream headers) to every $JS.API subject, to
// stream subjects and to ack subjects of a real server process. The server must stay up, log no
// exception, keep answering, and after a SIGKILL recover every stream it had with no damage.
// FUZZ_RUNS raises the number of cases.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import * as v3 from "@nats-io/transport-node";
import { spawnServer, type ChildServer } from "../helpers/server.js";
import { api } from "./helpers.js";

const KEYS = [
  "name", "subjects", "retention", "max_consumers", "max_msgs", "max_bytes", "max_age", "max_msgs_per_subject", "max_msg_size", "discard",
  "storage", "num_replicas", "no_ack", "duplicate_window", "mirror", "sources", "sealed", "deny_delete", "deny_purge", "allow_rollup_hdrs",
  "allow_direct", "mirror_direct", "republish", "subject_transform", "first_seq", "metadata", "allow_msg_ttl", "subject_delete_marker_ttl",
  "compression", "consumer_limits", "discard_new_per_subject", "description", "stream_name", "config", "action", "durable_name",
  "deliver_policy", "opt_start_seq", "opt_start_time", "ack_policy", "ack_wait", "max_deliver", "backoff", "filter_subject",
  "filter_subjects", "replay_policy", "rate_limit_bps", "sample_freq", "max_waiting", "max_ack_pending", "flow_control", "idle_heartbeat",
  "headers_only", "max_batch", "max_expires", "deliver_subject", "deliver_group", "inactive_threshold", "mem_storage", "pedantic", "seq",
  "last_by_subj", "next_by_subj", "batch", "expires", "no_wait", "start_time", "multi_last", "up_to_seq", "up_to_time", "no_hdr", "filter",
  "keep", "offset", "subject", "deleted_details", "subjects_filter", "no_erase", "external", "src", "dest", "delay",
];
const WORDS = [
  "", ">", "*", "a.>", "a.*", "a.b", "$KV.x.>", "all", "last", "new", "last_per_subject", "by_start_sequence", "explicit", "none", "file",
  "memory", "limits", "interest", "workqueue", "old", "s2", "instant", "original", "create", "update", "2023-01-01T00:00:00Z", "bogus-time",
  "S1", "S2", "KV_x", "C1", "C2", "_INBOX.x",
];
const scalar = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(0, -1, 1e30, 2 ** 53, -(2 ** 63), 1.5, 1e9, 5e9),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(...WORDS),
  fc.boolean(),
  fc.constant(null),
);
const json = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: "small" }, scalar, fc.array(tie("v"), { maxLength: 3 }), tie("o")),
  o: fc.dictionary(fc.constantFrom(...KEYS), tie("v"), { maxKeys: 6 }),
})).v;

const STREAMS = ["S1", "S2", "KV_x", "NOPE"];
const CONSUMERS = ["C1", "C2", "x"];
const s = fc.constantFrom(...STREAMS);
const sc = fc.tuple(s, fc.constantFrom(...CONSUMERS));
const subject = fc.oneof(
  fc.tuple(fc.constantFrom("CREATE", "UPDATE", "INFO", "PURGE", "DELETE", "MSG.GET", "MSG.DELETE"), s).map(([op, n]) => `$JS.API.STREAM.${op}.${n}`),
  s.map((n) => `$JS.API.DIRECT.GET.${n}`),
  s.map((n) => `$JS.API.DIRECT.GET.${n}.a.b`),
  s.map((n) => `$JS.API.CONSUMER.CREATE.${n}`),
  sc.map(([n, c]) => `$JS.API.CONSUMER.CREATE.${n}.${c}`),
  sc.map(([n, c]) => `$JS.API.CONSUMER.CREATE.${n}.${c}.a.>`),
  fc.tuple(fc.constantFrom("DURABLE.CREATE", "INFO", "DELETE", "MSG.NEXT"), sc).map(([op, [n, c]]) => `$JS.API.CONSUMER.${op}.${n}.${c}`),
  fc.tuple(fc.constantFrom("LIST", "NAMES"), s).map(([op, n]) => `$JS.API.CONSUMER.${op}.${n}`),
  fc.constantFrom("$JS.API.STREAM.LIST", "$JS.API.STREAM.NAMES", "$JS.API.INFO", "$JS.API.ACCOUNT.PURGE", "$JS.API.STREAM.SNAPSHOT.S1", "$JS.API.CONSUMER.PAUSE.S1.C1"),
  fc.constantFrom("a.b", "a.c", "b.x", "$KV.x.k"),
  fc.tuple(fc.constantFrom("S1", "S2"), fc.constantFrom("C1", "C2"), fc.nat(5), fc.nat(20), fc.nat(20)).map(([n, c, d, a, b]) => `$JS.ACK.${n}.${c}.${d}.${a}.${b}.0.0`),
);
const body = fc.oneof(
  json.map((v) => JSON.stringify(v) ?? ""),
  fc.constantFrom("", "{", "null", "[]", "+ACK", "-NAK", '-NAK {"delay":-5}', "+WPI", "+TERM", '+NXT {"batch":-1}', '{"seq":1}'),
  fc.string({ maxLength: 20 }),
);
const headers = fc.option(
  fc.dictionary(
    fc.constantFrom("Nats-Msg-Id", "Nats-Expected-Stream", "Nats-Expected-Last-Sequence", "Nats-Expected-Last-Subject-Sequence", "Nats-Expected-Last-Msg-Id", "Nats-Rollup", "Nats-TTL", "KV-Operation"),
    fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("1", "0", "-1", "sub", "all", "1s", "never", "PURGE", "S1", "99999999999999999999")),
    { maxKeys: 3 },
  ),
  { nil: undefined },
);

/** Stack frames in the server's output mean an exception reached a handler's catch-all. */
function assertNoException(srv: ChildServer): void {
  assert.doesNotMatch(srv.stderr(), /\n\s+at \S/, "no exception was logged");
}

test("random JetStream requests neither crash nor stall the server, and what it stored recovers after SIGKILL", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-jsfuzz-"));
  const conf = `port: -1\nhost: 127.0.0.1\njetstream { store_dir: "${join(dir, "store")}" }\n`;
  let srv = await spawnServer(conf, { dir: mkdtempSync(join(dir, "r0-")) });
  try {
    const nc = await v3.connect({ servers: `127.0.0.1:${srv.port}`, reconnect: false });
    await api(nc, "$JS.API.STREAM.CREATE.S1", { name: "S1", subjects: ["a.>"] });
    await api(nc, "$JS.API.STREAM.CREATE.S2", { name: "S2", subjects: ["b.>"], storage: "memory", retention: "workqueue" });
    await api(nc, "$JS.API.STREAM.CREATE.KV_x", { name: "KV_x", subjects: ["$KV.x.>"], allow_direct: true, max_msgs_per_subject: 1, allow_rollup_hdrs: true });
    await api(nc, "$JS.API.CONSUMER.CREATE.S1.C1", { stream_name: "S1", config: { durable_name: "C1", ack_policy: "explicit" } });
    await api(nc, "$JS.API.CONSUMER.CREATE.S2.C2", { stream_name: "S2", config: { durable_name: "C2", ack_policy: "explicit" } });
    // Replies are taken and dropped: the point is what the server does, not what it answers.
    nc.subscribe("fuzz.>", { callback: () => {} });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(subject, body, headers, async (subj, b, h) => {
        let hdrs: v3.MsgHdrs | undefined;
        if (h !== undefined) {
          hdrs = v3.headers();
          for (const [k, v] of Object.entries(h)) hdrs.set(k, v);
        }
        nc.publish(subj, b, { reply: `fuzz.${n++}`, headers: hdrs });
        // A round trip now and then: the server has taken everything so far and is still there.
        if (n % 64 === 0) await nc.flush();
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 1500) },
    );
    await nc.flush();
    const info = await api(nc, "$JS.API.INFO");
    assert.equal(typeof info.streams, "number", JSON.stringify(info));
    const names: string[] = (await api(nc, "$JS.API.STREAM.NAMES")).streams ?? [];
    const before = new Map<string, { messages: number; last_seq: number; expires: boolean }>();
    for (const name of names) {
      const si = await api(nc, `$JS.API.STREAM.INFO.${name}`);
      const expires = si.config.max_age > 0 || si.config.allow_msg_ttl === true;
      if (si.config.storage === "file") before.set(name, { messages: si.state.messages, last_seq: si.state.last_seq, expires });
    }
    assertNoException(srv);
    await nc.close();
    srv.kill("SIGKILL");
    await srv.exited;
    srv.cleanup();

    srv = await spawnServer(conf, { dir: mkdtempSync(join(dir, "r1-")) });
    const nc2 = await v3.connect({ servers: `127.0.0.1:${srv.port}`, reconnect: false });
    const after = new Map<string, { messages: number; last_seq: number }>();
    for (const name of ((await api(nc2, "$JS.API.STREAM.NAMES")).streams ?? []) as string[]) {
      const si = await api(nc2, `$JS.API.STREAM.INFO.${name}`);
      after.set(name, { messages: si.state.messages, last_seq: si.state.last_seq });
    }
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), "every file stream is back");
    for (const [name, b] of before) {
      const a = after.get(name)!;
      assert.equal(a.last_seq, b.last_seq, `${name}: the same last sequence`);
      // A max_age or message TTL the fuzzer set may have removed messages since; nothing else may.
      if (b.expires) assert.ok(a.messages <= b.messages, `${name}: ${a.messages} messages after, ${b.messages} before`);
      else assert.equal(a.messages, b.messages, `${name}: the same messages`);
    }
    assert.doesNotMatch(srv.stderr(), /corrupt|could not be opened/i);
    assertNoException(srv);
    await nc2.close();
  } finally {
    srv.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
