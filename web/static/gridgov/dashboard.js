/* KPI dashboard over GET /api/v1/kpis/league: the total as tiles, a league table per level ranked
   by the composite score (best first, not by code) with each rate coloured by the county's
   thresholds, a map of the chosen KPI over the townships, communities or grids, and a six-month
   overdue trend drawn as inline SVG. Labels, weights and thresholds come from the API's
   ``metrics`` and each row's ``lights`` (docs/domain.md#kpis): the page holds no threshold of its
   own. Periods are calendar days in Shanghai (format.js).

   The map: a KPI with thresholds colours each region by the light the API gave its row (红黄绿,
   the same as the table); a KPI without (counts, hours) by quantile classes of the regions shown,
   light to dark. Clicking a region shows its figures and marks its row; clicking a row (or Enter /
   Space on it) zooms the map to the region. Offline: the regions are the database's outlines
   (map.js), the names come from the shared label module (labels.js). */
import { api } from "./api.js";
import { firstOfMonth, month, number, percent, today } from "./format.js";
import { placeLabels } from "./labels.js";
import { fitTo, makeMap } from "./map.js";
import { KPI, KPI_LIGHT, KPI_PICKED, KPI_RAMP, NO_DATA, OUTLINE } from "./palette.js";
import { cfg, el, esc, toast } from "./page.js";

const q = new URLSearchParams(location.search);
const LEVELS = ["township", "community", "grid", "worker", "department"];
const REGIONS = { township: 9, community: 12, grid: 15 }; // levels with an outline: their code length
el("to").value = q.get("to") || today();
el("from").value = q.get("from") || firstOfMonth(undefined, 2);
let level = LEVELS.includes(q.get("group")) ? q.get("group") : "township";
let mapLevel = REGIONS[level] ? level : "township";
let mapKey = q.get("kpi") || "score";
const pct = (x) => percent(x, 1);

// The total's tiles and the league table's columns, by key (labels from the API).
const TILES = ["reports", "on_spot", "registered", "registration_rate", "due", "closure_rate", "on_time_closure_rate",
  "on_time_acceptance_rate", "on_time_verification_rate", "dispatch_accuracy", "return_rate", "satisfaction_rate",
  "callback_satisfaction_rate", "score"];
const COLUMNS = ["reports", "registration_rate", "due", "closure_rate", "on_time_handling_rate", "on_time_closure_rate",
  "overdue_rate", "rework_rate", "on_time_acceptance_rate", "on_time_verification_rate", "dispatch_accuracy",
  "return_rate", "satisfaction_rate", "score"];
// The map's choice of KPIs: the score and every rate (each may have thresholds), a few counts and hours.
const MAP_COUNTS = ["reports", "due", "overdue", "mean_hours_to_close"];
// What the region panel lists besides the KPI on the map.
const FIGURES = ["reports", "due", "closed", "overdue", "closure_rate", "on_time_closure_rate", "overdue_rate", "score"];
const LIGHT_WORDS = { green: "达标", amber: "预警", red: "未达标" };
const UNIT = { rate: "%", score: "分", count: "件", hours: "小时" };
const EMPTY = "该期间没有案件";

let data = null;
let meta = {};

function show(row, key, kind) {
  const v = row ? row[key] : null;
  if (kind === "rate") return pct(v);
  if (kind === "score") return v == null ? "—" : v.toFixed(1);
  if (kind === "hours") return v == null ? "—" : v.toFixed(1);
  return number(v);
}

/** A table cell, with its light as a coloured dot before the figure and said in words to screen
    readers (coloured text on white would miss the AA contrast). */
function cell(row, key) {
  const light = (row.lights || {})[key];
  const text = show(row, key, meta[key].kind);
  if (!light) return "<td>" + text + "</td>";
  return '<td class="lit" data-light="' + light + '"><i class="dot" style="background:' + KPI_LIGHT[light] + '" role="img" aria-label="' + LIGHT_WORDS[light] + '"></i>' + text + "</td>";
}

