/* The grid worker's phone page (/m/): where am I, 我的待办 (the cases waiting on me, a button for
   each move the API says I may make), one-tap report with a confirmed map pin and the duplicate
   check, and today's visits with a note and a photo. Reports and check-ins go through the outbox
   (offline.js): sent at once when the network is there, kept on the phone and sent later when not.
   Browsers report GPS in WGS84, so every call says crs=wgs84. */
import { api, isNetworkDown, meta } from "./api.js";
import { dateTime, number } from "./format.js";
import { addBase, makeMap } from "./map.js";
import * as outbox from "./offline.js";
import { LIGHT } from "./palette.js";
import { cfg, el, esc, toast } from "./page.js";

let pos = null; // the phone's GPS fix {lng, lat, accuracy}
let pin = null; // the report's location as confirmed on the map {lng, lat}
let categories = []; // small classes with their class, from the API
let sameAs = null; // the case the worker said this report is
const FIELD_STAGE_MOVES = new Set(["handle", "check_pass", "check_fail"]); // moves a photo documents

// ----------------------------------------------------------------------------- GPS and place

function gps() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error("此设备不支持定位"));
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lng: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy }),
      (e) => reject(new Error("定位失败：" + (e.code === 1 ? "未允许定位权限" : e.code === 3 ? "定位超时" : "无法获取位置"))),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  });
}

const placeName = (r) => [r.township && r.township.name, r.community && r.community.name, r.grid && r.grid.name].filter(Boolean).join(" · ");

async function locate() {
  el("where").textContent = "正在获取定位…";
  try {
    pos = await gps();
    movePin(pos, true);
    const r = await api("/api/v1/locate?crs=wgs84&lng=" + pos.lng + "&lat=" + pos.lat);
    if (r.found) {
      el("where").innerHTML = "当前位于 <b id='grid-name'>" + esc(r.grid.name) + "</b>（" + esc(r.grid.code) + "）<br>" +
        esc(r.community ? r.community.name : "") + " · 网格长 " + esc(r.leader ? r.leader.name + " " + (r.leader.phone || "") : "未配备");
    } else {
      el("where").textContent = r.message;
    }
  } catch (e) {
    el("where").textContent = isNetworkDown(e) ? "离线：已取得 GPS 位置，无法查询所在网格" : e.message;
  }
}

// ----------------------------------------------------------------------------- the report's map pin

let map = null, marker = null, addressEdited = false;

function pinMap() {
  if (map || typeof L === "undefined") return;
  map = makeMap("pin-map", { zoomControl: true, attributionControl: false });
  const icon = L.divIcon({ className: "pin-icon", html: "<span></span>", iconSize: [28, 40], iconAnchor: [14, 40] });
  marker = L.marker([34.0, 113.0], { draggable: true, icon, autoPan: true, keyboard: false }).addTo(map);
  marker.on("dragend", () => { const p = marker.getLatLng(); movePin({ lng: p.lng, lat: p.lat }); });
  map.on("click", (e) => movePin({ lng: e.latlng.lng, lat: e.latlng.lat }));
  // The community outlines (and buildings when zoomed in) under the pin, when the network is there.
  if (navigator.onLine && cfg.jurisdiction) addBase(map, cfg.jurisdiction);
}

let pinTimer = null;
/** Put the report's pin at ``p`` (from GPS, a drag or a tap) and say where that is. */
function movePin(p, fromGps) {
  pinMap();
  if (fromGps && pin && pin.moved) return; // the worker placed it: GPS does not move it back
  pin = { lng: +p.lng.toFixed(7), lat: +p.lat.toFixed(7), moved: !fromGps };
  if (marker) {
    marker.setLatLng([pin.lat, pin.lng]);
    if (fromGps) map.setView([pin.lat, pin.lng], 17); else map.panTo([pin.lat, pin.lng]);
  }
  el("pin-where").textContent = "图钉位置 " + pin.lng.toFixed(6) + ", " + pin.lat.toFixed(6) + "（查询中…）";
  clearTimeout(pinTimer);
  pinTimer = setTimeout(describePin, 250);
}

