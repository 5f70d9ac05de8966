// Restarts of a real server process: every file stream comes back exactly (config, created time,
// state, every message with its headers and timestamp), after a clean stop and after SIGKILL;
// memory streams do not come back; a torn or corrupt database is reported at start with the
// stream's name, left untouched on disk, and the other streams keep working.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v3 from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { spawnServer, type ChildServer } from "../helpers/server.js";
import { PAGE_SIZE } from "../../jetstream/store/sqlite_schema.js";
import { waitFor } from "../helpers/wait.js";
import { api, pub, type Json } from "./helpers.js";

function conf(dir: string): string {
  return `port: -1\nhost: 127.0.0.1\njetstream { store_dir: "${join(dir, "store")}" }\n`;
}

async function start(dir: string, round: string): Promise<{ srv: ChildServer; nc: v3.NatsConnection }> {
  const srv = await spawnServer(conf(dir), { dir: mkdtempSync(join(dir, `${round}-`)) });
  const nc = await v3.connect({ servers: srv.ports.nats![0]!, reconnect: false });
  return { srv, nc };
}

/** Everything a client can read about every stream: info (without the consumer count) and each message. */
async function dump(nc: v3.NatsConnection): Promise<Record<string, Json>> {
  const names: string[] = (await api(nc, "$JS.API.STREAM.NAMES")).streams ?? [];
  const out: Record<string, Json> = {};
  for (const name of names.sort()) {
    const info = await api(nc, `$JS.API.STREAM.INFO.${name}`, { deleted_details: true, subjects_filter: ">" });
    const msgs: Json[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await api(nc, `$JS.API.STREAM.MSG.GET.${name}`, { seq });
      msgs.push(m.message ?? m.error);
    }
    out[name] = { config: info.config, created: info.created, state: info.state, msgs };
  }
  return out;
}

async function fill(nc: v3.NatsConnection): Promise<void> {
  await api(nc, "$JS.API.STREAM.CREATE.ORDERS", { name: "ORDERS", subjects: ["orders.>"], max_msgs_per_subject: 3, allow_rollup_hdrs: true, allow_direct: true });
  for (let i = 0; i < 40; i++) await pub(nc, `orders.${i % 5}`, `order ${i}`, i % 3 === 0 ? { "Nats-Msg-Id": `id-${i}`, "X-Trace": `t${i}` } : undefined);
  await api(nc, "$JS.API.STREAM.MSG.DELETE.ORDERS", { seq: 38 });
  await api(nc, "$JS.API.STREAM.PURGE.ORDERS", { filter: "orders.4" });
  await pub(nc, "orders.1", "rolled", { "Nats-Rollup": "sub" });
  await api(nc, "$JS.API.STREAM.CREATE.FIRST", { name: "FIRST", first_seq: 1000, max_age: 3_600_000_000_000 });
  for (let i = 0; i < 3; i++) await pub(nc, "FIRST", `f${i}`);
  await api(nc, "$JS.API.STREAM.CREATE.EMPTIED", { name: "EMPTIED", deny_delete: true, description: "purged" });
  for (let i = 0; i < 5; i++) await pub(nc, "EMPTIED", `e${i}`);
  await api(nc, "$JS.API.STREAM.PURGE.EMPTIED");
  await api(nc, "$JS.API.STREAM.CREATE.TTL", { name: "TTL", allow_msg_ttl: true, subject_delete_marker_ttl: 60_000_000_000, max_age: 3_600_000_000_000 });
  await pub(nc, "TTL", "hour", { "Nats-TTL": "1h" });
  await pub(nc, "TTL", "forever", { "Nats-TTL": "never" });
  // The longest name nats-server takes, in characters its file name must encode.
  const long = "L$é".repeat(63) + "abc";
  assert.equal(Buffer.byteLength(long), 255);
  assert.equal((await api(nc, `$JS.API.STREAM.CREATE.${long}`, { name: long, subjects: ["long.name"] })).config?.name, long);
  await pub(nc, "long.name", "far");
  await api(nc, "$JS.API.STREAM.CREATE.SEALED", { name: "SEALED" });
  await pub(nc, "SEALED", "kept");
  await api(nc, "$JS.API.STREAM.UPDATE.SEALED", { name: "SEALED", sealed: true });
  const kv = await new Kvm(nc).create("cfg", { history: 4 });
  await kv.put("a", "1");
  await kv.put("a", "2");
  await kv.put("b", "3");
  await kv.delete("b");
  await kv.purge("gone");
  const os = await new Objm(nc).create("files");
  await os.putBlob({ name: "big" }, new Uint8Array(300_000).map((_, i) => i & 0xff));
  await api(nc, "$JS.API.STREAM.CREATE.MEM", { name: "MEM", storage: "memory" });
  await pub(nc, "MEM", "lost on restart");
}

