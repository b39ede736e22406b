/* Dispatch console and read-only cases map.

   - Open cases clustered on the map and listed by urgency, with filters; the grid layer as vector
     tiles. Live: GET /api/v1/incident-events (Server-Sent Events) pushes every new case and every
     move in the console's area; the list reloads on each (debounced), a new case is announced,
     with a sound if the dispatcher turned it on. No polling.
   - Search (case number, reporter's whole phone number, address): GET /api/v1/incidents?q=.
   - A click opens the case: its clock, history, grid, leader, and one button per move the API says
     this caller may make now (the case's ``actions``; nothing derived here). Moves that take input
     open a dialog built from the move's ``needs`` (unit and person from the dispatch options, a
     reason, hours, a satisfaction).
   - After a move the case stays in the list, marked, even when it no longer matches the filter,
     until the dispatcher opens another case or changes the filter; the map does not move.
   - 督办队列: overdue cases, most overdue first, with a countdown that ticks every second.
   Every label (states, moves, history events, urgency, lights, ratings) comes from GET /api/v1/meta. */
import { api, isMissing, label, meta } from "./api.js";
import { dateTime, number, timeOfDay } from "./format.js";
import { placeLabels, roadLabels } from "./labels.js";
import { addBase, addGridTiles, fitTo, legend, makeMap } from "./map.js";
import { LIGHT, STATE_RING, STATE_RING_OTHER, URGENCY as COLORS } from "./palette.js";
import { cfg, el, empty, esc, toast } from "./page.js";

const READONLY = Boolean(cfg.readonly);
const SOUND_KEY = "gridgov.console.sound";
let labels = { states: {}, in_progress_states: [], transitions: {}, events: {}, categories: {}, urgency: {}, lights: {}, satisfaction: {}, requests: {} };
const stateLabel = (s) => label(labels.states, s);
const actionLabel = (a) => label(labels.transitions, a);
const eventLabel = (a) => label(labels.events, a);
const urgencyLabel = (u) => label(labels.urgency, u);
const lightLabel = (l) => label(labels.lights, l);
// A case's colour is its deadline light (the current stage's clock, app/incidents/deadlines.py);
// a case without a clock (verified, awaiting closure) keeps the layer's urgency class.
const colour = (p) => LIGHT[p.light] || COLORS[p.urgency];
const RANK = { red: 3, amber: 2, green: 1, paused: 0 };
const categoryLabel = (code) => label(labels.categories, code);

const q = new URLSearchParams(location.search);
const f = { state: el("f-state"), category: el("f-category"), area: el("f-area"), overdue: el("f-overdue") };
// Categories are data: the filter lists the big classes (大类, each covering its small classes)
// with their small classes under them.
const categoriesLoaded = api("/api/v1/incident-categories").then((cats) => {
  const big = cats.filter((c) => !c.parent_code);
  for (const b of big) {
    const group = document.createElement("optgroup");
    group.label = b.name;
    group.appendChild(new Option("全部" + b.name, b.code));
    for (const c of cats.filter((x) => x.parent_code === b.code)) group.appendChild(new Option(c.name, c.code));
    f.category.appendChild(group);
  }
  f.category.value = q.get("category") || "";
}).catch(() => {});
f.area.value = q.get("area") || cfg.area;
f.overdue.checked = q.get("overdue") === "true";
const area = () => f.area.value.trim() || cfg.area;

const map = makeMap("map");
const wrap = document.querySelector(".mapwrap");
let fitted = false, selected = null, lastData = null, current = null;
// The case just acted on: kept in the list (marked) while it no longer matches the filter.
let kept = null;
// Township, community and grid names by zoom, road names close in (labels.js); a role that may
// not read the registry's grids gets the area names only.
const names = placeLabels(map);
roadLabels(map);
addBase(map, cfg.area).then((fc) => { if (fc) names.add(fc.features); if (fc && !fitted) fitTo(map, L.geoJSON(fc)); });
addGridTiles(map, cfg.area, { maxNativeZoom: 18 });
api("/api/v1/layers/grids?f=geojson&area=" + cfg.area).then((fc) => names.add(fc.features), () => null);

