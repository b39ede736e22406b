/* The audits page: choose an area, run a coverage audit (POST /api/v1/audits, with a spinner and
   the seconds it has taken), read past runs and what changed since the run before (the service
   compares, once: GET /api/v1/audits), and a run's findings grouped by kind, filterable by kind and
   by community/grid; a finding clicked in the list is zoomed to and highlighted on the map. */

import { api } from "./api.js";
import { cfg, el, esc, toast, empty } from "./page.js";
import { placeLabels, roadLabels } from "./labels.js";
import { makeMap, addBase, legend } from "./map.js";
import { AUDIT } from "./palette.js";
import { dateTime, number } from "./format.js";

const SHOWN = 200; // findings listed per kind before "显示更多" (a county run holds ~10,000)
const SEVERITY = { error: "严重", warning: "提醒" };

let area = cfg.area;
let run = null; // the run shown: AuditPublic
let layers = []; // finding index → its Leaflet layer (or null: no geometry)
let picked = null;
const map = makeMap("map");
// Township, community and grid names by zoom, road names close in (labels.js), for the area of the
// run shown.
const names = placeLabels(map);
roadLabels(map);
let named = null;
function nameArea(code) {
  if (named === code) return;
  named = code;
  api("/api/v1/layers/grids?f=geojson&area=" + code).then((fc) => names.add(fc.features), () => null);
}
const findingsLayer = L.featureGroup().addTo(map);
let baseLayer = null;
legend(map, "审计问题", [[AUDIT.error, "严重"], [AUDIT.warning, "提醒"], [AUDIT.picked, "当前选中"]]);

const styleOf = (f) => ({ color: AUDIT[f.severity] || AUDIT.error, weight: 3, fillOpacity: 0.4, radius: 6 });

function kindsOf(counts) {
  return Object.entries(counts || {}).map(([k, n]) => label(k) + " " + n).join("、");
}

let kindLabels = {}; // from the runs listing
const label = (kind) => kindLabels[kind] || kind;

/* ---- the area */

async function areaChoices() {
  const pick = el("area-pick");
  const options = [];
  for (const c of cfg.crumbs || []) options.push([c.code, c.name]);
  try {
    const fc = await api("/api/v1/layers/areas?parent=" + encodeURIComponent(cfg.jurisdiction));
    for (const f of fc.features) options.push([f.properties.code, "　" + f.properties.name]);
  } catch (e) { /* the code box still works */ }
  if (!options.some(([c]) => c === area)) options.push([area, area]);
  const seen = new Set();
  pick.innerHTML = options.filter(([c]) => !seen.has(c) && seen.add(c))
    .map(([c, n]) => '<option value="' + esc(c) + '">' + esc(n) + "（" + esc(c) + "）</option>").join("");
  pick.value = area;
}

async function chooseArea(code) {
  area = code;
  history.replaceState(null, "", "/audits?area=" + encodeURIComponent(code));
  if (baseLayer) { map.removeLayer(baseLayer); baseLayer = null; }
  await loadRuns(true);
}

el("area-pick").addEventListener("change", (e) => { el("area-code").value = ""; chooseArea(e.target.value); });
el("area-code").addEventListener("change", (e) => {
  const code = e.target.value.trim();
  if (!/^\d{6}(\d{3})?(\d{3})?(\d{3})?$/.test(code)) { toast("请输入6、9、12或15位区划/网格编码"); return; }
  chooseArea(code);
});

/* ---- running */

const runButton = el("run");
if (runButton) runButton.addEventListener("click", runAudit);

async function runAudit() {
  runButton.disabled = true;
  const began = performance.now();
  el("elapsed").textContent = "0";
  el("progress").hidden = false;
  const tick = setInterval(() => { el("elapsed").textContent = String(Math.floor((performance.now() - began) / 1000)); }, 250);
  try {
    const made = await api("/api/v1/audits?area=" + encodeURIComponent(area), { method: "POST" });
    toast("审计完成：发现问题 " + made.findings.length + " 项，用时 " + made.seconds.toFixed(1) + " 秒", true);
    await loadRuns(false);
    show(made);
  } catch (e) {
    toast(e.message);
  } finally {
    clearInterval(tick);
    el("progress").hidden = true;
    runButton.disabled = false;
  }
}

/* ---- past runs */

function changeText(ch) {
  const n = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
  const add = n(ch.new), gone = n(ch.resolved);
  return '<span class="new">新增 ' + add + '</span> · <span class="resolved">整改 ' + gone + "</span>";
}

