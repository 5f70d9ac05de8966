// Acknowledged means durable: a publisher pipelines messages with acks while the server process is
// killed with SIGKILL at a random moment, several times over the same store. Rounds alternate how
// the moment is chosen (a random delay, or a random number of acks) and use payloads large enough
// that the WAL is checkpointed under the kill. After each restart every acknowledged message is
// present at the sequence its PubAck named, with its exact payload, and no message is stored twice.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v3 from "@nats-io/transport-node";
import { spawnServer } from "../helpers/server.js";
import { RawConn } from "../helpers/raw.js";
import { waitFor } from "../helpers/wait.js";

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 5);
const WINDOW = 500;

/** The payload of message `id`: the id, then filler derived from it (so any damage shows). */
function payload(id: string, size: number): string {
  let s = `${id}|`;
  let x = 0;
  for (let i = 0; i < id.length; i++) x = (x * 31 + id.charCodeAt(i)) >>> 0;
  while (s.length < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += String.fromCharCode(97 + (x % 26));
  }
  return s;
}

/** Reads the whole stream with direct-get batches: seq -> payload. */
async function readStream(nc: v3.NatsConnection, stream: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  let next = 1;
  for (;;) {
    const inbox = v3.createInbox();
    const sub = nc.subscribe(inbox);
    nc.publish(`$JS.API.DIRECT.GET.${stream}`, JSON.stringify({ seq: next, batch: 500, next_by_subj: ">" }), { reply: inbox });
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

test("no acknowledged message is lost, moved, damaged or duplicated across repeated SIGKILLs", async (t) => {
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  let rng = seed;
  const rand = (n: number) => {
    rng = (rng * 1103515245 + 12345) % 2147483648;
    return rng % n;
  };
  const dir = mkdtempSync(join(tmpdir(), "tsnats-crash-"));
  const conf = `port: -1\nhost: 127.0.0.1\njetstream { store_dir: "${join(dir, "store")}" }\n`;
  /** payload id -> the sequence its PubAck named */
  const acked = new Map<string, number>();
  const sizes = new Map<string, number>();

  const verify = async (port: string, when: string) => {
    const nc = await v3.connect({ servers: port, reconnect: false });
    try {
      const stored = await readStream(nc, "CRASH");
      const seen = new Set<string>();
      for (const [seq, body] of stored) {
        const id = body.slice(0, body.indexOf("|"));
        assert.ok(!seen.has(id), `${id} stored twice (seed ${seed}, ${when})`);
        seen.add(id);
        const size = sizes.get(id);
        if (size !== undefined) assert.equal(body, payload(id, size), `${id} damaged (seed ${seed}, ${when})`);
        if (acked.has(id)) assert.equal(seq, acked.get(id), `${id} moved (seed ${seed}, ${when})`);
      }
      for (const [id, seq] of acked) assert.ok(stored.get(seq)?.startsWith(`${id}|`), `acked ${id} at seq ${seq} lost (seed ${seed}, ${when})`);
      return stored.size;
    } finally {
      await nc.close();
    }
  };

  try {
    for (let round = 0; round < ROUNDS; round++) {
      const srv = await spawnServer(conf, { dir: mkdtempSync(join(dir, `r${round}-`)) });
      try {
        if (round === 0) {
          const nc = await v3.connect({ servers: srv.ports.nats![0]!, reconnect: false });
          const r = await nc.request("$JS.API.STREAM.CREATE.CRASH", JSON.stringify({ name: "CRASH", subjects: ["crash.*"], allow_direct: true }));
          assert.equal(JSON.parse(r.string()).error, undefined);
          await nc.close();
        } else {
          await verify(srv.ports.nats![0]!, `start of round ${round}`);
        }

        // Odd rounds: 12 KiB payloads, so the WAL passes a checkpoint's worth (8 MiB) within the round.
        const size = round % 2 === 1 ? 12 * 1024 : 64 + rand(512);
        const byTime = round % 2 === 0;
        const killAfterAcks = 300 + rand(2500);
        const killAfterMs = 100 + rand(1500);
        const c = await RawConn.connect(srv.port);
        c.send('CONNECT {"verbose":false,"pedantic":false}\r\nSUB ack.> 1\r\n');
        await c.flush();
        const before = acked.size;
        const ackRe = /MSG ack\.(\S+) 1 \d+\r\n(\{[^\r]*\})\r\n/g;
        let parsed = 0;
        const drain = () => {
          const text = c.text;
          ackRe.lastIndex = parsed;
          let m: RegExpExecArray | null;
          while ((m = ackRe.exec(text)) !== null) {
            const body = JSON.parse(m[2]!);
            if (!body.error) acked.set(m[1]!, body.seq);
            parsed = ackRe.lastIndex;
          }
        };
        let killed = false;
        const kill = () => {
          if (killed) return;
          killed = true;
          srv.kill("SIGKILL");
        };
        const timer = byTime ? setTimeout(kill, killAfterMs) : null;
        let sent = 0;
        while (!killed && !c.closed) {
          let batch = "";
          for (let i = 0; i < 50; i++, sent++) {
            const id = `r${round}-${sent}`;
            sizes.set(id, size);
            const p = payload(id, size);
            batch += `PUB crash.${sent % 7} ack.${id} ${p.length}\r\n${p}\r\n`;
          }
          c.send(batch);
          await waitFor("acks to catch up", () => {
            drain();
            if (!byTime && acked.size - before >= killAfterAcks) kill();
            return killed || c.closed || sent - (acked.size - before) < WINDOW;
          }, 20_000, 1);
        }
        if (timer) clearTimeout(timer);
        await srv.exited;
        await c.expectClosed();
        drain();
        t.diagnostic(`round ${round}: ${size} B payloads, sent ${sent}, ${acked.size - before} acknowledged before the SIGKILL (${byTime ? `after ${killAfterMs} ms` : `after ${killAfterAcks} acks`}, seed ${seed})`);
      } finally {
        srv.cleanup();
      }
    }
    assert.ok(acked.size > ROUNDS * 100, `acknowledged ${acked.size} messages over ${ROUNDS} rounds`);
    // A last clean start checks the final round's acks.
    const srv = await spawnServer(conf, { dir: mkdtempSync(join(dir, "final-")) });
    try {
      const n = await verify(srv.ports.nats![0]!, "final start");
      t.diagnostic(`final: ${n} messages stored, ${acked.size} acknowledged`);
    } finally {
      srv.cleanup();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