const clusters = L.markerClusterGroup({
  chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50,
  iconCreateFunction: (cluster) => {
    // A cluster takes the colour of its most urgent case.
    const kids = cluster.getAllChildMarkers();
    const worst = kids.reduce((w, m) => ((RANK[m.options.light] || 0) > (RANK[w] || 0) ? m.options.light : w), "green");
    return L.divIcon({ html: '<div style="background:' + LIGHT[worst] + ";color:" + (worst === "red" ? "#fff" : "#101828") + ';border-radius:50%;width:34px;height:34px;line-height:34px;text-align:center;font-weight:700;border:2px solid #fff;box-shadow:0 0 3px rgba(0,0,0,.4)">' + kids.length + "</div>", className: "case-cluster", iconSize: [34, 34] });
  },
}).addTo(map);

function query() {
  const p = new URLSearchParams();
  p.set("area", area());
  if (f.state.value) p.set("state", f.state.value);
  if (f.category.value) p.set("category", f.category.value);
  if (f.overdue.checked) p.set("overdue", "true");
  return p;
}

/** A duration in seconds as the county reads it: "2天3小时05分", "3小时05分09秒", "12分30秒". */
function span(seconds, coarse) {
  const s = Math.abs(Math.trunc(seconds)), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  const two = (n) => String(n).padStart(2, "0");
  if (d) return d + "天" + h + "小时" + (coarse ? "" : two(m) + "分");
  if (h) return h + "小时" + two(m) + "分" + (coarse ? "" : two(s % 60) + "秒");
  return m + "分" + (coarse ? "" : two(s % 60) + "秒");
}
/** Time left (or overdue) before a deadline; ``coarse``: without seconds, for lists that do not tick. */
const left = (seconds, coarse) => (seconds < 0 ? "超期" : "剩余") + span(seconds, coarse);

function marker(p, lat, lng) {
  const m = L.circleMarker([lat, lng], { radius: 7, weight: 3, color: STATE_RING[p.state] || STATE_RING_OTHER, fillColor: colour(p), fillOpacity: 0.95, light: p.light });
  m.bindTooltip(esc(p.case_no) + " " + esc(p.category_name || p.category_code) + "<br>" + esc(stateLabel(p.state)) + " · " + esc(p.light ? lightLabel(p.light) : urgencyLabel(p.urgency)));
  m.on("click", () => open(p.id));
  return m;
}

/** The pill of a case in a list: its light, or the layer's urgency class without a clock. */
function pill(p) {
  return p.light ? '<span class="light ' + esc(p.light) + '">' + esc(lightLabel(p.light)) + "</span>" : '<span class="pill ' + esc(p.urgency) + '">' + esc(urgencyLabel(p.urgency)) + "</span>";
}

/** Time left on the current stage's clock, coarse (the list does not tick). */
function clockText(p) {
  if (p.light === "paused") return lightLabel("paused") + "，计时暂停";
  if (p.stage_due_at) return left((Date.parse(p.stage_due_at) - Date.now()) / 1000, true);
  return p.minutes_left != null ? left(p.minutes_left * 60, true) : "";
}

function caseItem(p, extra) {
  const clock = clockText(p);
  return '<li data-id="' + p.id + '" class="' + (p.id === selected ? "sel " : "") + (extra ? "kept" : "") + '">' + pill(p) + " <b>" + esc(p.case_no) + "</b> " + esc(p.category_name || p.category_code) +
    (p.supervised ? ' <span class="pill overdue">督办</span>' : "") +
    '<br><span class="muted">' + esc(stateLabel(p.state)) + (clock ? " · " + clock : "") + " · " + esc(p.summary || "") + "</span>" +
    (extra ? '<br><span class="kept-note">' + esc(extra) + "</span>" : "") + "</li>";
}

function keptOutside(fc) {
  return kept && !fc.features.some((x) => x.properties.id === kept.props.id) ? kept : null;
}

function renderList(fc) {
  el("count").textContent = number(fc.features.length) + " 件";
  // Urgency order: the API sorts by deadline (overdue first, most overdue on top).
  const items = fc.features.slice(0, 500).map((x) => x.properties);
  const k = keptOutside(fc);
  el("cases").innerHTML = (k ? caseItem(k.props, "刚处理：已不在当前筛选中（" + stateLabel(k.props.state) + "），打开其他案件或更改筛选后移出") : "") +
    items.map((p) => caseItem(p, kept && kept.props.id === p.id ? "刚处理" : "")).join("") +
    (fc.features.length > 500 ? '<li class="muted">仅列出最紧急的 500 件，请用筛选缩小范围</li>' : "");
  el("cases").querySelectorAll("li[data-id]").forEach((li) => li.addEventListener("click", () => open(+li.dataset.id, true)));
}

