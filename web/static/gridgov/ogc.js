/* The OGC API – Features pages (app/ogc, f=html): the page's features on a map. The page embeds
   them as CRS84 GeoJSON (the same document as f=json); pages in another CRS show no map. */

import { fitTo, makeMap } from "./map.js";
import { OUTLINE } from "./palette.js";

const data = document.getElementById("ogc-features");
if (data && document.getElementById("ogc-map")) {
  const doc = JSON.parse(data.textContent);
  const map = makeMap("ogc-map");
  const layer = L.geoJSON(doc, {
    style: () => ({ color: OUTLINE.grid, weight: 2, fillOpacity: 0.08 }),
    pointToLayer: (_f, latlng) => L.circleMarker(latlng, { radius: 5, color: OUTLINE.grid }),
  }).addTo(map);
  fitTo(map, layer);
}
