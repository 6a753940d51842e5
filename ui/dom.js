// Building the page. Every piece of text goes in as a text node (append/textContent), never as markup: a user
// named <img src=x onerror=alert(1)> shows as those characters. Nothing here takes HTML.

/** An element: h("a", {href: "#/x", class: "y", onclick: f}, "text", child, [more]). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  add(el, children);
  return el;
}

/** An SVG element (charts). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, String(v));
  add(el, children);
  return el;
}

function setProps(el, props) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value" || k === "checked" || k === "selected") el[k] = v;
    else if (k === "href" && !/^(#|\/ui|blob:)/.test(String(v))) throw new Error("link outside the dashboard");
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

/** Appends children: nodes as they are, anything else as text. */
export function add(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Empties `el` and fills it with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}

/** A labelled form control: the label wraps it, so every input has an accessible name. */
export function field(label, control, hint) {
  return h("label", { class: "field" }, h("span", {}, label), control, hint ? h("small", {}, hint) : null);
}

/** A table with a header row; `rows` are arrays of cells (text or nodes). */
export function table(caption, headers, rows, empty = "Nothing yet.") {
  const body = h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))));
  if (!rows.length) body.append(h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, empty)));
  return h("table", {},
    h("caption", { class: caption ? "" : "sr-only" }, caption || "Table"),
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))), body);
}

/** A status line that screen readers announce. */
export function notice(text, kind = "info") {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** "3 s ago"-style time, the full timestamp in its title. */
export function when(iso) {
  if (!iso) return "";
  const t = Date.parse(iso);
  const s = Math.round((Date.now() - t) / 1000);
  const text = isNaN(t) ? iso : s < 60 ? `${Math.max(s, 0)} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago`
    : s < 86400 ? `${Math.round(s / 3600)} h ago` : new Date(t).toISOString().slice(0, 10);
  return h("time", { datetime: iso, title: iso }, text);
}

/** A number for people: up to 4 significant digits. */
export function num(x) {
  if (x == null || typeof x !== "number") return x == null ? "–" : String(x);
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(3) : String(+x.toPrecision(4));
}

/** Bytes for people. */
export function bytes(n) {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KB` : `${(n / (1 << 20)).toFixed(1)} MB`;
}

/** A hash link inside the dashboard; its parts are percent-encoded. */
export function link(text, ...parts) {
  return h("a", { href: "#/" + parts.map((p) => encodeURIComponent(p)).join("/") }, text);
}

/** A button that runs `action`, disabled while it runs, its failure shown by `report`. */
export function button(text, action, { kind = "", label } = {}) {
  const b = h("button", { type: "button", class: kind, "aria-label": label });
  b.textContent = text;
  b.addEventListener("click", async () => {
    b.disabled = true;
    try { await action(); } catch (e) { reportError(e); } finally { b.disabled = false; }
  });
  return b;
}

/** Shows an error in the page's alert line. */
export function reportError(e) {
  const bar = document.getElementById("alerts");
  if (bar) fill(bar, notice(e && e.message ? e.message : String(e), "error"));
  else console.error(e);
}

/** Clears the alert line. */
export function clearError() {
  const bar = document.getElementById("alerts");
  if (bar) bar.replaceChildren();
}
