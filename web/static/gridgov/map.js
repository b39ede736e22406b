/* The Leaflet map every page draws on (Leaflet and its plugins are classic scripts loaded before:
   the global L): creation, the base map from the page config, the database's own base layers,
   legends and fitting. */

import { api } from "./api.js";
import { OUTLINE } from "./palette.js";
import { cfg, toast } from "./page.js";

/** The page's map in element ``id``; a tile base map only when the deployment configures one. */
export function makeMap(id, opts) {
  // minZoom is set on the map itself: otherwise Leaflet takes the zoom range from the tile layers,
  // and the buildings layer (minZoom 15) would pin the whole map at zoom >= 15.
  const map = L.map(id, Object.assign({ preferCanvas: true, zoomControl: true, minZoom: 5, maxZoom: 19, zoomSnap: 0.5 }, opts || {}));
  if (cfg.basemap_url) {
    L.tileLayer(cfg.basemap_url, { maxZoom: 19, attribution: cfg.basemap_attribution || "" }).addTo(map);
  }
  // The database base layers (areas, buildings) sit in their own pane under every overlay.
  map.createPane("base").style.zIndex = 250;
  map._baseRenderer = L.canvas({ pane: "base" });
  map.setView([34.0, 113.0], 12);
  window.GG_MAP = map; // one map per page; the browser tests read its view
  return map;
}

/** The areas (and, from zoom 15, the buildings) under ``area``: with no base map, they are the base.
    Resolves to the areas' FeatureCollection, or null when they could not be loaded. */
export async function addBase(map, area) {
  const base = L.layerGroup().addTo(map);
  try {
    const fc = await api("/api/v1/layers/areas?include_self=true&parent=" + area.slice(0, Math.min(area.length, 12)));
    L.geoJSON(fc, { interactive: false, pane: "base", renderer: map._baseRenderer, style: { color: OUTLINE.area, weight: 1.5, fill: !cfg.basemap_url, fillColor: OUTLINE.area_fill, fillOpacity: 0.6, dashArray: "4 3" } }).addTo(base);
    if (L.vectorGrid) {
      L.vectorGrid.protobuf("/tiles/buildings/{z}/{x}/{y}.mvt?area=" + area.slice(0, 12), {
        minZoom: 15, interactive: false, pane: "base",
        vectorTileLayerStyles: { buildings: { color: OUTLINE.building, weight: 1, fill: true, fillColor: OUTLINE.building_fill, fillOpacity: 0.8, radius: 2 } },
      }).addTo(base);
    }
    return fc;
  } catch (e) { toast(e.message); return null; }
}

/** The active grids under ``area`` as vector-tile outlines. */
export function addGridTiles(map, area, opts) {
  if (!L.vectorGrid) return null;
  return L.vectorGrid.protobuf("/tiles/grids/{z}/{x}/{y}.mvt?area=" + area, Object.assign({
    interactive: false,
    vectorTileLayerStyles: { grids: { color: OUTLINE.grid, weight: 1, fill: false } },
  }, opts || {})).addTo(map);
}

/** A legend box: ``items`` are [colour (a CSS background), text]. */
export function legend(map, title, items, pos) {
  const ctl = L.control({ position: pos || "bottomright" });
  ctl.onAdd = function () {
    const div = L.DomUtil.create("div", "legend");
    div.innerHTML = "<b>" + title + "</b><br>" + items.map(([c, t]) => '<i style="background:' + c + '"></i>' + t).join("<br>");
    return div;
  };
  ctl.addTo(map);
  return ctl;
}

/** Fit the view to ``layer`` (if it has a valid extent). */
export function fitTo(map, layer) {
  const b = layer.getBounds && layer.getBounds();
  if (b && b.isValid()) map.fitBounds(b, { padding: [20, 20], maxZoom: 17 });
}
