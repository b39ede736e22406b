/* KPI dashboard over GET /api/v1/kpis/league: the total as tiles, a league table per level ranked
   by the composite score (best first, not by code) with each rate coloured by the county's
   thresholds, and a six-month overdue trend drawn as inline SVG. Labels, weights and thresholds
   come from the API's ``metrics``; periods are calendar days in Shanghai (format.js). */
import { api } from "./api.js";
import { firstOfMonth, month, number, percent, today } from "./format.js";
import { KPI, KPI_LIGHT } from "./palette.js";
import { cfg, el, esc, toast } from "./page.js";

const q = new URLSearchParams(location.search);
const LEVELS = ["township", "community", "grid", "worker", "department"];
el("to").value = q.get("to") || today();
el("from").value = q.get("from") || firstOfMonth(undefined, 2);
let level = LEVELS.includes(q.get("group")) ? q.get("group") : "township";
const pct = (x) => percent(x, 1);

// The total's tiles and the league table's columns, by key (labels from the API).
const TILES = ["reports", "on_spot", "registered", "registration_rate", "due", "closure_rate", "on_time_closure_rate",
  "on_time_acceptance_rate", "on_time_verification_rate", "dispatch_accuracy", "return_rate", "satisfaction_rate",
  "callback_satisfaction_rate", "score"];
const COLUMNS = ["reports", "registration_rate", "due", "closure_rate", "on_time_handling_rate", "on_time_closure_rate",
  "overdue_rate", "rework_rate", "on_time_acceptance_rate", "on_time_verification_rate", "dispatch_accuracy",
  "return_rate", "satisfaction_rate", "score"];
const EMPTY = "该期间没有案件";

let data = null;

function show(row, key, kind) {
  const v = row[key];
  if (kind === "rate") return pct(v);
  if (kind === "score") return v == null ? "—" : v.toFixed(1);
  return number(v);
}

function lit(row, key) {
  const light = (row.lights || {})[key];
  return light ? ' class="lit" data-light="' + light + '" style="color:' + KPI_LIGHT[light] + '"' : "";
}

function tiles(total, meta) {
  return TILES.map((k) => {
    const light = (total.lights || {})[k];
    const border = light ? ' style="border-left-color:' + KPI_LIGHT[light] + '"' : "";
    return '<div class="kpi" data-key="' + k + '"' + border + '><span class="muted">' + esc(meta[k].label) + "</span><b>" + show(total, k, meta[k].kind) + "</b></div>";
  }).join("");
}

function league(rows, meta) {
  const head = "<tr><th>名次</th><th>名称</th>" + COLUMNS.map((k) => "<th>" + esc(meta[k].label) + "</th>").join("") + "</tr>";
  if (!rows.length) return head + '<tr><td colspan="' + (COLUMNS.length + 2) + '" class="muted" id="no-rows">' + EMPTY + "</td></tr>";
  return head + rows.map((r) => {
    const name = r.name || r.group || "—";
    const code = r.group && r.name ? '<span class="code muted">' + esc(r.group) + "</span>" : "";
    return "<tr><td>" + r.rank + "</td><td>" + esc(name) + code + "</td>" +
      COLUMNS.map((k) => "<td" + lit(r, k) + ">" + show(r, k, meta[k].kind) + "</td>").join("") + "</tr>";
  }).join("");
}

function notes(metrics) {
  const weighted = metrics.filter((m) => m.weight > 0).sort((a, b) => b.weight - a.weight);
  const sum = weighted.reduce((s, m) => s + m.weight, 0);
  el("score-note").textContent = "综合得分 = 加权平均（" + weighted.map((m) => m.label + " " + Math.round((m.weight / sum) * 100) + "%").join("，") +
    "）；退回率、返工率等越低越好的指标按 1 − 比率计入。排名按综合得分，其次按应结案数。";
  const score = metrics.find((m) => m.key === "score");
  el("legend").innerHTML = '<span class="dot" style="background:' + KPI_LIGHT.green + '"></span>达标' +
    '<span class="dot" style="background:' + KPI_LIGHT.amber + '"></span>预警' +
    '<span class="dot" style="background:' + KPI_LIGHT.red + '"></span>未达标' +
    "（综合得分 ≥ " + score.lights[0] + " 绿，≥ " + score.lights[1] + " 黄；各项比率的阈值由县级配置）";
}

function drawLeague() {
  for (const b of el("levels").querySelectorAll("button")) b.setAttribute("aria-selected", String(b.dataset.level === level));
  if (!data) return;
  const meta = Object.fromEntries(data.metrics.map((m) => [m.key, m]));
  const label = el("levels").querySelector('[data-level="' + level + '"]').textContent;
  el("league-title").textContent = label + "排名";
  el("league").innerHTML = league(data.tables[level] || [], meta);
  el("csv").href = "/api/v1/kpis?" + new URLSearchParams({ format: "csv", area: area(), start: el("from").value, end: el("to").value, group_by: level });
  history.replaceState(null, "", "?" + new URLSearchParams({ area: area(), from: el("from").value, to: el("to").value, group: level }));
}

function trend(points) {
  const w = 420, h = 180, pad = 30, n = points.length;
  const xs = (i) => pad + (i * (w - 2 * pad)) / Math.max(n - 1, 1), ys = (v) => h - pad - v * (h - 2 * pad);
  // A month with no due case has no rate: the line breaks there instead of dropping to 0%.
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

const area = () => el("area").value.trim() || cfg.area;

async function load() {
  const p = new URLSearchParams({ area: area(), start: el("from").value, end: el("to").value });
  for (const lv of LEVELS) p.append("by", lv);
  try {
    data = await api("/api/v1/kpis/league?" + p);
    const meta = Object.fromEntries(data.metrics.map((m) => [m.key, m]));
    el("kpis").innerHTML = tiles(data.total, meta);
    notes(data.metrics);
    drawLeague();
    const now = new Date();
    const months = [5, 4, 3, 2, 1, 0].map((k) => month(now, k));
    const series = await Promise.all(months.map((m) => api("/api/v1/kpis?" + new URLSearchParams({ area: area(), start: m.start, end: m.end }))));
    el("trend").innerHTML = trend(months.map((m, i) => ({ label: m.label, rate: (series[i].rows[0] || {}).overdue_rate })));
  } catch (e) { toast(e.message); el("kpis").innerHTML = '<p class="error">' + esc(e.message) + "</p>"; }
}
for (const id of ["area", "from", "to"]) el(id).addEventListener("change", load);
el("levels").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-level]");
  if (!b) return;
  level = b.dataset.level;
  drawLeague();
});
load();
