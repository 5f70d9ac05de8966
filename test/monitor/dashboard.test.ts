// The dashboard in a real browser: headless Chromium (Debian's package) driven by playwright-core
// opens the monitoring root while the test publishes (a TCP publisher, a WebSocket subscriber, a
// real JetStream stream and consumer), and the rate chart, the connection, subscription and
// JetStream tables must show exactly that traffic. A screenshot is left in test-artifacts/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { connect } from "@nats-io/transport-node";
import { wsconnect } from "@nats-io/nats-core";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { jsOptions, startMonitored } from "./helpers.js";
import { installWebSocketGlobal, wsOptions } from "../websocket/helpers.js";
import { ROOT } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const CHROMIUM = "/usr/bin/chromium";
const missing = !existsSync(CHROMIUM);
// CI installs chromium (.ci/run); without it there the test must fail, not vanish.
const skip = missing && process.env.CI !== "true" ? `${CHROMIUM} not found (apt-get install chromium); CI fails instead of skipping` : false;

async function launch(profile: string): Promise<BrowserContext> {
  if (missing) throw new Error(`${CHROMIUM} not found: CI must install Debian's chromium package`);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 1100 },
    // The network is closed: keep Chromium from reaching out at all.
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Pixels on the chart close to a CSS colour: the line was drawn, not just the axes. */
function linePixels(page: Page, cssVar: string): Promise<number> {
  return page.evaluate((v) => {
    // Runs in the page; the project compiles without the DOM typings.
    const w = globalThis as unknown as { document: any; getComputedStyle: (e: unknown) => { getPropertyValue(p: string): string } };
    const c = w.document.getElementById("rate-chart");
    const hex = w.getComputedStyle(w.document.documentElement).getPropertyValue(v).trim();
    const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const d: Uint8ClampedArray = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]! - want[0]!) < 24 && Math.abs(d[i + 1]! - want[1]!) < 24 && Math.abs(d[i + 2]! - want[2]!) < 24 && d[i + 3]! > 200) n++;
    return n;
  }, cssVar);
}

