// Damaged databases: a truncated, overwritten or bit-flipped stream file is reported as
// StoreCorruptError naming the stream and its path, is never deleted or repaired behind the
// operator's back, and never yields wrong data.

import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, copyFileSync, existsSync, openSync, readFileSync, readSync, statSync, truncateSync, writeSync } from "node:fs";
import Database from "better-sqlite3";
import { StoreCorruptError } from "../../jetstream/store/errors.js";
import { StoreManager } from "../../jetstream/store/manager.js";
import { PAGE_SIZE } from "../../jetstream/store/sqlite_schema.js";
import type { StreamStore, VerifyLevel } from "../../jetstream/store/store.js";
import { payloadFor, rng, tempDir, testSeed } from "./harness.js";

const ACCOUNT = "$G";
const STREAM = "DAMAGED";
const N = 300;

function marker(seq: number): Buffer {
  return Buffer.concat([Buffer.from(`MARK-${String(seq).padStart(5, "0")}-`), payloadFor(seq, 40)]);
}

/** A closed stream with known content; returns its file path. */
function build(dir: string): string {
  const m = StoreManager.open(dir);
  const s = m.createStream(ACCOUNT, STREAM, "file");
  s.saveConfig('{"name":"DAMAGED"}');
  for (let seq = 1; seq <= N; seq++) s.storeMsg(seq, BigInt(seq) * 1000n, `d.${seq % 4}`, seq % 5 === 0 ? Buffer.from("NATS/1.0\r\nA: b\r\n\r\n") : null, marker(seq), seq % 7 === 0 ? 30 : 0);
  s.removeMsg(10);
  const c = s.createConsumer("C", "{}", "explicit");
  for (let i = 1; i <= 20; i++) c.updateDelivered(i, i, 1, BigInt(i));
  for (let i = 1; i <= 5; i++) c.updateAcks(i, i);
  const path = s.path!;
  m.close();
  return path;
}

function observe(s: StreamStore) {
  const msgs = [];
  for (let seq = 1; seq <= N; seq++) msgs.push(s.loadMsg(seq));
  return { state: s.state({ deleted: true }), subjects: s.subjectsState(">"), msgs, config: s.config(), consumer: s.consumer("C")?.state(), expiry: s.nextExpiry() };
}

function openOutcome(dir: string, verify: VerifyLevel): { err: unknown; seen?: ReturnType<typeof observe> } {
  const m = StoreManager.open(dir, { verify });
  try {
    const rec = m.recover();
    if (rec.failures.length > 0) return { err: rec.failures[0] };
    return { err: null, seen: observe(rec.streams[0]!.store) };
  } catch (e) {
    return { err: e };
  } finally {
    m.close();
  }
}

function assertCorrupt(err: unknown, path: string): void {
  assert.ok(err instanceof StoreCorruptError, `expected StoreCorruptError, got ${String(err)}`);
  assert.equal(err.stream, STREAM);
  assert.equal(err.account, ACCOUNT);
  assert.equal(err.path, path);
  assert.match(err.message, /DAMAGED/);
}

