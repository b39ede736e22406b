/* Dispatch console and read-only cases map: open cases clustered and coloured by deadline, the grid
   layer as vector tiles, a side list sorted by urgency with filters, polling for live updates.
   In the console a click opens the case: history, grid, leader and phone, and the actions the
   incidents API allows (POST /api/v1/incidents/{id}/transitions). State and action labels come
   from GET /api/v1/meta. */
import { api, isMissing, label, meta } from "./api.js";
import { dateTime, number, timeOfDay } from "./format.js";
import { addBase, addGridTiles, fitTo, legend, makeMap } from "./map.js";
import { STATE_RING, STATE_RING_OTHER, URGENCY as COLORS } from "./palette.js";
import { cfg, el, empty, esc, toast } from "./page.js";

const READONLY = Boolean(cfg.readonly);
const POLL_MS = 15000;
const URGENCY = { overdue: "超期", due_soon: "临期", on_time: "正常" };
// Actions offered in the console, in the order a dispatcher uses them (the API decides which apply).
const ACTIONS = ["accept", "register", "dispatch", "escalate", "return", "verify", "close", "extend", "reject", "void"];
let labels = { states: {}, transitions: {}, events: {} };
const stateLabel = (s) => label(labels.states, s);
const actionLabel = (a) => label(labels.transitions, a);
const eventLabel = (a) => label(labels.events, a);
const q = new URLSearchParams(location.search);
const f = { state: el("f-state"), category: el("f-category"), area: el("f-area"), overdue: el("f-overdue") };
f.state.value = q.get("state") || "";
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

const map = makeMap("map");
const wrap = document.querySelector(".mapwrap");
addBase(map, cfg.area).then((fc) => { if (fc && !fitted) fitTo(map, L.geoJSON(fc)); });
let fitted = false, selected = null, lastData = null;

addGridTiles(map, cfg.area, { maxNativeZoom: 18 });
legend(map, "案件期限", [[COLORS.on_time, "正常"], [COLORS.due_soon, "临期（24小时内到期）"], [COLORS.overdue, "超期（红灯）"]]);

const clusters = L.markerClusterGroup({
  chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50,
  iconCreateFunction: (cluster) => {
    // A cluster takes the colour of its most urgent case.
    const kids = cluster.getAllChildMarkers();
    const worst = kids.some((m) => m.options.urgency === "overdue") ? "overdue" : kids.some((m) => m.options.urgency === "due_soon") ? "due_soon" : "on_time";
    return L.divIcon({ html: '<div style="background:' + COLORS[worst] + ';color:#fff;border-radius:50%;width:34px;height:34px;line-height:34px;text-align:center;font-weight:700;border:2px solid #fff;box-shadow:0 0 3px rgba(0,0,0,.4)">' + kids.length + "</div>", className: "case-cluster", iconSize: [34, 34] });
  },
}).addTo(map);

function query() {
  const p = new URLSearchParams();
  p.set("area", f.area.value.trim() || cfg.area);
  if (f.state.value) p.set("state", f.state.value);
  if (f.category.value) p.set("category", f.category.value);
  if (f.overdue.checked) p.set("overdue", "true");
  return p;
}

function marker(feat) {
  const p = feat.properties, [lng, lat] = feat.geometry.coordinates;
  const m = L.circleMarker([lat, lng], { radius: 7, weight: 3, color: STATE_RING[p.state] || STATE_RING_OTHER, fillColor: COLORS[p.urgency], fillOpacity: 0.95, urgency: p.urgency });
  m.bindTooltip(esc(p.case_no) + " " + esc(p.category_name || p.category_code) + "<br>" + esc(stateLabel(p.state)) + " · " + URGENCY[p.urgency]);
  m.on("click", () => open(p.id));
  return m;
}

function left(mins) {
  const a = Math.abs(mins), s = a >= 1440 ? Math.floor(a / 1440) + "天" : a >= 60 ? Math.floor(a / 60) + "小时" : a + "分钟";
  return mins < 0 ? "超期" + s : "剩余" + s;
}

function renderList(fc) {
  el("count").textContent = "共 " + number(fc.features.length) + " 件";
  // Urgency order: overdue first (most overdue on top), then by deadline; the API sorts by deadline.
  const items = fc.features.slice(0, 500).map((x) => x.properties);
  el("cases").innerHTML = items.map((p) =>
    '<li data-id="' + p.id + '" class="' + (p.id === selected ? "sel" : "") + '"><span class="pill ' + p.urgency + '">' + URGENCY[p.urgency] + "</span> <b>" + esc(p.case_no) + "</b> " + esc(p.category_name || p.category_code) +
    (p.supervised ? ' <span class="pill overdue">督办</span>' : "") +
    '<br><span class="muted">' + esc(stateLabel(p.state)) + " · " + left(p.minutes_left) + " · " + esc(p.summary || "") + "</span></li>").join("") +
    (fc.features.length > 500 ? '<li class="muted">仅列出最紧急的 500 件，请用筛选缩小范围</li>' : "");
  el("cases").querySelectorAll("li[data-id]").forEach((li) => li.addEventListener("click", () => open(+li.dataset.id, true)));
}