async function describePin() {
  const at = pin;
  try {
    const r = await api("/api/v1/locate?crs=wgs84&lng=" + at.lng + "&lat=" + at.lat);
    if (at !== pin) return;
    if (!r.found) {
      el("pin-where").textContent = "图钉不在任何网格内：" + r.message;
    } else {
      const place = placeName(r);
      el("pin-where").innerHTML = "事件位置：<b id='pin-grid'>" + esc(place) + "</b>";
      // The address the dispatcher will see: the place, which the worker may make more precise.
      if (!addressEdited) el("address").value = place.replace(/ · /g, "") + "附近";
    }
  } catch (e) {
    if (at === pin) el("pin-where").textContent = isNetworkDown(e) ? "离线：位置已记下（" + at.lng.toFixed(6) + ", " + at.lat.toFixed(6) + "），联网后发送" : e.message;
  }
  checkDuplicates();
}

// ----------------------------------------------------------------------------- categories

async function loadCategories() {
  try {
    const all = await api("/api/v1/incident-categories");
    const classes = Object.fromEntries(all.filter((c) => !c.parent_code).map((c) => [c.code, c.name]));
    categories = all.filter((c) => c.parent_code && c.active !== false)
      .map((c) => Object.assign({}, c, { class_name: classes[c.parent_code] || c.parent_code }));
    drawCategories("");
  } catch (e) { toast(e.message); }
}

/** The small classes grouped under their class (optgroups), those matching ``q`` only. */
function drawCategories(q) {
  const sel = el("category"), keep = sel.value;
  q = q.trim();
  const hits = categories.filter((c) => !q || c.name.includes(q) || c.class_name.includes(q) || c.code.startsWith(q));
  const groups = new Map();
  for (const c of hits) {
    if (!groups.has(c.parent_code)) groups.set(c.parent_code, { name: c.class_name, items: [] });
    groups.get(c.parent_code).items.push(c);
  }
  sel.innerHTML = '<option value="">' + (hits.length ? "选择事件类别（" + hits.length + " 类）" : "没有匹配的类别") + "</option>" +
    [...groups.values()].map((g) => '<optgroup label="' + esc(g.name) + '">' +
      g.items.map((c) => '<option value="' + esc(c.code) + '">' + esc(c.name) + "</option>").join("") + "</optgroup>").join("");
  if (hits.some((c) => c.code === keep)) sel.value = keep;
  else if (q && hits.length === 1) sel.value = hits[0].code;
  el("category").dispatchEvent(new Event("change"));
}

const category = (code) => categories.find((c) => c.code === code);

// ----------------------------------------------------------------------------- duplicates first

let dupSeq = 0;
async function checkDuplicates() {
  const code = el("category").value, box = el("dups"), seq = ++dupSeq;
  sameAs = null;
  if (!code || !pin || !navigator.onLine) { box.hidden = true; return; }
  try {
    const r = await api("/api/v1/incidents/nearby?category_code=" + encodeURIComponent(code) + "&crs=wgs84&lng=" + pin.lng + "&lat=" + pin.lat);
    if (seq !== dupSeq) return;
    if (!r.count) { box.hidden = true; return; }
    box.innerHTML = "<p><b>附近已有同类事件</b>：是同一件事吗？是则记入原案件，不新建案件。</p><ul class='list'>" + r.data.map((d) =>
      "<li><b>" + esc(d.case_no) + "</b> " + esc(d.state_label) + " · 相距 " + number(Math.round(d.distance_m)) + " 米<br><span class='muted'>" + esc(d.summary) +
      (d.address ? "（" + esc(d.address) + "）" : "") + "</span><br><button type='button' class='same' data-id='" + d.id + "' data-case='" + esc(d.case_no) + "'>是同一事件</button></li>").join("") + "</ul>";
    box.hidden = false;
    box.querySelectorAll("button.same").forEach((b) => b.addEventListener("click", () => { sameAs = { id: +b.dataset.id, case_no: b.dataset.case }; report(); }));
  } catch (e) { box.hidden = true; }
}

// ----------------------------------------------------------------------------- report