let refreshing = null, again = false;
/** Reload the list and the map (one at a time; a call while one runs runs once more after it). */
async function refresh() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    do {
      again = false;
      await load();
    } while (again);
  })();
  try { await refreshing; } finally { refreshing = null; }
}

async function load() {
  const p = query();
  history.replaceState(null, "", "?" + p);
  let fc;
  try {
    fc = await api("/api/v1/layers/cases?" + p);
  } catch (e) {
    empty(wrap, isMissing(e) ? "事件接口尚未上线" : e.message);
    if (!(e.status === 404)) toast(e.message);
    return;
  }
  lastData = fc;
  clusters.clearLayers();
  const markers = fc.features.map((x) => marker(x.properties, x.geometry.coordinates[1], x.geometry.coordinates[0]));
  const k = keptOutside(fc);
  if (k) markers.push(marker(k.props, k.lat, k.lng));
  clusters.addLayers(markers);
  empty(wrap, fc.features.length || k ? null : "当前筛选条件下没有在办案件");
  renderList(fc);
  el("updated").textContent = "列表更新于 " + timeOfDay();
  el("updated").hidden = false;
  // Only the first load (or a new filter) frames the cases; a refresh never moves the map.
  if (!fitted && fc.features.length) { fitTo(map, clusters); fitted = true; }
  loadQueue();
}

let refreshTimer = null, searchTimer = null;
function searchSoon() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => { if (searched) search(searched, false); }, 300);
}
function refreshSoon(ms) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, ms);
}

// ---- the 督办 queue: overdue cases with a live countdown ------------------------------------------
let queueItems = [];
async function loadQueue() {
  // Every open case of the area whose current stage's clock is red (the layer's overdue filter is
  // that light), the longest overdue first; the list's own filters do not apply here.
  let fc;
  try { fc = await api("/api/v1/layers/cases?" + new URLSearchParams({ area: area(), overdue: "true" })); } catch (e) { return; }
  const due = (p) => (p.stage_due_at ? Date.parse(p.stage_due_at) : Date.parse(p.deadline));
  queueItems = fc.features.map((x) => x.properties).sort((a, b) => due(a) - due(b));
  el("queue-count").textContent = queueItems.length ? "(" + number(queueItems.length) + ")" : "";
  el("queue").innerHTML = queueItems.length ? queueItems.map((p) =>
    '<li data-id="' + p.id + '">' + pill(p) + " <b>" + esc(p.case_no) + "</b> " + esc(p.category_name || p.category_code) +
    (p.supervised ? ' <span class="pill overdue">督办</span>' : "") +
    '<br><span class="muted">' + esc(stateLabel(p.state)) + " · " + esc(p.grid_code) + '</span> <b class="countdown" data-due="' + due(p) + '"></b></li>').join("")
    : '<li class="muted">没有超期案件</li>';
  el("queue").querySelectorAll("li[data-id]").forEach((li) => li.addEventListener("click", () => open(+li.dataset.id, true)));
  tick();
}

/** Every countdown on the page (queue and detail), once a second. */
function tick() {
  const now = Date.now();
  document.querySelectorAll(".countdown[data-due]").forEach((b) => {
    const secs = (+b.dataset.due - now) / 1000;
    b.textContent = left(secs);
    b.classList.toggle("late", secs < 0);
  });
}
setInterval(tick, 1000);

function showTab(which) {
  const list = which === "list";
  el("pane-list").hidden = !list;
  el("pane-queue").hidden = list;
  el("tab-list").classList.toggle("active", list);
  el("tab-queue").classList.toggle("active", !list);
  el("tab-list").setAttribute("aria-selected", String(list));
  el("tab-queue").setAttribute("aria-selected", String(!list));
}
el("tab-list").addEventListener("click", () => showTab("list"));
el("tab-queue").addEventListener("click", () => showTab("queue"));

// ---- search ---------------------------------------------------------------------------------------
let searched = null; // the text of the results shown, so a pushed change can refresh them
el("search-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = el("q").value.trim();
  if (text) search(text, true);
});

