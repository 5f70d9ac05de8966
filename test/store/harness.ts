// Shared helpers for the store tests: temp directories, seeds, message comparison.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StoredMsg } from "../../jetstream/store/store.js";
import type { ModelMsg } from "./model.js";

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `tsnats-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** STORE_TEST_SEED reproduces a failing run; otherwise a fresh seed, which the test prints. */
export function testSeed(): number {
  const env = process.env["STORE_TEST_SEED"];
  if (env !== undefined && env !== "") return Number(env);
  return (Date.now() ^ (process.pid << 10)) >>> 1;
}

/** A deterministic PRNG (mulberry32) for tests that are randomized without fast-check. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function assertSameMsg(actual: StoredMsg | null, expected: ModelMsg | null | undefined, what: string): void {
  if (expected === null || expected === undefined) {
    assert.equal(actual, null, `${what}: expected no message, got seq ${actual?.seq}`);
    return;
  }
  assert.ok(actual !== null, `${what}: expected seq ${expected.seq}, got none`);
  assert.equal(actual.seq, expected.seq, `${what}: seq`);
  assert.equal(actual.ts, expected.ts, `${what}: ts`);
  assert.equal(actual.subject, expected.subject, `${what}: subject`);
  assert.equal(actual.ttl, expected.ttl, `${what}: ttl`);
  if (expected.hdr === null) assert.equal(actual.hdr, null, `${what}: hdr`);
  else assert.deepEqual(Buffer.from(actual.hdr!), expected.hdr, `${what}: hdr`);
  assert.deepEqual(Buffer.from(actual.data), expected.data, `${what}: data`);
}

/** Deterministic message content for crash tests: the reader can recompute what seq must hold. */
export function payloadFor(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (seq * 31 + i * 7) & 0xff;
  return b;
}

const CRASH_HDR = Buffer.from("NATS/1.0\r\nNats-Msg-Id: crash\r\n\r\n");

/** The message the crash child stores at seq. */
export function crashMsg(seq: number): { subject: string; hdr: Buffer | null; data: Buffer; ts: bigint } {
  return { subject: `crash.${seq % 7}`, hdr: seq % 3 === 0 ? CRASH_HDR : null, data: payloadFor(seq, 16 + (seq % 200)), ts: 1_700_000_000_000_000_000n + BigInt(seq) };
}
