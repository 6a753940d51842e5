// Models: the registry, a model's versions, one version, two versions side by side; import, export, delete.
import { h, fill, field, table, notice, when, num, bytes, link, button, reportError, clearError } from "./dom.js";
import { get, call, text, path } from "./api.js";

export function render(main, parts) {
  const [name, second, a, b] = parts;
  if (!name) return registry(main);
  if (second === "compare") return compare(main, name, a, b);
  if (second) return version(main, name, second);
  return model(main, name);
}

function mainMetric(metrics) {
  if (!metrics) return "–";
  for (const key of ["rmse", "accuracy", "auc", "r2", "log_loss", "mae"]) {
    if (metrics[key] != null) return `${key} ${num(metrics[key])}`;
  }
  return `${metrics.rows} rows`;
}

function registry(main) {
  let offset = 0;
  const limit = 20;
  const list = h("div", { id: "model-list" });
  const pager = h("div", { class: "pager" });
  const name = h("input", { name: "import-name", required: true, pattern: "[A-Za-z0-9._-]+" });
  const file = h("input", { name: "import-file", type: "file", accept: ".json,application/json", required: true });
  const result = h("div", { role: "status" });
  const form = h("form", { class: "card", "aria-labelledby": "import-title" },
    h("h2", { id: "import-title" }, "Import a model"),
    h("p", { class: "muted" }, "An XGBoost JSON model (save_model) or a file exported here."),
    h("div", { class: "row" }, field("Model name", name), field("File", file),
      h("button", { type: "submit", class: "primary" }, "Import")), result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    try {
      const body = await file.files[0].text();
      const answer = await call("POST", path("models", name.value, "import"), { body });
      fill(result, notice(`Imported ${answer.data.name} version ${answer.data.version}.`));
      load();
    } catch (e) { reportError(e); }
  });
  fill(main, h("h1", {}, "Models"), list, pager, form);

  async function load() {
    const page = await get("/models", { limit, offset });
    fill(list, table("Models of your tenant", ["Name", "Latest", "Kind", "Features", "Metric", "Versions", "Updated"],
      page.data.map((m) => [link(m.name, "models", m.name), link(m.latest_version, "models", m.name, m.latest_version),
        m.kind, m.feature_count, mainMetric(m.metrics), m.versions, when(m.updated_at)]), "No models yet: train or import one."));
    fill(pager, pagerButtons(page.pagination, (next) => { offset = next; load().catch(reportError); }));
  }
  load().catch(reportError);
}

/** Previous/next buttons for a page answer's pagination. */
export function pagerButtons(p, go) {
  const prev = button("Previous", () => go(Math.max(0, p.offset - p.limit)));
  const next = button("Next", () => go(p.offset + p.limit));
  prev.disabled = !p.has_prev;
  next.disabled = !p.has_next;
  return [prev, h("span", { class: "muted" }, p.total ? ` ${p.offset + 1}–${Math.min(p.offset + p.limit, p.total)} of ${p.total} ` : " "), next];
}

function model(main, name) {
  const body = h("div", {});
  fill(main, h("p", {}, link("← Models", "models")), h("h1", {}, name), body);
  get(path("models", name)).then((answer) => {
    const m = answer.data;
    const picks = [];
    const compareButton = button("Compare the two checked", () => {
      const chosen = picks.filter((c) => c.checked).map((c) => c.value);
      if (chosen.length !== 2) throw new Error("Check exactly two versions to compare.");
      location.hash = "#/" + ["models", name, "compare", ...chosen].map(encodeURIComponent).join("/");
    });
    const rows = m.versions.map((v) => {
      const pick = h("input", { type: "checkbox", value: v.version, "aria-label": `Compare version ${v.version}` });
      picks.push(pick);
      return [pick, link(v.version, "models", name, v.version), v.kind, v.feature_count, mainMetric(v.metrics),
        bytes(v.size_bytes), v.created_by, when(v.created_at),
        h("span", { class: "actions" }, button("Export", () => exportVersion(name, v.version), { label: `Export version ${v.version}` }),
          button("Delete", () => deleteVersion(name, v.version), { kind: "danger", label: `Delete version ${v.version}` }))];
    });
    fill(body,
      h("p", {}, `Tenant ${m.tenant}; latest version ${m.latest_version ?? "none"}.`),
      table("Versions, newest first", ["", "Version", "Kind", "Features", "Metric", "Size", "Created by", "Created", "Actions"], rows),
      h("div", { class: "toolbar" }, compareButton,
        button("Delete model", async () => {
          if (!confirm(`Delete model ${name} and all its versions?`)) return;
          await call("DELETE", path("models", name));
          location.hash = "#/models";
        }, { kind: "danger" })));
  }).catch(reportError);

  async function deleteVersion(model, v) {
    if (!confirm(`Delete version ${v} of ${model}?`)) return;
    await call("DELETE", path("models", model, "versions", v));
    render(main, [model]);
  }
}

