/* Place names on every map, offline (no base map needed): township, community and grid names by
   zoom level, and road names from the barrier data along the roads when zoomed in. One level at a
   time: the zoom decides which (LABEL_ZOOM), so the names never pile up; within a level a name that
   would overlap one already placed is left out until the map is zoomed closer. */

import { api } from "./api.js";
import { esc } from "./page.js";
import { LABEL } from "./palette.js";

/** The zoom range [from, below) in which each level's names are shown. */
export const LABEL_ZOOM = { township: [0, 13], community: [13, 15.5], grid: [15.5, 99] };
/** Road names (and the roads themselves) from this zoom on. */
export const ROAD_ZOOM = 15;
// Barrier classes that are roads (app/barriers/models.py BARRIER_CLASSES).
const ROADS = new Set(["arterial", "county_road", "local"]);
// An administrative code's length gives its level (docs/domain.md: 6 county, 9 township, 12 community, 15 grid).
const LEVEL_BY_LENGTH = { 9: "township", 12: "community", 15: "grid" };

function ensurePane(map) {
  if (!map.getPane("labels")) {
    const pane = map.createPane("labels");
    pane.style.zIndex = 640; // above overlays and markers, under tooltips and popups
    pane.style.pointerEvents = "none";
    pane.style.setProperty("--label-text", LABEL.text);
    pane.style.setProperty("--label-halo", LABEL.halo);
  }
}

/** The level whose names the zoom ``z`` calls for. */
export function levelAt(z) {
  for (const [level, [lo, hi]] of Object.entries(LABEL_ZOOM)) if (z >= lo && z < hi) return level;
  return "grid";
}

/** Place names on ``map``. ``add(features)`` takes GeoJSON features whose properties carry ``code``
    and ``name`` (areas or grids; a grid's community is named from the grid's ``community_code`` and
    ``community_name`` when the community's own outline is not given). Returns {add, layer}. */
export function placeLabels(map) {
  ensurePane(map);
  const places = { township: new Map(), community: new Map(), grid: new Map() };
  const fromGrids = new Map(); // community code -> {name, bounds} gathered from its grids
  const layer = L.layerGroup().addTo(map);

  function put(level, code, name, latlng) {
    if (!level || !name) return;
    places[level].set(code, { code, name, latlng });
  }

  function draw() {
    layer.clearLayers();
    const level = levelAt(map.getZoom());
    const size = map.getSize(), taken = [];
    // Larger names first would need areas; code order is stable and predictable instead.
    const list = [...places[level].values()].sort((a, b) => (a.code < b.code ? -1 : 1));
    for (const p of list) {
      const pt = map.latLngToContainerPoint(p.latlng);
      const w = 14 * p.name.length + 10, h = 22;
      const box = [pt.x - w / 2, pt.y - h / 2, pt.x + w / 2, pt.y + h / 2];
      if (box[2] < 0 || box[3] < 0 || box[0] > size.x || box[1] > size.y) continue;
      if (taken.some((t) => box[0] < t[2] && box[2] > t[0] && box[1] < t[3] && box[3] > t[1])) continue;
      taken.push(box);
      L.marker(p.latlng, {
        pane: "labels", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "place-label place-" + level, html: '<span data-code="' + esc(p.code) + '">' + esc(p.name) + "</span>", iconSize: [w, h], iconAnchor: [w / 2, h / 2] }),
      }).addTo(layer);
    }
  }

  function add(features) {
    for (const f of features || []) {
      const p = f.properties || {};
      if (!p.code || !f.geometry) continue;
      const bounds = L.geoJSON(f).getBounds();
      if (!bounds.isValid()) continue;
      const level = LEVEL_BY_LENGTH[p.code.length];
      put(level, p.code, p.name, bounds.getCenter());
      if (level === "grid" && p.community_code && p.community_name) {
        const c = fromGrids.get(p.community_code) || { name: p.community_name, bounds: L.latLngBounds([]) };
        c.bounds.extend(bounds);
        fromGrids.set(p.community_code, c);
      }
    }
    // A community known only through its grids is named at the middle of its grids.
    for (const [code, c] of fromGrids) {
      const own = places.community.get(code);
      if (!own || own.fromGrids) places.community.set(code, { code, name: c.name, latlng: c.bounds.getCenter(), fromGrids: true });
    }
    draw();
  }

  map.on("zoomend moveend resize", draw);
  return { add, layer, draw };
}

/** The middle of the longest piece of ``coords`` (one line) and the angle of the segment there, in screen degrees. */
function along(map, coords) {
  const pts = coords.map(([lng, lat]) => map.latLngToLayerPoint([lat, lng]));
  let total = 0;
  for (let i = 1; i < pts.length; i++) total += pts[i].distanceTo(pts[i - 1]);
  let half = total / 2;
  for (let i = 1; i < pts.length; i++) {
    const d = pts[i].distanceTo(pts[i - 1]);
    if (half <= d || i === pts.length - 1) {
      const t = d ? Math.min(1, half / d) : 0, a = pts[i - 1], b = pts[i];
      let angle = (Math.atan2(b.y - a.y, b.x - a.x) * 180) / Math.PI;
      if (angle > 90) angle -= 180; else if (angle < -90) angle += 180; // never upside down
      return { at: map.layerPointToLatLng([a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t]), angle, length: total };
    }
    half -= d;
  }
  return null;
}

/** Road names (and thin road lines) from the barriers collection (GET /ogc/collections/barriers/items,
    for the roles that read the registry) in the view, from ROAD_ZOOM on. A role that may not read
    the barriers simply gets no road names. Returns {layer, refresh}. */
export function roadLabels(map) {
  ensurePane(map);
  const layer = L.layerGroup();
  let seq = 0, refused = false;

  async function refresh() {
    const mine = ++seq; // every call, so an answer for an earlier view is dropped
    if (refused || map.getZoom() < ROAD_ZOOM) { layer.remove(); return; }
    const b = map.getBounds();
    let fc;
    try {
      fc = await api("/ogc/collections/barriers/items?f=json&limit=500&bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((n) => n.toFixed(6)).join(","));
    } catch (e) {
      if (e.status === 403 || e.status === 404) refused = true;
      return;
    }
    if (mine !== seq) return; // a later view answered first
    layer.clearLayers();
    const named = new Set();
    for (const f of fc.features || []) {
      const p = f.properties || {};
      if (!ROADS.has(p.class) || !f.geometry) continue;
      const lines = f.geometry.type === "MultiLineString" ? f.geometry.coordinates : [f.geometry.coordinates];
      L.geoJSON(f, { interactive: false, style: { color: LABEL.road, weight: p.class === "local" ? 2 : 4, opacity: 0.8 } }).addTo(layer);
      // The name once per road, on its longest piece, if that piece is long enough to carry it.
      const best = lines.map((c) => along(map, c)).filter(Boolean).sort((x, y) => y.length - x.length)[0];
      if (!best || named.has(p.name) || best.length < 14 * p.name.length) continue;
      named.add(p.name);
      L.marker(best.at, {
        pane: "labels", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "road-label", html: '<span style="transform:translate(-50%,-50%) rotate(' + best.angle.toFixed(1) + 'deg)">' + esc(p.name) + "</span>", iconSize: [0, 0] }),
      }).addTo(layer);
    }
    layer.addTo(map);
  }

  let timer = null;
  map.on("moveend zoomend", () => { clearTimeout(timer); timer = setTimeout(refresh, 250); });
  refresh();
  return { layer, refresh };
}