function tiles(total) {
  return TILES.map((k) => {
    const light = (total.lights || {})[k];
    const border = light ? ' style="border-left-color:' + KPI_LIGHT[light] + '"' : "";
    return '<div class="kpi" data-key="' + k + '"' + border + '><span class="muted">' + esc(meta[k].label) + "</span><b>" + show(total, k, meta[k].kind) + "</b></div>";
  }).join("");
}

function league(rows) {
  const head = '<tr><th scope="col">名次</th><th scope="col">名称</th>' + COLUMNS.map((k) => '<th scope="col">' + esc(meta[k].label) + "</th>").join("") + "</tr>";
  if (!rows.length) return head + '<tr><td colspan="' + (COLUMNS.length + 2) + '" class="muted" id="no-rows">' + EMPTY + "</td></tr>";
  const region = Boolean(REGIONS[level]);
  return head + rows.map((r) => {
    const name = r.name || r.group || "—";
    const code = r.group && r.name ? '<span class="code muted">' + esc(r.group) + "</span>" : "";
    // A region's row is an action (zoom the map to it): focusable, Enter/Space like a click.
    const act = region && r.group ? ' data-code="' + esc(r.group) + '" tabindex="0" aria-label="' + esc(name) + '，在地图上查看"' : "";
    return "<tr" + act + "><td>" + r.rank + "</td><td>" + esc(name) + code + "</td>" +
      COLUMNS.map((k) => cell(r, k)).join("") + "</tr>";
  }).join("");
}

/** A threshold as the metric shows it: a rate as a percentage, a score as points. */
function bound(m, v) { return m.kind === "rate" ? percent(v, 1) : String(v); }

function notes(metrics) {
  const weighted = metrics.filter((m) => m.weight > 0).sort((a, b) => b.weight - a.weight);
  const sum = weighted.reduce((s, m) => s + m.weight, 0);
  el("score-note").textContent = "综合得分 = 加权平均（" + weighted.map((m) => m.label + " " + Math.round((m.weight / sum) * 100) + "%").join("，") +
    "）；退回率、返工率等越低越好的指标按 1 − 比率计入。排名按综合得分，其次按应结案数。";
  const score = meta.score;
  const lit = metrics.filter((m) => m.kind === "rate" && m.lights);
  el("legend").innerHTML = Object.entries(LIGHT_WORDS).map(([l, w]) => '<span class="dot" style="background:' + KPI_LIGHT[l] + '"></span>' + w).join("") +
    "。综合得分 ≥ " + score.lights[0] + " 绿，≥ " + score.lights[1] + " 黄，其余红；" +
    lit.map((m) => m.label + (m.lower_is_better ? " ≤ " : " ≥ ") + bound(m, m.lights[0]) + " 绿，" + (m.lower_is_better ? "≤ " : "≥ ") + bound(m, m.lights[1]) + " 黄").join("；") +
    "（阈值由县级配置）。";
}

function drawLeague() {
  for (const b of el("levels").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.level === level));
  if (!data) return;
  const label = el("levels").querySelector('[data-level="' + level + '"]').textContent;
  el("league-title").textContent = label + "排名";
  el("league").innerHTML = league(data.tables[level] || []);
  el("csv").href = "/api/v1/kpis?" + new URLSearchParams({ format: "csv", area: area(), start: el("from").value, end: el("to").value, group_by: level });
  remember();
  if (picked && REGIONS[level] === picked.length) mark(picked);
}

