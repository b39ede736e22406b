/* Visits map: visit points and a heat map for a period and area; households not visited in the
   period are highlighted (special-group households ringed). Filters live in the query string.
   One colour per meaning (palette.js VISITS): visits blue, visited households green, not visited red. */
import { api } from "./api.js";
import { placeLabels, roadLabels } from "./labels.js";
import { dateTime, firstOfMonth, number, percent, today } from "./format.js";
import { addBase, addGridTiles, fitTo, legend, makeMap } from "./map.js";
import { VISIT_HEAT, VISITS } from "./palette.js";
import { cfg, el, empty, toast } from "./page.js";

const q = new URLSearchParams(location.search);
// The default period is this month so far, by the calendar in Shanghai (format.js).
el("to").value = q.get("to") || today();
el("from").value = q.get("from") || firstOfMonth();
const map = makeMap("map");
const names = placeLabels(map);
roadLabels(map);
const wrap = document.querySelector(".mapwrap");
let fitted = false;
// The view is the area's own outline (as on the coverage map), not the extent of its households.
addBase(map, cfg.area).then((fc) => {
  if (fc) names.add(fc.features);
  const own = fc ? fc.features.filter((f) => f.properties.code === cfg.area) : [];
  if (own.length) { fitTo(map, L.geoJSON(own[0])); fitted = true; } else if (fc && !fitted) fitTo(map, L.geoJSON(fc));
});
addGridTiles(map, cfg.area);
// Grid (and, through them, community) names; a role that may not read the registry gets none.
api("/api/v1/layers/grids?f=geojson&area=" + cfg.area).then((fc) => names.add(fc.features), () => null);
// Households are drawn from zoom 15: over a county, tens of thousands of dots hide everything
// else (the heat map and the statistics carry the overview).
const HH_ZOOM = 15;
// Sorted: Object.entries puts the key "1" (an integer) before "0.2".
const heatScale = "linear-gradient(90deg," + Object.entries(VISIT_HEAT).sort((x, y) => x[0] - y[0]).map(([at, c]) => c + " " + Math.round(at * 100) + "%").join(",") + ");width:42px";
legend(map, "走访", [[heatScale, "热力图：走访多少（浅少深多）"], [VISITS.visit, "走访点"], [VISITS.visited, "期内已走访住户"], [VISITS.unvisited, "期内未走访住户"], ["#fff;border:3px solid " + VISITS.special, "重点户（紫圈）"]]);
const heat = L.heatLayer([], { radius: 22, blur: 18, maxZoom: 17, gradient: VISIT_HEAT });
const points = L.layerGroup(), households = L.layerGroup();

function toggle() {
  const near = map.getZoom() >= HH_ZOOM;
  for (const [id, layer, show] of [["show-heat", heat, true], ["show-points", points, near], ["show-unvisited", households, near]]) {
    if (el(id).checked && show) layer.addTo(map); else layer.remove();
  }
  el("zoom-hint").hidden = near || !(el("show-points").checked || el("show-unvisited").checked);
}
map.on("zoomend", toggle);

async function load() {
  const area = el("area").value.trim() || cfg.area;
  const p = new URLSearchParams({ area, start: el("from").value, end: el("to").value });
  history.replaceState(null, "", "?" + new URLSearchParams({ area, from: el("from").value, to: el("to").value }));
  let visits, hh;
  try {
    [visits, hh] = await Promise.all([api("/api/v1/layers/visits?" + p), api("/api/v1/layers/households?" + p)]);
  } catch (e) { toast(e.message); empty(wrap, e.message); return; }
  heat.setLatLngs(visits.features.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0], 1]));
  points.clearLayers(); households.clearLayers();
  for (const f of visits.features) {
    const [lng, lat] = f.geometry.coordinates;
    L.circleMarker([lat, lng], { radius: 3, color: VISITS.visit, weight: 1, fillOpacity: 0.8 }).bindTooltip(dateTime(f.properties.visited_at) + (f.properties.far_from_household ? "（距住户较远）" : "")).addTo(points);
  }
  for (const f of hh.features) {
    const [lng, lat] = f.geometry.coordinates, v = f.properties.visited;
    L.circleMarker([lat, lng], { radius: v ? 3 : 5, color: f.properties.special ? VISITS.special : v ? VISITS.visited : VISITS.unvisited, weight: f.properties.special ? 3 : 1, fillColor: v ? VISITS.visited : VISITS.unvisited, fillOpacity: 0.9 })
      .bindTooltip(v ? "期内已走访" : "期内未走访" + (f.properties.special ? "（重点户）" : "")).addTo(households);
  }
  const n = hh.features.length, unvisited = n - hh.visited;
  el("stats").innerHTML = '<table class="kv" id="visit-stats"><tr><td>走访次数</td><td>' + number(visits.features.length) + "</td></tr><tr><td>住户</td><td>" + number(n) +
    "</td></tr><tr><td>已走访</td><td>" + number(hh.visited) + "</td></tr><tr><td>未走访</td><td>" + number(unvisited) + "</td></tr><tr><td>覆盖率</td><td>" + (n ? percent(hh.visited / n) : "—") + "</td></tr></table>" +
    // The target is the share of households visited within a year (settings.visits.coverage_target).
    (hh.coverage_target == null ? "" : '<p class="muted" id="visit-target">目标：一年内走访住户 ' + percent(hh.coverage_target) + "</p>");
  empty(wrap, n || visits.features.length ? null : "该区域在此期间没有住户或走访数据");
  toggle();
  if (!fitted && n) { fitTo(map, L.featureGroup(households.getLayers())); fitted = true; }
}

for (const id of ["area", "from", "to"]) el(id).addEventListener("change", load);
for (const id of ["show-heat", "show-points", "show-unvisited"]) el(id).addEventListener("change", toggle);
load();
