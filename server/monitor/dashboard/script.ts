// The dashboard's browser code, kept as plain JavaScript text so the page needs no bundler. It reads
// BASE (the monitoring base path) defined just before it. Table cells are filled with textContent,
// never innerHTML: subjects and client names come from clients.

export const DASHBOARD_SCRIPT = String.raw`
"use strict";
const HISTORY = 120;
const samples = [];   // raw /varz counters: { t, inMsgs, outMsgs, inBytes, outBytes }
const rates = [];     // per-second rates between consecutive samples: { t, dt, inMsgs, outMsgs, inBytes, outBytes }
const $ = (id) => document.getElementById(id);

function fmtInt(n) { return Math.round(n).toLocaleString("en-US"); }
function fmtRate(n) { return n >= 100 ? fmtInt(n) : n.toFixed(1); }
function fmtBytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? Math.round(n) : n.toFixed(1)) + " " + u[i];
}

async function getJSON(path) {
  const r = await fetch(BASE + path, { cache: "no-store" });
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

function setStatus(ok, text) {
  const s = $("status");
  s.className = ok ? "ok" : "down";
  s.textContent = text;
}

function onVarz(v) {
  // An unnamed server is known by its id: show the product name and the id beside it.
  $("server-name").textContent = v.server_name === v.server_id ? "tsnats" : v.server_name;
  $("server-id").textContent = v.server_id;
  $("server-id").title = "server id";
  $("listeners").textContent = listeners(v);
  $("uptime").textContent = v.uptime;
  $("stat-connections").textContent = fmtInt(v.connections);
  $("stat-subscriptions").textContent = fmtInt(v.subscriptions);
  $("stat-in-msgs").textContent = fmtInt(v.in_msgs);
  $("stat-slow").textContent = fmtInt(v.slow_consumers);
  $("stat-mem").textContent = fmtBytes(v.mem);
  $("stat-cpu").textContent = v.cpu.toFixed(1) + "%";
  const t = Date.parse(v.now);
  const s = { t, inMsgs: v.in_msgs, outMsgs: v.out_msgs, inBytes: v.in_bytes, outBytes: v.out_bytes };
  const prev = samples[samples.length - 1];
  samples.push(s);
  if (samples.length > HISTORY + 1) samples.shift();
  if (prev && t > prev.t) {
    const dt = (t - prev.t) / 1000;
    rates.push({
      t,
      dt,
      inMsgs: (s.inMsgs - prev.inMsgs) / dt,
      outMsgs: (s.outMsgs - prev.outMsgs) / dt,
      inBytes: (s.inBytes - prev.inBytes) / dt,
      outBytes: (s.outBytes - prev.outBytes) / dt,
    });
    if (rates.length > HISTORY) rates.shift();
  }
  const c = $("rate-chart");
  c.dataset.points = String(samples.length);
  c.dataset.lastInMsgs = String(s.inMsgs);
  c.dataset.lastOutMsgs = String(s.outMsgs);
  const last = rates[rates.length - 1];
  if (last) {
    $("stat-in-rate").textContent = fmtRate(last.inMsgs);
    $("stat-out-rate").textContent = fmtRate(last.outMsgs);
    $("stat-in-bytes").textContent = fmtBytes(last.inBytes);
    $("stat-out-bytes").textContent = fmtBytes(last.outBytes);
    $("legend-in").textContent = fmtRate(last.inMsgs);
    $("legend-out").textContent = fmtRate(last.outMsgs);
  }
  drawChart();
}

function niceMax(v) {
  if (v <= 1) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function drawChart() {
  const c = $("rate-chart");
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, h = c.clientHeight;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
  const g = c.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  let peakIn = 0, peakOut = 0;
  for (const r of rates) { peakIn = Math.max(peakIn, r.inMsgs); peakOut = Math.max(peakOut, r.outMsgs); }
  c.dataset.samples = String(rates.length);
  c.dataset.sumIn = String(Math.round(rates.reduce((n, r) => n + r.inMsgs * r.dt, 0)));
  c.dataset.peakIn = String(peakIn);
  c.dataset.peakOut = String(peakOut);
  const left = 56, right = 8, top = 8, bottom = 20;
  const pw = w - left - right, ph = h - top - bottom;
  const max = niceMax(Math.max(peakIn, peakOut) * 1.05);
  const css = getComputedStyle(document.documentElement);
  g.font = "11px ui-sans-serif, system-ui, sans-serif";
  g.strokeStyle = css.getPropertyValue("--line").trim();
  g.fillStyle = css.getPropertyValue("--dim").trim();
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = top + ph - (ph * i) / 4;
    g.beginPath(); g.moveTo(left, y + 0.5); g.lineTo(left + pw, y + 0.5); g.stroke();
    g.fillText(fmtRate((max * i) / 4), 4, y + 4);
  }
  // The window grows with the history, from 30 seconds up to HISTORY, so a fresh page is not empty.
  const span = Math.min(HISTORY, Math.max(30, rates.length));
  $("chart-span").textContent = "last " + span + " s, one sample a second, from /varz";
  const step = span > 60 ? 30 : 10;
  for (let s = span; s >= 0; s -= step) {
    const label = s === 0 ? "now" : "-" + s + "s";
    const lx = left + pw - (s / (span - 1)) * pw;
    g.fillText(label, Math.max(left, Math.min(lx, left + pw - g.measureText(label).width)), h - 4);
  }
  const x = (i) => left + pw - (rates.length - 1 - i) * (pw / (span - 1));
  const y = (v) => top + ph - (v / max) * ph;
  for (const [key, color] of [["inMsgs", "--in"], ["outMsgs", "--out"]]) {
    if (rates.length === 0) break;
    const stroke = css.getPropertyValue(color).trim();
    if (rates.length > 1) {
      // A faint area under the line makes bursts readable at a glance.
      g.globalAlpha = 0.12;
      g.fillStyle = stroke;
      g.beginPath();
      g.moveTo(x(0), top + ph);
      rates.forEach((r, i) => g.lineTo(x(i), y(r[key])));
      g.lineTo(x(rates.length - 1), top + ph);
      g.closePath();
      g.fill();
      g.globalAlpha = 1;
    }
    g.strokeStyle = stroke;
    g.lineWidth = 2;
    g.beginPath();
    rates.forEach((r, i) => (i === 0 ? g.moveTo(x(i), y(r[key])) : g.lineTo(x(i), y(r[key]))));
    if (rates.length === 1) g.lineTo(x(0) - 2, y(rates[0][key]));
    g.stroke();
  }
}

function fill(tbody, rows) {
  const frag = document.createDocumentFragment();
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const [k, v] of Object.entries(row.data || {})) tr.dataset[k] = v;
    for (const cell of row.cells) {
      const td = document.createElement("td");
      td.textContent = cell.text;
      if (cell.col) td.dataset.col = cell.col;
      if (cell.num) td.className = "n";
      if (cell.cls) td.className += " " + cell.cls;
      tr.appendChild(td);
    }
    frag.appendChild(tr);
  }
  tbody.replaceChildren(frag);
}

const num = (col, v) => ({ col, text: fmtInt(v), num: true });
const txt = (col, v) => ({ col, text: v == null ? "" : String(v) });

function listeners(v) {
  const out = ["nats " + v.host + ":" + v.port];
  if (v.websocket && v.websocket.port) out.push("websocket " + (v.websocket.host || v.host) + ":" + v.websocket.port);
  if (v.jetstream && v.jetstream.config) out.push("JetStream " + (v.jetstream.config.sync_always ? "(fsync every commit)" : ""));
  return out.join(" \u00b7 ");
}

function onConnz(cz) {
  $("conn-count").textContent = cz.total > cz.num_connections ? "(" + cz.num_connections + " of " + cz.total + ")" : "(" + cz.total + ")";
  fill($("connections").tBodies[0], cz.connections.map((c) => ({
    data: { cid: String(c.cid), name: c.name || "" },
    cells: [num("cid", c.cid), txt("name", c.name || ""), txt("type", c.type), txt("address", c.ip + (c.port ? ":" + c.port : "")),
      num("subscriptions", c.subscriptions), num("in_msgs", c.in_msgs), num("out_msgs", c.out_msgs),
      { col: "in_bytes", text: fmtBytes(c.in_bytes), num: true }, { col: "out_bytes", text: fmtBytes(c.out_bytes), num: true },
      { col: "pending_bytes", text: fmtBytes(c.pending_bytes), num: true, cls: c.pending_bytes > 0 ? "pending" : "" }, txt("rtt", c.rtt), txt("uptime", c.uptime)],
  })));
}

function onSubsz(sz) {
  $("subs-summary").textContent = "(" + fmtInt(sz.num_subscriptions) + ", cache hit " + Math.round(sz.cache_hit_rate * 100) + "%, max fan-out " + sz.max_fanout + ")";
  const list = sz.subscriptions_list || [];
  fill($("subscriptions").tBodies[0], list.map((s) => ({
    data: { subject: s.subject },
    // cid 0: a subscription the server holds itself (JetStream's API, acks and stream subjects).
    cells: [txt("subject", s.subject), txt("qgroup", s.qgroup || ""), s.cid ? num("cid", s.cid) : { col: "cid", text: "server", num: true, cls: "dim" }, num("msgs", s.msgs)],
  })));
}

function onJsz(js) {
  const disabled = !!js.disabled;
  $("js-disabled").hidden = !disabled;
  $("js-tables").hidden = disabled;
  $("jetstream").dataset.enabled = String(!disabled);
  if (disabled) { $("js-summary").textContent = ""; return; }
  const plural = (n, w) => fmtInt(n) + " " + w + (n === 1 ? "" : "s");
  $("js-summary").textContent = "(" + plural(js.streams, "stream") + ", " + plural(js.consumers, "consumer") + ", " + plural(js.messages, "message") + ", " + fmtBytes(js.bytes) + ")";
  const streams = [], consumers = [];
  for (const acc of js.account_details || []) {
    for (const st of acc.stream_detail || []) {
      streams.push({ data: { stream: st.name }, cells: [txt("name", st.name), num("messages", st.state.messages), { col: "bytes", text: fmtBytes(st.state.bytes), num: true },
        num("first_seq", st.state.first_seq), num("last_seq", st.state.last_seq), num("consumer_count", st.state.consumer_count)] });
      for (const c of st.consumer_detail || []) {
        consumers.push({ data: { stream: st.name, consumer: c.name }, cells: [txt("stream", st.name), txt("name", c.name),
          { col: "num_pending", text: fmtInt(c.num_pending), num: true, cls: c.num_pending > 0 ? "pending" : "" }, num("num_ack_pending", c.num_ack_pending),
          num("num_redelivered", c.num_redelivered), num("num_waiting", c.num_waiting), num("delivered", c.delivered.stream_seq), num("ack_floor", c.ack_floor.stream_seq)] });
      }
    }
  }
  fill($("streams").tBodies[0], streams);
  fill($("consumers").tBodies[0], consumers);
}

async function fast() {
  try {
    onVarz(await getJSON("/varz"));
    setStatus(true, "live");
  } catch (e) {
    setStatus(false, "disconnected");
  }
  setTimeout(fast, 1000);
}

async function slow() {
  const jobs = [["/connz?limit=200", onConnz], ["/subsz?subs=1&limit=200", onSubsz], ["/jsz?streams=true&consumers=true", onJsz]];
  await Promise.all(jobs.map(async ([path, fn]) => {
    try { fn(await getJSON(path)); } catch (e) { /* the status line shows connectivity */ }
  }));
  document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
  setTimeout(slow, 2000);
}

window.addEventListener("resize", drawChart);
fast();
slow();
`;