async function search(text, openOne) {
  let res;
  try {
    res = await api("/api/v1/incidents?" + new URLSearchParams({ q: text, limit: "50" }));
  } catch (e) { toast(e.message); return; }
  searched = text;
  el("search").hidden = false;
  el("open-cases").hidden = true;
  el("search-count").textContent = "共 " + number(res.count) + " 件" + (res.count > res.data.length ? "，显示最近 " + res.data.length + " 件" : "");
  el("search-results").innerHTML = res.data.length ? res.data.map((c) =>
    '<li data-id="' + c.id + '"><b>' + esc(c.case_no) + "</b> " + esc(c.category_name || c.category_code) + " · " + esc(c.state_label || stateLabel(c.state)) +
    '<br><span class="muted">' + dateTime(c.reported_at) + (c.reporter_phone ? " · 报告人 " + esc(c.reporter_phone) : "") + (c.address ? " · " + esc(c.address) : "") + "</span></li>").join("")
    : '<li class="muted">没有找到与“' + esc(text) + "”相符的案件（电话须输入完整号码）</li>";
  el("search-results").querySelectorAll("li[data-id]").forEach((li) => li.addEventListener("click", () => open(+li.dataset.id, true)));
  if (openOne && res.data.length === 1) open(res.data[0].id, true);
}
el("search-clear").addEventListener("click", () => {
  searched = null;
  el("search").hidden = true;
  el("open-cases").hidden = false;
  el("q").value = "";
});

// ---- the case -------------------------------------------------------------------------------------
function clockRow(c) {
  const d = c.deadline;
  if (d && typeof d === "object") {
    const due = d.light === "paused" ? "" : ' <b class="countdown" data-due="' + (Date.now() + d.remaining_seconds * 1000) + '"></b>';
    const paused = d.light === "paused" ? "（挂账中，计时暂停；暂停时" + left(d.remaining_seconds) + "）" : "";
    return "<tr><td>期限</td><td id='d-clock'><span class='light " + esc(d.light) + "'>" + esc(d.light_label || label(labels.lights, d.light)) + "</span> " + esc(d.stage_label || "") + "环节 " + dateTime(d.due_at) + due + paused +
      (d.pending_request ? "<br><span class='muted'>待审批：" + esc(requestText(d.pending_request)) + "</span>" : "") + "</td></tr>";
  }
  const due = c.due_at || (typeof d === "string" ? d : null);
  return due ? "<tr><td>期限</td><td id='d-clock'>" + dateTime(due) + (c.overdue ? ' <span class="pill overdue">' + esc(urgencyLabel("overdue")) + "</span>" : "") + "</td></tr>" : "";
}

function requestText(r) {
  const parts = [];
  if (r.kind) parts.push(label(labels.requests, r.kind));
  if (r.hours || r.extension_hours) parts.push((r.hours || r.extension_hours) + " 小时");
  if (r.by) parts.push("申请人 " + r.by);
  if (r.reason || r.note) parts.push("理由：" + (r.reason || r.note));
  return parts.join("，");
}

