// Real crashes: a child process stores, delivers and acks while printing what the store confirmed
// durable; it is killed with SIGKILL at a random point, and everything it confirmed must be there
// after reopening, intact (verify: full).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { StoreManager } from "../../jetstream/store/manager.js";
import { assertSameMsg, crashMsg, rng, tempDir, testSeed } from "./harness.js";

const CHILD = fileURLToPath(new URL("./crash_child.js", import.meta.url));
const DEADLINE_MS = 60_000;

interface Durable {
  last: number;
  acked: number;
}

/** Runs the child until it has confirmed `lines` commits, kills it, and returns the last confirmation. */
function runAndKill(dir: string, sync: string, seed: number, lines: number): Promise<Durable> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, "run", dir, sync, String(seed)], { stdio: ["ignore", "pipe", "pipe"] });
    let buf = "";
    let stderr = "";
    let seen = 0;
    let killed = false;
    const durable: Durable = { last: 0, acked: 0 };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child made no progress within ${DEADLINE_MS} ms (${seen} commits seen); stderr: ${stderr}`));
    }, DEADLINE_MS);
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [tag, a, b] = line.split(" ");
        if (tag !== "D") {
          reject(new Error(`child reported ${line}`));
          continue;
        }
        // Lines read after the kill still count: each was written after its commit.
        durable.last = Math.max(durable.last, Number(a));
        durable.acked = Math.max(durable.acked, Number(b));
        if (++seen >= lines && !killed) {
          killed = true;
          child.kill("SIGKILL");
        }
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") reject(new Error(`child exited ${code} ${signal}; stderr: ${stderr}`));
      else resolve(durable);
    });
  });
}

function verifyAfterCrash(dir: string, d: Durable): void {
  const m = StoreManager.open(dir, { verify: "full" });
  try {
    const rec = m.recover();
    assert.deepEqual(
      rec.failures.map((f) => f.message),
      [],
    );
    const s = rec.streams[0]!.store;
    const st = s.state();
    assert.ok(st.lastSeq >= d.last, `confirmed up to ${d.last}, store has ${st.lastSeq}`);
    assert.equal(st.msgs, st.lastSeq, "no gaps");
    for (let seq = 1; seq <= st.lastSeq; seq++) {
      const want = crashMsg(seq);
      assertSameMsg(s.loadMsg(seq), { seq, ttl: 0, ...want }, `seq ${seq}`);
    }
    const c = s.consumer("C")!.state();
    assert.ok(c.delivered.streamSeq >= d.last, `delivered ${c.delivered.streamSeq} < confirmed ${d.last}`);
    assert.ok(c.ackFloor.streamSeq >= d.acked, `ack floor ${c.ackFloor.streamSeq} < confirmed ack ${d.acked}`);
    for (const k of c.pending.keys()) assert.ok(k > d.acked, `acked ${k} is pending again`);
    for (let k = c.ackFloor.streamSeq + 1; k <= c.delivered.streamSeq; k++) assert.ok(c.pending.has(k), `delivered ${k} lost from pending`);
  } finally {
    m.close();
  }
}

for (const sync of ["always", "25"]) {
  test(`SIGKILL while storing: every confirmed message and ack survives (sync ${sync})`, async (t) => {
    const seed = testSeed();
    t.diagnostic(`seed=${seed} (rerun with STORE_TEST_SEED=${seed})`);
    const rand = rng(seed);
    for (let round = 0; round < 3; round++) {
      const dir = tempDir("crash");
      try {
        const lines = 5 + Math.floor(rand() * 40);
        const d = await runAndKill(dir.path, sync, seed + round, lines);
        assert.ok(d.last > 0);
        verifyAfterCrash(dir.path, d);
      } finally {
        dir.remove();
      }
    }
  });
}

test("a failing commit (file size limit) reaches the waiters, stops the store, and loses nothing confirmed", () => {
  const dir = tempDir("efbig");
  try {
    // ulimit -f counts 512-byte blocks in POSIX sh: a 1 MiB cap on any file the child writes.
    const r = spawnSync("/bin/sh", ["-c", `ulimit -f 2048 && exec "${process.execPath}" "${CHILD}" fill "${dir.path}"`], { encoding: "utf8", timeout: DEADLINE_MS });
    const lines = r.stdout.trim().split("\n");
    const confirmed = lines.filter((l) => l.startsWith("D ")).map((l) => Number(l.split(" ")[1]));
    assert.ok(confirmed.length > 0, `no commit confirmed: ${r.stdout} ${r.stderr}`);
    assert.ok(lines.includes("E StoreFailedError"), `expected a commit failure: ${r.stdout} ${r.stderr}`);
    assert.ok(lines.includes("W StoreFailedError"), "a failed store refuses further writes");
    const m = StoreManager.open(dir.path, { verify: "full" });
    try {
      const rec = m.recover();
      assert.deepEqual(rec.failures, []);
      const st = rec.streams[0]!.store.state();
      assert.equal(st.lastSeq, Math.max(...confirmed), "exactly the confirmed messages are stored");
    } finally {
      m.close();
    }
  } finally {
    dir.remove();
  }
});

test("a store in use by another process cannot be opened", async () => {
  const dir = tempDir("locked");
  try {
    const m = StoreManager.open(dir.path);
    m.createStream("ACC", "LOCKED", "file").storeMsg(1, 1n, "x", null, Buffer.alloc(1));
    await m.flush();
    const r = spawnSync(process.execPath, [CHILD, "open", dir.path], { encoding: "utf8", timeout: DEADLINE_MS });
    assert.equal(r.stdout.trim(), "streams=0 failures=StoreOpenError:STORE_OPEN", r.stderr);
    m.close();
    const r2 = spawnSync(process.execPath, [CHILD, "open", dir.path], { encoding: "utf8", timeout: DEADLINE_MS });
    assert.equal(r2.stdout.trim(), "streams=1 failures=", r2.stderr);
  } finally {
    dir.remove();
  }
});