async function report() {
  const btn = el("report");
  btn.disabled = true;
  try {
    if (!pin) { pos = await gps(); movePin(pos, true); }
    const code = el("category").value, description = el("desc").value.trim();
    if (!code) throw new Error("请选择事件类别");
    if (!description) throw new Error("请填写事件描述");
    const fields = { category_code: code, description, lng: pin.lng, lat: pin.lat, crs: "wgs84" };
    const address = el("address").value.trim();
    if (address) fields.address = address;
    if (el("on-spot").checked) fields.resolved_on_spot = true;
    let label = (category(code) || {}).name + "：" + description.slice(0, 20);
    if (sameAs) { fields.same_as = sameAs.id; label = "同一事件 " + sameAs.case_no + "：" + description.slice(0, 20); }
    const item = await outbox.enqueue("report", fields, el("photo").files[0] || null, label);
    clearReportForm();
    const sent = await outbox.flush();
    const mine = sent.find((s) => s.item.key === item.key);
    if (mine) { showSent(mine.item, mine.result); return; }
    const left = (await outbox.pending()).find((i) => i.key === item.key);
    if (left && left.status === "refused") {
      el("report-result").innerHTML = '<p class="error" id="report-refused">未被接受：' + esc(left.error) + "（已留在待发送中，可重试或删除）</p>";
    } else {
      el("report-result").innerHTML = '<p class="notice" id="report-queued">' + (navigator.onLine ? "暂未发送成功" : "网络不可用") + "，已保存到本机待发送，联网后自动发送（不会重复上报）</p>";
    }
  } catch (e) {
    el("report-result").innerHTML = '<p class="error">' + esc(e.message) + "</p>";
  } finally { btn.disabled = false; }
}

function clearReportForm() {
  el("desc").value = "";
  el("photo").value = "";
  el("on-spot").checked = false;
  el("dups").hidden = true;
  sameAs = null;
  addressEdited = false;
  if (pin) pin.moved = false;
}

/** What the server answered for a report or check-in that left the outbox. */
function showSent(item, res) {
  if (item.kind === "visit") { toast(res.message || "走访已登记", !res.far_from_household); loadDue(); return; }
  if (item.fields.same_as) {
    el("report-result").innerHTML = '<p class="notice" id="report-linked">已记入案件 <b>' + esc(res.case_no) + "</b>（同一事件，未新建案件）</p>";
    return;
  }
  let html = '<p class="notice" id="report-ok">已上报，案件编号 <b>' + esc(res.case_no) + "</b>，网格 " + esc(res.grid_code) + "</p>";
  if (res.duplicates && res.duplicates.length) {
    html += '<p class="muted" id="report-dups">附近已有同类事件：' + res.duplicates.map((d) => esc(d.case_no) + "（" + number(Math.round(d.distance_m)) + " 米）").join("、") + "，调度员会一并核对</p>";
  }
  el("report-result").innerHTML = html;
  loadTasks();
}

// ----------------------------------------------------------------------------- the outbox on screen

function drawOutbox(items) {
  el("outbox-section").hidden = items.length === 0;
  el("outbox-count").textContent = items.length;
  el("outbox").innerHTML = items.map((i) =>
    '<li data-key="' + esc(i.key) + '" class="' + (i.status === "refused" ? "refused" : "waiting") + '"><b>' + (i.kind === "visit" ? "走访签到" : "上报") + "</b> " + esc(i.label) +
    (i.photo ? "（含照片）" : "") + '<br><span class="muted">' + dateTime(i.queued_at) + " 保存 · " +
    esc(i.status === "refused" ? "未被接受：" + i.error : i.error || "等待发送") + "</span>" +
    (i.status === "refused" ? '<div class="row">' + (i.code === 413 && i.photo ? '<button type="button" data-op="nophoto">去掉照片重发</button>' : '<button type="button" data-op="retry">重试</button>') +
      '<button type="button" data-op="delete">删除</button></div>' : "") + "</li>").join("");
  el("outbox").querySelectorAll("button[data-op]").forEach((b) => b.addEventListener("click", async () => {
    const key = b.closest("li").dataset.key, op = b.dataset.op;
    if (op === "delete") await outbox.remove(key);
    else { await (op === "nophoto" ? outbox.dropPhoto(key) : outbox.retry(key)); flushNow(); }
  }));
}