async function refresh() {
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
  clusters.addLayers(fc.features.map(marker));
  empty(wrap, fc.features.length ? null : "当前筛选条件下没有在办案件");
  renderList(fc);
  if (!fitted && fc.features.length) { fitTo(map, clusters); fitted = true; }
  el("updated").textContent = "更新于 " + timeOfDay() + "（每 " + POLL_MS / 1000 + " 秒自动刷新）";
}

async function open(id, pan) {
  if (READONLY) return;
  selected = id;
  const box = el("detail");
  box.innerHTML = '<p class="muted">加载中…</p>';
  try {
    const [c, events] = await Promise.all([
      api("/api/v1/incidents/" + id),
      api("/api/v1/incidents/" + id + "/history").catch(() => null),
    ]);
    if (pan) map.setView([c.lat, c.lng], Math.max(map.getZoom(), 16));
    let who = null;
    try { who = await api("/api/v1/locate?crs=cgcs2000&lng=" + c.lng + "&lat=" + c.lat); } catch (e) { /* the case keeps its own routing */ }
    const hist = events ? (events.data || events) : [];
    const allowed = c.allowed_actions || [];
    box.innerHTML =
      "<h3>" + esc(c.case_no) + " " + esc(c.category_name || c.category_code) + (c.urgent ? ' <span class="pill overdue">紧急</span>' : "") + "</h3>" +
      '<table class="kv"><tr><td>状态</td><td id="d-state">' + esc(c.state_label || c.state) + "</td></tr>" +
      "<tr><td>期限</td><td>" + dateTime(c.deadline) + (c.overdue ? ' <span class="pill overdue">超期</span>' : "") + "</td></tr>" +
      "<tr><td>网格</td><td>" + esc(c.grid_code) + (who && who.grid ? " " + esc(who.grid.name) : "") + "</td></tr>" +
      "<tr><td>网格长</td><td id='d-leader'>" + (who && who.leader ? esc(who.leader.name) + " " + esc(who.leader.phone || "") : esc(c.leader_name || "未配备")) + "</td></tr>" +
      "<tr><td>地址</td><td>" + esc(c.address || "—") + "</td></tr><tr><td>描述</td><td>" + esc(c.description) + "</td></tr>" +
      "<tr><td>承办</td><td>" + esc(c.assignee || "—") + "</td></tr></table>" +
      ((c.photos || []).length ? '<div class="photos" id="d-photos">' + c.photos.map((p, i) =>
        '<a href="/api/v1/incidents/' + c.id + "/photos/" + i + '" target="_blank" title="' + esc(p.filename) + '"><img src="/api/v1/incidents/' + c.id + "/photos/" + i + '" alt="现场照片' + (i + 1) + '"></a>').join("") + "</div>" : "") +
      '<textarea id="d-note" rows="2" placeholder="处置意见（可选）"></textarea>' +
      '<input id="d-assignee" placeholder="派遣给（用户名，可选）" style="width:100%">' +
      '<div class="actions">' + ACTIONS.filter((a) => allowed.includes(a)).map((a) => '<button data-action="' + a + '" class="' + (["void", "reject"].includes(a) ? "danger" : "") + '">' + esc(actionLabel(a)) + "</button>").join("") + "</div>" +
      "<h4>办理记录</h4><ol id='d-history'>" + hist.map((e) => "<li>" + dateTime(e.at) + " " + esc(e.actor) + "：" + esc(eventLabel(e.action)) + " → " + esc(stateLabel(e.to_state)) + (e.note ? "（" + esc(e.note) + "）" : "") + "</li>").join("") + "</ol>";
    box.querySelectorAll("button[data-action]").forEach((b) => b.addEventListener("click", () => act(c, b.dataset.action)));
    renderList(lastData || { features: [] });
  } catch (e) {
    box.innerHTML = '<p class="error">' + esc(e.message) + "</p>";
  }
}

async function act(c, action) {
  const body = { action, version: c.version, note: el("d-note").value };
  const assignee = el("d-assignee").value.trim();
  if (assignee) body.assignee = assignee;
  try {
    await api("/api/v1/incidents/" + c.id + "/transitions", { method: "POST", json: body });
    toast("已" + actionLabel(action), true);
    await refresh();
    await open(c.id);
  } catch (e) {
    toast(e.message); // the API's own message, e.g. a stale version or a role that may not act
  }
}

for (const input of Object.values(f)) input.addEventListener("change", () => { fitted = false; refresh(); });
const share = el("share");
if (share) share.addEventListener("click", (ev) => { ev.preventDefault(); navigator.clipboard && navigator.clipboard.writeText(location.href); toast("链接已复制：" + location.href, true); });
// The first load waits for the category list, so a shared link's category filter is applied
// (and kept in the address) rather than dropped while the list is still empty, and for the labels.
Promise.all([categoriesLoaded, meta().then((m) => { labels = m; })]).finally(() => { refresh(); setInterval(refresh, POLL_MS); });