function remember() {
  history.replaceState(null, "", "?" + new URLSearchParams({ area: area(), from: el("from").value, to: el("to").value, group: level, kpi: mapKey }));
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
  return '<svg width="' + w + '" height="' + h + '" id="trend-svg" role="img" aria-label="近六个月超期率"><line x1="' + pad + '" y1="' + (h - pad) + '" x2="' + (w - pad) + '" y2="' + (h - pad) + '" stroke="' + KPI.axis + '"></line>' +
    '<line x1="' + pad + '" y1="' + pad + '" x2="' + (w - pad) + '" y2="' + pad + '" stroke="' + KPI.grid + '" stroke-dasharray="3 3"></line><text x="0" y="' + (pad + 4) + '" font-size="10" fill="' + KPI.secondary + '">100%</text><text x="8" y="' + (h - pad + 4) + '" font-size="10" fill="' + KPI.secondary + '">0%</text>' +
    '<path d="' + line + '" fill="none" stroke="' + KPI.overdue_trend + '" stroke-width="2"></path>' +
    points.map((p, i) => '<text x="' + (xs(i) - 10) + '" y="' + (h - 10) + '" font-size="11">' + p.label + "</text>" + (p.rate == null
      ? '<text class="no-data" x="' + (xs(i) - 15) + '" y="' + (h - pad - 6) + '" font-size="11" fill="' + KPI.secondary + '">无数据</text>'
      : '<circle cx="' + xs(i) + '" cy="' + ys(p.rate) + '" r="3" fill="' + KPI.overdue_trend + '"></circle><text x="' + (xs(i) - 12) + '" y="' + (ys(p.rate) - 6) + '" font-size="11">' + pct(p.rate) + "</text>")).join("") + "</svg>";
}

const area = () => el("area").value.trim() || cfg.area;

// ---- the map -------------------------------------------------------------------------------------
const map = makeMap("map", { zoomSnap: 0.25 });
const names = placeLabels(map);
const shapes = L.geoJSON(null, { style: styleOf, onEachFeature: (f, layer) => layer.on("click", () => pick(f.properties.code, false)) }).addTo(map);
const outlines = new Map(); // `${area}|${level}` -> features (outlines of the database)
let classes = null; // how the regions are coloured now: {light: bool, breaks, colours}
let picked = null; // the code of the region picked
let framedFor = null;

async function areasOf(parent, self) {
  const fc = await api("/api/v1/layers/areas?" + new URLSearchParams({ parent, include_self: String(Boolean(self)) }));
  return fc.features;
}

/** The outlines at code length ``len`` inside ``code``: the area itself (or the one it lies in),
    its children, or its children's, as deep as the level is. */
async function descend(code, len) {
  if (code.length >= len) return (await areasOf(code.slice(0, len), true)).filter((f) => f.properties.code.length === len);
  const kids = await areasOf(code, false);
  if (!kids.length || kids[0].properties.code.length >= len) return kids.filter((f) => f.properties.code.length === len);
  return (await Promise.all(kids.map((k) => descend(k.properties.code, len)))).flat();
}

async function regions(lv) {
  const a = area(), key = a + "|" + lv;
  if (!outlines.has(key)) {
    const load = lv === "grid" && a.length <= 12
      ? api("/api/v1/layers/grids?" + new URLSearchParams({ area: a })).then((fc) => fc.features)
      : descend(a, REGIONS[lv]);
    outlines.set(key, load.catch((e) => { outlines.delete(key); throw e; }));
  }
  return outlines.get(key);
}

const rowsBy = () => new Map(((data && data.tables[mapLevel]) || []).map((r) => [r.group, r]));

/** Classes of the KPI on the map: the API's lights when the KPI has thresholds, else up to five
    quantile classes of the values shown (each break a value that occurs). */