async function open(id, pan) {
  if (READONLY) return;
  if (selected !== id && kept && kept.props.id !== id) { kept = null; refreshSoon(0); }
  selected = id;
  const box = el("detail");
  box.innerHTML = '<p class="muted">加载中…</p>';
  try {
    const [c, events] = await Promise.all([
      api("/api/v1/incidents/" + id),
      api("/api/v1/incidents/" + id + "/history").catch(() => null),
    ]);
    current = c;
    if (pan) map.setView([c.lat, c.lng], Math.max(map.getZoom(), 16));
    let who = null;
    try { who = await api("/api/v1/locate?crs=cgcs2000&lng=" + c.lng + "&lat=" + c.lat); } catch (e) { /* the case keeps its own routing */ }
    const hist = events ? (events.data || events) : [];
    const moves = Array.isArray(c.actions) ? c.actions : [];
    box.innerHTML =
      "<h3>" + esc(c.case_no) + " " + esc(c.category_name || c.category_code) + (c.urgent ? ' <span class="pill overdue">紧急</span>' : "") + (c.supervised ? ' <span class="pill overdue">督办</span>' : "") + "</h3>" +
      '<table class="kv"><tr><td>状态</td><td id="d-state">' + esc(c.state_label || stateLabel(c.state)) + "</td></tr>" +
      clockRow(c) +
      "<tr><td>网格</td><td>" + esc(c.grid_code) + (who && who.grid ? " " + esc(who.grid.name) : "") + "</td></tr>" +
      "<tr><td>网格长</td><td id='d-leader'>" + (who && who.leader ? esc(who.leader.name) + " " + esc(who.leader.phone || "") : esc(c.leader_name || "未配备")) + "</td></tr>" +
      "<tr><td>地址</td><td>" + esc(c.address || "—") + "</td></tr><tr><td>描述</td><td>" + esc(c.description) + "</td></tr>" +
      (c.reporter_phone || c.reporter_name ? "<tr><td>报告人</td><td id='d-reporter'>" + esc(c.reporter_name || "") + " " + esc(c.reporter_phone || "") + "</td></tr>" : "") +
      (c.follow_url ? "<tr><td>查询评价</td><td><a id='d-follow' href='" + esc(c.follow_url) + "' target='_blank' rel='noopener' title='发给报告人的链接：查看进度、办结后评价'>报告人链接</a> <button type='button' class='link' id='d-follow-copy'>复制</button></td></tr>" : "") +
      "<tr><td>承办</td><td id='d-unit'>" + esc(c.unit_name || c.unit_code || "—") + (c.assignee ? " · " + esc(c.assignee) : "") + "</td></tr></table>" +
      ((c.photos || []).length ? '<div class="photos" id="d-photos">' + c.photos.map((p, i) =>
        '<a href="/api/v1/incidents/' + c.id + "/photos/" + i + '" target="_blank" title="' + esc(p.filename) + '"><img src="/api/v1/incidents/' + c.id + "/photos/" + i + '" alt="现场照片' + (i + 1) + '"></a>').join("") + "</div>" : "") +
      (moves.length ? '<textarea id="d-note" rows="2" placeholder="处置意见（可选）"></textarea>' : "") +
      '<div class="actions" id="d-actions">' + (moves.length ? moves.map((m) => '<button data-action="' + esc(m.action) + '" class="' + (["void", "reject", "return", "refuse_extension", "refuse_suspension"].includes(m.action) ? "danger" : "") + '">' + esc(m.label || actionLabel(m.action)) + "</button>").join("") : '<span class="muted">当前没有您可执行的操作</span>') + "</div>" +
      "<h4>办理记录</h4><ol id='d-history'>" + hist.map((e) => "<li>" + dateTime(e.at) + " " + esc(e.actor) + "：" + esc(eventLabel(e.action)) + " → " + esc(stateLabel(e.to_state)) + (e.note ? "（" + esc(e.note) + "）" : "") + "</li>").join("") + "</ol>";
    const copy = el("d-follow-copy");
    if (copy) copy.addEventListener("click", () => { const url = new URL(c.follow_url, location.href).href; navigator.clipboard && navigator.clipboard.writeText(url); toast("已复制报告人链接：" + url, true); });
    box.querySelectorAll("button[data-action]").forEach((b) => b.addEventListener("click", () => start(c, moves.find((m) => m.action === b.dataset.action))));
    tick();
    renderList(lastData || { features: [] });
    return null;
  } catch (e) {
    box.innerHTML = '<p class="error">' + esc(e.message) + "</p>";
    return e;
  }
}

// A move that takes nothing but an optional note is made at once (with the note box's text);
// anything else asks in a dialog built from the move's ``needs``.
function start(c, move) {
  const needs = (move.needs || []).filter((n) => n !== "note?");
  if (!needs.length) { act(c, move, { note: el("d-note") ? el("d-note").value : "" }); return; }
  ask(c, move);
}

const NEED_LABEL = { extension_hours: "延长时间（小时）", satisfaction: "回访结果" };