test("the dashboard charts live message rates and lists streams and consumers with pending counts", { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnats-dashboard-js-"));
  const m = await startMonitored({ ...jsOptions(dir), websocket: wsOptions() });
  const profile = mkdtempSync(join(tmpdir(), "tsnats-chromium-"));
  const nc = await connect({ servers: m.url, name: "dashboard-publisher" });
  installWebSocketGlobal();
  const browserSide = await wsconnect({ servers: m.server.portsReport().websocket![0]!, name: "browser-app" });
  let ctx: BrowserContext | null = null;
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
    await jsm.consumers.add("ORDERS", { durable_name: "shipper", ack_policy: AckPolicy.Explicit });
    // Two subscribers: the out rate is twice the in rate, so the two lines are apart.
    browserSide.subscribe("orders.>");
    await browserSide.flush();
    const echo = nc.subscribe("orders.>");
    await nc.flush();

    ctx = await launch(profile);
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${m.httpUrl}/`);
    await page.waitForSelector("#status.ok", { timeout: 10_000 });
    const attr = async (name: string) => Number(await page.getAttribute("#rate-chart", name));
    // The chart's first sample is taken before any of the traffic below.
    await waitFor("a first sample", async () => (await attr("data-points")) >= 1, 10_000, 100);
    const base = await attr("data-last-in-msgs");

    // Publish in bursts (a growing rate) until the chart has several non-zero points.
    let published = 0;
    let burst = 20;
    await waitFor(
      "five samples with traffic on the chart",
      async () => {
        for (let i = 0; i < burst; i++) nc.publish("orders.created", `order ${published++}`);
        burst += 4;
        await nc.flush();
        return (await attr("data-samples")) >= 5 && (await attr("data-peak-in")) > 0;
      },
      30_000,
      200,
    );
    await nc.flush();
    // The chart's series adds up to exactly what was published, and the in line is drawn.
    await waitFor(`the chart's in-messages to reach ${published}`, async () => (await attr("data-last-in-msgs")) - base === published, 10_000, 100);
    assert.equal(await attr("data-sum-in"), (await attr("data-last-in-msgs")) - base, "the plotted rates add up to the messages counted");
    assert.ok((await linePixels(page, "--in")) > 20, "the in-rate line is drawn on the canvas");
    assert.ok((await linePixels(page, "--out")) > 20, "the out-rate line is drawn");

    // The consumer takes 10 and acks them.
    const js = jetstream(nc);
    const shipper = await js.consumers.get("ORDERS", "shipper");
    const batch = await shipper.fetch({ max_messages: 10, expires: 5000 });
    let taken = 0;
    for await (const msg of batch) {
      await msg.ackAck();
      if (++taken === 10) break;
    }

    const cell = (sel: string) => page.textContent(sel).then((t) => (t ?? "").replace(/,/g, "").trim());
    await waitFor(
      `stream row with ${published} messages`,
      async () => (await cell('#streams tr[data-stream="ORDERS"] td[data-col="messages"]')) === String(published),
      10_000,
      100,
    );
    // A refresh may land between the deliveries and the last ack: wait for the settled row.
    const shipperRow = async () =>
      [await cell('#consumers tr[data-consumer="shipper"] td[data-col="num_pending"]'), await cell('#consumers tr[data-consumer="shipper"] td[data-col="num_ack_pending"]'), await cell('#consumers tr[data-consumer="shipper"] td[data-col="ack_floor"]')].join(" ");
    const settled = `${published - 10} 0 10`;
    await waitFor(`consumer row "pending ack-pending ack-floor" = ${settled}`, async () => (await shipperRow()) === settled, 10_000, 100);
    assert.equal(await cell('#consumers tr[data-consumer="shipper"] td[data-col="stream"]'), "ORDERS");
    assert.equal(await cell('#streams tr[data-stream="ORDERS"] td[data-col="last_seq"]'), String(published));
    await waitFor("both connection rows", async () => {
      const t = (await page.textContent("#connections tbody")) ?? "";
      return t.includes("dashboard-publisher") && t.includes("browser-app");
    }, 10_000, 100);
    assert.equal(await cell('#connections tr[data-name="browser-app"] td[data-col="type"]'), "websocket");
    assert.equal(await cell('#connections tr[data-name="browser-app"] td[data-col="out_msgs"]'), String(published));
    const subRows = await page.$$eval('#subscriptions tr[data-subject="orders.>"] td[data-col="msgs"]', (tds) => tds.map((td) => (td as unknown as { textContent: string }).textContent));
    assert.equal(subRows.length, 3, "the two client subscriptions and the stream's own");
    assert.ok(subRows.every((t) => t.replace(/,/g, "") === String(published)), subRows.join(" "));
    echo.unsubscribe();
    assert.equal(await page.isHidden("#js-disabled"), true);
    assert.deepEqual(errors, [], "no script errors");

    mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "test-artifacts", "dashboard.png"), fullPage: true });
  } finally {
    await ctx?.close();
    await browserSide.close();
    await nc.close();
    await m.stop();
    rmSync(profile, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without JetStream the dashboard says so", { skip, timeout: 60_000 }, async () => {
  const m = await startMonitored();
  const profile = mkdtempSync(join(tmpdir(), "tsnats-chromium-"));
  let ctx: BrowserContext | null = null;
  try {
    ctx = await launch(profile);
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(`${m.httpUrl}/`);
    await page.waitForSelector("#js-disabled:not([hidden])", { timeout: 10_000 });
    assert.equal(await page.textContent("#js-disabled"), "JetStream disabled");
    assert.equal(await page.isHidden("#js-tables"), true);
  } finally {
    await ctx?.close();
    await m.stop();
    rmSync(profile, { recursive: true, force: true });
  }
});
