// Garbage in: fuzzed byte streams (biased towards protocol fragments) fed through real client
// connections of a running server, in random chunks. Nothing may throw, state must stay
// consistent (no leaked subscriptions), and routing must keep working for well-behaved clients.
// FUZZ_RUNS raises the number of cases (npm run fuzz).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as v3 from "@nats-io/transport-node";
import { startServer } from "../helpers/server.js";
import type { ClientTransport } from "../../server/transport/transport.js";
import type { Client } from "../../server/client/client.js";

class MemTransport implements ClientTransport {
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 1;
  readonly kind = "tcp" as const;
  written = 0;
  ended = false;
  write(chunks: Buffer[]): boolean {
    for (const c of chunks) this.written += c.length;
    return true;
  }
  get backlog(): number {
    return 0;
  }
  pause(): void {}
  resume(): void {}
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.ended = true;
  }
}

const fragments = [
  "CONNECT {}\r\n",
  'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n',
  'CONNECT {"echo":false}\r\n',
  "PUB a.b 3\r\nabc\r\n",
  "PUB a.b r.1 0\r\n\r\n",
  "PUB a.* 1\r\nx\r\n",
  "HPUB a.b 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
  "HPUB a 22 22\r\nNATS/1.0\r\nA: b\r\n\r\n\r\n",
  "SUB a.* 1\r\n",
  "SUB > q 2\r\n",
  "SUB a.b 3\r\n",
  "UNSUB 1\r\n",
  "UNSUB 2 1\r\n",
  "PING\r\n",
  "PONG\r\n",
  "+OK\r\n",
  "-ERR 'x'\r\n",
  "INFO {}\r\n",
  "PUB ",
  "SUB ",
  "HPUB ",
  "\r\n",
  " ",
  "999999999",
  "-1",
  "PUB a 1000\r\n",
];

const streamArb = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...fragments) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a).toString("latin1")) },
  ),
  { maxLength: 40 },
);

test("fuzzed input through live connections never throws and leaks nothing", async () => {
  const s = await startServer({ maxPayload: 1024, maxControlLine: 256, maxSubscriptions: 50 });
  const runs = Number(process.env.FUZZ_RUNS ?? 3000);
  try {
    fc.assert(
      fc.property(fc.array(streamArb, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 8 }), (streams, cuts) => {
        const clients: Client[] = [];
        try {
          for (const parts of streams) {
            const c = s.server.addClient(new MemTransport());
            clients.push(c);
            const buf = Buffer.from(parts.join(""), "latin1");
            let prev = 0;
            for (const cut of [...cuts.map((x) => x % (buf.length + 1)), buf.length].sort((a, b) => a - b)) {
              c.onData(buf.subarray(prev, cut));
              prev = cut;
            }
          }
          // Every subscription a live client holds is in the index, and the index holds nothing else.
          const indexed = new Set(s.server.sublist.all());
          let held = 0;
          for (const c of clients) {
            if (c.closed) continue;
            for (const sub of c.subs.values()) {
              assert.ok(indexed.has(sub), `subscription ${sub.subject} is indexed`);
              held++;
            }
          }
          assert.equal(indexed.size, held);
        } finally {
          for (const c of clients) if (!c.closed) c.onTransportClosed();
        }
        assert.equal(s.server.sublist.size, 0, "no subscription outlives its connection");
        assert.equal(s.server.clients.size, 0);
      }),
      { numRuns: runs, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
    );
    // The server still routes for a real client.
    const nc = await v3.connect({ servers: s.url });
    const sub = nc.subscribe("after.fuzz", { max: 1 });
    nc.publish("after.fuzz", "ok");
    for await (const m of sub) assert.equal(m.string(), "ok");
    await nc.close();
  } finally {
    await s.stop();
  }
});
