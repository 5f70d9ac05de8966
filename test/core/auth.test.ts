// Authentication (token, user/password, users list, bcrypt, no_auth_user) and publish/subscribe
// permissions, with the official clients and raw sockets.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as v2 from "nats";
import * as v3 from "@nats-io/transport-node";
import bcrypt from "bcryptjs";
import { startServer } from "../helpers/server.js";
import { RawConn } from "../helpers/raw.js";
import { waitFor } from "../helpers/wait.js";

const QUIET = '{"verbose":false,"pedantic":false';

async function rejects(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (e: Error) => /Authorization|authorization|AUTHORIZATION|auth/i.test(`${e.message} ${(e as { code?: string }).code ?? ""}`));
}

describe("authentication", () => {
  test("token, plain and bcrypt", async () => {
    for (const token of ["tok", bcrypt.hashSync("tok", 4)]) {
      const s = await startServer({ authorization: { token } });
      try {
        const nc = await v3.connect({ servers: s.url, token: "tok" });
        assert.equal(nc.info?.auth_required, true);
        await nc.close();
        await rejects(v3.connect({ servers: s.url, token: "nope", reconnect: false }));
        await rejects(v2.connect({ servers: s.url, reconnect: false }));
      } finally {
        await s.stop();
      }
    }
  });

  test("single user/password, plain and bcrypt", async () => {
    for (const password of ["s3cret", bcrypt.hashSync("s3cret", 4)]) {
      const s = await startServer({ authorization: { user: "alice", password } });
      try {
        const nc = await v2.connect({ servers: s.url, user: "alice", pass: "s3cret" });
        await nc.close();
        await rejects(v2.connect({ servers: s.url, user: "alice", pass: "wrong", reconnect: false }));
        await rejects(v2.connect({ servers: s.url, user: "bob", pass: "s3cret", reconnect: false }));
      } finally {
        await s.stop();
      }
    }
  });

  test("users list with no_auth_user", async () => {
    const s = await startServer({
      authorization: { users: [{ user: "a", password: "pa" }, { user: "b", password: bcrypt.hashSync("pb", 4) }, { user: "anon", password: "x", permissions: { publish: { allow: ["public.>"] } } }] },
      noAuthUser: "anon",
    });
    try {
      await (await v3.connect({ servers: s.url, user: "a", pass: "pa" })).close();
      await (await v3.connect({ servers: s.url, user: "b", pass: "pb" })).close();
      await rejects(v3.connect({ servers: s.url, user: "b", pass: "pa", reconnect: false }));
      // No credentials: the client is "anon", with anon's permissions.
      const anon = await v3.connect({ servers: s.url });
      const errs: Error[] = [];
      void (async () => {
        for await (const st of anon.status()) if (st.type === "error") errs.push(st.error as Error);
      })();
      anon.publish("private.x");
      await anon.flush().catch(() => {});
      await waitFor("permissions error for anon", () => errs.length > 0 || anon.isClosed());
      await anon.close();
    } finally {
      await s.stop();
    }
  });

  test("raw: a protocol op before CONNECT is an Authorization Violation", async () => {
    const s = await startServer({ authorization: { token: "t" } });
    try {
      const c = await RawConn.connect(s.port);
      await c.expect(/"auth_required":true/);
      c.send("PING\r\n");
      await c.expect("-ERR 'Authorization Violation'\r\n");
      await c.expectClosed();
      const d = await RawConn.connect(s.port);
      d.send(`CONNECT ${QUIET},"auth_token":"bad"}\r\n`);
      await d.expect("-ERR 'Authorization Violation'\r\n");
      await d.expectClosed();
    } finally {
      await s.stop();
    }
  });

  test("raw: ops after a CONNECT that needs a bcrypt check are handled in order", async () => {
    const s = await startServer({ authorization: { user: "u", password: bcrypt.hashSync("p", 6) } });
    try {
      const c = await RawConn.connect(s.port);
      c.send(`CONNECT ${QUIET},"user":"u","pass":"p"}\r\nSUB x 1\r\nPUB x 2\r\nok\r\nPING\r\n`);
      const text = await c.expect("PONG\r\n");
      assert.ok(text.endsWith("MSG x 1 2\r\nok\r\nPONG\r\n"), text);
      c.close();
    } finally {
      await s.stop();
    }
  });
});

