/* Visits map: visit points and a heat map for a period and area; households not visited in the
   period are highlighted (special-group households ringed). Filters live in the query string. */
(function () {
  "use strict";
  const { cfg, api, makeMap, addBase, legend, empty, toast, fitTo } = GG;
  const el = (id) => document.getElementById(id);
  const q = new URLSearchParams(location.search);
  const today = new Date();
  el("to").value = q.get("to") || today.toISOString().slice(0, 10);
  el("from").value = q.get("from") || new Date(today.getFullYear(), today.getMonth(), 1).toISOString().slice(0, 10);
  const map = makeMap("map");
  const wrap = document.querySelector(".mapwrap");
  let fitted = false;
  // The view is the area's own outline (as on the coverage map), not the extent of its households.
  addBase(map, cfg.area).then((fc) => {
    const own = fc ? fc.features.filter((f) => f.properties.code === cfg.area) : [];
    if (own.length) { fitTo(map, L.geoJSON(own[0])); fitted = true; } else if (fc && !fitted) fitTo(map, L.geoJSON(fc));
  });
  if (L.vectorGrid) {
    L.vectorGrid.protobuf("/tiles/grids/{z}/{x}/{y}.mvt?area=" + cfg.area, { interactive: false, vectorTileLayerStyles: { grids: { color: "#0b4f8a", weight: 1, fill: false } } }).addTo(map);
  }
  // Households are drawn from zoom 15: over a county, tens of thousands of dots hide everything
  // else (the heat map and the statistics carry the overview).
  const HH_ZOOM = 15;
  legend(map, "走访", [["#2e90fa", "走访点"], ["#d92d20", "期内未走访住户"], ["#12b76a", "已走访住户"], ["#fff;border:3px solid #7a5af8", "重点户（紫圈）"]]);
  const heat = L.heatLayer([], { radius: 22, blur: 18, maxZoom: 17 });
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
      L.circleMarker([lat, lng], { radius: 3, color: "#2e90fa", weight: 1, fillOpacity: 0.8 }).bindTooltip(new Date(f.properties.visited_at).toLocaleString("zh-CN") + (f.properties.far_from_household ? "（距住户较远）" : "")).addTo(points);
    }
    for (const f of hh.features) {
      const [lng, lat] = f.geometry.coordinates, v = f.properties.visited;
      L.circleMarker([lat, lng], { radius: v ? 3 : 5, color: f.properties.special ? "#7a5af8" : v ? "#12b76a" : "#d92d20", weight: f.properties.special ? 3 : 1, fillColor: v ? "#12b76a" : "#d92d20", fillOpacity: 0.9 })
        .bindTooltip(v ? "期内已走访" : "期内未走访" + (f.properties.special ? "（重点户）" : "")).addTo(households);
    }
    const n = hh.features.length, unvisited = n - hh.visited;
    el("stats").innerHTML = '<table class="kv" id="visit-stats"><tr><td>走访次数</td><td>' + visits.features.length + "</td></tr><tr><td>住户</td><td>" + n +
      "</td></tr><tr><td>已走访</td><td>" + hh.visited + "</td></tr><tr><td>未走访</td><td>" + unvisited + "</td></tr><tr><td>覆盖率</td><td>" + (n ? Math.round((hh.visited / n) * 100) + "%" : "—") + "</td></tr></table>";
    empty(wrap, n || visits.features.length ? null : "该区域在此期间没有住户或走访数据");
    toggle();
    if (!fitted && n) { fitTo(map, L.featureGroup(households.getLayers())); fitted = true; }
  }

  for (const id of ["area", "from", "to"]) el(id).addEventListener("change", load);
  for (const id of ["show-heat", "show-points", "show-unvisited"]) el(id).addEventListener("change", toggle);
  load();
})();
