// Training: jobs with live progress and validation loss, cancel; a form that uploads a CSV, takes the target from
// its header, the kind and the main hyperparameters, and follows the new job to its version.
import { h, fill, field, table, notice, when, num, link, button, reportError, clearError } from "./dom.js";
import { get, call, path } from "./api.js";

const ACTIVE = new Set(["queued", "running"]);

export function render(main) {
  const jobs = h("div", { id: "jobs" });
  const follow = h("div", { id: "follow", role: "status" });
  const model = h("input", { name: "model", required: true, pattern: "[A-Za-z0-9._-]+" });
  const file = h("input", { name: "csv", type: "file", accept: ".csv,text/csv", required: true });
  const target = h("select", { name: "target", required: true }, h("option", { value: "" }, "Choose a CSV first"));
  const kind = h("select", { name: "kind" }, ["gbdt", "linear", "logistic"].map((k) => h("option", { value: k }, k)));
  const trees = h("input", { name: "trees", type: "number", min: 1, max: 10000, placeholder: "100" });
  const depth = h("input", { name: "max_depth", type: "number", min: 1, max: 16, placeholder: "6" });
  const rate = h("input", { name: "learning_rate", type: "number", min: 0, max: 1, step: "any", placeholder: "0.1" });
  const valid = h("input", { name: "valid_fraction", type: "number", min: 0, max: 0.99, step: "any", placeholder: "0.2" });
  const treeFields = h("div", { class: "row" }, field("Trees", trees), field("Max depth", depth), field("Learning rate", rate));
  const form = h("form", { class: "card", "aria-labelledby": "train-title" },
    h("h2", { id: "train-title" }, "Train a model"),
    h("div", { class: "row" }, field("Model name", model), field("CSV file (header row first)", file)),
    h("div", { class: "row" }, field("Target column", target), field("Kind", kind), field("Validation fraction", valid)),
    treeFields, h("button", { type: "submit", class: "primary" }, "Start training"), follow);
  fill(main, h("h1", {}, "Training"), form, h("h2", {}, "Jobs"), jobs);

  kind.addEventListener("change", () => { treeFields.hidden = kind.value !== "gbdt"; });
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    const head = (await f.slice(0, 64 * 1024).text()).split(/\r?\n/)[0];
    const columns = head.split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1")).filter(Boolean);
    fill(target, columns.map((c, i) => h("option", { value: c, selected: i === columns.length - 1 }, c)));
    if (!model.value) model.value = f.name.replace(/\.csv$/i, "").replace(/[^A-Za-z0-9._-]/g, "-");
  });

  let following = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    try {
      const params = { target: target.value, kind: kind.value, valid_fraction: valid.value };
      if (kind.value === "gbdt") Object.assign(params, { trees: trees.value, max_depth: depth.value, learning_rate: rate.value });
      const body = await file.files[0].text();
      const answer = await call("POST", path("train", model.value), { body, params, contentType: "text/csv" });
      following = answer.data.id;
      fill(follow, notice(`Job ${following} queued.`));
      load();
    } catch (e) { reportError(e); }
  });

  function progress(job) {
    const p = job.progress || { done: 0, total: 0 };
    const pct = p.total ? Math.round((100 * p.done) / p.total) : job.status === "succeeded" ? 100 : 0;
    return h("span", { class: "progress" }, h("progress", { max: 100, value: pct, "aria-label": `Job ${job.id} progress` }),
      ` ${pct} %`);
  }

  let timer = null;
  async function load() {
    clearTimeout(timer);
    try {
      const page = await get("/train/jobs", { limit: 20 });
      fill(jobs, table("Training jobs, newest first", ["Job", "Model", "Kind", "Target", "Rows", "Status", "Progress", "Validation loss", "Version", "Created", "Actions"],
        page.data.map((j) => [j.id.slice(0, 8), j.model, j.kind, j.target, j.rows,
          h("span", { class: `status ${j.status}` }, j.status, j.error ? `: ${j.error}` : ""), progress(j), num(j.validation_loss),
          j.version ? link(`v${j.version}`, "models", j.model, j.version) : "–", when(j.created_at),
          ACTIVE.has(j.status) ? button("Cancel", async () => { await call("DELETE", path("train", "jobs", j.id)); load(); },
            { kind: "danger", label: `Cancel job ${j.id.slice(0, 8)}` }) : ""]),
        "No training jobs yet."));
      const mine = following && page.data.find((j) => j.id === following);
      if (mine && !ACTIVE.has(mine.status)) {
        fill(follow, mine.status === "succeeded"
          ? notice(h("span", {}, "Done: ", link(`${mine.model} version ${mine.version}`, "models", mine.model, mine.version)))
          : notice(`Job ${mine.status}${mine.error ? ": " + mine.error : ""}`, "error"));
        following = null;
      }
      if (page.data.some((j) => ACTIVE.has(j.status)) || following) timer = setTimeout(load, 1500);
      else timer = setTimeout(load, 5000);
    } catch (e) { reportError(e); timer = setTimeout(load, 5000); }
  }
  load();
  return () => clearTimeout(timer);
}
