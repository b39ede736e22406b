/* The command-centre wall screen (/wall, docs/wall.md): one dark screen, nothing to click, left
   running for days.

   - Map: every open case of the area (GET /api/v1/layers/cases), coloured by its deadline light;
     redrawn from scratch (clearLayers) on each pushed change, never added to.
   - 实时案件: new and escalated cases as the live stream (GET /api/v1/incident-events, SSE) pushes
     them, newest on top; at most STREAM_MAX rows, the oldest removed from the page.
   - 今日概况 and 各乡镇红黄绿灯: GET /api/v1/wall/figures; 督办清单: the open cases whose clock is
     red or that are supervised, from the cases layer, with countdowns ticking every second;
     乡镇考核排名: GET /api/v1/kpis/league (month to date, by township). Every figure is replaced,
     not appended, each FIGURES_MS and after pushed changes.
   - The stream reconnects by itself (EventSource); if it is closed for good it is reopened.
   Nothing on the page keeps a reference to rows or markers it no longer shows. */
import { api, label, meta } from "./api.js";
import { firstOfMonth, number, percent, timeOfDay, today } from "./format.js";
import { placeLabels } from "./labels.js";
import { addBase, fitTo, legend, makeMap } from "./map.js";
import { LIGHT, URGENCY } from "./palette.js";
import { cfg, el, esc } from "./page.js";

const STREAM_MAX = 30; // rows in 实时案件
const DUBAN_MAX = 40; // rows in 督办清单
const FIGURES_MS = 60_000; // figures, lights, league and map refreshed at least this often
const REOPEN_MS = 5_000; // a stream the browser gave up on is reopened after this
const STREAMED = new Set(["report", "escalate"]); // the events 实时案件 lists

const area = cfg.area;
let labels = { events: {}, transitions: {}, states: {}, categories: {}, lights: {} };
const eventLabel = (a) => label(labels.events, a) !== a ? label(labels.events, a) : label(labels.transitions, a);
const lightLabel = (l) => label(labels.lights, l);
const colour = (p) => LIGHT[p.light] || URGENCY[p.urgency];
// Text on a coloured tag: white only on red; near-black on green, amber and grey (AA contrast).
const ink = (fill) => (fill === LIGHT.red ? "#fff" : "#101828");

// The light dots in the table heads take the palette's colours (one meaning, one constant).
for (const dot of document.querySelectorAll(".dot")) for (const l of Object.keys(LIGHT)) if (dot.classList.contains(l)) dot.style.background = LIGHT[l];

// ---- clock and countdowns ------------------------------------------------------------------------
function span(seconds) {
  const s = Math.abs(Math.trunc(seconds)), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  const two = (n) => String(n).padStart(2, "0");
  if (d) return d + "天" + h + "小时" + two(m) + "分";
  return h + ":" + two(m) + ":" + two(s % 60);
}
function tick() {
  const now = Date.now();
  el("wall-clock").textContent = today() + " " + timeOfDay(now);
  for (const b of el("duban").querySelectorAll(".countdown[data-due]")) {
    const secs = (+b.dataset.due - now) / 1000;
    b.textContent = (secs < 0 ? "超期 " : "剩余 ") + span(secs);
  }
}
setInterval(tick, 1000);
tick();

// ---- map -----------------------------------------------------------------------------------------
const map = makeMap("map", { zoomControl: false, attributionControl: false });
const renderer = L.canvas({ padding: 0.2 });
const cases = L.layerGroup().addTo(map);
let framed = false;
// Township (and, zoomed in, community and grid) names from the shared label module: one label per place,
// redrawn on zoom, so nothing accumulates.
const names = placeLabels(map);
addBase(map, area).then((fc) => {
  if (!fc) return;
  names.add(fc.features);
  if (!framed) { fitTo(map, L.geoJSON(fc)); framed = true; }
});
// Grid names (and communities through them) for a wall zoomed into a township or community.
api("/api/v1/layers/grids?f=geojson&area=" + area).then((fc) => names.add(fc.features), () => null);

