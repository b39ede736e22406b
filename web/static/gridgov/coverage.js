/* Coverage map: grids coloured by households against the band, by staffing, or by visit coverage;
   child areas listed and outlined for drill-down county -> township -> community. The band's
   labels come from GET /api/v1/meta (bands). */
import { api, isMissing, label, meta } from "./api.js";
import { firstOfMonth, number, percent, today } from "./format.js";
import { placeLabels, roadLabels } from "./labels.js";
import { microGrids } from "./microgrids.js";
import { addBase, fitTo, legend, makeMap } from "./map.js";
import { BAND, NO_DATA, OUTLINE, STAFFING, VISIT_STEPS } from "./palette.js";
import { cfg, empty, esc, toast } from "./page.js";

const area = cfg.area;
const map = makeMap("map");
const names = placeLabels(map);
roadLabels(map);
const wrap = document.querySelector(".mapwrap");
const modeSel = document.getElementById("mode");
const params = new URLSearchParams(location.search);
if (params.get("mode")) modeSel.value = params.get("mode");
const from = document.getElementById("from"), to = document.getElementById("to");
// The default period is this month so far, by the calendar in Shanghai (format.js).
to.value = params.get("to") || today();
from.value = params.get("from") || firstOfMonth();

let grids = null, gridLayer = null, legendCtl = null, visitCoverage = null, bands = {};
const bandLabel = (code) => label(bands, code);

function visitColor(r) {
  if (r == null) return NO_DATA;
  for (const [min, c] of VISIT_STEPS) if (r >= min) return c;
  return VISIT_STEPS[VISIT_STEPS.length - 1][1];
}

function style(f) {
  const p = f.properties, mode = modeSel.value;
  let c;
  if (mode === "households") c = BAND[p.band];
  else if (mode === "staffing") c = p.has_leader ? STAFFING.leader : STAFFING.none;
  else c = visitColor(visitCoverage && visitCoverage[p.code] ? visitCoverage[p.code].rate : null);
  return { color: OUTLINE.grid_edge, weight: 1, fillColor: c, fillOpacity: 0.55 };
}

function tooltip(p) {
  let t = "<b>" + esc(p.name) + "</b> " + esc(p.code) + "<br>" + esc(p.community_name || "") +
    "<br>" + (p.band === "exempt" ? esc(bandLabel("exempt")) + " · 户数：" + number(p.households) : "户数：" + number(p.households) + "（" + esc(bandLabel(p.band)) + " " + cfg.band[0] + "–" + cfg.band[1] + "）") +
    "<br>网格长：" + (p.leader ? esc(p.leader) + " " + esc(p.leader_phone || "") : '<span style="color:' + STAFFING.none + '">未配备</span>');
  const v = visitCoverage && visitCoverage[p.code];
  if (v) t += "<br>走访覆盖：" + percent(v.rate) + "（" + number(v.visited) + "/" + number(v.households) + "户）";
  return t;
}

function drawLegend() {
  if (legendCtl) legendCtl.remove();
  const mode = modeSel.value;
  if (mode === "households") legendCtl = legend(map, "户数与标准（综合网格）", [[BAND.below, bandLabel("below") + "（少于 " + cfg.band[0] + " 户）"], [BAND.within, bandLabel("within") + "（" + cfg.band[0] + "–" + cfg.band[1] + " 户）"], [BAND.above, bandLabel("above") + "（多于 " + cfg.band[1] + " 户）"], [BAND.exempt, bandLabel("exempt")]]);
  else if (mode === "staffing") legendCtl = legend(map, "网格长配备", [[STAFFING.leader, "已配备"], [STAFFING.none, "缺网格长"]]);
  else legendCtl = legend(map, "走访覆盖率", VISIT_STEPS.map(([, c, t]) => [c, t]).concat([[NO_DATA, "无数据"]]));
}

function summarise() {
  const fs = grids.features;
  // Only comprehensive grids are held to the household band; dedicated grids are counted apart.
  const n = fs.length, below = fs.filter((f) => f.properties.band === "below").length;
  const above = fs.filter((f) => f.properties.band === "above").length;
  const exempt = fs.filter((f) => f.properties.band === "exempt").length;
  const noLeader = fs.filter((f) => !f.properties.has_leader).length;
  const hh = fs.reduce((s, f) => s + f.properties.households, 0);
  document.getElementById("summary").innerHTML =
    '<table class="kv" id="summary-table"><tr><td>网格</td><td>' + n + "</td></tr><tr><td>其中专属网格</td><td id='sum-exempt'>" + exempt + "</td></tr><tr><td>户数</td><td>" + number(hh) +
    "</td></tr><tr><td>" + esc(bandLabel("below")) + "</td><td id='sum-below'>" + below + "</td></tr><tr><td>" + esc(bandLabel("above")) + "</td><td id='sum-above'>" + above +
    "</td></tr><tr><td>缺网格长</td><td>" + noLeader + "</td></tr></table>";
}