function patch(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

test("a truncated file is reported at open, with stream and path, and left in place", () => {
  const dir = tempDir("corrupt-trunc");
  try {
    const path = build(dir.path);
    const size = statSync(path).size;
    for (const cut of [Math.floor(size / 2 / PAGE_SIZE) * PAGE_SIZE, Math.floor(size / 3), PAGE_SIZE]) {
      const copy = `${path}.orig`;
      copyFileSync(path, copy);
      truncateSync(path, cut);
      const { err } = openOutcome(dir.path, "light");
      assertCorrupt(err, path);
      assert.equal(statSync(path).size, cut, "the damaged file is not modified");
      copyFileSync(copy, path);
    }
  } finally {
    dir.remove();
  }
});

test("an overwritten header, or a foreign database, is reported at open", () => {
  const dir = tempDir("corrupt-hdr");
  try {
    const path = build(dir.path);
    const orig = readFileSync(path);
    patch(path, 0, Buffer.alloc(100));
    assertCorrupt(openOutcome(dir.path, "light").err, path);
    copyFileSync(`${path}`, `${path}.bak`);
    // A valid SQLite database that is not one of ours.
    truncateSync(path, 0);
    const db = new Database(path);
    db.exec("CREATE TABLE t (x)");
    db.close();
    assertCorrupt(openOutcome(dir.path, "light").err, path);
    // Back to the original: it opens and holds everything.
    patch(path, 0, orig);
    truncateSync(path, orig.length);
    assert.equal(openOutcome(dir.path, "light").err, null);
  } finally {
    dir.remove();
  }
});

test("a damaged b-tree page is reported at open", () => {
  const dir = tempDir("corrupt-page");
  try {
    const path = build(dir.path);
    const db = new Database(path, { readonly: true });
    const root = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'msgs'").pluck().get() as number;
    db.close();
    patch(path, (root - 1) * PAGE_SIZE, Buffer.from([0x42]));
    for (const verify of ["light", "quick", "full"] as const) assertCorrupt(openOutcome(dir.path, verify).err, path);
  } finally {
    dir.remove();
  }
});

test("a flipped payload byte is caught by the message checksum: on read, or at open with verify full", () => {
  const dir = tempDir("corrupt-payload");
  try {
    const path = build(dir.path);
    const file = readFileSync(path);
    // Free space inside a page may still hold an older copy of the row (moved when its page
    // split): the byte is flipped in every copy, so the live one is among them.
    const copies: number[] = [];
    for (let at = file.indexOf("MARK-00150-"); at >= 0; at = file.indexOf("MARK-00150-", at + 1)) copies.push(at);
    assert.ok(copies.length > 0);
    for (const at of copies) patch(path, at + 20, Buffer.from([file[at + 20]! ^ 0x01]));

    assertCorrupt(openOutcome(dir.path, "full").err, path);

    const m = StoreManager.open(dir.path, { verify: "quick" });
    try {
      const s = m.openStream(ACCOUNT, STREAM);
      assertCorrupt(captureError(() => s.loadMsg(150)), path);
      assertCorrupt(captureError(() => s.loadNextMsg("d.2", 149)), path);
      assert.deepEqual(s.loadMsg(151)!.data, marker(151), "other messages are unaffected");
    } finally {
      m.close();
    }
  } finally {
    dir.remove();
  }
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return null;
}

test("random byte flips: open with verify full reports corruption or returns exactly the original data", (t) => {
  const seed = testSeed();
  t.diagnostic(`seed=${seed} (rerun with STORE_TEST_SEED=${seed})`);
  const rand = rng(seed);
  const dir = tempDir("corrupt-random");
  try {
    const path = build(dir.path);
    const pristine = readFileSync(path);
    const expected = openOutcome(dir.path, "full");
    assert.equal(expected.err, null);
    let detected = 0;
    const rounds = Number(process.env["FLIP_ROUNDS"] ?? 150);
    for (let round = 0; round < rounds; round++) {
      patch(path, 0, pristine);
      truncateSync(path, pristine.length);
      const flips: [number, number][] = [];
      for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
        const off = Math.floor(rand() * pristine.length);
        const bit = 1 << Math.floor(rand() * 8);
        flips.push([off, bit]);
        const b = Buffer.alloc(1);
        const fd = openSync(path, "r+");
        readSync(fd, b, 0, 1, off);
        b[0]! ^= bit;
        writeSync(fd, b, 0, 1, off);
        closeSync(fd);
      }
      const got = openOutcome(dir.path, "full");
      if (got.err !== null) {
        assertCorrupt(got.err, path);
        detected++;
      } else {
        assert.deepEqual(got.seen, expected.seen, `undetected damage changed the data (flips ${JSON.stringify(flips)})`);
      }
      assert.ok(existsSync(path));
    }
    t.diagnostic(`${detected}/${rounds} damaged files were reported, the rest held identical data`);
  } finally {
    dir.remove();
  }
});
