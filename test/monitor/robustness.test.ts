// Malformed HTTP on the monitoring and websocket ports: each bad request gets an answer or a
// closed socket, and the server keeps serving both ports and its clients afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startWsServer } from "../websocket/helpers.js";
import { getHttp } from "./helpers.js";
import { waitFor } from "../helpers/wait.js";

/** Sends raw bytes; returns what came back by the time the peer answered or closed. uWS leaves
 * unparsable input hanging until its own idle timeout, so after a short while the test moves on. */
async function rawExchange(port: number, data: Buffer | string, ms = 300): Promise<string> {
  const s = net.connect(port, "127.0.0.1");
  let got = "";
  let closed = false;
  s.on("data", (b) => (got += b.toString("latin1")));
  s.on("error", () => {});
  s.on("close", () => (closed = true));
  await new Promise<void>((r) => s.once("connect", () => r()));
  s.write(data);
  await waitFor("an answer or a close", () => closed || /\r\n\r\n/.test(got), ms).catch(() => {});
  s.destroy();
  return got;
}

test("garbage, oversized and odd requests never take the monitor or websocket listener down", async () => {
  const srv = await startWsServer();
  try {
    const junk: Array<Buffer | string> = [
      "GARBAGE\r\n\r\n",
      Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]),
      `GET /varz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(200_000)}\r\n\r\n`,
      "GET /connz?limit=%zz&sort=%ff HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /connz?limit=99999999999999999999999 HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /" + "x".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /varz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
      "GET /varz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
      "GET /varz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET /varz HTTP/1.1\r\n", // never finished
    ];
    for (const j of junk) {
      await rawExchange(srv.httpPort, j);
      await rawExchange(srv.wsPort, j);
    }
    const tooBig = await getHttp(srv.httpUrl, "/connz?limit=99999999999999999999999");
    assert.equal(tooBig.status, 400);
    assert.match(tooBig.body, /value out of range/);
    const odd = await getHttp(srv.httpUrl, "/connz?limit=%zz");
    assert.equal(odd.status, 400);
    const v = await getHttp(srv.httpUrl, "/varz");
    assert.equal(v.status, 200);
    assert.equal(JSON.parse(v.body).server_id, srv.server.serverId);
    const ws = await rawExchange(srv.wsPort, `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    assert.match(ws, /^HTTP\/1\.1 101 /);
  } finally {
    await srv.stop();
  }
});
