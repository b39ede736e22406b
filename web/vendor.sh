#!/bin/sh
# Fetch the front-end libraries from the npm registry at build time and copy the files the pages
# use into web/static/vendor/ (committed), so the app serves every asset itself: no CDN at run time.
# Leaflet itself is vendored by the audits pages (web/static/vendor/leaflet/) and reused here.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work="$here/../build/web-vendor"
mkdir -p "$work"
cp "$here/package.json" "$work/"
(cd "$work" && npm install --no-audit --no-fund)
nm="$work/node_modules"
v="$here/static/vendor"
mkdir -p "$v/markercluster" "$v/heat" "$v/vectorgrid" "$v/geoman"
cp "$nm/leaflet.markercluster/dist/leaflet.markercluster.js" \
   "$nm/leaflet.markercluster/dist/MarkerCluster.css" \
   "$nm/leaflet.markercluster/dist/MarkerCluster.Default.css" \
   "$nm/leaflet.markercluster/MIT-LICENCE.txt" "$v/markercluster/"
cp "$nm/leaflet.heat/dist/leaflet-heat.js" "$nm/leaflet.heat/LICENSE" "$v/heat/"
cp "$nm/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js" "$v/vectorgrid/"
cp "$nm/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js" \
   "$nm/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css" \
   "$nm/@geoman-io/leaflet-geoman-free/LICENSE" "$v/geoman/"
# The phone page's offline queue (IndexedDB, an ES module) and its service worker's routing and
# caching strategies (classic scripts the worker loads with importScripts from our own origin).
mkdir -p "$v/idb-keyval" "$v/workbox"
cp "$nm/idb-keyval/dist/index.js" "$nm/idb-keyval/LICENCE" "$v/idb-keyval/"
cp "$nm/workbox-sw/build/workbox-sw.js" "$nm/workbox-core/build/workbox-core.prod.js" \
   "$nm/workbox-routing/build/workbox-routing.prod.js" \
   "$nm/workbox-strategies/build/workbox-strategies.prod.js" "$nm/workbox-sw/LICENSE" "$v/workbox/"
sed -i '/sourceMappingURL/d' "$v/idb-keyval/index.js" "$v/workbox/"*.js
# The accessibility checker the browser tests inject into every page (tests/web/test_accessibility.py):
# Deque's axe-core, MPL-2.0 (https://github.com/dequelabs/axe-core); no page loads it by itself.
mkdir -p "$v/axe-core"
cp "$nm/axe-core/axe.min.js" "$nm/axe-core/LICENSE" "$nm/axe-core/LICENSE-3RD-PARTY.txt" "$v/axe-core/"
# The maps are not shipped, so drop the comments that point at them.
sed -i '/sourceMappingURL/d' "$v/markercluster/leaflet.markercluster.js" "$v/geoman/leaflet-geoman.min.js"
echo "vendored into $v"