function classify(m, rows) {
  if (m.lights) {
    const lo = m.lower_is_better, [g, a] = m.lights;
    const sign = lo ? "≤" : "≥";
    return {
      light: true,
      items: [
        [KPI_LIGHT.green, LIGHT_WORDS.green + "  " + sign + " " + bound(m, g)],
        [KPI_LIGHT.amber, LIGHT_WORDS.amber + "  " + sign + " " + bound(m, a)],
        [KPI_LIGHT.red, LIGHT_WORDS.red + "  " + (lo ? ">" : "<") + " " + bound(m, a)],
      ],
    };
  }
  const values = rows.map((r) => r[m.key]).filter((v) => v != null).sort((x, y) => x - y);
  const breaks = [];
  const k = Math.min(KPI_RAMP.length, new Set(values).size);
  for (let i = 1; i < k; i++) {
    const b = values[Math.floor((i * values.length) / k)];
    if (!breaks.includes(b) && b > values[0]) breaks.push(b);
  }
  const colours = KPI_RAMP.slice(KPI_RAMP.length - breaks.length - 1);
  const fmt = (v) => (m.kind === "rate" ? percent(v, 1) : m.kind === "hours" ? v.toFixed(1) : number(v));
  const edges = [values[0], ...breaks, values[values.length - 1]];
  const items = values.length ? colours.map((c, i) => [c, i === colours.length - 1
    ? fmt(edges[i]) + (edges[i] === edges[i + 1] ? "" : " – " + fmt(edges[i + 1]))
    : fmt(edges[i]) + " – <" + fmt(edges[i + 1])]) : [];
  return { light: false, breaks, colours, items };
}

function fillOf(row) {
  if (!row || row[mapKey] == null) return NO_DATA;
  if (classes.light) return KPI_LIGHT[(row.lights || {})[mapKey]] || NO_DATA;
  let i = 0;
  while (i < classes.breaks.length && row[mapKey] >= classes.breaks[i]) i++;
  return classes.colours[i] || NO_DATA;
}

let rowIndex = new Map();
function styleOf(f) {
  const code = f.properties.code, on = code === picked;
  return { color: on ? KPI_PICKED : OUTLINE.grid_edge, weight: on ? 3.5 : 1, opacity: 1, fillColor: fillOf(rowIndex.get(code)), fillOpacity: 0.75 };
}

function drawLegend() {
  const m = meta[mapKey];
  const unit = UNIT[m.kind] || "";
  const items = classes.items.concat([[NO_DATA, "无数据（该期间无案件）"]]);
  el("map-legend").innerHTML = "<b>" + esc(m.label) + "</b> <span class=\"muted\">单位：" + unit + (m.lower_is_better ? "，越低越好" : "") +
    (classes.light ? "，阈值由县级配置" : "，按分位分级") + "</span><ul>" +
    items.map(([c, t]) => '<li><i style="background:' + c + '"></i>' + esc(t) + "</li>").join("") + "</ul>";
}

/** Names of every level for the map's zoom (labels.js), whatever level is coloured: once per area. */
let namedFor = null;
function nameAll() {
  if (namedFor === area()) return;
  namedFor = area();
  for (const lv of Object.keys(REGIONS)) if (lv !== mapLevel) regions(lv).then((f) => names.add(f), () => null);
}

async function drawMap() {
  if (!data) return;
  el("map-level").value = mapLevel;
  let feats;
  try { feats = await regions(mapLevel); } catch (e) { toast(e.message); return; }
  rowIndex = rowsBy();
  classes = classify(meta[mapKey], [...rowIndex.values()]);
  shapes.clearLayers();
  shapes.addData(feats);
  names.add(feats);
  nameAll();
  drawLegend();
  if (framedFor !== area() && shapes.getLayers().length) { fitTo(map, shapes); framedFor = area(); }
  if (picked && picked.length !== REGIONS[mapLevel]) picked = null;
  if (picked) figures(picked);
}

function layerOf(code) { return shapes.getLayers().find((l) => l.feature.properties.code === code); }

/** Mark ``code``'s row in the league table (when it shows that level) and bring it into view. */
function mark(code) {
  for (const tr of el("league").querySelectorAll("tr.picked")) { tr.classList.remove("picked"); tr.removeAttribute("aria-current"); }
  const tr = el("league").querySelector('tr[data-code="' + code + '"]');
  if (tr) { tr.classList.add("picked"); tr.setAttribute("aria-current", "true"); tr.scrollIntoView({ block: "nearest" }); }
}