test("every file stream and message survives restarts, clean and by SIGKILL; memory streams do not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-restart-"));
  try {
    let { srv, nc } = await start(dir, "r0");
    let before: Record<string, Json>;
    try {
      await fill(nc);
      before = await dump(nc);
      assert.ok(before.MEM, "the memory stream exists before the restart");
      delete before.MEM;
      await nc.close();
      srv.kill("SIGTERM");
      assert.equal(await srv.exited, 0);
    } finally {
      srv.cleanup();
    }
    ({ srv, nc } = await start(dir, "r1"));
    try {
      const after = await dump(nc);
      assert.deepEqual(Object.keys(after), Object.keys(before), "the same streams, and no memory stream");
      assert.deepEqual(after, before);
      // The KV bucket and object store read through their clients as before.
      const kv = await new Kvm(nc).open("cfg");
      assert.equal((await kv.get("a"))?.string(), "2");
      assert.equal((await kv.get("b"))?.operation, "DEL");
      const got = await (await new Objm(nc).open("files")).getBlob("big");
      assert.equal(got?.length, 300_000);
      // The de-duplication window is rebuilt from the stored messages.
      const withId = (before.ORDERS.msgs as Json[]).find((m) => m.hdrs && Buffer.from(m.hdrs, "base64").toString().includes("Nats-Msg-Id: id-33"));
      assert.ok(withId, "a stored message with a Nats-Msg-Id");
      assert.deepEqual(await pub(nc, "orders.3", "again", { "Nats-Msg-Id": "id-33" }), { stream: "ORDERS", seq: withId.seq, duplicate: true });
      // New writes continue the sequences; then a SIGKILL with nothing unacknowledged.
      assert.equal((await pub(nc, "orders.9", "after restart")).seq, before.ORDERS.state.last_seq + 1);
      assert.equal((await pub(nc, "FIRST", "f3")).seq, 1003);
      before = await dump(nc);
      await nc.close();
      srv.kill("SIGKILL");
      await srv.exited;
    } finally {
      srv.cleanup();
    }
    ({ srv, nc } = await start(dir, "r2"));
    try {
      assert.deepEqual(await dump(nc), before, "everything acknowledged before the SIGKILL is there, exactly");
      await nc.close();
    } finally {
      srv.cleanup();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function sha(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

test("a corrupt or torn stream database is reported at start with its name, left as it is, and the rest works", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-corrupt-"));
  try {
    let { srv, nc } = await start(dir, "r0");
    try {
      for (const name of ["GOOD", "BAD", "TORN"]) {
        await api(nc, `$JS.API.STREAM.CREATE.${name}`, { name });
        for (let i = 0; i < 300; i++) await pub(nc, name, `${name} message ${i} `.repeat(20));
      }
      await nc.close();
      srv.kill("SIGTERM");
      await srv.exited;
    } finally {
      srv.cleanup();
    }
    const accDir = join(dir, "store", "jetstream", readdirSync(join(dir, "store", "jetstream"))[0]!);
    const bad = join(accDir, "BAD.db");
    const torn = join(accDir, "TORN.db");
    // Scribble over pages in the middle of BAD; cut TORN in half.
    const b = readFileSync(bad);
    b.fill(0x5a, 4 * PAGE_SIZE + 100, 6 * PAGE_SIZE);
    writeFileSync(bad, b);
    truncateSync(torn, Math.floor(statSync(torn).size / 2 / PAGE_SIZE) * PAGE_SIZE);
    const badHash = sha(bad);
    const tornHash = sha(torn);

    ({ srv, nc } = await start(dir, "r1"));
    try {
      const log = srv.stderr();
      assert.match(log, /stream "BAD".*corrupt store .*BAD\.db/, log);
      assert.match(log, /stream "TORN".*corrupt store .*TORN\.db.*(truncated|short|corrupt|malformed)/i, log);
      assert.deepEqual((await api(nc, "$JS.API.STREAM.NAMES")).streams, ["GOOD"]);
      assert.equal((await api(nc, "$JS.API.STREAM.INFO.GOOD")).state.messages, 300);
      assert.equal((await pub(nc, "GOOD", "still writable")).seq, 301);
      assert.equal((await api(nc, "$JS.API.STREAM.INFO.BAD")).error.err_code, 10059);
      // Creating the stream again must not replace the damaged file.
      const again = await api(nc, "$JS.API.STREAM.CREATE.BAD", { name: "BAD" });
      assert.ok(again.error, "re-creating over a damaged stream is refused");
      await nc.close();
    } finally {
      srv.kill("SIGTERM");
      await srv.exited;
      srv.cleanup();
    }
    assert.equal(sha(bad), badHash, "the corrupt file is not modified");
    assert.equal(sha(torn), tornHash, "the torn file is not modified");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("-js and -sd turn JetStream on (INFO says so, the API answers); jetstream { sync_interval } is honoured", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-jsflag-"));
  try {
    const srv = await spawnServer("port: -1\nhost: 127.0.0.1\n", { args: ["-js", "-sd", join(dir, "sd")], dir: mkdtempSync(join(dir, "a-")) });
    try {
      const { RawConn } = await import("../helpers/raw.js");
      const c = await RawConn.connect(srv.port);
      const info = JSON.parse((await c.expect(/INFO (\{.*\}) *\r\n/)).match(/INFO (\{.*\}) *\r\n/)![1]!);
      c.close();
      assert.equal(info.jetstream, true);
      assert.equal(info.headers, true);
      const nc = await v3.connect({ servers: srv.ports.nats![0]! });
      assert.equal((await api(nc, "$JS.API.STREAM.CREATE.FLAG", { name: "FLAG" })).config.name, "FLAG");
      await nc.close();
      assert.ok(readdirSync(join(dir, "sd", "jetstream")).length > 0, "streams live under <store_dir>/jetstream");
    } finally {
      srv.cleanup();
    }
    const lazy = await spawnServer(`port: -1\nhost: 127.0.0.1\njetstream { store_dir: "${join(dir, "lazy")}", sync_interval: "2m" }\n`, { dir: mkdtempSync(join(dir, "b-")) });
    try {
      // The ports file can appear before the log lines have come through the pipe.
      await waitFor("the sync interval log line", () => /Sync Interval: /.test(lazy.stderr()), 10_000);
      assert.match(lazy.stderr(), /Sync Interval: 120000ms/);
      const plain = await spawnServer("port: -1\nhost: 127.0.0.1\n", { dir: mkdtempSync(join(dir, "c-")) });
      try {
        const nc = await v3.connect({ servers: plain.ports.nats![0]! });
        // Without JetStream the API has no responder: the client sees 503 (no responders).
        await assert.rejects(nc.request("$JS.API.INFO", "", { timeout: 2000 }), (e: Error) => /503|no responders/i.test(`${e.message} ${(e as { code?: string }).code} ${String((e as { cause?: unknown }).cause)}`));
        await nc.close();
      } finally {
        plain.cleanup();
      }
    } finally {
      lazy.cleanup();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
