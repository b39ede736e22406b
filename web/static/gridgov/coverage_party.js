/* The coverage map's party layer (党组织覆盖): a toggle that outlines each grid of the area with a
   party organisation (网格党支部/党小组, named in its tooltip) and those without one, with a count.
   Its own module beside coverage.js: it reads the page's map (window.GG_MAP, map.js), the grids
   (/api/v1/layers/grids) and which grid has which organisation (/api/v1/party/grids). */

import { api } from "./api.js";
import { legend } from "./map.js";
import { cfg, esc } from "./page.js";
import { PARTY } from "./palette.js";

const map = window.GG_MAP;
const area = cfg.area;
let layer = null, key = null, data = null;

async function load() {
  const [grids, orgs] = await Promise.all([
    api("/api/v1/layers/grids?f=geojson&area=" + area),
    api("/api/v1/party/grids?area=" + area),
  ]);
  const byGrid = Object.fromEntries(orgs.map((o) => [o.grid_code, o]));
  return { grids, byGrid };
}

async function show(on) {
  if (!on) {
    if (layer) layer.remove();
    if (key) key.remove();
    layer = key = null;
    return;
  }
  if (!data) data = await load();
  const { grids, byGrid } = data;
  layer = L.geoJSON(grids, {
    style: (f) => {
      const has = !!byGrid[f.properties.code];
      return { color: has ? PARTY.edge : PARTY.without, weight: has ? 3 : 1.5, dashArray: has ? null : "5 4", fillColor: has ? PARTY.with_org : PARTY.without, fillOpacity: has ? 0.35 : 0.15 };
    },
    onEachFeature: (f, l) => {
      const o = byGrid[f.properties.code];
      l.bindTooltip("<b>" + esc(f.properties.name) + "</b><br>" + (o ? esc(o.kind_label) + "：" + esc(o.org_name) : "尚无党组织"), { sticky: true });
    },
  }).addTo(map);
  const n = grids.features.length, withOrg = grids.features.filter((f) => byGrid[f.properties.code]).length;
  key = legend(map, "党组织覆盖（" + withOrg + "/" + n + " 个网格）", [[PARTY.with_org, "有党组织 " + withOrg], [PARTY.without, "无党组织 " + (n - withOrg)]], "bottomleft");
}

if (map && area) {
  const ctl = L.control({ position: "topright" });
  ctl.onAdd = () => {
    // Not a "legend" box: the map's legend stays the one legend of the colouring (the tests read it).
    const div = L.DomUtil.create("div", "leaflet-bar party-toggle");
    div.style.cssText = "background:#fff;padding:4px 8px;font-size:12px";
    div.innerHTML = '<label><input type="checkbox" id="party-layer"> 党组织覆盖</label>';
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  ctl.addTo(map);
  const box = document.getElementById("party-layer");
  box.addEventListener("change", () => {
    show(box.checked).catch((e) => {
      box.checked = false;
      // A role that may not read party organisations (e.g. a unit's handler) gets no layer.
      box.parentElement.title = e.message;
      box.disabled = true;
    });
  });
  if (new URLSearchParams(location.search).get("party") === "1") { box.checked = true; box.dispatchEvent(new Event("change")); }
}
