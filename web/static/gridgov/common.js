/* Shared helpers for every page: config, API calls that surface the API's own message, the map with
   a configurable (possibly empty) base layer, legends, empty states and toasts. */
(function () {
  "use strict";
  const cfgEl = document.getElementById("gg-config");
  const cfg = cfgEl ? JSON.parse(cfgEl.textContent) : {};

  function toast(msg, ok) {
    const el = document.getElementById("toast");
    el.textContent = msg;
    el.className = "toast" + (ok ? " ok" : "");
    el.hidden = false;
    clearTimeout(toast._t);
    toast._t = setTimeout(() => { el.hidden = true; }, ok ? 2500 : 8000);
  }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  // The page session is a cookie, so every write echoes the CSRF cookie in a header (double submit):
  // another site can make the browser send our cookies, but cannot read this one.
  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)gridgov_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  // Every failing call throws an ApiError whose message is the API's "detail" (Chinese).
  async function api(url, opts) {
    opts = Object.assign({ credentials: "same-origin", headers: {} }, opts || {});
    if (opts.json !== undefined) {
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
      delete opts.json;
    }
    if (!/^(GET|HEAD|OPTIONS)$/i.test(opts.method || "GET")) opts.headers["X-CSRF-Token"] = csrfToken();
    const res = await fetch(url, opts);
    const type = res.headers.get("content-type") || "";
    const body = type.includes("json") ? await res.json() : await res.text();
    if (!res.ok) {
      let msg = (body && body.detail) || ("请求失败（" + res.status + "）");
      if (typeof msg !== "string") msg = JSON.stringify(msg);
      if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); }
      throw new ApiError(res.status, msg);
    }
    return body;
  }

  // A missing endpoint (404 without a domain message) means "that module is not deployed yet".
  function isMissing(err) { return err instanceof ApiError && err.status === 404 && /Not Found/.test(err.message); }

  function makeMap(id, opts) {
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

  // With no base map, the areas and buildings from the database are the base.
  async function addBase(map, area) {
    const base = L.layerGroup().addTo(map);
    try {
      const fc = await api("/api/v1/layers/areas?include_self=true&parent=" + area.slice(0, Math.min(area.length, 12)));
      L.geoJSON(fc, { interactive: false, pane: "base", renderer: map._baseRenderer, style: { color: "#5b6b7c", weight: 1.5, fill: !cfg.basemap_url, fillColor: "#f7f3ea", fillOpacity: 0.6, dashArray: "4 3" } }).addTo(base);
      if (L.vectorGrid) {
        L.vectorGrid.protobuf("/tiles/buildings/{z}/{x}/{y}.mvt?area=" + area.slice(0, 12), {
          minZoom: 15, interactive: false, pane: "base",
          vectorTileLayerStyles: { buildings: { color: "#9aa5b1", weight: 1, fill: true, fillColor: "#cbd2d9", fillOpacity: 0.8, radius: 2 } },
        }).addTo(base);
      }
      return fc;
    } catch (e) { toast(e.message); return null; }
  }

  function legend(map, title, items, pos) {
    const ctl = L.control({ position: pos || "bottomright" });
    ctl.onAdd = function () {
      const div = L.DomUtil.create("div", "legend");
      div.innerHTML = "<b>" + title + "</b><br>" + items.map(([c, t]) => '<i style="background:' + c + '"></i>' + t).join("<br>");
      return div;
    };
    ctl.addTo(map);
    return ctl;
  }

  function empty(container, msg) {
    let el = container.querySelector(".empty");
    if (!msg) { if (el) el.remove(); return; }
    if (!el) { el = document.createElement("div"); el.className = "empty"; container.appendChild(el); }
    el.textContent = msg;
  }

  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }

  function fitTo(map, layer) {
    const b = layer.getBounds && layer.getBounds();
    if (b && b.isValid()) map.fitBounds(b, { padding: [20, 20], maxZoom: 17 });
  }

  window.GG = { cfg, api, csrfToken, ApiError, isMissing, makeMap, addBase, legend, empty, toast, esc, fitTo };
})();