async function exportVersion(name, v) {
  const document_ = await text(path("models", name, "versions", v, "export"));
  const url = URL.createObjectURL(new Blob([document_], { type: "application/json" }));
  const a = h("a", { href: url, download: `${name}-v${v}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function details(v) {
  const metrics = Object.entries(v.metrics || {}).map(([k, x]) => [k, num(x)]);
  const hyper = Object.entries(v.hyperparameters || {}).map(([k, x]) => [k, typeof x === "object" ? JSON.stringify(x) : String(x)]);
  return [
    table("Facts", ["Fact", "Value"], [["Kind", v.kind], ["Trees", v.trees], ["Features", v.feature_count], ["Size", bytes(v.size_bytes)],
      ["Created by", v.created_by], ["Created", when(v.created_at)], ["Tenant", v.tenant]]),
    table("Metrics", ["Metric", "Value"], metrics, "No metrics (imported)."),
    table("Hyperparameters", ["Name", "Value"], hyper, "None recorded."),
    h("h2", {}, "Features"), h("ol", { class: "features" }, v.features.map((f) => h("li", {}, f))),
  ];
}

function version(main, name, v) {
  const body = h("div", {});
  fill(main, h("p", {}, link(`← ${name}`, "models", name)), h("h1", {}, `${name} version ${v}`), body);
  get(path("models", name, "versions", v)).then((answer) => {
    fill(body, h("div", { class: "toolbar" }, button("Export", () => exportVersion(name, answer.data.version))),
      details(answer.data));
  }).catch(reportError);
}

function compare(main, name, a, b) {
  const body = h("div", {});
  fill(main, h("p", {}, link(`← ${name}`, "models", name)), h("h1", {}, `${name}: version ${a} and ${b}`), body);
  Promise.all([a, b].map((v) => get(path("models", name, "versions", v)))).then(([x, y]) => {
    const va = x.data, vb = y.data;
    const rows = [];
    const line = (label, p, q) => {
      const cell = (value) => h("span", { class: p === q ? "" : "changed" }, value);
      rows.push([label, cell(p), cell(q)]);
    };
    line("Kind", va.kind, vb.kind);
    line("Trees", String(va.trees), String(vb.trees));
    line("Size", bytes(va.size_bytes), bytes(vb.size_bytes));
    line("Created by", va.created_by, vb.created_by);
    line("Created", va.created_at, vb.created_at);
    for (const k of new Set([...Object.keys(va.metrics || {}), ...Object.keys(vb.metrics || {})])) {
      line(`Metric ${k}`, num(va.metrics?.[k]), num(vb.metrics?.[k]));
    }
    for (const k of new Set([...Object.keys(va.hyperparameters || {}), ...Object.keys(vb.hyperparameters || {})])) {
      line(`Hyperparameter ${k}`, JSON.stringify(va.hyperparameters?.[k] ?? null), JSON.stringify(vb.hyperparameters?.[k] ?? null));
    }
    line("Features", va.features.join(", "), vb.features.join(", "));
    fill(body, table("Side by side (differences marked)", ["", `Version ${va.version}`, `Version ${vb.version}`], rows));
  }).catch(reportError);
}