function drawCases(fc) {
  cases.clearLayers(); // the old markers go with their layer: nothing else holds them
  for (const f of fc.features) {
    const p = f.properties, [lng, lat] = f.geometry.coordinates;
    L.circleMarker([lat, lng], { renderer, radius: p.light === "red" ? 8 : 6, weight: 1.5, color: "#0b1626", fillColor: colour(p), fillOpacity: 0.95, case_no: p.case_no, interactive: false }).addTo(cases);
  }
}

// ---- 督办清单 --------------------------------------------------------------------------------------
function drawDuban(fc) {
  const due = (p) => Date.parse(p.stage_due_at || p.deadline || "") || Infinity;
  const rows = fc.features.map((x) => x.properties).filter((p) => p.light === "red" || p.supervised).sort((a, b) => due(a) - due(b));
  el("duban-count").textContent = rows.length ? "共 " + number(rows.length) + " 件" + (rows.length > DUBAN_MAX ? "，显示超期最久的 " + DUBAN_MAX + " 件" : "") : "";
  el("duban").innerHTML = rows.length ? rows.slice(0, DUBAN_MAX).map((p) =>
    '<li data-case="' + esc(p.case_no) + '"><span class="tag" style="background:' + colour(p) + ";color:" + ink(colour(p)) + '">' + esc(p.supervised ? "督办" : lightLabel(p.light)) + "</span><b>" + esc(p.case_no) + "</b> " +
    esc(p.category_name || p.category_code) + (Number.isFinite(due(p)) ? ' <b class="countdown" data-due="' + due(p) + '"></b>' : "") + "</li>").join("")
    : '<li class="muted">没有超期或督办案件</li>';
  tick();
}

// ---- figures, lights per township, league ------------------------------------------------------
function cell(n) { return '<td class="n' + (n ? "" : " zero") + '">' + number(n) + "</td>"; }

async function loadFigures() {
  const f = await api("/api/v1/wall/figures?" + new URLSearchParams({ area }));
  el("fig-date").textContent = f.date;
  el("fig-intake").textContent = number(f.intake);
  el("fig-closed").textContent = number(f.closed);
  el("fig-overdue").textContent = number(f.overdue);
  const towns = f.townships.slice().sort((a, b) => b.red - a.red || b.amber - a.amber || (a.code < b.code ? -1 : 1));
  el("lights").tBodies[0].innerHTML = towns.length ? towns.map((t) =>
    '<tr data-code="' + esc(t.code) + '"><td>' + esc(t.name) + "</td>" + cell(t.red) + cell(t.amber) + cell(t.green) + cell(t.paused) + "</tr>").join("")
    : '<tr><td colspan="5" class="muted">本辖区没有乡镇/街道</td></tr>';
}

async function loadLeague() {
  const start = firstOfMonth(), end = today();
  const data = await api("/api/v1/kpis/league?" + new URLSearchParams({ area, start, end, by: "township" }));
  el("league-period").textContent = start.slice(5) + " 至 " + end.slice(5) + "，按综合得分";
  const rows = (data.tables && data.tables.township) || [];
  const mark = (r, key) => (r.lights && r.lights[key] ? '<i class="dot" style="background:' + (LIGHT[r.lights[key]] || "transparent") + '"></i>' : "");
  el("league").tBodies[0].innerHTML = rows.length ? rows.map((r) =>
    '<tr><td class="n">' + r.rank + "</td><td>" + esc(r.name || r.group) + '</td><td class="n">' + mark(r, "score") + (r.score == null ? "—" : Number(r.score).toFixed(1)) +
    '</td><td class="n">' + percent(r.closure_rate) + '</td><td class="n">' + number(r.due) + "</td></tr>").join("")
    : '<tr><td colspan="5" class="muted">本月尚无应结案件</td></tr>';
}

