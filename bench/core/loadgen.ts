// A raw-protocol load generator. Publishers write pre-built buffers of PUB commands as fast as the
// socket takes them; subscribers only count bytes (every MSG in a scenario has a known length), so
// the generator does almost no work per message and can drive nats-server faster than tsnats.
import net from "node:net";
import { once } from "node:events";
import { PongScan } from "../lib/pong_scan.js";

const readBuffer = Buffer.allocUnsafeSlow(1 << 20);

export class RawClient {
  private sock!: net.Socket;
  private readonly scan = new PongScan();
  received = 0;
  private waiter: { bytes: number; resolve: () => void } | null = null;

  static async connect(port: number, connect = '{"verbose":false,"pedantic":false,"headers":true}'): Promise<RawClient> {
    const c = new RawClient();
    // Reads go into one reused buffer: `data` events allocate per read and cap a Node reader at a
    // few hundred MB/s, which would make the generator, not the server, the bottleneck.
    c.sock = net.connect({ port, host: "127.0.0.1", noDelay: true, onread: { buffer: readBuffer, callback: (n, b) => { c.onData((b as Buffer).subarray(0, n)); return true; } } });
    c.sock.on("error", () => {});
    await once(c.sock, "connect");
    await c.until(() => c.scan.hasLine);
    c.sock.write(`CONNECT ${connect}\r\n`);
    await c.sync();
    return c;
  }