async function loadRuns(openNewest) {
  const body = el("runs");
  let listing;
  try { listing = await api("/api/v1/audits?area=" + encodeURIComponent(area)); }
  catch (e) { toast(e.message); body.innerHTML = ""; return; }
  kindLabels = listing.kind_labels;
  body.innerHTML = listing.runs.map((r) =>
    '<tr data-id="' + r.id + '" tabindex="0"><td>' + esc(dateTime(r.started_at)) + "</td><td>" + esc(r.area_name) +
    "</td><td>" + number(r.total) + "</td><td>" + (r.previous_run_id ? changeText(r.changes) : "首次") + "</td></tr>").join("");
  empty(el("runs-empty"), listing.runs.length ? null : "该区域尚无审计记录" + (cfg.may_run ? "，点击“运行审计”开始" : ""));
  for (const tr of body.querySelectorAll("tr")) {
    const open = () => openRun(Number(tr.dataset.id));
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
  }
  if (openNewest) {
    if (listing.runs.length) await openRun(listing.runs[0].id);
    else { run = null; el("run-view").hidden = true; findingsLayer.clearLayers(); }
  }
}

async function openRun(id) {
  try { show(await api("/api/v1/audits/" + id)); } catch (e) { toast(e.message); }
}

/* ---- one run */

function show(audit) {
  run = audit;
  for (const tr of el("runs").querySelectorAll("tr")) tr.classList.toggle("sel", Number(tr.dataset.id) === audit.id);
  el("run-view").hidden = false;
  el("run-title").textContent = "审计 #" + audit.id + "：" + audit.area_name + "，问题 " + audit.findings.length + " 项";
  for (const f of ["geojson", "csv", "html"]) el("x-" + f).href = "/api/v1/audits/" + audit.id + "?f=" + f;
  const c = audit.comparison;
  el("changes").innerHTML = c.previous_run_id
    ? "<p>与上次（#" + c.previous_run_id + "，" + esc(dateTime(c.previous_started_at)) + "）相比：" + changeText(c.by_kind) + "</p>" +
      (Object.keys(c.by_kind.new).length ? '<p class="new">新增：' + esc(kindsOf(c.by_kind.new)) + "</p>" : "") +
      (Object.keys(c.by_kind.resolved).length ? '<p class="resolved">已整改：' + esc(kindsOf(c.by_kind.resolved)) + "</p>" : "")
    : "<p>该区域此前没有审计记录。</p>";
  // Filters: the kinds present, and the communities and grids the findings name.
  const kinds = {};
  const places = new Set();
  for (const f of audit.findings) {
    kinds[f.kind] = f.kind_label;
    for (const o of f.objects) if (/^\d{12}(\d{3})?$/.test(o)) { places.add(o.slice(0, 12)); places.add(o); }
  }
  el("kind-filter").innerHTML = '<option value="">全部类别</option>' + Object.entries(kinds).map(([k, l]) => '<option value="' + esc(k) + '">' + esc(l) + "</option>").join("");
  el("place-filter").innerHTML = '<option value="">全部</option>' + [...places].sort().map((p) => '<option value="' + p + '">' + (p.length === 12 ? "社区 " : "　网格 ") + p + "</option>").join("");
  // The list first (what the auditor reads), the map after it in slices, so that a county's run of
  // ~10,000 findings shows its groups at once (bench/bench_audit_page.py).
  renderGroups();
  drawFindings();
  nameArea(audit.area_code);
  if (!baseLayer) addBase(map, audit.area_code).then((fc) => { baseLayer = true; if (fc) names.add(fc.features); if (!findingsLayer.getLayers().length && fc) map.fitBounds(L.geoJSON(fc).getBounds()); });
}

const CHUNK = 1500; // findings made into map layers per slice of work
let drawing = 0; // the drawing under way (a newer run shown stops an older one's slices)
const tip = L.tooltip({ sticky: true });

/** Each finding's layer, made in slices between frames; one tooltip and one click handler for all. */
function drawFindings() {
  findingsLayer.clearLayers();
  picked = null;
  layers = new Array(run.findings.length).fill(null);
  const mine = ++drawing, findings = run.findings;
  let next = 0;
  function slice() {
    if (mine !== drawing) return;
    const end = Math.min(next + CHUNK, findings.length);
    for (let i = next; i < end; i++) {
      const f = findings[i];
      if (!f.geometry) continue;
      const layer = L.GeoJSON.geometryToLayer({ type: "Feature", geometry: f.geometry, properties: {} }, { pointToLayer: (_p, ll) => L.circleMarker(ll, styleOf(f)) });
      if (layer.setStyle) layer.setStyle(styleOf(f));
      layer.gg_i = i;
      if (layer.eachLayer) layer.eachLayer((part) => { part.gg_i = i; });
      layers[i] = layer;
      if (matches(f)) findingsLayer.addLayer(layer);
    }
    next = end;
    if (next < findings.length) { setTimeout(slice, 0); return; }
    const b = findingsLayer.getBounds();
    if (b.isValid()) map.fitBounds(b, { padding: [20, 20], maxZoom: 17 });
  }
  setTimeout(slice, 0);
}

