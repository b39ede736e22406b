/* The phone page's service worker, served at /m/sw.js so that its scope is /m/ (app/web/pages.py).
   It keeps the page, its modules and the lists it shows in one cache, network first: online the
   worker always gets the server's answer, offline the last one. Writes (reports, check-ins) are
   never touched here: the page queues them itself (offline.js) with their Idempotency-Keys.
   Workbox's routing and strategies come from our own origin (web/vendor.sh), never a CDN. */
/* global workbox */
importScripts("/static/vendor/workbox/workbox-sw.js");
workbox.setConfig({ modulePathPrefix: "/static/vendor/workbox/", debug: false });

const CACHE = "gridgov-phone-v1";
// The page and everything it loads, fetched at install so the first offline start works too.
const SHELL = [
  "/m/",
  "/static/gridgov/worker.js",
  "/static/gridgov/offline.js",
  "/static/gridgov/duties_phone.js",
  "/static/gridgov/register_phone.js",
  "/static/gridgov/api.js",
  "/static/gridgov/page.js",
  "/static/gridgov/format.js",
  "/static/gridgov/map.js",
  "/static/gridgov/palette.js",
  "/static/gridgov/app.css",
  "/static/gridgov/phone.css",
  "/static/vendor/leaflet/leaflet.js",
  "/static/vendor/leaflet/leaflet.css",
  "/static/vendor/idb-keyval/index.js",
];
// Lists the page reads (its own tasks, due visits, categories, labels): the last answer offline.
const LISTS = ["/api/v1/incident-categories", "/api/v1/meta", "/api/v1/incidents/mine", "/api/v1/visits/due",
  "/api/v1/duties/mine", "/api/v1/layers/buildings", "/api/v1/register/codes"];

const { registerRoute } = workbox.routing;
const { NetworkFirst } = workbox.strategies;
const networkFirst = new NetworkFirst({ cacheName: CACHE, networkTimeoutSeconds: 5 });

self.addEventListener("install", (event) => {
  // The shell must be complete; each list is kept if it can be had (a list the user may not read
  // is simply not cached).
  event.waitUntil(caches.open(CACHE)
    .then((c) => c.addAll(SHELL).then(() => Promise.all(LISTS.map((u) => c.add(u).catch(() => null)))))
    .then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("gridgov-phone-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

registerRoute(
  ({ request, url }) => request.method === "GET" && url.origin === self.location.origin &&
    (SHELL.includes(url.pathname) || LISTS.includes(url.pathname) || url.pathname.startsWith("/static/")),
  networkFirst,
);
