// nkey users: the INFO carries a nonce, the client signs it with its seed, and the server checks
// the signature against the configured public key; with the official clients (v3 and v2) and raw
// sockets for what clients never send (a signature of another nonce, no signature, the nkey as a
// user name with no password).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v2 from "nats";
import * as v3 from "@nats-io/transport-node";
import { nkeys, nkeyAuthenticator } from "@nats-io/nats-core";
import { startServer } from "../helpers/server.js";
import { RawConn } from "../helpers/raw.js";

const QUIET = '{"verbose":false,"pedantic":false';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const infoOf = (text: string): any => JSON.parse(/INFO (\{.*\}) \r\n/.exec(text)![1]!);

test("nkey users sign the INFO nonce; a wrong key, signature or nonce is an Authorization Violation", async () => {
  const kp = nkeys.createUser();
  const pk = kp.getPublicKey();
  const other = nkeys.createUser();
  const s = await startServer({
    authorization: { users: [{ user: "alice", password: "pa" }, { user: pk, nkey: pk, permissions: { publish: { allow: ["nk.>"] }, subscribe: { allow: ["nk.>", "_INBOX.>"] } } }] },
  });
  try {
    // The official clients.
    const nc = await v3.connect({ servers: s.url, authenticator: nkeyAuthenticator(kp.getSeed()) });
    const sub = nc.subscribe("nk.x", { max: 1 });
    nc.publish("nk.x", "hi");
    for await (const m of sub) assert.equal(m.string(), "hi");
    await nc.close();
    const n2 = await v2.connect({ servers: s.url, authenticator: v2.nkeyAuthenticator(kp.getSeed()) });
    await n2.flush();
    await n2.close();
    await assert.rejects(v3.connect({ servers: s.url, reconnect: false, authenticator: nkeyAuthenticator(other.getSeed()) }), /Authorization/i);
    // Password users still log in beside them.
    const a = await v3.connect({ servers: s.url, user: "alice", pass: "pa" });
    await a.close();

    // Raw: each connection gets its own nonce; only a signature of that one is accepted.
    const c = await RawConn.connect(s.port);
    const info = infoOf(await c.expect(/INFO \{.*\} \r\n/));
    assert.match(info.nonce, /^[A-Za-z0-9_-]{15}$/);
    const d = await RawConn.connect(s.port);
    const info2 = infoOf(await d.expect(/INFO \{.*\} \r\n/));
    assert.notEqual(info2.nonce, info.nonce);
    const sign = (nonce: string, enc: BufferEncoding) => Buffer.from(kp.sign(new TextEncoder().encode(nonce))).toString(enc);
    d.send(`CONNECT ${QUIET},"nkey":"${pk}","sig":"${sign(info.nonce, "base64url")}"}\r\nPING\r\n`);
    await d.expect("-ERR 'Authorization Violation'\r\n");
    await d.expectClosed();
    // Standard base64 is accepted as well as base64url.
    c.send(`CONNECT ${QUIET},"nkey":"${pk}","sig":"${sign(info.nonce, "base64")}"}\r\nPING\r\n`);
    await c.expect("PONG\r\n");
    for (const connect of [`"nkey":"${pk}"`, `"user":"${pk}"`, `"user":"${pk}","pass":""`, `"nkey":"${pk}","sig":"AAAA"`]) {
      const e = await RawConn.connect(s.port);
      await e.expect(/"nonce":/);
      e.send(`CONNECT ${QUIET},${connect}}\r\nPING\r\n`);
      await e.expect("-ERR 'Authorization Violation'\r\n");
      await e.expectClosed();
    }
  } finally {
    await s.stop();
  }
});

test("without nkey users the INFO has no nonce", async () => {
  const s = await startServer({ authorization: { users: [{ user: "alice", password: "pa" }] } });
  try {
    const c = await RawConn.connect(s.port);
    const info = infoOf(await c.expect(/INFO \{.*\} \r\n/));
    assert.equal(info.nonce, undefined);
    assert.equal(info.auth_required, true);
  } finally {
    await s.stop();
  }
});
