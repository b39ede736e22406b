/* KPI dashboard over GET /api/v1/kpis: totals, per-unit bars and a six-month overdue trend, drawn as
   inline SVG (no chart library to ship). Periods are calendar months in Shanghai (format.js). */
import { api } from "./api.js";
import { firstOfMonth, month, number, percent, today } from "./format.js";
import { KPI } from "./palette.js";
import { cfg, el, esc, toast } from "./page.js";

const q = new URLSearchParams(location.search);
el("to").value = q.get("to") || today();
el("from").value = q.get("from") || firstOfMonth(undefined, 2);
if (q.get("group")) el("group").value = q.get("group");
const pct = (x) => percent(x, 1);

// The KPI API groups by code; names come from /api/v1/layers/names (the code stays as
// secondary text: two units can share a name across townships).
let names = {};
const nameOf = (code) => (code == null ? "合计" : names[code] || code);

function bars(rows) {
  if (!rows.length) return '<p class="muted" id="no-rows">该期间没有到期案件</p>';
  const h = 22, w = 560, label = 190, scale = (w - label - 70);
  const svg = rows.slice(0, 20).map((r, i) => {
    const y = i * (h * 2 + 6);
    return '<text x="0" y="' + (y + h - 4) + '" font-size="12"><title>' + esc(r.group || "") + "</title>" + esc(nameOf(r.group)) + "</text>" +
      (r.group != null && names[r.group] ? '<text x="0" y="' + (y + 2 * h - 2) + '" font-size="10" fill="' + KPI.secondary + '">' + esc(r.group) + "</text>" : "") +
      '<rect x="' + label + '" y="' + (y + 4) + '" height="' + h + '" width="' + (r.closure_rate || 0) * scale + '" fill="' + KPI.closure + '"></rect>' +
      '<text x="' + (label + (r.closure_rate || 0) * scale + 4) + '" y="' + (y + h) + '" font-size="11">结案 ' + pct(r.closure_rate) + "</text>" +
      '<rect x="' + label + '" y="' + (y + h + 6) + '" height="' + (h - 6) + '" width="' + (r.on_time_handling_rate || 0) * scale + '" fill="' + KPI.on_time + '"></rect>' +
      '<text x="' + (label + (r.on_time_handling_rate || 0) * scale + 4) + '" y="' + (y + 2 * h) + '" font-size="11">按期 ' + pct(r.on_time_handling_rate) + "</text>";
  }).join("");
  const more = rows.length > 20 ? '<p class="muted">仅显示前 20 个单位，完整数据见下方明细</p>' : "";
  return '<svg width="' + w + '" height="' + Math.min(rows.length, 20) * (h * 2 + 6) + '">' + svg + "</svg>" + more;
}

function trend(points) {
  const w = 420, h = 180, pad = 30, n = points.length;
  const xs = (i) => pad + (i * (w - 2 * pad)) / Math.max(n - 1, 1), ys = (v) => h - pad - v * (h - 2 * pad);
  // A month with no due cases has no rate: the line breaks there instead of dropping to 0%.
  let line = "", pen = false;
  points.forEach((p, i) => {
    if (p.rate == null) { pen = false; return; }
    line += (pen ? "L" : "M") + xs(i) + " " + ys(p.rate) + " ";
    pen = true;
  });
  return '<svg width="' + w + '" height="' + h + '" id="trend-svg"><line x1="' + pad + '" y1="' + (h - pad) + '" x2="' + (w - pad) + '" y2="' + (h - pad) + '" stroke="' + KPI.axis + '"></line>' +
    '<line x1="' + pad + '" y1="' + pad + '" x2="' + (w - pad) + '" y2="' + pad + '" stroke="' + KPI.grid + '" stroke-dasharray="3 3"></line><text x="0" y="' + (pad + 4) + '" font-size="10" fill="' + KPI.secondary + '">100%</text><text x="8" y="' + (h - pad + 4) + '" font-size="10" fill="' + KPI.secondary + '">0%</text>' +
    '<path d="' + line + '" fill="none" stroke="' + KPI.overdue_trend + '" stroke-width="2"></path>' +
    points.map((p, i) => '<text x="' + (xs(i) - 10) + '" y="' + (h - 10) + '" font-size="11">' + p.label + "</text>" + (p.rate == null
      ? '<text class="no-data" x="' + (xs(i) - 15) + '" y="' + (h - pad - 6) + '" font-size="11" fill="' + KPI.axis + '">无数据</text>'
      : '<circle cx="' + xs(i) + '" cy="' + ys(p.rate) + '" r="3" fill="' + KPI.overdue_trend + '"></circle><text x="' + (xs(i) - 12) + '" y="' + (ys(p.rate) - 6) + '" font-size="11">' + pct(p.rate) + "</text>")).join("") + "</svg>";
}