const boundsOf = (layer) => (layer.getBounds ? layer.getBounds() : L.latLngBounds([layer.getLatLng()]));
const indexOf = (e) => (e.propagatedFrom && e.propagatedFrom.gg_i != null ? e.propagatedFrom.gg_i : e.layer && e.layer.gg_i);
const tipText = (i) => esc(run.findings[i].kind_label) + "：" + esc(run.findings[i].message);
findingsLayer.on("click", (e) => { const i = indexOf(e); if (i != null) pick(i, false); });
findingsLayer.on("mouseover", (e) => { const i = indexOf(e); if (i != null) tip.setLatLng(e.latlng).setContent(tipText(i)).addTo(map); });
findingsLayer.on("mousemove", (e) => tip.setLatLng(e.latlng));
findingsLayer.on("mouseout", () => tip.remove());

function matches(f) {
  const kind = el("kind-filter").value, place = el("place-filter").value;
  if (kind && f.kind !== kind) return false;
  if (place && !f.objects.some((o) => o === place || (place.length === 12 && o.length === 15 && o.slice(0, 12) === place))) return false;
  return true;
}

function renderGroups() {
  const groups = new Map();
  run.findings.forEach((f, i) => {
    const shown = matches(f);
    if (layers[i]) { if (shown) findingsLayer.addLayer(layers[i]); else findingsLayer.removeLayer(layers[i]); }
    if (!shown) return;
    if (!groups.has(f.kind)) groups.set(f.kind, { label: f.kind_label, items: [] });
    groups.get(f.kind).items.push(i);
  });
  const box = el("groups");
  box.innerHTML = "";
  for (const [kind, g] of groups) {
    const d = document.createElement("details");
    d.className = "kind";
    d.dataset.kind = kind;
    d.open = groups.size === 1 || g.items.length <= 20;
    d.innerHTML = "<summary>" + esc(g.label) + '<span class="n">' + number(g.items.length) + ' 项</span></summary><ul class="findings"></ul>';
    box.appendChild(d);
    listInto(d.querySelector("ul"), g.items, 0);
  }
  empty(box, groups.size ? null : run.findings.length ? "没有符合筛选条件的问题" : "本次审计未发现问题");
}

function listInto(ul, items, from) {
  const html = items.slice(from, from + SHOWN).map((i) => {
    const f = run.findings[i];
    return '<li><button type="button" data-i="' + i + '" class="sev-' + esc(f.severity) + '">' + (f.new ? '<b class="new">新</b> ' : "") +
      esc(f.message) + "（" + esc(SEVERITY[f.severity] || f.severity) + (f.geometry ? "" : "，无图形") + ")</button></li>";
  }).join("");
  ul.insertAdjacentHTML("beforeend", html);
  if (items.length > from + SHOWN) {
    const more = document.createElement("li");
    more.innerHTML = '<button type="button" class="more">显示更多（还有 ' + (items.length - from - SHOWN) + " 项）</button>";
    more.querySelector("button").addEventListener("click", () => { more.remove(); listInto(ul, items, from + SHOWN); });
    ul.appendChild(more);
  }
}

el("groups").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-i]");
  if (b) pick(Number(b.dataset.i), true);
});
el("kind-filter").addEventListener("change", renderGroups);
el("place-filter").addEventListener("change", renderGroups);

function pick(i, zoom) {
  if (picked != null && layers[picked]) { const f = run.findings[picked]; layers[picked].setStyle(styleOf(f)); }
  for (const b of el("groups").querySelectorAll("button.sel")) b.classList.remove("sel");
  const b = el("groups").querySelector('button[data-i="' + i + '"]');
  if (b) b.classList.add("sel");
  picked = i;
  const layer = layers[i];
  if (!layer) { toast(run.findings[i].geometry ? "地图仍在绘制，请稍候再点" : "该问题没有图形，无法在地图上定位"); return; }
  layer.setStyle({ color: AUDIT.picked, weight: 6, fillOpacity: 0.6 });
  layer.bringToFront();
  if (zoom) {
    const bounds = boundsOf(layer);
    if (bounds.getNorthEast().equals(bounds.getSouthWest())) map.setView(bounds.getCenter(), 18);
    else map.fitBounds(bounds, { padding: [40, 40], maxZoom: 18 });
  }
  tip.setLatLng(boundsOf(layer).getCenter()).setContent(tipText(i)).addTo(map);
}

areaChoices();
loadRuns(true);
