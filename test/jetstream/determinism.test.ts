// Ready for replication: a stream's state is a function of its command log. Random command logs
// (messages with ids, expectations, rollups and TTLs, purges, deletes, expiries, config updates)
// are applied to three replicas: one on a memory store, one on a SQLite store, and one fed the
// log after encoding and decoding it. Every outcome (PubAck or error) and the final state and
// messages must agree, and replaying the log on a restarted SQLite replica gives the same again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { StoreManager } from "../../jetstream/store/manager.js";
import { Stream, type StreamHost } from "../../jetstream/stream/stream.js";
import { checkStreamConfig, type StreamConfig } from "../../jetstream/stream/config.js";
import { decodeCommand, encodeCommand, type StreamCommand } from "../../jetstream/stream/commands.js";
import { buildHeaders } from "../../jetstream/util/headers.js";
import { rng, tempDir, testSeed } from "../store/harness.js";

const T0 = 1_700_000_000_000_000_000n;
const SEC = 1_000_000_000n;

const host: StreamHost = {
  publish: () => {},
  warn: () => {},
  hasInterest: () => false,
};

function baseConfig(): StreamConfig {
  const c = checkStreamConfig(
    { name: "D", subjects: ["d.>"], allow_rollup_hdrs: true, allow_msg_ttl: true, max_msgs_per_subject: 4, max_age: 3600 * 1e9, duplicate_window: 60 * 1e9 },
    { clustered: false },
  );
  if ("errCode" in c) throw c;
  return c;
}

/** A random command log; timestamps grow, as the proposer guarantees. */
function commandLog(seed: number, n: number): StreamCommand[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const subjects = ["d.a", "d.b", "d.c.x", "d.c.y", "d.e"];
  let ts = T0;
  let lastSeq = 0;
  let cfg = baseConfig();
  const out: StreamCommand[] = [];
  for (let i = 0; i < n; i++) {
    ts += BigInt(1 + Math.floor(r() * 5)) * SEC;
    const k = r();
    if (k < 0.7) {
      const pairs: [string, string][] = [];
      if (r() < 0.3) pairs.push(["Nats-Msg-Id", `id${Math.floor(r() * 15)}`]);
      if (r() < 0.1) pairs.push(["Nats-Expected-Last-Subject-Sequence", String(Math.floor(r() * lastSeq + 1))]);
      if (r() < 0.05) pairs.push(["Nats-Expected-Last-Sequence", String(lastSeq - Math.floor(r() * 2))]);
      if (r() < 0.06) pairs.push(["Nats-Rollup", pick(["sub", "all"])]);
      if (r() < 0.15) pairs.push(["Nats-TTL", pick(["5s", "30s", "never", "bogus"])]);
      if (r() < 0.05) pairs.push(["Nats-Expected-Stream", pick(["D", "E"])]);
      const data = Buffer.from(`m${i}-${"x".repeat(Math.floor(r() * 40))}`);
      const source = r() < 0.1 ? { source: { iname: pick(["S1 > >", "S2 d.a >"]), seq: i + 1 } } : {};
      out.push({ kind: "msg", subject: pick(subjects), hdr: pairs.length ? buildHeaders(pairs) : null, data, ts, overLimit: r() < 0.02, ...source });
      lastSeq++;
    } else if (k < 0.73) {
      // A mirrored message, maybe after a gap (sequences the mirror skipped).
      lastSeq += 1 + Math.floor(r() * 3);
      out.push({ kind: "mirror", seq: lastSeq, ts, subject: pick(subjects), hdr: null, data: Buffer.from(`mirrored ${i}`), ttl: pick([0, 0, 30]) });
    } else if (k < 0.78) {
      out.push({ kind: "delete", seq: 1 + Math.floor(r() * (lastSeq + 2)), erase: r() < 0.5 });
    } else if (k < 0.84) {
      const f = pick([undefined, "d.a", "d.c.*", ">"]);
      const which = r();
      out.push({ kind: "purge", ...(f !== undefined ? { filter: f } : {}), ...(which < 0.3 ? { keep: Math.floor(r() * 3) } : which < 0.6 ? { seq: Math.floor(r() * (lastSeq + 1)) } : {}) });
    } else if (k < 0.95) {
      out.push({ kind: "expire", now: ts + BigInt(Math.floor(r() * 40)) * SEC });
    } else {
      cfg = { ...cfg, max_msgs: pick([-1, 10, 25]), max_msgs_per_subject: pick([-1, 2, 4]), max_age: pick([0, 20_000_000_000, 3_600_000_000_000]), discard: pick(["old", "new"] as const) };
      cfg.duplicate_window = cfg.max_age > 0 && cfg.max_age < 60_000_000_000 ? cfg.max_age : 60_000_000_000;
      out.push({ kind: "update", config: cfg });
    }
  }
  return out;
}