async function flushNow() {
  const sent = await outbox.flush();
  sent.forEach((s) => showSent(s.item, s.result));
}

function showNetwork() {
  el("net").hidden = navigator.onLine;
}

// ----------------------------------------------------------------------------- 我的待办

const URGENT_FIRST = { red: 0, amber: 1, green: 2, paused: 3 };

function lightOf(c) {
  if (c.deadline && c.deadline.light) return { light: c.deadline.light, label: c.deadline.light_label, due: c.deadline.due_at };
  return c.overdue ? { light: "red", label: "超期", due: c.due_at || c.deadline } : { light: "green", label: "正常", due: c.due_at || c.deadline };
}

function remaining(due) {
  const mins = Math.round((new Date(due) - Date.now()) / 60000);
  const span = (m) => (m >= 1440 ? Math.floor(m / 1440) + " 天" : m >= 60 ? Math.floor(m / 60) + " 小时" : m + " 分钟");
  return mins < 0 ? "已超期 " + span(-mins) : "剩余 " + span(mins);
}

let tasks = [];
async function loadTasks() {
  try {
    const r = await api("/api/v1/incidents/mine");
    tasks = r.data.slice().sort((a, b) => (URGENT_FIRST[lightOf(a).light] - URGENT_FIRST[lightOf(b).light]) || String(lightOf(a).due).localeCompare(String(lightOf(b).due)));
    drawTasks();
  } catch (e) {
    el("tasks").innerHTML = '<li class="error">' + esc(isNetworkDown(e) ? "离线：暂时无法刷新待办" : e.message) + "</li>";
  }
}

function drawTasks() {
  el("tasks-count").textContent = tasks.length ? number(tasks.length) + " 件" : "";
  el("tasks").innerHTML = tasks.length ? tasks.map((c) => {
    const l = lightOf(c);
    return '<li class="task" data-id="' + c.id + '"><div><span class="light" style="background:' + (LIGHT[l.light] || LIGHT.green) + '" title="' + esc(l.label) + '"></span>' +
      "<b>" + esc(c.case_no) + "</b> " + esc(c.category_name || c.category_code) + ' <span class="pill">' + esc(c.state_label) + "</span></div>" +
      '<div class="muted">' + esc(c.description.slice(0, 60)) + (c.address ? " · " + esc(c.address) : "") + "</div>" +
      '<div class="muted due">' + esc(l.label) + " · 期限 " + dateTime(l.due) + "（" + remaining(l.due) + "）</div>" +
      '<div class="actions">' + (c.actions || []).map((a) => '<button type="button" data-action="' + esc(a.action) + '">' + esc(a.label) + "</button>").join("") +
      (c.actions && c.actions.length ? "" : '<span class="muted">等待调度员处理</span>') + "</div>" +
      '<div class="act-panel" hidden></div></li>';
  }).join("") : "<li class='muted' id='tasks-empty'>暂无待办</li>";
  el("tasks").querySelectorAll("button[data-action]").forEach((b) => b.addEventListener("click", () => openMove(b)));
}

/** The form of one move: its note (required when the move needs a reason) and, for the moves a
    photo documents, photos (required for 处置完毕 when the category's close condition says so). */
