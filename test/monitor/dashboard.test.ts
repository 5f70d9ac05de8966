// The dashboard in a real browser: headless Chromium (Debian's package) driven by playwright-core
// opens the monitoring root while the test publishes, and the rate chart and the JetStream tables
// must show that traffic. A screenshot is left in test-artifacts/ for people to look at.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { connect } from "@nats-io/transport-node";
import { startMonitored } from "./helpers.js";
import { FakeJetStream } from "./fake_jetstream.js";
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

test("the dashboard charts live message rates and lists streams and consumers with pending counts", { skip, timeout: 60_000 }, async () => {
  const js = new FakeJetStream();
  js.addStream("ORDERS", ["orders.>"], ["shipper"]);
  const m = await startMonitored({}, [js]);
  const profile = mkdtempSync(join(tmpdir(), "tsnats-chromium-"));
  const nc = await connect({ servers: m.url, name: "dashboard-publisher" });
  let ctx: BrowserContext | null = null;
  try {
    ctx = await launch(profile);
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${m.httpUrl}/`);
    await page.waitForSelector("#status.ok", { timeout: 10_000 });

    // Publish in bursts until the chart has seen a non-zero rate between two samples.
    let published = 0;
    await waitFor(
      "a non-zero in-rate on the chart",
      async () => {
        for (let i = 0; i < 50; i++) nc.publish("orders.created", `order ${published++}`);
        await nc.flush();
        const peak = Number(await page.getAttribute("#rate-chart", "data-peak-in"));
        return peak > 0;
      },
      20_000,
      100,
    );
    await nc.flush();
    js.ack("ORDERS", "shipper", 10);

    const cell = (sel: string) => page.textContent(sel).then((t) => (t ?? "").replace(/,/g, "").trim());
    await waitFor(
      `stream row with ${published} messages`,
      async () => (await cell('#streams tr[data-stream="ORDERS"] td[data-col="messages"]')) === String(published),
      10_000,
      100,
    );
    await waitFor(
      `consumer pending ${published - 10}`,
      async () => (await cell('#consumers tr[data-consumer="shipper"] td[data-col="num_pending"]')) === String(published - 10),
      10_000,
      100,
    );
    assert.equal(await cell('#consumers tr[data-consumer="shipper"] td[data-col="stream"]'), "ORDERS");
    // A line needs two points: wait for the next one-second sample after the burst.
    await waitFor("two rate samples", async () => Number(await page.getAttribute("#rate-chart", "data-samples")) >= 2, 10_000, 100);
    assert.ok((await linePixels(page, "--in")) > 20, "the in-rate line is drawn on the canvas");
    await waitFor("connection row", async () => (await page.textContent("#connections tbody"))?.includes("dashboard-publisher"), 10_000, 100);
    assert.equal(await page.isHidden("#js-disabled"), true);
    assert.deepEqual(errors, [], "no script errors");

    mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "test-artifacts", "dashboard.png"), fullPage: true });
  } finally {
    await ctx?.close();
    await nc.close();
    await m.stop();
    rmSync(profile, { recursive: true, force: true });
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
