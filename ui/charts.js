// Small SVG charts drawn here (no library): a line over time with its axis labels.
import { svg } from "./dom.js";

/**
 * A line chart of `series` ([{label, values: [number|null], class}]) over equally spaced points.
 * `label` names the chart for screen readers; `unit` follows the largest value on the axis.
 */
export function lineChart(label, series, { width = 260, height = 70, unit = "" } = {}) {
  const pad = { left: 46, right: 6, top: 8, bottom: 8 };
  const all = series.flatMap((s) => s.values.filter((v) => v != null));
  const max = Math.max(1e-9, ...all);
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const x = (i) => pad.left + (i * (width - pad.left - pad.right)) / (n - 1);
  const y = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": label, class: "chart" },
    svg("title", {}, label),
    svg("line", { x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0), class: "axis" }),
    svg("text", { x: pad.left - 3, y: pad.top + 8, class: "tick", "text-anchor": "end" }, short(max) + unit),
    svg("text", { x: pad.left - 3, y: y(0), class: "tick", "text-anchor": "end" }, "0"));
  for (const s of series) {
    let d = "";
    s.values.forEach((v, i) => { if (v != null) d += `${d ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)}`; });
    if (d) chart.append(svg("path", { d, class: `line ${s.class || ""}` }));
    // The newest point as a dot, so that a series of one point shows too.
    const last = s.values.length - 1 - [...s.values].reverse().findIndex((v) => v != null);
    if (last < s.values.length) chart.append(svg("circle", { cx: x(last), cy: y(s.values[last]), r: 2.5, class: `dot ${s.class || ""}` }));
  }
  return chart;
}

function short(v) {
  return v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v >= 10 ? v.toFixed(0) : v.toFixed(v >= 1 ? 1 : 2);
}
