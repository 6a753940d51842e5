// The dashboard's shell: sign-in, the navigation, and a page per hash route (#/live, #/models/…, #/chat/…).
import { h, fill, field, notice, clearError, reportError } from "./dom.js";
import { currentUser, isAdmin, onSession, signIn, signOut } from "./api.js";
import * as live from "./live.js";
import * as models from "./models.js";
import * as training from "./training.js";
import * as chat from "./chat.js";
import * as admin from "./admin.js";
import * as reference from "./reference.js";

const pages = [
  { name: "live", title: "Live", module: live },
  { name: "models", title: "Models", module: models },
  { name: "training", title: "Training", module: training },
  { name: "chat", title: "Chat", module: chat },
  { name: "admin", title: "Admin", module: admin, admin: true },
  { name: "api", title: "API", module: reference },
];

const root = document.getElementById("app");
let stop = null;

/** Ends the current page: its streams, timers and requests (on navigation and on signing out). */
function teardown() {
  if (stop) { try { stop(); } catch { /* already gone */ } stop = null; }
}

function signInView() {
  teardown();
  const user = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const status = h("div", { id: "alerts" });
  const form = h("form", { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to xalorra"),
    field("Username or email", user), field("Password", password),
    h("button", { type: "submit", class: "primary" }, "Sign in"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector("button");
    submit.disabled = true;
    try {
      await signIn(user.value, password.value);
    } catch (e) {
      fill(status, notice(e.message, "error"));
    } finally { submit.disabled = false; }
  });
  fill(root, h("main", { id: "main" }, form));
  user.focus();
}

function shell() {
  const me = currentUser();
  const nav = h("nav", { "aria-label": "Pages" }, h("ul", {},
    pages.filter((p) => !p.admin || isAdmin()).map((p) =>
      h("li", {}, h("a", { href: "#/" + p.name, "data-page": p.name }, p.title)))));
  const out = h("button", { type: "button", id: "sign-out" }, "Sign out");
  out.addEventListener("click", () => signOut());
  const header = h("header", { class: "top" },
    h("a", { href: "#/live", class: "brand" }, "xalorra"), nav,
    h("span", { class: "who" }, h("span", { id: "who" }, me.username), ` (${me.role}, ${me.tenant})`), out);
  const main = h("main", { id: "main", tabindex: "-1" });
  fill(root, header, h("div", { id: "alerts" }), main);
  route();
}

function route() {
  if (!currentUser()) return;
  const main = document.getElementById("main");
  if (!main) return;
  teardown();
  clearError();
  const parts = location.hash.replace(/^#\/?/, "").split("/").map((p) => decodeURIComponent(p));
  const page = pages.find((p) => p.name === parts[0]) || pages[0];
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.page === page.name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${page.title} · xalorra`;
  main.replaceChildren();
  if (page.admin && !isAdmin()) {
    main.append(h("h1", {}, "Admin"), notice("This page is for admins.", "error"));
    return;
  }
  try {
    stop = page.module.render(main, parts.slice(1)) || null;
  } catch (e) { reportError(e); }
}

onSession((state) => (state ? shell() : signInView()));
window.addEventListener("hashchange", route);
window.addEventListener("unhandledrejection", (event) => reportError(event.reason));
if (currentUser()) shell(); else signInView();
