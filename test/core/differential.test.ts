// Differential tests: the same raw-protocol scripts against tsnats and the reference nats-server
// (Debian's package, installed by CI), comparing byte for byte what each client receives.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { RawConn } from "../helpers/raw.js";
import { referenceServer, spawnServer, startServer, type ChildServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

interface Script {
  name: string;
  /** Each step is sent, then the script waits for the server to catch up (PING/PONG) unless the connection closed. */
  steps: string[];
  /** A second connection that subscribes first and whose received bytes are compared too. */
  observer?: string;
}

const Q = 'CONNECT {"verbose":false,"pedantic":false}\r\n';
const QH = 'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n';

const SCRIPTS: Script[] = [
  { name: "verbose and pedantic", steps: ['CONNECT {"verbose":true,"pedantic":true}\r\n', "SUB foo.* 1\r\nSUB foo.* bar 2\r\n", "PUB foo.* 2\r\nhi\r\n", "PUB foo.x 2\r\nhi\r\n", "SUB a..b 3\r\nUNSUB 1\r\n"] },
  { name: "bare CONNECT {}", steps: ["CONNECT {}\r\n", "SUB x 1\r\nPUB x 1\r\nz\r\n"] },
  { name: "unknown op", steps: [Q, "XYZ"] },
  { name: "unknown op, lower case garbage", steps: [Q, "pubx"] },
  { name: "payload longer than declared", steps: [Q, "PUB foo 2\r\nhiX\r\n"] },
  { name: "max payload", steps: [Q, "PUB foo 2000000\r\n"] },
  { name: "max control line", steps: [Q, `SUB ${"a".repeat(5000)} 1\r\n`] },
  { name: "bad PUB args", steps: [Q, "PUB foo\r\n"] },
  { name: "bad SUB args", steps: [Q, "SUB foo\r\n"] },
  { name: "bad UNSUB args", steps: [Q, "UNSUB 1 2 3\r\n"] },
  { name: "invalid subscription subjects", steps: [Q, "SUB a..b 1\r\nSUB .a 2\r\nSUB a.>.b 3\r\nSUB foo> 4\r\nPUB foo> 1\r\nx\r\n"] },
  { name: "no responders", steps: ['CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n', "SUB _INBOX.x 1\r\nPUB nobody _INBOX.x 2\r\nhi\r\n"] },
  { name: "no responders requires headers", steps: ['CONNECT {"no_responders":true}\r\n'] },
  { name: "invalid protocol", steps: ['CONNECT {"protocol":5}\r\n'] },
  { name: "bad CONNECT json", steps: ["CONNECT {bad\r\n"] },
  { name: "UNSUB with max", steps: [Q, "SUB foo 1\r\nUNSUB 1 2\r\n", "PUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n"] },
  { name: "UNSUB with max already reached", steps: [Q, "SUB foo 1\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\n", "UNSUB 1 2\r\nPUB foo 1\r\nc\r\n"] },
  { name: "queue and plain subscriptions on one connection", steps: [Q, "SUB q g 1\r\nSUB q 2\r\nPUB q 1\r\nx\r\n"] },
  { name: "case-insensitive verbs and tabs", steps: [Q, "sub foo 1\r\npub\tfoo\t2\r\nhi\r\nPiNg\r\nPING with junk\r\n"] },
  { name: "echo off", steps: ['CONNECT {"verbose":false,"pedantic":false,"echo":false}\r\n', "SUB e 1\r\nPUB e 1\r\nx\r\n"] },
  { name: "-ERR from a client", steps: [Q, "-ERR 'whatever'\r\n"] },
  { name: "HPUB without headers negotiated", steps: [Q, "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"] },
  { name: "HPUB header size larger than total", steps: [QH, "HPUB foo 20 14\r\n"] },
  {
    name: "headers to header and plain subscribers",
    observer: Q + "SUB h.> 9\r\n",
    steps: [QH, "SUB h.> 1\r\nHPUB h.a 12 14\r\nNATS/1.0\r\n\r\nhi\r\nHPUB h.b r 0 2\r\nok\r\nHPUB h.c 22 22\r\nNATS/1.0\r\nA: b\r\n\r\n\r\n"],
  },
  { name: "reply subjects pass through", observer: Q + "SUB svc 5\r\n", steps: [Q, "PUB svc my.reply.x 3\r\nabc\r\n"] },
  { name: "wildcard characters in published subjects", observer: Q + "SUB $JS.API.> 1\r\n", steps: [Q, "PUB $JS.API.CONSUMER.CREATE.S.c.$KV.b.> 2\r\n{}\r\nPUB a.* 0\r\n\r\n"] },
  { name: "max subscriptions", steps: [Q, "SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nSUB d 4\r\nSUB e 5\r\nSUB f 6\r\nSUB a 1\r\n"] },
  { name: "duplicate sid", steps: [Q, "SUB a 1\r\nSUB b 1\r\nPUB a 1\r\nx\r\nPUB b 1\r\ny\r\n"] },
  { name: "zero-length payloads", steps: [Q, "SUB z 1\r\nPUB z 0\r\n\r\n"] },
  { name: "a message split across steps", steps: [Q, "SUB s 1\r\nPUB s 10\r\n01234", "56789\r\n"] },
];

const AUTH_SCRIPTS: Script[] = [
  { name: "auth: op before CONNECT", steps: ["PING\r\n"] },
  { name: "auth: bad token", steps: ['CONNECT {"verbose":false,"auth_token":"bad"}\r\n'] },
  { name: "auth: good token", steps: ['CONNECT {"verbose":false,"pedantic":false,"auth_token":"secret"}\r\n', "SUB x 1\r\nPUB x 1\r\n1\r\n"] },
  { name: "auth: account in CONNECT", steps: ['CONNECT {"verbose":false,"auth_token":"secret","account":"A"}\r\n'] },
];

interface Outcome {
  info: Record<string, unknown>;
  rest: string;
  observed: string;
  closed: boolean;
}

async function runScript(port: number, script: Script): Promise<Outcome> {
  let obs: RawConn | null = null;
  if (script.observer) {
    obs = await RawConn.connect(port);
    await obs.expect("\r\n");
    obs.send(script.observer);
    await obs.flush();
  }
  const c = await RawConn.connect(port);
  await c.expect("\r\n");
  const pongs = () => (c.text.match(/PONG\r\n/g) ?? []).length;
  for (const step of script.steps) {
    // A PING after each step: its PONG, after those of the step's own PINGs, tells us the server
    // has handled the step, unless the step closed the connection (then the close is the signal).
    const want = pongs() + step.split("\r\n").filter((l) => /^ping(\s|$)/i.test(l)).length + 1;
    c.send(step);
    if (c.closed) break;
    c.send("PING\r\n");
    await waitFor(`step ${JSON.stringify(step.slice(0, 40))} of ${script.name}`, () => c.closed || pongs() >= want);
  }
  if (obs) await obs.flush();
  const text = c.text;
  const nl = text.indexOf("\r\n");
  const info = JSON.parse(text.slice(5, nl)) as Record<string, unknown>;
  const observed = obs ? obs.text.slice(obs.text.indexOf("\r\n") + 2) : "";
  c.close();
  obs?.close();
  return { info, rest: text.slice(nl + 2), observed, closed: c.closed };
}

const ref = referenceServer();

describe("differential: tsnats and nats-server receive the same bytes", { skip: ref ? false : "reference nats-server is not installed (CI installs it)" }, () => {
  let ours: TestServer;
  let theirs: ChildServer;
  let oursAuth: TestServer;
  let theirsAuth: ChildServer;
  before(async () => {
    ours = await startServer({ maxSubscriptions: 5, pingIntervalMs: 60_000 });
    theirs = await spawnServer("listen: 127.0.0.1:-1\nmax_subscriptions: 5\nping_interval: 60s\n", { bin: ref! });
    oursAuth = await startServer({ authorization: { token: "secret" }, pingIntervalMs: 60_000 });
    theirsAuth = await spawnServer("listen: 127.0.0.1:-1\nauthorization { token: secret }\nping_interval: 60s\n", { bin: ref! });
  });
  after(async () => {
    await ours.stop();
    await oursAuth.stop();
    theirs.cleanup();
    theirsAuth.cleanup();
  });

  for (const [list, auth] of [
    [SCRIPTS, false],
    [AUTH_SCRIPTS, true],
  ] as const) {
    for (const script of list) {
      test(script.name, async () => {
        const a = await runScript(auth ? oursAuth.port : ours.port, script);
        const b = await runScript(auth ? theirsAuth.port : theirs.port, script);
        // Server-initiated PINGs are timing, not behaviour.
        const strip = (s: string) => s.replace(/(^|\n)PING\r\n/g, "$1");
        assert.equal(strip(a.rest), strip(b.rest), "bytes after INFO");
        assert.equal(strip(a.observed), strip(b.observed), "bytes seen by the observer");
        assert.equal(a.closed, b.closed, "connection closed");
        const keys = (i: Record<string, unknown>) => Object.keys(i).filter((k) => k !== "git_commit");
        assert.deepEqual(keys(a.info), keys(b.info), "INFO fields and their order");
        for (const k of ["proto", "headers", "max_payload", "auth_required", "client_ip"]) assert.equal(a.info[k], b.info[k], `INFO ${k}`);
      });
    }
  }
});