function outcome(v: unknown): unknown {
  if (v === undefined) return "void";
  if (v !== null && typeof v === "object" && "errCode" in v) return { err: (v as { errCode: number }).errCode, text: (v as unknown as Error).message };
  if (v !== null && typeof v === "object" && "error" in v) return { err: (v as { error: { errCode: number } }).error.errCode };
  return v;
}

/** bytes: the stores account sizes by different formulas (nats-server's memory and file ones). */
function snapshot(s: Stream, bytes = true): unknown {
  const { bytes: b, ...st } = s.store.state({ deleted: true });
  const msgs: unknown[] = [];
  for (let seq = st.firstSeq; seq <= st.lastSeq && st.msgs > 0; seq++) {
    const m = s.store.loadMsg(seq);
    if (m) msgs.push({ seq: m.seq, ts: m.ts.toString(), subject: m.subject, hdr: m.hdr?.toString("latin1") ?? null, data: m.data.toString(), ttl: m.ttl });
  }
  return { state: { ...st, ...(bytes ? { bytes: b } : {}), firstTs: st.firstTs.toString(), lastTs: st.lastTs.toString() }, config: s.config, msgs, next: s.store.nextExpiry()?.toString() ?? null, sourcePositions: [s.sourcePosition("S1 > >"), s.sourcePosition("S2 d.a >")] };
}

test("the same command log gives the same stream on every replica and on replay", async (t) => {
  const seed = testSeed();
  t.diagnostic(`seed=${seed} (rerun with STORE_TEST_SEED=${seed})`);
  const dir = tempDir("determinism");
  const seen = new Map<string, number>();
  try {
    for (let run = 0; run < 12; run++) {
      const log = commandLog(seed + run, 250);
      const mem = StoreManager.open(null);
      const file = StoreManager.open(dir.path);
      const name = `R${run}`;
      const replicas = [
        new Stream(host, baseConfig(), mem.createStream("$G", name, "memory"), T0),
        new Stream(host, baseConfig(), file.createStream("$G", name, "file"), T0),
        new Stream(host, baseConfig(), mem.createStream("$G", `${name}x`, "memory"), T0),
      ];
      for (const [i, cmd] of log.entries()) {
        const results = replicas.map((s, r) => outcome(s.apply(r === 2 ? decodeCommand(encodeCommand(cmd)) : cmd)));
        assert.deepEqual(results[1], results[0], `seed ${seed + run} step ${i} (${cmd.kind}): file vs memory`);
        assert.deepEqual(results[2], results[0], `seed ${seed + run} step ${i} (${cmd.kind}): decoded log vs memory`);
        const o = results[0] as { err?: number; duplicate?: boolean } | string | number | boolean;
        const key = `${cmd.kind}:${typeof o === "object" && o !== null ? (o.err ?? (o.duplicate ? "duplicate" : "ok")) : typeof o}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      const want = snapshot(replicas[0]!);
      assert.deepEqual(snapshot(replicas[1]!, false), snapshot(replicas[0]!, false), `seed ${seed + run}: file replica`);
      assert.deepEqual(snapshot(replicas[2]!), want, `seed ${seed + run}: replica fed the encoded log`);
      const wantFile = snapshot(replicas[1]!);
      for (const s of replicas) s.close();
      await file.flush();
      mem.close();
      file.close();

      // The file replica reopened after its commits, and a fresh replica replaying the whole log.
      const reopened = StoreManager.open(dir.path);
      const back = new Stream(host, (log.filter((c) => c.kind === "update").at(-1) as { config: StreamConfig } | undefined)?.config ?? baseConfig(), reopened.openStream("$G", name), T0);
      assert.deepEqual(snapshot(back), wantFile, `seed ${seed + run}: file replica after reopening`);
      back.close();
      reopened.deleteStream("$G", name);
      const fresh = new Stream(host, baseConfig(), reopened.createStream("$G", `${name}r`, "file"), T0);
      for (const cmd of log) fresh.apply(cmd);
      assert.deepEqual(snapshot(fresh), wantFile, `seed ${seed + run}: replay of the log`);
      fresh.close();
      reopened.close();
    }
    t.diagnostic(`outcomes: ${[...seen.entries()].sort().map(([k, v]) => `${k}=${v}`).join(" ")}`);
    // The logs must reach the interesting paths, or the agreement above says little.
    for (const k of ["msg:ok", "msg:duplicate", "msg:10071", "msg:10165", "msg:10023", "msg:10060", "purge:number", "delete:boolean", "expire:string"]) assert.ok(seen.has(k), `no ${k} outcome in the logs`);
  } finally {
    dir.remove();
  }
});
