// The API reference, rendered here from /openapi.json (the /docs page's Swagger assets come from a CDN; this one
// works offline): each operation's method, path, access, parameters, body and answers, with schemas shown as JSON.
import { h, fill, field, reportError } from "./dom.js";
import { get } from "./api.js";

export function render(main) {
  const filter = h("input", { type: "search", name: "filter", placeholder: "/models, chat, POST…" });
  const list = h("div", { id: "operations" });
  fill(main, h("h1", {}, "API reference"), h("p", { class: "muted" }, "Generated from /openapi.json by this server."),
    field("Filter operations", filter), list);
  let doc = null;
  get("/openapi.json").then((d) => { doc = d; draw(); }).catch(reportError);
  filter.addEventListener("input", () => draw());

  function resolve(schema) {
    const ref = schema && schema.$ref;
    if (!ref) return schema;
    return doc.components.schemas[ref.split("/").pop()] || schema;
  }

  function schemaBlock(schema) {
    return h("pre", { class: "schema" }, JSON.stringify(resolve(schema), null, 2));
  }

  function draw() {
    if (!doc) return;
    const words = filter.value.trim().toLowerCase();
    const items = [];
    for (const [p, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (method === "parameters") continue;
        const text = `${method} ${p} ${op.summary || ""}`.toLowerCase();
        if (words && !text.includes(words)) continue;
        const parameters = (op.parameters || []).map((q) => h("li", {}, h("code", {}, q.name), ` (${q.in}${q.required ? ", required" : ""})`,
          q.schema && q.schema.type ? `: ${q.schema.type}` : ""));
        const body = op.requestBody ? Object.entries(op.requestBody.content || {}).map(([type, c]) =>
          h("div", {}, h("h4", {}, `Body: ${type}`), c.schema ? schemaBlock(c.schema) : null)) : [];
        const responses = Object.entries(op.responses || {}).map(([status, r]) => h("li", {}, h("strong", {}, status), ` ${r.description || ""}`));
        items.push(h("details", { class: "operation" },
          h("summary", {}, h("span", { class: `method ${method}` }, method.toUpperCase()), " ", h("code", {}, p), " ", op.summary || ""),
          op.security && op.security.length ? h("p", { class: "muted" }, "Needs a bearer token.") : h("p", { class: "muted" }, "Public."),
          parameters.length ? [h("h4", {}, "Parameters"), h("ul", {}, parameters)] : null, body,
          h("h4", {}, "Answers"), h("ul", {}, responses)));
      }
    }
    fill(list, items.length ? items : h("p", {}, "No operation matches."));
  }
}