describe("permissions", () => {
  const users = [
    { user: "pub", password: "p", permissions: { publish: { allow: ["allowed.>"], deny: ["allowed.secret"] }, subscribe: { deny: [">"] } } },
    { user: "sub", password: "p", permissions: { subscribe: { allow: ["feed.*", "jobs grp"], deny: ["feed.hidden"] } } },
    { user: "svc", password: "p", permissions: { subscribe: { allow: ["svc.>"] }, allowResponses: { maxMsgs: 1, expiresMs: 0 } } },
    { user: "all", password: "p" },
  ];

  test("raw: publish allow/deny, with nats-server's error text", async () => {
    const s = await startServer({ authorization: { users } });
    try {
      const c = await RawConn.connect(s.port);
      c.send(`CONNECT ${QUIET},"user":"pub","pass":"p"}\r\nPUB allowed.x 0\r\n\r\nPUB other 0\r\n\r\nPUB allowed.secret 0\r\n\r\n`);
      await c.flush();
      assert.equal((c.text.match(/-ERR/g) ?? []).length, 2, c.text);
      assert.ok(c.text.includes(`-ERR 'Permissions Violation for Publish to "other"'\r\n`));
      assert.ok(c.text.includes(`-ERR 'Permissions Violation for Publish to "allowed.secret"'\r\n`));
      c.send("SUB anything 1\r\n");
      await c.expect(`-ERR 'Permissions Violation for Subscription to "anything"'\r\n`);
      assert.equal(c.closed, false, "permission errors do not close the connection");
      c.close();
    } finally {
      await s.stop();
    }
  });

  test("raw: subscribe allow/deny, queue permissions, and deny enforced inside an allowed wildcard", async () => {
    const s = await startServer({ authorization: { users } });
    try {
      const c = await RawConn.connect(s.port);
      c.send(`CONNECT ${QUIET},"user":"sub","pass":"p"}\r\nSUB feed.* 1\r\nSUB other 2\r\nSUB jobs grp 3\r\nSUB jobs other 4\r\nSUB feed.hidden 5\r\n`);
      await c.flush();
      assert.ok(c.text.includes(`-ERR 'Permissions Violation for Subscription to "other"'`));
      assert.ok(c.text.includes(`-ERR 'Permissions Violation for Subscription to "jobs" using queue "other"'`));
      assert.ok(c.text.includes(`-ERR 'Permissions Violation for Subscription to "feed.hidden"'`));
      assert.ok(!c.text.includes(`"feed.*"`), "feed.* is allowed");
      assert.ok(!c.text.includes(`using queue "grp"`), "jobs grp is allowed");
      const p = await RawConn.connect(s.port);
      p.send(`CONNECT ${QUIET},"user":"all","pass":"p"}\r\nPUB feed.hidden 1\r\nh\r\nPUB feed.news 1\r\nn\r\nPUB jobs 1\r\nj\r\n`);
      await p.flush();
      await c.expect("MSG jobs 3 1\r\nj\r\n");
      await c.flush();
      assert.ok(c.text.includes("MSG feed.news 1 1\r\nn\r\n"));
      assert.ok(!c.text.includes("feed.hidden 1"), "deny is enforced at delivery for the wildcard subscription");
      c.close();
      p.close();
    } finally {
      await s.stop();
    }
  });

  test("raw: allow_responses lets a service reply once to each request it received, and nothing else", async () => {
    const s = await startServer({ authorization: { users } });
    try {
      const svc = await RawConn.connect(s.port);
      svc.send(`CONNECT ${QUIET},"user":"svc","pass":"p"}\r\nSUB svc.add 1\r\n`);
      await svc.flush();
      const cli = await RawConn.connect(s.port);
      cli.send(`CONNECT ${QUIET},"user":"all","pass":"p"}\r\nSUB inbox.1 9\r\n`);
      await cli.flush();
      svc.send("PUB inbox.1 5\r\nearly\r\n");
      await svc.expect(`-ERR 'Permissions Violation for Publish to "inbox.1"'`);
      cli.send("PUB svc.add inbox.1 2\r\nhi\r\n");
      await svc.expect("MSG svc.add 1 inbox.1 2\r\nhi\r\n");
      svc.clear();
      svc.send("PUB inbox.1 4\r\nresp\r\nPUB inbox.1 5\r\nresp2\r\nPUB other 0\r\n\r\n");
      await svc.flush();
      assert.equal(svc.text, `-ERR 'Permissions Violation for Publish to "inbox.1"'\r\n-ERR 'Permissions Violation for Publish to "other"'\r\nPONG\r\n`);
      await cli.expect("MSG inbox.1 9 4\r\nresp\r\n");
      await cli.flush();
      assert.ok(!cli.text.includes("resp2"));
      svc.close();
      cli.close();
    } finally {
      await s.stop();
    }
  });
});
