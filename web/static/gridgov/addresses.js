/* 标准地址 (/addresses, planners and county admins): roads (街路巷) and their door numbers (门牌号),
   through /api/v1/roads and /api/v1/door-numbers; an address tried against /api/v1/geocode shows
   its match level and whether it is certain (docs/addresses.md). */

import { api } from "./api.js";
import { cfg, el, empty, esc, toast } from "./page.js";

const LEVELS = {
  room: "户室", building: "楼栋", door: "门牌", compound: "小区", road: "道路（无此门牌，最近门牌）",
  community: "社区/村", township: "乡镇/街道",
};
const LOCATED = { surveyed: "实测", interpolated: "插值" };
const county = () => String(cfg.area || "").slice(0, 6);
const list = (s) => s.split(/[、,，;；|\s]+/).map((x) => x.trim()).filter(Boolean);
let roads = [];
let current = null; // the road whose door numbers are shown

async function loadRoads() {
  roads = await api("/api/v1/roads");
  const body = el("roads").tBodies[0];
  body.innerHTML = roads.map((r) =>
    "<tr><td>" + esc(r.name) + "</td><td>" + esc(r.aliases.join("、") || "—") + "</td><td>" +
    (r.first_number == null ? "—" : r.first_number + "–" + r.last_number) + "</td><td>" +
    (r.odd_side === "left" ? "左" : "右") + "</td><td>" + (r.line ? r.line.length + " 个点" : "无") +
    "</td><td>" + r.doors + '</td><td><button type="button" data-road="' + r.id + '">门牌</button></td></tr>'
  ).join("");
  empty(el("roads").parentElement, roads.length ? null : "尚无道路：可在此新增，或导入（gridgov import roads）");
  for (const b of body.querySelectorAll("button[data-road]")) {
    b.onclick = () => showDoors(Number(b.dataset.road));
  }
}

async function showDoors(id) {
  current = roads.find((r) => r.id === id) || null;
  if (!current) return;
  el("doors-card").hidden = false;
  el("doors-title").textContent = current.name;
  const doors = await api("/api/v1/door-numbers?road_id=" + id);
  const body = el("doors").tBodies[0];
  body.innerHTML = doors.map((d) =>
    "<tr><td>" + esc(d.label) + "</td><td>" + esc(d.community_code) + "</td><td>" + esc(LOCATED[d.located] || d.located) +
    "</td><td>" + d.lng.toFixed(6) + ", " + d.lat.toFixed(6) + "</td><td>" + esc(d.building_codes.join("、") || "—") +
    '</td><td><button type="button" data-interp="' + d.id + '"' + (d.located === "interpolated" ? " disabled" : "") +
    '>改为插值</button> <button type="button" class="danger" data-del="' + d.id + '">删除</button></td></tr>'
  ).join("");
  empty(el("doors").parentElement, doors.length ? null : "这条道路尚无门牌");
  for (const b of body.querySelectorAll("button[data-interp]")) {
    b.onclick = () => act(() => api("/api/v1/door-numbers/" + b.dataset.interp,
      { method: "PATCH", json: { interpolate: true } }), "已改为沿道路插值定位");
  }
  for (const b of body.querySelectorAll("button[data-del]")) {
    b.onclick = () => confirm("删除这个门牌？") &&
      act(() => api("/api/v1/door-numbers/" + b.dataset.del, { method: "DELETE" }), "已删除");
  }
}

async function act(call, done) {
  try {
    await call();
    toast(done, true);
    await loadRoads();
    if (current) await showDoors(current.id);
  } catch (e) { toast(e.message); }
}

el("road-form").onsubmit = (ev) => {
  ev.preventDefault();
  const first = el("road-first").value, last = el("road-last").value;
  const body = {
    county_code: county(), name: el("road-name").value.trim(), aliases: list(el("road-aliases").value),
    first_number: first === "" ? null : Number(first), last_number: last === "" ? null : Number(last),
    odd_side: el("road-odd").value,
  };
  act(() => api("/api/v1/roads", { method: "POST", json: body }), "已新增道路");
};

el("door-form").onsubmit = (ev) => {
  ev.preventDefault();
  if (!current) return;
  const lng = el("door-lng").value, lat = el("door-lat").value;
  const body = {
    road_id: current.id, number: el("door-number").value.trim(),
    lng: lng === "" ? null : Number(lng), lat: lat === "" ? null : Number(lat),
    building_codes: list(el("door-buildings").value),
  };
  act(() => api("/api/v1/door-numbers", { method: "POST", json: body }), "已新增门牌");
};

el("try-form").onsubmit = async (ev) => {
  ev.preventDefault();
  const out = el("try-answer");
  try {
    const a = await api("/api/v1/geocode?address=" + encodeURIComponent(el("try-address").value));
    const what = a.building ? a.building.address || a.building.name : a.door ? a.door.label : a.area ? a.area.name + "（" + a.area.grids.length + " 个网格）" : "";
    out.textContent = (LEVELS[a.match_level] || a.match_level) + "：" + what + (a.certain ? "（确定）" : a.ambiguous ? "（有歧义，请核对候选）" : "（不确定，请人工核对）");
  } catch (e) { out.textContent = e.message; }
};

loadRoads().catch((e) => toast(e.message));