async function ask(c, move) {
  const dlg = el("act-dialog"), fields = el("act-fields");
  const needs = move.needs || [];
  const has = (n) => needs.includes(n) || needs.includes(n + "?");
  const required = (n) => needs.includes(n);
  el("act-title").textContent = (move.label || actionLabel(move.action)) + " · " + c.case_no;
  const req = c.deadline && typeof c.deadline === "object" ? c.deadline.pending_request : null;
  el("act-request").textContent = req && /extension|suspension/.test(move.action) ? "申请：" + requestText(req) : "";
  el("act-error").hidden = true;
  let html = "";
  if (has("unit")) {
    html += '<label>承办单位' + (required("unit") ? "（必选）" : "") + '<select id="act-unit" name="unit"' + (required("unit") ? " required" : "") + '><option value="">加载中…</option></select></label>';
  }
  if (has("assignee")) {
    html += '<label>承办人' + (required("assignee") ? "（必选）" : "（可选）") + '<select id="act-assignee" name="assignee"' + (required("assignee") ? " required" : "") + '><option value="">不指定，由单位安排</option></select></label>';
  }
  if (has("extension_hours")) {
    const hours = req && (req.hours || req.extension_hours);
    html += "<label>" + NEED_LABEL.extension_hours + (required("extension_hours") ? "（必填）" : "（可选，默认按申请）") + '<input id="act-hours" name="extension_hours" type="number" min="0.5" max="2000" step="0.5"' + (required("extension_hours") ? " required" : "") + (hours ? ' value="' + esc(hours) + '"' : "") + "></label>";
  }
  if (has("satisfaction")) {
    html += "<fieldset><legend>" + NEED_LABEL.satisfaction + (required("satisfaction") ? "（必选）" : "") + "</legend>" + Object.entries(labels.satisfaction || {}).map(([code, name]) =>
      '<label class="inline"><input type="radio" name="satisfaction" value="' + esc(code) + '"' + (required("satisfaction") ? " required" : "") + "> " + esc(name) + "</label>").join(" ") + "</fieldset>";
  }
  if (has("note")) {
    html += "<label>" + (required("note") ? "理由（必填）" : "说明（可选）") + '<textarea id="act-note" name="note" rows="3"' + (required("note") ? " required" : "") + "></textarea></label>";
  }
  for (const n of needs.map((x) => x.replace(/\?$/, "")).filter((x) => !["unit", "assignee", "extension_hours", "satisfaction", "note"].includes(x))) {
    html += "<label>" + esc(n) + '<input name="' + esc(n) + '"' + (required(n) ? " required" : "") + "></label>";
  }
  fields.innerHTML = html;
  const typed = el("d-note") ? el("d-note").value : "";
  if (el("act-note") && typed) el("act-note").value = typed;
  if (has("unit")) fillUnits(c).catch((e) => { el("act-error").textContent = e.message; el("act-error").hidden = false; });
  dlg.showModal();
  el("act-cancel").onclick = () => dlg.close();
  el("act-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const form = new FormData(el("act-form"));
    const body = {};
    for (const [k, v] of form.entries()) if (String(v).trim() !== "") body[k] = k === "extension_hours" ? Number(v) : String(v).trim();
    const ok = await act(c, move, body, (msg) => { el("act-error").textContent = msg; el("act-error").hidden = false; });
    if (ok) dlg.close();
  };
}

// The dispatch picker: the units valid for the case's area (the routing table's suggestion first)
// and, for the unit chosen, its staff valid today (GET /api/v1/incidents/{id}/dispatch-options).
async function fillUnits(c) {
  const opts = await api("/api/v1/incidents/" + c.id + "/dispatch-options");
  const unit = el("act-unit"), person = el("act-assignee");
  const groups = {};
  for (const u of opts.units) (groups[u.kind_label || u.kind] = groups[u.kind_label || u.kind] || []).push(u);
  unit.innerHTML = '<option value="">请选择承办单位</option>' + Object.entries(groups).map(([kind, units]) =>
    '<optgroup label="' + esc(kind) + '">' + units.map((u) => '<option value="' + esc(u.code) + '">' + esc(u.name) + (u.suggested ? "（推荐）" : "") + "</option>").join("") + "</optgroup>").join("");
  const staff = () => {
    if (!person) return;
    const u = opts.units.find((x) => x.code === unit.value);
    person.innerHTML = '<option value="">不指定，由单位安排</option>' + (u ? u.staff.map((p) => '<option value="' + esc(p.username) + '">' + esc(p.name || p.username) + "</option>").join("") : "");
  };
  unit.onchange = staff;
  unit.value = opts.suggested && c.unit_code !== opts.suggested ? opts.suggested : "";
  staff();
}

