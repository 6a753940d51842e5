// Admin (admins only; the server refuses the others anyway): users, minting a token, the detailed health, the
// route table with its rate limits.
import { h, fill, field, table, notice, when, button, reportError, clearError } from "./dom.js";
import { get, call, path, currentUser } from "./api.js";
import { pagerButtons } from "./models.js";

export function render(main) {
  const users = h("div", { id: "users" });
  const pager = h("div", { class: "pager" });
  const search = h("input", { type: "search", name: "user-search" });
  let offset = 0;
  fill(main, h("h1", {}, "Admin"),
    h("section", { "aria-labelledby": "users-title" }, h("h2", { id: "users-title" }, "Users"),
      field("Search users", search), users, pager, addUserForm(() => load())),
    mintForm(), health(), routes());

  let typing = null;
  search.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => { offset = 0; load(); }, 250); });

  async function load() {
    try {
      const page = await get("/admin/users", { search: search.value.trim(), limit: 20, offset });
      fill(users, table("Accounts", ["Username", "Email", "Name", "Role", "Tenant", "Active", "Created", "Actions"],
        page.data.map((u) => userRow(u, load)), "No users match."));
      fill(pager, pagerButtons(page.pagination, (next) => { offset = next; load(); }));
    } catch (e) { reportError(e); }
  }
  load();
  return () => clearTimeout(typing);
}

function userRow(u, reload) {
  const patch = async (body) => { clearError(); await call("PATCH", path("admin", "users", u.username), { body }); reload(); };
  const role = h("select", { name: "role", "aria-label": `Role of ${u.username}` },
    ["user", "admin"].map((r) => h("option", { value: r, selected: r === u.role }, r)));
  role.addEventListener("change", () => patch({ role: role.value }).catch(reportError));
  const tenant = h("input", { name: "tenant", value: u.tenant, size: 10, "aria-label": `Tenant of ${u.username}` });
  tenant.addEventListener("change", () => patch({ tenant: tenant.value }).catch(reportError));
  const self = currentUser() && currentUser().username === u.username;
  return [u.username, u.email, u.nama_lengkap, role, tenant, u.is_active ? "yes" : "no", when(u.created_at),
    h("span", { class: "actions" },
      button(u.is_active ? "Disable" : "Enable", () => patch({ is_active: !u.is_active }), { label: `${u.is_active ? "Disable" : "Enable"} ${u.username}` }),
      self ? null : button("Delete", async () => {
        if (!confirm(`Delete the account ${u.username}?`)) return;
        await call("DELETE", path("admin", "users", u.username));
        reload();
      }, { kind: "danger", label: `Delete ${u.username}` }))];
}

function addUserForm(reload) {
  const inputs = {
    username: h("input", { name: "new-username", required: true, autocomplete: "off" }),
    email: h("input", { name: "new-email", type: "email", required: true }),
    nama_lengkap: h("input", { name: "new-name", required: true, autocomplete: "off" }),
    password: h("input", { name: "new-password", type: "password", required: true, autocomplete: "new-password" }),
    tenant: h("input", { name: "new-tenant", placeholder: "default" }),
  };
  const role = h("select", { name: "new-role" }, h("option", { value: "user" }, "user"), h("option", { value: "admin" }, "admin"));
  const status = h("div", { role: "status" });
  const form = h("form", { class: "card", "aria-labelledby": "add-user-title" }, h("h3", { id: "add-user-title" }, "Add a user"),
    h("div", { class: "row" }, field("Username", inputs.username), field("Email", inputs.email), field("Full name", inputs.nama_lengkap)),
    h("div", { class: "row" }, field("Password", inputs.password), field("Role", role), field("Tenant", inputs.tenant)),
    h("button", { type: "submit", class: "primary" }, "Add user"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const body = { role: role.value };
    for (const [k, input] of Object.entries(inputs)) if (input.value) body[k] = input.value;
    try {
      const answer = await call("POST", "/admin/users", { body });
      fill(status, notice(`Added ${answer.data.username}.`));
      form.reset();
      reload();
    } catch (e) { reportError(e); }
  });
  return form;
}

function mintForm() {
  const user = h("input", { name: "token-user", required: true });
  const role = h("select", { name: "token-role" }, h("option", { value: "user" }, "user"), h("option", { value: "admin" }, "admin"));
  const tenant = h("input", { name: "token-tenant", placeholder: "default" });
  const ttl = h("input", { name: "token-ttl", placeholder: "1h", size: 6 });
  const out = h("div", {});
  const form = h("form", { class: "card", "aria-labelledby": "mint-title" }, h("h2", { id: "mint-title" }, "Mint a token"),
    h("div", { class: "row" }, field("User", user), field("Role", role), field("Tenant", tenant), field("Lifetime", ttl, "e.g. 30m, 1h, 7d")),
    h("button", { type: "submit", class: "primary" }, "Mint"), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const body = { user: user.value, role: role.value };
    if (tenant.value) body.tenant = tenant.value;
    if (ttl.value) body.ttl = ttl.value;
    try {
      const answer = await call("POST", "/admin/tokens", { body });
      const shown = h("textarea", { readonly: true, rows: 3, "aria-label": "The new token" });
      shown.value = answer.access_token;
      fill(out, notice(`Token for ${answer.claims.sub ?? user.value}, valid ${answer.expires_in} s. Copy it now: it is not shown again.`), shown);
    } catch (e) { reportError(e); }
  });
  return form;
}

function health() {
  const box = h("div", {});
  const section = h("section", { "aria-labelledby": "health-title" }, h("h2", { id: "health-title" }, "Health"), box);
  get("/health/detailed").catch((e) => e).then((report) => {
    if (report instanceof Error) return fill(box, notice(report.message, "error"));
    const rows = [];
    const walk = (prefix, value) => {
      if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
      } else rows.push([prefix, Array.isArray(value) ? value.join(", ") : String(value)]);
    };
    walk("", report);
    fill(box, table("/health/detailed", ["Field", "Value"], rows));
  });
  return section;
}

function routes() {
  const box = h("div", {});
  const section = h("section", { "aria-labelledby": "routes-title" }, h("h2", { id: "routes-title" }, "Routes and rate limits"), box);
  get("/routes").then((answer) => {
    fill(box, table("Every route", ["Method", "Path", "Access", "Rate limit", "Transport", "Summary"],
      answer.data.map((r) => [r.method, h("code", {}, r.path), r.auth,
        r.rate_limit.limit ? `${r.rate_limit.class}: ${r.rate_limit.limit} / ${r.rate_limit.window_seconds} s` : r.rate_limit.class,
        r.transport, r.summary])));
  }).catch(reportError);
  return section;
}