async function openMove(btn) {
  const li = btn.closest("li"), c = tasks.find((t) => t.id === +li.dataset.id);
  const a = c.actions.find((x) => x.action === btn.dataset.action);
  const panel = li.querySelector(".act-panel");
  const needs = a.needs || [];
  const noteRequired = needs.includes("note");
  const photos = FIELD_STAGE_MOVES.has(a.action);
  const photoRequired = a.action === "handle" && (category(c.category_code) || {}).close_photo_required;
  const draft = (await outbox.loadDraft("case-" + c.id + "-" + a.action)) || {};
  const hours = needs.some((n) => n.replace("?", "") === "extension_hours");
  const unknown = needs.filter((n) => !/^(note|extension_hours)\??$/.test(n) && !n.endsWith("?"));
  panel.innerHTML = "<b>" + esc(a.label) + "</b>" +
    (needs.some((n) => n.startsWith("note")) || photos ? '<textarea class="move-note" rows="2" placeholder="' + (noteRequired ? "请填写理由（必填）" : "处置情况说明（可选）") + '">' + esc(draft.note || "") + "</textarea>" : "") +
    (hours ? '<input type="number" class="move-hours" min="1" max="2000" step="1" inputmode="numeric" placeholder="延长的工作小时数（必填）">' : "") +
    (photos ? '<label class="photo">' + (photoRequired ? "处置照片（本类事件结案须有照片）" : "现场照片（可选）") + '<input type="file" class="move-photos" accept="image/*" capture="environment" multiple></label>' +
      (draft.photos && draft.photos.length ? '<p class="muted draft-photos">草稿中已有 ' + draft.photos.length + " 张照片，将一并提交</p>" : "") : "") +
    (unknown.length ? '<p class="error">此操作需在调度台完成（' + esc(unknown.join("、")) + "）</p>" : "") +
    '<div class="row"><button type="button" class="primary confirm"' + (unknown.length ? " disabled" : "") + ">确认" + esc(a.label) + '</button><button type="button" class="cancel">取消</button></div><div class="move-result"></div>';
  panel.hidden = false;
  panel.querySelector(".cancel").addEventListener("click", () => { panel.hidden = true; });
  panel.querySelector(".confirm").addEventListener("click", () => doMove(c, a, panel, { noteRequired, photos, photoRequired }));
}

async function doMove(c, a, panel, rule) {
  const btn = panel.querySelector(".confirm"), out = panel.querySelector(".move-result");
  const noteEl = panel.querySelector(".move-note"), fileEl = panel.querySelector(".move-photos");
  const id = "case-" + c.id + "-" + a.action;
  const note = noteEl ? noteEl.value.trim() : "";
  const draft = (await outbox.loadDraft(id)) || { photos: [] };
  const chosen = fileEl ? [...fileEl.files] : [];
  const photos = [...(draft.photos || []), ...chosen];
  if (rule.noteRequired && !note) { out.innerHTML = '<p class="error">请填写理由</p>'; return; }
  const hoursEl = panel.querySelector(".move-hours");
  const extra = {};
  if (hoursEl) {
    const h = Number(hoursEl.value);
    if (!(h > 0)) { out.innerHTML = '<p class="error">请填写延长的工作小时数</p>'; return; }
    extra.extension_hours = h;
  }
  if (rule.photoRequired && !photos.length) { out.innerHTML = '<p class="error">本类事件结案条件要求现场照片，请先拍照</p>'; return; }
  btn.disabled = true;
  // Kept on the phone until the server has all of it: a refused photo or a dropped network loses
  // neither the note nor the other photos.
  await outbox.saveDraft(id, { note, photos });
  try {
    let version = c.version;
    if (photos.length) {
      const form = new FormData();
      photos.forEach((p, i) => form.append("photos", p, p.name || "photo-" + (i + 1) + ".jpg"));
      form.append("version", String(version));
      const withPhotos = await api("/api/v1/incidents/" + c.id + "/photos", { method: "POST", body: form });
      version = withPhotos.version;
      await outbox.saveDraft(id, { note, photos: [] }); // the photos are on the case now
    }
    await api("/api/v1/incidents/" + c.id + "/transitions", { method: "POST", json: Object.assign({ action: a.action, version, note }, extra) });
    await outbox.dropDraft(id);
    toast("已" + a.label, true);
    await loadTasks();
  } catch (e) {
    const msg = isNetworkDown(e) ? "网络不可用，已存为草稿（说明与照片都在本机），联网后再点确认" :
      e.status === 413 ? e.message + "；已存为草稿，请换一张较小的照片后再点确认" : e.message;
    if (e.status === 413) await outbox.saveDraft(id, { note, photos: draft.photos || [] }); // drop the refused photo, keep the rest
    out.innerHTML = '<p class="error move-error">' + esc(msg) + "</p>";
    if (fileEl) fileEl.value = "";
    btn.disabled = false;
  }
}

// ----------------------------------------------------------------------------- visits

