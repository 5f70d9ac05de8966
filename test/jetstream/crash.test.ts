// Acknowledged means durable: a publisher sends with acks while the server is killed with SIGKILL
// at a random moment, several times over the same store. After each restart every acknowledged
// message is present at the sequence its PubAck named, and no message is stored twice.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v3 from "@nats-io/transport-node";
import { spawnServer } from "../helpers/server.js";
import { RawConn } from "../helpers/raw.js";
import { waitFor } from "../helpers/wait.js";

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 4);

/** Reads the whole stream with direct-get batches: seq -> payload. */
async function readStream(nc: v3.NatsConnection, stream: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  let next = 1;
  for (;;) {
    const inbox = v3.createInbox();
    const sub = nc.subscribe(inbox);
    nc.publish(`$JS.API.DIRECT.GET.${stream}`, JSON.stringify({ seq: next, batch: 1000, next_by_subj: ">" }), { reply: inbox });
    let last = 0;
    let pending = 0;
    for await (const m of sub) {
      const code = m.headers?.code ?? 0;
      if (code === 404) break;
      if (code === 204) {
        pending = Number(m.headers?.get("Nats-Num-Pending"));
        break;
      }
      last = Number(m.headers!.get("Nats-Sequence"));
      out.set(last, m.string());
    }
    sub.unsubscribe();
    if (pending === 0 || last === 0) return out;
    next = last + 1;
  }
}

test("no acknowledged message is lost or duplicated across repeated SIGKILLs", async (t) => {
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  let rng = seed;
  const rand = (n: number) => {
    rng = (rng * 1103515245 + 12345) % 2147483648;
    return rng % n;
  };
  const dir = mkdtempSync(join(tmpdir(), "tsnats-crash-"));
  const conf = `port: -1\nhost: 127.0.0.1\njetstream { store_dir: "${join(dir, "store")}" }\n`;
  const acked = new Map<string, number>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const srv = await spawnServer(conf, { dir: mkdtempSync(join(dir, `r${round}-`)) });
      try {
        const nc = await v3.connect({ servers: srv.ports.nats![0]!, reconnect: false });
        if (round === 0) {
          const r = await nc.request("$JS.API.STREAM.CREATE.CRASH", JSON.stringify({ name: "CRASH", subjects: ["crash.*"], allow_direct: true }));
          assert.equal(JSON.parse(r.string()).error, undefined);
        }
        // Everything acknowledged so far survived the last kill, at its sequence.
        const stored = await readStream(nc, "CRASH");
        const seen = new Set<string>();
        for (const [seq, payload] of stored) {
          assert.ok(!seen.has(payload), `payload ${payload} stored twice (seed ${seed})`);
          seen.add(payload);
          if (acked.has(payload)) assert.equal(seq, acked.get(payload), `payload ${payload} moved (seed ${seed})`);
        }
        for (const [payload, seq] of acked) assert.equal(stored.get(seq), payload, `acked ${payload} at seq ${seq} lost after kill (seed ${seed})`);
        await nc.close();

        // Publish with acks, pipelined, and kill the server at a random point.
        const killAt = 200 + rand(3000);
        const c = await RawConn.connect(srv.port);
        c.send('CONNECT {"verbose":false,"pedantic":false}\r\nSUB ack.> 1\r\n');
        await c.flush();
        let sent = 0;
        const ackRe = /MSG ack\.(\S+) 1 \d+\r\n(\{[^\r]*\})\r\n/g;
        let parsed = 0;
        const drain = () => {
          ackRe.lastIndex = parsed;
          let m: RegExpExecArray | null;
          while ((m = ackRe.exec(c.text)) !== null) {
            const body = JSON.parse(m[2]!);
            if (!body.error) acked.set(m[1]!, body.seq);
            parsed = ackRe.lastIndex;
          }
        };
        let before = acked.size;
        while (!c.closed) {
          let batch = "";
          for (let i = 0; i < 50; i++, sent++) {
            const id = `r${round}-${sent}`;
            batch += `PUB crash.${sent % 7} ack.${id} ${id.length}\r\n${id}\r\n`;
          }
          c.send(batch);
          if (round % 2 === 1 && sent >= killAt) {
            // Kill with the batch just written: the server is mid-way through it.
            srv.kill("SIGKILL");
            await srv.exited;
            break;
          }
          await waitFor("acks for the batch", () => {
            drain();
            return c.closed || acked.size - before >= sent - 1000 || acked.size - before >= killAt;
          }, 10_000, 1);
          if (acked.size - before >= killAt) {
            srv.kill("SIGKILL");
            await srv.exited;
            break;
          }
        }
        await c.expectClosed();
        drain();
        t.diagnostic(`round ${round}: sent ${sent}, acknowledged ${acked.size - before} before SIGKILL (kill target ${killAt}, seed ${seed})`);
        before = acked.size;
      } finally {
        srv.cleanup();
      }
    }
    assert.ok(acked.size > ROUNDS * 200, `acknowledged ${acked.size} messages over ${ROUNDS} rounds`);
    // A last clean start to check the final round's acks.
    const srv = await spawnServer(conf, { dir: mkdtempSync(join(dir, "final-")) });
    try {
      const nc = await v3.connect({ servers: srv.ports.nats![0]! });
      const stored = await readStream(nc, "CRASH");
      for (const [payload, seq] of acked) assert.equal(stored.get(seq), payload, `acked ${payload} at seq ${seq} lost (seed ${seed})`);
      assert.equal(new Set(stored.values()).size, stored.size, "no payload stored twice");
      await nc.close();
    } finally {
      srv.cleanup();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