function figures(code) {
  const row = rowIndex.get(code), layer = layerOf(code);
  const name = (row && row.name) || (layer && layer.feature.properties.name) || code;
  const m = meta[mapKey];
  const light = row && (row.lights || {})[mapKey];
  const keys = FIGURES.filter((k) => k !== mapKey);
  el("region").innerHTML = '<h3 id="region-name">' + esc(name) + ' <small class="muted">' + esc(code) + "</small></h3>" +
    (row ? '<p class="big-figure"><span class="muted">' + esc(m.label) + '</span> <b id="region-value">' + show(row, mapKey, m.kind) + "</b>" +
      (light ? ' <span class="pill" style="background:' + KPI_LIGHT[light] + '">' + LIGHT_WORDS[light] + "</span>" : "") +
      '</p><p class="muted">第 ' + row.rank + " 名，共 " + rowIndex.size + ' 个</p><table class="kv" id="region-figures">' +
      keys.map((k) => "<tr><th scope=\"row\">" + esc(meta[k].label) + "</th><td>" + show(row, k, meta[k].kind) + "</td></tr>").join("") + "</table>"
      : '<p class="muted" id="region-value">' + EMPTY + "</p>");
}

/** Pick a region: its outline drawn heavy, its figures beside the map, its row marked; ``zoom``
    (from a row) fits the map to it. */
function pick(code, zoom) {
  picked = code;
  shapes.setStyle(styleOf);
  const layer = layerOf(code);
  if (layer) {
    layer.bringToFront();
    if (zoom) map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: 16 });
  }
  figures(code);
  if (REGIONS[level] !== code.length && REGIONS[mapLevel] === code.length) { level = mapLevel; drawLeague(); }
  mark(code);
}

function kpiChoices() {
  const opts = data.metrics.filter((m) => m.kind === "score" || m.kind === "rate" || MAP_COUNTS.includes(m.key));
  opts.sort((a, b) => (a.kind === "score" ? -1 : b.kind === "score" ? 1 : 0));
  if (!meta[mapKey]) mapKey = "score";
  el("map-kpi").innerHTML = opts.map((m) => '<option value="' + m.key + '"' + (m.key === mapKey ? " selected" : "") + ">" + esc(m.label) + (m.lights ? "（有阈值）" : "") + "</option>").join("");
}

async function load() {
  const p = new URLSearchParams({ area: area(), start: el("from").value, end: el("to").value });
  for (const lv of LEVELS) p.append("by", lv);
  try {
    data = await api("/api/v1/kpis/league?" + p);
    meta = Object.fromEntries(data.metrics.map((m) => [m.key, m]));
    el("kpis").innerHTML = tiles(data.total);
    notes(data.metrics);
    kpiChoices();
    drawLeague();
    drawMap();
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
  if (REGIONS[level] && level !== mapLevel) { mapLevel = level; drawMap(); }
});
el("map-level").addEventListener("change", () => {
  mapLevel = el("map-level").value;
  level = mapLevel;
  drawLeague();
  drawMap();
});
el("map-kpi").addEventListener("change", () => { mapKey = el("map-kpi").value; remember(); drawMap(); });
function rowAction(ev) {
  const tr = ev.target.closest("tr[data-code]");
  if (!tr) return;
  if (ev.type === "keydown") {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    ev.preventDefault();
  }
  if (REGIONS[level] !== mapLevel) { mapLevel = level; drawMap().then(() => pick(tr.dataset.code, true)); return; }
  pick(tr.dataset.code, true);
}
el("league").addEventListener("click", rowAction);
el("league").addEventListener("keydown", rowAction);
load();

// For the browser tests: the fill of each region drawn now, by code.
window.GG_DASH = {
  fills: () => Object.fromEntries(shapes.getLayers().map((l) => [l.feature.properties.code, l.options.fillColor])),
  picked: () => picked,
};