async function loadDue() {
  try {
    // The worker's whole list (every grid they serve), ranked by the API (app/visits/ranking.py).
    const d = await api("/api/v1/visits/due");
    el("due-count").textContent = number(d.count) + " 户";
    el("due").innerHTML = d.households.length ? d.households.map((h) =>
      '<li data-id="' + h.household_id + '"><b>' + esc(h.address) + "</b> " + h.special_groups.map((g) => '<span class="pill due_soon">' + esc(g) + "</span>").join(" ") +
      '<br><span class="muted">' + (h.days_overdue == null ? "从未走访" : h.days_overdue > 0 ? "已超期 " + h.days_overdue + " 天" : "今日到期") + "</span>" +
      ' <button type="button" class="checkin">签到走访</button><div class="visit-panel" hidden></div></li>').join("")
      : "<li class='muted' id='due-empty'>今日没有应走访的住户</li>";
    el("due").querySelectorAll("button.checkin").forEach((b) => b.addEventListener("click", () => openCheckin(b)));
  } catch (e) { el("due").innerHTML = '<li class="error">' + esc(isNetworkDown(e) ? "离线：暂时无法刷新走访名单" : e.message) + "</li>"; }
}

function openCheckin(btn) {
  const li = btn.closest("li"), panel = li.querySelector(".visit-panel");
  panel.innerHTML = '<textarea class="visit-note" rows="2" placeholder="走访情况（可选）"></textarea>' +
    '<label class="photo">走访照片（可选）<input type="file" class="visit-photo" accept="image/*" capture="environment"></label>' +
    '<div class="row"><button type="button" class="primary confirm">确认签到</button><button type="button" class="cancel">取消</button></div>';
  panel.hidden = false;
  panel.querySelector(".cancel").addEventListener("click", () => { panel.hidden = true; });
  panel.querySelector(".confirm").addEventListener("click", () => checkin(li, panel));
}

async function checkin(li, panel) {
  const btn = panel.querySelector(".confirm");
  btn.disabled = true;
  try {
    pos = await gps();
    const fields = { household_id: +li.dataset.id, visited_at: new Date().toISOString(), lng: pos.lng, lat: pos.lat, crs: "wgs84", kind: "routine", notes: panel.querySelector(".visit-note").value.trim() };
    const label = li.querySelector("b").textContent;
    const item = await outbox.enqueue("visit", fields, panel.querySelector(".visit-photo").files[0] || null, label);
    panel.hidden = true;
    const sent = await outbox.flush();
    const mine = sent.find((s) => s.item.key === item.key);
    if (mine) { showSent(mine.item, mine.result); return; }
    const left = (await outbox.pending()).find((i) => i.key === item.key);
    toast(left && left.status === "refused" ? "签到未被接受：" + left.error : "网络不可用，签到已保存在本机，联网后自动发送");
  } catch (e) { toast(e.message); btn.disabled = false; }
}

// ----------------------------------------------------------------------------- wiring

el("locate").addEventListener("click", locate);
el("report").addEventListener("click", () => { sameAs = null; report(); });
el("cat-search").addEventListener("input", (e) => drawCategories(e.target.value));
el("category").addEventListener("change", checkDuplicates);
el("address").addEventListener("input", () => { addressEdited = true; });
window.addEventListener("online", showNetwork);
window.addEventListener("offline", showNetwork);
outbox.onChange(drawOutbox);
showNetwork();
pinMap();
meta();
loadCategories();
loadTasks();
loadDue();
locate();
outbox.autoFlush((sent) => sent.forEach((s) => showSent(s.item, s.result)), 15);
outbox.registerWorker();
// Signing out of a shared phone drops the cached lists (tasks, due visits); the outbox stays, so
// nothing reported offline is lost: it is sent after the next sign-in.
document.querySelectorAll("form[action='/logout']").forEach((f) => f.addEventListener("submit", (e) => {
  if (!window.caches) return;
  e.preventDefault();
  caches.keys().then((names) => Promise.all(names.filter((n) => n.startsWith("gridgov-phone-")).map((n) => caches.delete(n))))
    .finally(() => f.submit());
}));