  private onData(b: Buffer): void {
    this.received += b.length;
    if (this.scan.scanning) this.scan.feed(b.toString("latin1"));
    if (this.waiter && this.received >= this.waiter.bytes) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve();
    }
  }

  private async until(f: () => boolean): Promise<void> {
    while (!f()) await new Promise((r) => setTimeout(r, 1));
  }

  /** PING/PONG round trip: everything sent before has been processed by the server. */
  async sync(): Promise<void> {
    await this.scan.roundTrip(() => this.sock.write("PING\r\n"));
  }

  /** Stops scanning incoming bytes for PONGs; from now on they are only counted. */
  countOnly(): void {
    this.scan.scanning = false;
    this.received = 0;
  }

  waitBytes(total: number): Promise<void> {
    if (this.received >= total) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { bytes: total, resolve }));
  }

  send(s: string | Buffer): boolean {
    return this.sock.write(s);
  }

  async sendAll(buf: Buffer, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      if (!this.sock.write(buf)) await once(this.sock, "drain");
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

/** A buffer holding `count` identical PUB commands. */
export function pubBatch(subject: string, payload: Buffer, count: number, reply?: string): Buffer {
  const head = Buffer.from(`PUB ${subject}${reply ? " " + reply : ""} ${payload.length}\r\n`);
  const one = Buffer.concat([head, payload, Buffer.from("\r\n")]);
  return Buffer.concat(new Array(count).fill(one));
}

export function msgBytes(subject: string, sid: string, size: number, reply?: string): number {
  return Buffer.byteLength(`MSG ${subject} ${sid}${reply ? " " + reply : ""} ${size}\r\n`) + size + 2;
}

export interface RateResult {
  msgs: number;
  seconds: number;
  rate: number;
}

function batchFor(payload: number): number {
  return Math.max(1, Math.floor((256 * 1024) / (payload + 30)));
}

/** Publish-only: messages/second until the server has handled them all. */
export async function pubOnly(port: number, size: number, n: number): Promise<RateResult> {
  const pub = await RawClient.connect(port);
  const per = batchFor(size);
  const rounds = Math.ceil(n / per);
  const batch = pubBatch("bench.pub", Buffer.alloc(size, 97), per);
  const t0 = process.hrtime.bigint();
  await pub.sendAll(batch, rounds);
  await pub.sync();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  pub.close();
  return { msgs: rounds * per, seconds: s, rate: (rounds * per) / s };
}

/** One publisher to `subs` subscribers, plain or as one queue group: published messages/second. */
export async function fanout(port: number, size: number, n: number, subs: number, queue: boolean): Promise<RateResult> {
  const subject = "bench.fan";
  const readers: RawClient[] = [];
  for (let i = 0; i < subs; i++) {
    const c = await RawClient.connect(port);
    c.send(`SUB ${subject}${queue ? " q" : ""} 1\r\n`);
    await c.sync();
    readers.push(c);
  }
  const pub = await RawClient.connect(port);
  const per = batchFor(size);
  const rounds = Math.ceil(n / per);
  const total = rounds * per;
  const batch = pubBatch(subject, Buffer.alloc(size, 97), per);
  const each = msgBytes(subject, "1", size);
  for (const r of readers) r.countOnly();
  const t0 = process.hrtime.bigint();
  const done = queue ? waitQueueTotal(readers, total * each) : Promise.all(readers.map((r) => r.waitBytes(total * each)));
  await pub.sendAll(batch, rounds);
  await done;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  pub.close();
  for (const r of readers) r.close();
  return { msgs: total, seconds: s, rate: total / s };
}

async function waitQueueTotal(readers: RawClient[], bytes: number): Promise<void> {
  while (readers.reduce((a, r) => a + r.received, 0) < bytes) await new Promise((r) => setTimeout(r, 1));
}

/** Request/reply round trips, one at a time: latency percentiles in microseconds. */
export async function requestReply(port: number, size: number, n: number): Promise<{ p50: number; p99: number; rate: number }> {
  const responder = await RawClient.connect(port);
  responder.send("SUB bench.svc 1\r\n");
  await responder.sync();
  const requester = await RawClient.connect(port);
  requester.send("SUB bench.inbox 1\r\n");
  await requester.sync();
  const payload = Buffer.alloc(size, 97);
  const req = pubBatch("bench.svc", payload, 1, "bench.inbox");
  const resp = pubBatch("bench.inbox", payload, 1);
  const reqBytes = msgBytes("bench.svc", "1", size, "bench.inbox");
  const respBytes = msgBytes("bench.inbox", "1", size);
  responder.countOnly();
  requester.countOnly();
  const lat: number[] = [];
  const warm = Math.min(500, n);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n + warm; i++) {
    const start = process.hrtime.bigint();
    requester.send(req);
    await responder.waitBytes((i + 1) * reqBytes);
    responder.send(resp);
    await requester.waitBytes((i + 1) * respBytes);
    if (i >= warm) lat.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  responder.close();
  requester.close();
  lat.sort((a, b) => a - b);
  return { p50: lat[Math.floor(lat.length * 0.5)]!, p99: lat[Math.floor(lat.length * 0.99)]!, rate: (n + warm) / secs };
}

/** Opens `conns` idle connections with `subs` subscriptions each; checks routing still works. */
export async function idleConnections(port: number, conns: number, subs: number): Promise<{ opened: number; routed: boolean; close(): void }> {
  const sockets: net.Socket[] = [];
  const batch = 200;
  for (let i = 0; i < conns; i += batch) {
    const group: Promise<void>[] = [];
    for (let j = i; j < Math.min(conns, i + batch); j++) {
      group.push(
        new Promise<void>((resolve, reject) => {
          const s = net.connect({ port, host: "127.0.0.1" });
          s.on("error", reject);
          let buf = "";
          s.on("data", (b) => {
            if (buf === null) return;
            buf += b.toString("latin1");
            if (buf.includes("PONG\r\n")) {
              buf = null as unknown as string;
              resolve();
            }
          });
          s.on("connect", () => {
            let cmd = 'CONNECT {"verbose":false,"pedantic":false}\r\n';
            for (let k = 0; k < subs; k++) cmd += `SUB idle.${j}.${k} ${k + 1}\r\n`;
            s.write(cmd + "PING\r\n");
          });
          sockets.push(s);
        }),
      );
    }
    await Promise.all(group);
  }
  // Routing still works with all of them connected: a message reaches one chosen subscription.
  const target = Math.floor(conns / 2);
  const probe = await RawClient.connect(port);
  probe.send(`SUB idle.probe 1\r\n`);
  await probe.sync();
  const got = new Promise<boolean>((resolve) => {
    const s = sockets[target]!;
    let buf = "";
    const t = setTimeout(() => resolve(false), 5000);
    s.on("data", (b) => {
      buf += b.toString("latin1");
      if (buf.includes(`MSG idle.${target}.3 4 5\r\nhello`)) {
        clearTimeout(t);
        resolve(true);
      }
    });
  });
  probe.send(`PUB idle.${target}.3 5\r\nhello\r\n`);
  const routed = await got;
  probe.close();
  return { opened: sockets.length, routed, close: () => sockets.forEach((s) => s.destroy()) };
}
