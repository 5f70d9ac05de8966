// The `websocket { }` block as the listener uses it: every key reaches the listener (and /varz),
// a plain listener needs no_tls as nats-server demands, and a TLS block is refused at start-up
// until TLS is implemented, rather than served in plain text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigText } from "../../server/config/load.js";
import { refuseUnsupported } from "../../server/extensions.js";
import { TEST_CERT, TEST_KEY } from "../config/fixtures.js";
import { spawnServer } from "../helpers/server.js";
import { RawWs, startWsServer } from "./helpers.js";

test("every websocket key is read and reported in /varz", async () => {
  const conf = 'websocket { host: "127.0.0.1", port: -1, no_tls: true, compression: true, same_origin: true, allowed_origins: ["http://app.example:8080"], handshake_timeout: "3s" }';
  const ws = loadConfigText(conf).options.websocket!;
  assert.deepEqual(ws, { host: "127.0.0.1", port: -1, noTls: true, compression: true, sameOrigin: true, allowedOrigins: ["http://app.example:8080"], handshakeTimeoutMs: 3000 });
  const srv = await startWsServer({}, ws);
  try {
    const v = JSON.parse((await (await fetch(`${srv.httpUrl}/varz`)).text())) as { websocket: Record<string, unknown> };
    assert.deepEqual(v.websocket, { host: "127.0.0.1", port: srv.wsPort, handshake_timeout: 3_000_000_000, no_tls: true, same_origin: true, allowed_origins: ["http://app.example:8080"], compression: true });
    // same_origin and the list both apply to an upgrade.
    const ok = await RawWs.open(srv.wsPort, { Host: "app.example:8080", Origin: "http://app.example:8080" });
    assert.equal(ok.status, 101);
    ok.destroy();
  } finally {
    await srv.stop();
  }
});

test("a websocket listener without TLS needs no_tls: true, as with nats-server", () => {
  assert.throws(() => loadConfigText("websocket { port: 8080 }"), /websocket requires TLS configuration \(or no_tls: true\)/);
});

test("a websocket tls block refuses to start: TLS is not implemented, and plain text would be a downgrade", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-wstls-"));
  try {
    writeFileSync(join(dir, "cert.pem"), TEST_CERT);
    writeFileSync(join(dir, "key.pem"), TEST_KEY);
    const conf = `listen: 127.0.0.1:-1\nwebsocket {\n  listen: "127.0.0.1:-1"\n  tls { cert_file: "${join(dir, "cert.pem")}", key_file: "${join(dir, "key.pem")}" }\n}\n`;
    const refused = refuseUnsupported(loadConfigText(conf, { file: join(dir, "ws.conf") }).options);
    assert.match(refused ?? "", /ws\.conf:4:3: websocket\.tls: not supported by tsnats yet; refusing to start because ignoring it would weaken security/);
    // The real process: exit status 1 and the reason on stderr, no listener opened.
    await assert.rejects(spawnServer(conf, { dir }), (e: Error) => /websocket\.tls: not supported by tsnats yet; refusing to start/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
