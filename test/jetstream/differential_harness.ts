// The differential harness shared by the stream and consumer wire-contract tests: each scenario
// runs on a raw-protocol connection against tsnats and the reference nats-server 2.9.10 at the
// same time, logs what a client observes, and the two logs must agree step by step.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { referenceServer, spawnServer, type ChildServer } from "../helpers/server.js";
import { startJs, type JsTestServer } from "./helpers.js";
import { Wire } from "../consumer/wire.js";
import type { ServerOptions } from "../../server/config/options.js";

export type Log = (label: string, v: unknown) => void;
export type Scenario = (w: Wire, log: Log) => Promise<void>;
/** A scenario, with extra jetstream{} settings for nats-server and the same for tsnats. */
export type DiffCase = { conf?: { nats: string; ours: Partial<ServerOptions["jetstream"]> }; run: Scenario };

async function record(port: number, sc: Scenario, norm: (v: unknown) => unknown): Promise<[string, unknown][]> {
  const w = await Wire.connect(port);
  const out: [string, unknown][] = [];
  try {
    await sc(w, (label, v) => out.push([label, norm(v)]));
  } finally {
    w.close();
  }
  return out;
}

/** One test per case; skipped when nats-server is not installed. norm removes what legitimately differs. */
export function describeDifferential(title: string, cases: Record<string, DiffCase>, norm: (v: unknown) => unknown): void {
  const ref = referenceServer();
  describe(title, { skip: ref === null ? "nats-server not installed" : false }, () => {
    for (const [name, sc] of Object.entries(cases)) {
      test(name, async () => {
        const dir = mkdtempSync(join(tmpdir(), "jsdiff-"));
        let child: ChildServer | null = null;
        let ours: JsTestServer | null = null;
        try {
          child = await spawnServer(`port: -1\nhost: 127.0.0.1\njetstream { store_dir: "${join(dir, "ref")}"${sc.conf ? `, ${sc.conf.nats}` : ""} }\n`, { bin: ref!, dir });
          ours = await startJs({}, undefined, sc.conf?.ours ?? {});
          const side = (who: string, p: Promise<[string, unknown][]>) =>
            p.catch((e: Error) => {
              throw new Error(`${who}: ${e.message}`);
            });
          const [a, b] = await Promise.all([side("tsnats", record(ours.port, sc.run, norm)), side("nats-server", record(child.port, sc.run, norm))]);
          for (let i = 0; i < Math.max(a.length, b.length); i++) {
            assert.deepEqual(a[i], b[i], `step ${i} (${b[i]?.[0] ?? a[i]?.[0]}) differs:\n tsnats      ${JSON.stringify(a[i]?.[1])}\n nats-server ${JSON.stringify(b[i]?.[1])}`);
          }
        } finally {
          child?.cleanup();
          await ours?.destroy();
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });
}