let acting = false;
async function act(c, move, fields, fail) {
  const body = Object.assign({ action: move.action, version: c.version }, fields);
  acting = true;
  try {
    const after = await api("/api/v1/incidents/" + c.id + "/transitions", { method: "POST", json: body });
    toast("已" + (move.label || actionLabel(move.action)), true);
    const before = lastData && lastData.features.find((x) => x.properties.id === c.id);
    const props = before ? { ...before.properties } : { id: c.id, case_no: c.case_no, category_name: c.category_name, category_code: c.category_code, urgency: c.overdue ? "overdue" : "on_time", supervised: c.supervised, summary: (c.description || "").slice(0, 60) };
    props.state = after.state;
    props.supervised = after.supervised;
    // The clock as the API gives it after the move (null: no stage clock runs now).
    props.light = after.deadline ? after.deadline.light : null;
    props.stage_due_at = after.deadline ? after.deadline.due_at : null;
    kept = { props, lat: after.lat, lng: after.lng };
    await refresh();
    const gone = await open(c.id);
    if (gone && gone.status === 404) {
      // The move handed the case on (a unit's 退回): it is no longer this caller's to see.
      kept = null;
      selected = current = null;
      el("detail").innerHTML = '<p class="notice">已' + esc(move.label || actionLabel(move.action)) + "：" + esc(c.case_no) + " 已不在您的办理范围内。</p>";
      await refresh();
    }
    return true;
  } catch (e) {
    if (fail) fail(e.message);
    toast(e.message); // the API's own message, e.g. a stale version or a move no longer allowed
    return false;
  } finally {
    acting = false;
  }
}

// ---- live updates (Server-Sent Events) --------------------------------------------------------------
let source = null, audio = null;
const sound = el("sound");
sound.checked = localStorage.getItem(SOUND_KEY) === "on";
sound.addEventListener("change", () => {
  localStorage.setItem(SOUND_KEY, sound.checked ? "on" : "off");
  if (sound.checked) beep(); // the click lets the browser start the audio
});

function beep() {
  if (!sound.checked) return;
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
    const o = audio.createOscillator(), g = audio.createGain();
    o.frequency.value = 880;
    g.gain.value = 0.12;
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.2);
    sound.dataset.played = String(+(sound.dataset.played || 0) + 1);
  } catch (e) { /* no audio device: the toast is the alert */ }
}

function setLive(text, ok) {
  const s = el("live");
  s.textContent = text;
  s.classList.toggle("down", !ok);
}

function connect() {
  if (source) source.close();
  source = new EventSource("/api/v1/incident-events?" + new URLSearchParams({ area: area() }));
  source.addEventListener("ready", () => { setLive("实时更新 · 已连接 " + timeOfDay(), true); refreshSoon(0); });
  source.addEventListener("reset", () => refreshSoon(0));
  source.addEventListener("case", (ev) => onCase(JSON.parse(ev.data)));
  source.onerror = () => {
    setLive(source.readyState === EventSource.CLOSED ? "实时更新不可用（请刷新页面）" : "实时连接中断，正在重连…", false);
  };
}

function onCase(e) {
  setLive("实时更新 · " + timeOfDay() + " 收到 " + e.case_no + " " + eventLabel(e.action), true);
  if (e.action === "report") {
    toast("新案件 " + e.case_no + " " + categoryLabel(e.category_code) + (e.urgent ? "（紧急）" : ""), true);
    beep();
  }
  refreshSoon(300);
  if (searched && !el("search").hidden) searchSoon();
  if (!READONLY && current && e.incident_id === current.id && !acting) {
    const busy = (el("act-dialog") && el("act-dialog").open) || (el("d-note") && el("d-note").value);
    if (busy) toast("案件 " + e.case_no + " 已由 " + e.actor + " " + eventLabel(e.action) + "，提交前请刷新"); else open(current.id);
  }
}

for (const input of Object.values(f)) input.addEventListener("change", () => {
  fitted = false;
  kept = null;
  if (input === f.area) connect();
  refresh();
});
const share = el("share");
if (share) share.addEventListener("click", (ev) => { ev.preventDefault(); navigator.clipboard && navigator.clipboard.writeText(location.href); toast("链接已复制：" + location.href, true); });

// The first load waits for the category list, so a shared link's category filter is applied
// (and kept in the address) rather than dropped while the list is still empty, and for the labels.
Promise.all([categoriesLoaded, meta().then((m) => { labels = Object.assign(labels, m); })]).finally(() => {
  for (const s of labels.in_progress_states || []) f.state.appendChild(new Option(stateLabel(s), s));
  f.state.value = q.get("state") || "";
  legend(map, "当前环节时限", ["green", "amber", "red", "paused"].map((l) => [LIGHT[l], lightLabel(l)]));
  // The list at once, and again when the stream is ready: a case that moved between the two is
  // then shown as it is (the stream only tells of what happens after it is ready).
  refresh();
  connect();
});