async function loadVisits() {
  visitCoverage = null;
  try {
    const res = await api("/api/v1/visits/coverage?by=grid&area=" + area + "&start=" + from.value + "&end=" + to.value);
    visitCoverage = {};
    for (const row of res.rows) visitCoverage[row.code] = { rate: row.visited_share, visited: row.visited, households: row.households };
  } catch (e) {
    toast(isMissing(e) ? "走访覆盖接口（/api/v1/visits/coverage）尚未上线" : e.message);
  }
}

async function redraw() {
  document.getElementById("period").hidden = modeSel.value !== "visits";
  const q = new URLSearchParams({ area, mode: modeSel.value });
  if (modeSel.value === "visits") { q.set("from", from.value); q.set("to", to.value); await loadVisits(); }
  history.replaceState(null, "", "?" + q);
  if (gridLayer) gridLayer.setStyle(style);
  drawLegend();
}

function crumbs() {
  // Names from the page (jurisdiction down to the area); the current level is plain text.
  const parts = cfg.crumbs || [{ code: area, name: area }];
  document.getElementById("crumbs").innerHTML = parts.map((c, i) => i === parts.length - 1
    ? '<b title="' + esc(c.code) + '">' + esc(c.name) + "</b>"
    : '<a href="?area=' + esc(c.code) + "&mode=" + modeSel.value + '" title="' + esc(c.code) + '">' + esc(c.name) + "</a>").join(" › ");
}

async function load() {
  crumbs();
  bands = (await meta()).bands || {};
  const base = addBase(map, area);
  try {
    grids = await api("/api/v1/layers/grids?f=geojson&area=" + area);
  } catch (e) { toast(e.message); empty(wrap, e.message); return; }
  names.add(grids.features);
  if (!grids.features.length) {
    empty(wrap, "该区域暂无在用网格数据");
  } else {
    gridLayer = L.geoJSON(grids, {
      style,
      onEachFeature: (f, layer) => {
        layer.bindTooltip(() => tooltip(f.properties), { sticky: true });
        // Clicking a grid drills down one level towards it (county -> township -> community).
        if (area.length < 12) layer.on("click", () => { location.href = "?area=" + f.properties.code.slice(0, area.length + 3) + "&mode=" + modeSel.value; });
      },
    }).addTo(map);
  }
  // The view is the chosen area's own outline (county, township or community); a grid code is
  // shown by its grid. Fitting the grids alone could leave the area's empty parts off screen.
  const fc = await base;
  if (fc) names.add(fc.features);
  const own = fc ? fc.features.filter((f) => f.properties.code === area) : [];
  if (own.length) fitTo(map, L.geoJSON(own[0]));
  else if (gridLayer) fitTo(map, gridLayer);
  else if (fc) fitTo(map, L.geoJSON(fc));
  summarise();
  microGrids(map, area, grids);
  if (area.length < 12) {
    const kids = await api("/api/v1/layers/areas?parent=" + area);
    document.getElementById("children").innerHTML = kids.features.length
      ? kids.features.map((f) => '<li data-code="' + f.properties.code + '">' + esc(f.properties.name) + " <span class='muted'>" + number(f.properties.grids) + " 网格 · " + number(f.properties.households) + " 户</span></li>").join("")
      : "<li class='muted'>无下级区划</li>";
    document.querySelectorAll("#children li[data-code]").forEach((li) => li.addEventListener("click", () => { location.href = "?area=" + li.dataset.code + "&mode=" + modeSel.value; }));
    L.geoJSON(kids, {
      style: { color: OUTLINE.grid, weight: 3, fill: false },
      onEachFeature: (f, layer) => {
        layer.bindTooltip(esc(f.properties.name) + "（点击进入）");
        layer.on("click", () => { location.href = "?area=" + f.properties.code + "&mode=" + modeSel.value; });
      },
    }).addTo(map);
  } else {
    document.getElementById("children-title").textContent = "网格";
    // A community (or a grid) lists its grids with their households, in code order.
    const own = grids.features.filter((f) => f.properties.code.startsWith(area)).sort((a, b) => (a.properties.code < b.properties.code ? -1 : 1));
    document.getElementById("children").innerHTML = own.length
      ? own.map((f) => '<li data-grid="' + esc(f.properties.code) + '">' + esc(f.properties.name) + " <span class='muted'>" + number(f.properties.households) + " 户</span></li>").join("")
      : "<li class='muted'>该社区/村暂无在用网格</li>";
    document.querySelectorAll("#children li[data-grid]").forEach((li) => li.addEventListener("click", () => {
      const f = own.find((g) => g.properties.code === li.dataset.grid);
      if (f) fitTo(map, L.geoJSON(f));
    }));
  }
  await redraw();
}

modeSel.addEventListener("change", redraw);
from.addEventListener("change", redraw);
to.addEventListener("change", redraw);
load();