async function loadCases() {
  const fc = await api("/api/v1/layers/cases?" + new URLSearchParams({ area }));
  drawCases(fc);
  drawDuban(fc);
  if (!framed && fc.features.length) { fitTo(map, cases.getLayers().length ? L.featureGroup(cases.getLayers()) : cases); framed = true; }
}

// One refresh at a time; a request for another while one runs runs once more after it.
let running = null, again = false, league = false;
async function refresh(what) {
  if (what === "all") league = true;
  if (running) { again = true; return; }
  running = (async () => {
    do {
      again = false;
      const jobs = [loadCases(), loadFigures()];
      if (league) { league = false; jobs.push(loadLeague()); }
      const results = await Promise.allSettled(jobs);
      const failed = results.find((r) => r.status === "rejected");
      if (failed) setLive("数据刷新失败：" + failed.reason.message + "（稍后自动重试）", false);
    } while (again);
  })();
  try { await running; } finally { running = null; }
}
let soon = null;
function refreshSoon(ms) { clearTimeout(soon); soon = setTimeout(() => refresh("cases"), ms); }
setInterval(() => refresh("all"), FIGURES_MS);

// ---- 实时案件: the live stream --------------------------------------------------------------------
function setLive(text, ok) {
  const s = el("wall-live");
  s.textContent = text;
  s.classList.toggle("down", !ok);
}

function addToStream(e) {
  const list = el("stream");
  const placeholder = list.querySelector(".empty-row");
  if (placeholder) placeholder.remove();
  const li = document.createElement("li");
  li.className = "fresh";
  li.dataset.case = e.case_no;
  const escalated = e.action === "escalate";
  li.innerHTML = '<span class="when">' + esc(timeOfDay(e.at)) + '</span><span class="tag" style="background:' + (escalated || e.urgent ? LIGHT.red : LIGHT.green) + ";color:" + ink(escalated || e.urgent ? LIGHT.red : LIGHT.green) + '">' + esc(eventLabel(e.action)) + "</span><b>" + esc(e.case_no) + "</b> " +
    esc(label(labels.categories, e.category_code)) + (e.urgent ? " · 紧急" : "") + ' <span class="sub">' + esc(e.grid_code) + "</span>";
  list.prepend(li);
  while (list.children.length > STREAM_MAX) list.lastElementChild.remove();
}

let source = null, reopen = null;
function connect() {
  clearTimeout(reopen);
  if (source) source.close();
  source = new EventSource("/api/v1/incident-events?" + new URLSearchParams({ area }));
  source.addEventListener("ready", () => { setLive("实时更新 · 已连接 " + timeOfDay(), true); refreshSoon(0); });
  source.addEventListener("reset", () => refreshSoon(0));
  source.addEventListener("case", (ev) => {
    const e = JSON.parse(ev.data);
    setLive("实时更新 · " + timeOfDay() + " 收到 " + e.case_no, true);
    if (STREAMED.has(e.action)) addToStream(e);
    refreshSoon(250);
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      // The browser gave up (e.g. the session ended): try again later, the page stays up.
      setLive("实时连接已断开，" + REOPEN_MS / 1000 + " 秒后重连…", false);
      reopen = setTimeout(connect, REOPEN_MS);
    } else {
      setLive("实时连接中断，正在重连…", false);
    }
  };
}

meta().then((m) => { labels = Object.assign(labels, m); }).finally(() => {
  legend(map, "当前环节时限", ["red", "amber", "green", "paused"].map((l) => [LIGHT[l], lightLabel(l)]));
  refresh("all");
  connect();
});

// For the browser tests and the bench: what the wall shows now (counts only).
window.GG_WALL = {
  markers: () => cases.getLayers().length,
  hasMarker: (caseNo) => cases.getLayers().some((m) => m.options.case_no === caseNo),
  streamRows: () => el("stream").children.length,
};
