/* Grid worker page: the phone's GPS (browsers report WGS84, so every call says crs=wgs84), the grid
   it falls in, one-tap report with photo and category, and today's due visits with one-tap check-in. */
import { api, isMissing } from "./api.js";
import { number } from "./format.js";
import { cfg, el, esc, toast } from "./page.js";

let pos = null, grid = cfg.jurisdiction.length === 15 ? cfg.jurisdiction : null;

function gps() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error("此设备不支持定位"));
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lng: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy }),
      (e) => reject(new Error("定位失败：" + e.message)),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  });
}

async function locate() {
  el("where").textContent = "正在获取定位…";
  try {
    pos = await gps();
    const r = await api("/api/v1/locate?crs=wgs84&lng=" + pos.lng + "&lat=" + pos.lat);
    if (r.found) {
      grid = r.grid.code;
      el("where").innerHTML = "当前位于 <b id='grid-name'>" + esc(r.grid.name) + "</b>（" + esc(r.grid.code) + "）<br>" +
        esc(r.community ? r.community.name : "") + " · 网格长 " + esc(r.leader ? r.leader.name + " " + (r.leader.phone || "") : "未配备");
    } else {
      el("where").textContent = r.message;
    }
  } catch (e) { el("where").textContent = e.message; }
  await loadDue();
}

async function loadCategories() {
  try {
    const cats = await api("/api/v1/incident-categories");
    const list = cats.filter((c) => c.parent_code && c.active !== false);
    el("category").innerHTML = '<option value="">选择事件类别</option>' + list.map((c) => '<option value="' + esc(c.code) + '">' + esc(c.name) + "</option>").join("");
  } catch (e) { toast(isMissing(e) ? "事件类别接口尚未上线" : e.message); }
}

function photoBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(",")[1]);
    r.onerror = () => reject(new Error("读取照片失败"));
    r.readAsDataURL(file);
  });
}

async function report() {
  const btn = el("report");
  btn.disabled = true;
  try {
    if (!pos) pos = await gps();
    const form = new FormData();
    const data = { category_code: el("category").value, description: el("desc").value.trim(), lng: pos.lng, lat: pos.lat, crs: "wgs84" };
    if (!data.category_code) throw new Error("请选择事件类别");
    if (!data.description) throw new Error("请填写事件描述");
    const file = el("photo").files[0];
    let res;
    if (file) {
      for (const [k, v] of Object.entries(data)) form.append(k, String(v));
      form.append("photos", file);
      res = await api("/api/v1/incidents", { method: "POST", body: form });
    } else {
      res = await api("/api/v1/incidents", { method: "POST", json: data });
    }
    el("report-result").innerHTML = '<p class="notice" id="report-ok">已上报，案件编号 <b>' + esc(res.case_no) + "</b>，网格 " + esc(res.grid_code) + "</p>";
    el("desc").value = "";
    el("photo").value = "";
  } catch (e) {
    el("report-result").innerHTML = '<p class="error">' + esc(e.message) + "</p>";
  } finally { btn.disabled = false; }
}

async function loadDue() {
  try {
    // The worker's whole list (every grid they serve), whether or not the phone has a GPS fix; the
    // special groups come labelled by the API (app/visits/service.py).
    const d = await api("/api/v1/visits/due");
    el("due-count").textContent = number(d.count) + " 户";
    el("due").innerHTML = d.households.length ? d.households.map((h) =>
      '<li><b>' + esc(h.address) + "</b> " + h.special_groups.map((g) => '<span class="pill due_soon">' + esc(g) + "</span>").join(" ") +
      '<br><span class="muted">' + (h.days_overdue == null ? "从未走访" : h.days_overdue > 0 ? "已超期 " + h.days_overdue + " 天" : "今日到期") + '</span> <button class="checkin" data-id="' + h.household_id + '">签到走访</button></li>').join("")
      : "<li class='muted' id='due-empty'>今日没有应走访的住户</li>";
    el("due").querySelectorAll("button.checkin").forEach((b) => b.addEventListener("click", () => checkin(b)));
  } catch (e) { el("due").innerHTML = '<li class="error">' + esc(e.message) + "</li>"; }
}

async function checkin(btn) {
  btn.disabled = true;
  try {
    pos = await gps();
    const v = await api("/api/v1/visits", { method: "POST", json: { household_id: +btn.dataset.id, visited_at: new Date().toISOString(), lng: pos.lng, lat: pos.lat, crs: "wgs84", kind: "routine" } });
    toast(v.message || "已签到", !v.far_from_household);
    await loadDue();
  } catch (e) { toast(e.message); btn.disabled = false; }
}

el("locate").addEventListener("click", locate);
el("report").addEventListener("click", report);
loadCategories();
locate();
