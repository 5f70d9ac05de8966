// Child process for crash.test.ts (not a test file itself). It writes to a store and reports on
// stdout only what the store has confirmed durable, so the parent can kill it at any moment and
// check that every confirmed write survived.
//
//   node crash_child.js run <dir> <sync> <seed>   store + deliver + ack forever, "D <lastSeq> <lastAcked>" per commit
//   node crash_child.js fill <dir>                store until a commit fails, "D <lastSeq>" / "E <name>"
//   node crash_child.js open <dir>                try to open the saved streams, print the outcome

import { StoreManager } from "../../jetstream/store/manager.js";
import type { SyncInterval } from "../../jetstream/store/store.js";
import { crashMsg, rng } from "./harness.js";

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function run(dir: string, sync: SyncInterval, seed: number): void {
  const m = StoreManager.open(dir, { syncInterval: sync });
  const s = m.createStream("ACC", "CRASH", "file");
  const c = s.createConsumer("C", '{"durable_name":"C"}', "explicit");
  const rand = rng(seed);
  let seq = 0;
  let acked = 0;
  const turn = (): void => {
    const n = 1 + Math.floor(rand() * 300);
    for (let i = 0; i < n; i++) {
      seq++;
      const msg = crashMsg(seq);
      s.storeMsg(seq, msg.ts, msg.subject, msg.hdr, msg.data);
      c.updateDelivered(seq, seq, 1, msg.ts);
    }
    // Acks trail deliveries, in order, as a client working through them would send.
    const ackTo = Math.floor(seq * (0.3 + rand() * 0.6));
    while (acked < ackTo) {
      acked++;
      c.updateAcks(acked, acked);
    }
    const last = seq;
    const lastAck = acked;
    s.afterCommit((err) => {
      if (err !== null) {
        out(`E ${err.name}`);
        process.exit(2);
      }
      out(`D ${last} ${lastAck}`);
    });
    setImmediate(turn);
  };
  turn();
}

function fill(dir: string): void {
  // With a file size limit, the write fails with EFBIG instead of killing the process.
  process.on("SIGXFSZ", () => {});
  const m = StoreManager.open(dir);
  const s = m.createStream("ACC", "FULL", "file");
  let seq = 0;
  const turn = (): void => {
    for (let i = 0; i < 100; i++) {
      seq++;
      const msg = crashMsg(seq);
      s.storeMsg(seq, msg.ts, msg.subject, msg.hdr, msg.data);
    }
    const last = seq;
    s.afterCommit((err) => {
      if (err !== null) {
        out(`E ${err.name}`);
        try {
          s.storeMsg(last + 1, 0n, "x", null, Buffer.alloc(1));
          out("W accepted");
        } catch (e) {
          out(`W ${(e as Error).name}`);
        }
        process.exit(0);
      }
      out(`D ${last}`);
      setImmediate(turn);
    });
  };
  turn();
}

function open(dir: string): void {
  const m = StoreManager.open(dir);
  const r = m.recover();
  out(`streams=${r.streams.length} failures=${r.failures.map((f) => f.name + ":" + f.code).join(",")}`);
  m.close();
}

const [cmd, dir, arg, seed] = process.argv.slice(2);
if (cmd === "run") run(dir!, arg === "always" ? "always" : Number(arg), Number(seed));
else if (cmd === "fill") fill(dir!);
else if (cmd === "open") open(dir!);
else {
  process.stderr.write(`unknown command ${cmd}\n`);
  process.exit(1);
}
