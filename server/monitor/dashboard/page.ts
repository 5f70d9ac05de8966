// The dashboard served at the monitoring port's root: one self-contained HTML page (no build step,
// no external assets) that polls the JSON endpoints and draws live connections, a message-rate
// chart, subscriptions, and JetStream streams and consumers. Elements carry ids and data-*
// attributes that the browser test (test/monitor/dashboard.test.ts) reads.

import { DASHBOARD_SCRIPT } from "./script.js";
import { VERSION } from "../../version.js";

const STYLE = `
:root { --bg:#0f1419; --panel:#171d24; --line:#2a323c; --text:#d8dee6; --dim:#8a96a3; --in:#4fb3ff; --out:#7ddc7a; --warn:#f0b35a; --bad:#ef6b6b; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.4 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--text); }
header { display:flex; flex-wrap:wrap; align-items:baseline; gap:6px 16px; padding:14px 24px; border-bottom:1px solid var(--line); }
header h1 { font-size:18px; margin:0; }
header .dim, .dim { color:var(--dim); }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
#status { margin-left:auto; }
#status.ok::before, #status.down::before { content:"\\25CF "; }
#status.ok::before { color:var(--out); } #status.down::before { color:var(--bad); }
main { padding:16px 24px 40px; display:grid; gap:16px; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 16px; min-width:0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size:14px; margin:0 0 10px; color:var(--dim); font-weight:600; text-transform:uppercase; letter-spacing:.04em; }
.cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(104px, 1fr)); gap:10px; }
.card { border:1px solid var(--line); border-radius:6px; padding:8px 10px; }
.card .v { font-size:18px; font-variant-numeric: tabular-nums; white-space:nowrap; }
.card .k { color:var(--dim); font-size:12px; }
#listeners { flex-basis:100%; order:10; font-size:12px; }
canvas { width:100%; height:240px; display:block; }
.legend { display:flex; gap:16px; font-size:12px; color:var(--dim); margin-top:6px; }
.legend b.in { color:var(--in); } .legend b.out { color:var(--out); }
table { width:100%; border-collapse:collapse; font-variant-numeric: tabular-nums; }
th, td { text-align:left; padding:4px 8px; border-bottom:1px solid var(--line); white-space:nowrap; overflow:hidden; text-overflow:ellipsis; max-width:260px; }
th { color:var(--dim); font-weight:600; font-size:12px; }
td.n, th.n { text-align:right; }
.scroll { max-height:360px; overflow:auto; }
.pending { color:var(--warn); }
nav a { color:var(--dim); margin-right:10px; font-size:12px; }
`;

/** The page; `base` is the monitoring base path ("" or "/prefix"), where the endpoints live. */
export function dashboardHtml(base: string): string {
  const b = escapeHtml(base);
  const links = ["varz", "connz", "subsz", "routez", "jsz", "accountz", "leafz", "healthz", "metrics"].map((p) => `<a href="${b}/${p}">/${p}</a>`).join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tsnats</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1 id="server-name">tsnats</h1>
  <span class="dim mono" id="server-id"></span>
  <span class="dim">v${VERSION} &middot; up <span id="uptime">-</span></span>
  <span class="dim" id="listeners"></span>
  <span id="status" class="down">connecting</span>
</header>
<main>
  <section class="wide">
    <div class="cards">
      <div class="card"><div class="v" id="stat-connections">-</div><div class="k">connections</div></div>
      <div class="card"><div class="v" id="stat-subscriptions">-</div><div class="k">subscriptions</div></div>
      <div class="card"><div class="v" id="stat-in-rate">-</div><div class="k">msgs in / s</div></div>
      <div class="card"><div class="v" id="stat-out-rate">-</div><div class="k">msgs out / s</div></div>
      <div class="card"><div class="v" id="stat-in-bytes">-</div><div class="k">bytes in / s</div></div>
      <div class="card"><div class="v" id="stat-out-bytes">-</div><div class="k">bytes out / s</div></div>
      <div class="card"><div class="v" id="stat-in-msgs">-</div><div class="k">msgs in (total)</div></div>
      <div class="card"><div class="v" id="stat-slow">-</div><div class="k">slow consumers</div></div>
      <div class="card"><div class="v" id="stat-mem">-</div><div class="k">memory</div></div>
      <div class="card"><div class="v" id="stat-cpu">-</div><div class="k">cpu</div></div>
    </div>
  </section>
  <section class="wide">
    <h2>Message rate</h2>
    <canvas id="rate-chart" data-samples="0" data-peak-in="0" data-peak-out="0"></canvas>
    <div class="legend"><span><b class="in">&#9632;</b> in msgs/s <span id="legend-in">0</span></span><span><b class="out">&#9632;</b> out msgs/s <span id="legend-out">0</span></span><span id="chart-span">one sample a second, from /varz</span></div>
  </section>
  <section class="wide">
    <h2>Connections <span class="dim" id="conn-count"></span></h2>
    <div class="scroll"><table id="connections"><thead><tr><th class="n">cid</th><th>name</th><th>type</th><th>address</th><th class="n">subs</th><th class="n">msgs in</th><th class="n">msgs out</th><th class="n">bytes in</th><th class="n">bytes out</th><th class="n">pending</th><th>rtt</th><th>uptime</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section class="wide">
    <h2>Subscriptions <span class="dim" id="subs-summary"></span></h2>
    <div class="scroll"><table id="subscriptions"><thead><tr><th>subject</th><th>queue</th><th class="n">cid</th><th class="n">msgs</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section class="wide" id="jetstream">
    <h2>JetStream <span class="dim" id="js-summary"></span></h2>
    <p id="js-disabled" class="dim" hidden>JetStream disabled</p>
    <div id="js-tables">
      <table id="streams"><thead><tr><th>stream</th><th class="n">messages</th><th class="n">bytes</th><th class="n">first seq</th><th class="n">last seq</th><th class="n">consumers</th></tr></thead><tbody></tbody></table>
      <h2 style="margin-top:14px">Consumers</h2>
      <table id="consumers"><thead><tr><th>stream</th><th>consumer</th><th class="n">pending</th><th class="n">ack pending</th><th class="n">redelivered</th><th class="n">waiting</th><th class="n">delivered seq</th><th class="n">ack floor</th></tr></thead><tbody></tbody></table>
    </div>
  </section>
  <section class="wide"><nav>${links}</nav></section>
</main>
<script>const BASE = ${JSON.stringify(base).replace(/</g, "\\u003c")};
${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
