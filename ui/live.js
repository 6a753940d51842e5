// Live: predictions as they are logged (/logs/stream), a bounded list, and per model the rate and p50/p95 latency
// over the last five minutes. Memory is bounded whatever the rate: the list keeps ROWS rows, each model's chart
// BUCKETS buckets with at most SAMPLES latencies each, and at most MODELS models are charted.
import { h, fill, field, num, notice, reportError } from "./dom.js";
import { get, events, isAdmin } from "./api.js";
import { lineChart } from "./charts.js";

const ROWS = 200, BUCKET_MS = 5000, BUCKETS = 60, SAMPLES = 64, MODELS = 8;

export function render(main) {
  const controller = new AbortController();
  let paused = false, lastId = null, skipped = 0, pending = [], received = 0, reconnects = 0;
  const stats = new Map();
  const model = h("select", { name: "model" }, h("option", { value: "" }, "All models"));
  const tenant = h("input", { name: "tenant", placeholder: "your tenant", size: 12 });
  const pause = h("button", { type: "button", "aria-pressed": "false" }, "Pause");
  const state = h("p", { class: "muted", role: "status", id: "live-state" }, "Connecting…");
  const charts = h("div", { class: "charts", "aria-label": "Rate and latency by model" });
  const body = h("tbody", { id: "live-rows" });
  fill(main,
    h("h1", {}, "Live predictions"),
    h("div", { class: "toolbar" }, field("Model", model), isAdmin() ? field("Tenant", tenant) : null, pause, state),
    h("section", { "aria-labelledby": "charts-title" },
      h("h2", { id: "charts-title" }, "Last 5 minutes"), charts),
    h("section", { "aria-labelledby": "rows-title" },
      h("h2", { id: "rows-title" }, `Newest ${ROWS} predictions`),
      h("table", { class: "rows" },
        h("caption", { class: "sr-only" }, "Logged predictions, newest first"),
        h("thead", {}, h("tr", {}, ["ID", "Time", "Model", "Version", "Input", "Prediction", "Latency", "User"].map(
          (t) => h("th", { scope: "col" }, t)))), body)));

  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
    if (!paused) skipped = 0;
  });
  let restart = null;
  const restartSoon = () => { clearTimeout(restart); restart = setTimeout(reconnect, 400); };
  model.addEventListener("change", reconnect);
  tenant.addEventListener("input", restartSoon);

  get("/models", { limit: 100 }).then((page) => {
    for (const m of page.data) model.append(h("option", { value: m.name }, m.name));
  }).catch(reportError);

  function note(item) {
    const bucket = Math.floor(Date.parse(item.timestamp) / BUCKET_MS) || Math.floor(Date.now() / BUCKET_MS);
    let s = stats.get(item.model);
    if (!s) {
      if (stats.size >= MODELS) return;
      s = { buckets: new Map() };
      stats.set(item.model, s);
    }
    let b = s.buckets.get(bucket);
    if (!b) {
      b = { count: 0, latencies: [] };
      s.buckets.set(bucket, b);
      const oldest = Math.floor(Date.now() / BUCKET_MS) - BUCKETS;
      for (const key of s.buckets.keys()) if (key <= oldest) s.buckets.delete(key);
    }
    b.count++;
    // Reservoir sampling: each latency equally likely to be kept, at most SAMPLES per bucket.
    if (b.latencies.length < SAMPLES) b.latencies.push(item.latency_ms);
    else { const j = Math.floor(Math.random() * b.count); if (j < SAMPLES) b.latencies[j] = item.latency_ms; }
  }

  function take(item) {
    received++;
    lastId = Math.max(lastId || 0, item.id);
    note(item);
    if (paused) { skipped++; return; }
    pending.push(item);
    if (pending.length > ROWS) pending = pending.slice(-ROWS);
  }

  function row(item) {
    return h("tr", { "data-id": item.id },
      h("td", {}, item.id), h("td", {}, item.timestamp.slice(11, 23)), h("td", {}, item.model),
      h("td", {}, item.version), h("td", { class: "input" }, item.input.map((v) => (v == null ? "∅" : num(v))).join(", ")),
      h("td", {}, num(item.prediction)), h("td", {}, `${num(item.latency_ms)} ms`), h("td", {}, item.user_id));
  }

  // Rows are added once a frame, however many arrived: a burst of thousands is one DOM update of at most ROWS.
  let frame = requestAnimationFrame(function flush() {
    if (pending.length) {
      const fragment = document.createDocumentFragment();
      for (let i = pending.length - 1; i >= 0; i--) fragment.append(row(pending[i]));
      pending = [];
      body.prepend(fragment);
      while (body.rows.length > ROWS) body.lastElementChild.remove();
    }
    frame = requestAnimationFrame(flush);
  });

  function drawCharts() {
    const now = Math.floor(Date.now() / BUCKET_MS);
    const cards = [];
    for (const [name, s] of stats) {
      const rate = [], p50 = [], p95 = [];
      for (let k = now - BUCKETS + 1; k <= now; k++) {
        const b = s.buckets.get(k);
        rate.push(b ? b.count / (BUCKET_MS / 1000) : 0);
        const sorted = b ? [...b.latencies].sort((a, c) => a - c) : [];
        p50.push(sorted.length ? sorted[Math.floor(sorted.length * 0.5)] : null);
        p95.push(sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] : null);
      }
      const lastRate = rate.slice(-2).reduce((a, c) => a + c, 0) / 2;
      cards.push(h("figure", { class: "card chart-card" },
        h("figcaption", {}, h("strong", {}, name), ` ${num(lastRate)}/s`),
        h("small", { class: "muted" }, "predictions/s"),
        lineChart(`${name}: predictions per second`, [{ values: rate, class: "rate" }], { unit: "/s" }),
        h("small", { class: "muted" }, "latency"),
        lineChart(`${name}: p50 and p95 latency`, [{ values: p50, class: "p50" }, { values: p95, class: "p95" }],
          { unit: " ms" }),
        h("small", { class: "legend" }, h("span", { class: "key p50" }, "p50"), " ", h("span", { class: "key p95" }, "p95"))));
    }
    fill(charts, cards.length ? cards : notice("No predictions in the last 5 minutes."));
    if (paused) state.textContent = `Paused (${skipped} new not shown)`;
    else if (state.textContent.startsWith("Live")) state.textContent = `Live: ${received} received`;
    state.dataset.received = received;
    state.dataset.reconnects = reconnects;
  }
  drawCharts();
  const timer = setInterval(drawCharts, 2000);

  let stream = null;
  function reconnect() {
    if (stream) stream.abort();
    stream = new AbortController();
    controller.signal.addEventListener("abort", () => stream.abort(), { once: true });
    lastId = null;
    stats.clear();
    pending = [];
    body.replaceChildren();
    follow(stream.signal, true);
  }

  // Reconnecting waits 1 s, doubling up to 30 s while attempts keep failing (or what a 429 says): a server that
  // refuses is not asked again every second.
  let backoff = 1000;
  async function follow(signal, first) {
    const params = { model: model.value, tenant: isAdmin() ? tenant.value.trim() : "" };
    let wait = backoff;
    try {
      if (first) {
        const page = await get("/logs", { ...params, limit: 50 });
        if (signal.aborted) return;
        for (const item of [...page.data].sort((a, c) => a.id - c.id)) take(item);
      }
      state.textContent = "Live";
      backoff = 1000;
      await events("GET", "/logs/stream", {
        params: { ...params, after: lastId }, signal,
        onEvent: (e) => { try { take(JSON.parse(e.data)); } catch (err) { reportError(err); } },
      });
    } catch (e) {
      if (signal.aborted) return;
      state.textContent = `Disconnected: ${e.message}`;
      wait = e.retryAfter ? e.retryAfter * 1000 : backoff;
      backoff = Math.min(backoff * 2, 30000);
      if (first) { setTimeout(() => { if (!signal.aborted) follow(signal, true); }, wait); return; }
    }
    if (signal.aborted) return;
    if (!state.textContent.startsWith("Disconnected")) state.textContent = "Reconnecting…";
    reconnects++;
    setTimeout(() => { if (!signal.aborted) follow(signal, false); }, wait);
  }
  reconnect();

  return () => { controller.abort(); clearInterval(timer); clearTimeout(restart); cancelAnimationFrame(frame); };
}