async function load() {
  const area = el("area").value.trim() || cfg.area;
  const p = new URLSearchParams({ area, start: el("from").value, end: el("to").value, group_by: el("group").value });
  history.replaceState(null, "", "?" + new URLSearchParams({ area, from: el("from").value, to: el("to").value, group: el("group").value }));
  el("csv").href = "/api/v1/kpis?format=csv&" + p;
  try {
    const [total, grouped] = await Promise.all([
      api("/api/v1/kpis?" + new URLSearchParams({ area, start: el("from").value, end: el("to").value, group_by: "none" })),
      api("/api/v1/kpis?" + p),
    ]);
    const t = total.rows[0] || {};
    el("kpis").innerHTML = [["到期案件", number(t.due || 0)], ["结案率", pct(t.closure_rate)], ["按期处置率", pct(t.on_time_handling_rate)], ["按期结案率", pct(t.on_time_closure_rate)], ["超期率", pct(t.overdue_rate)], ["返工率", pct(t.rework_rate)], ["满意率", pct(t.satisfaction_rate)], ["平均结案(小时)", t.mean_hours_to_close == null ? "—" : number(Math.round(t.mean_hours_to_close))]]
      .map(([k, v]) => '<div class="kpi"><span class="muted">' + k + "</span><b>" + v + "</b></div>").join("");
    names = {};
    try { names = (await api("/api/v1/layers/names?" + new URLSearchParams({ level: el("group").value, area }))).names; } catch (e) { /* codes stay readable */ }
    el("bars").innerHTML = bars(grouped.rows);
    el("rows").innerHTML = "<tr><th>单位</th><th>到期</th><th>结案</th><th>结案率</th><th>按期处置率</th><th>超期率</th><th>返工率</th></tr>" +
      (grouped.rows.length ? "" : '<tr><td colspan="7" class="muted">该期间没有到期案件</td></tr>') +
      grouped.rows.map((r) => "<tr><td>" + esc(nameOf(r.group)) + (r.group != null && names[r.group] ? ' <span class="muted">' + esc(r.group) + "</span>" : "") + "</td><td>" + number(r.due) + "</td><td>" + number(r.closed) + "</td><td>" + pct(r.closure_rate) + "</td><td>" + pct(r.on_time_handling_rate) + "</td><td>" + pct(r.overdue_rate) + "</td><td>" + pct(r.rework_rate) + "</td></tr>").join("");
    const now = new Date();
    const months = [5, 4, 3, 2, 1, 0].map((k) => month(now, k));
    const series = await Promise.all(months.map((m) => api("/api/v1/kpis?" + new URLSearchParams({ area, start: m.start, end: m.end }))));
    el("trend").innerHTML = trend(months.map((m, i) => ({ label: m.label, rate: (series[i].rows[0] || {}).overdue_rate })));
  } catch (e) { toast(e.message); el("kpis").innerHTML = '<p class="error">' + esc(e.message) + "</p>"; }
}
for (const id of ["area", "from", "to", "group"]) el(id).addEventListener("change", load);
load();
