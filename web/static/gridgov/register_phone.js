/* 实有人口、出租房屋 on the phone (/m/): a grid worker registers a resident (a floating resident by
   default) or a rented house with its landlord; each is a change proposal the community reviews
   (POST /api/v1/register/proposals). Sent through the outbox (offline.js): kept on the phone when
   the network is down, sent once when it is back (the item's key is the proposal's client_id, so a
   replay answers the first one). "我的登记" shows each proposal's state: 待确认, 待审核, 已通过,
   已退回 with the reason. */
import { api, isNetworkDown } from "./api.js";
import { dateTime } from "./format.js";
import * as outbox from "./offline.js";
import { el, esc, toast } from "./page.js";

let buildings = [];
let states = {};
const SHOWN = ["submitted", "pending", "returned", "approved"];

async function loadBuildings() {
  const fc = await api("/api/v1/layers/buildings?f=json");
  buildings = fc.features.map((f) => Object.assign({ lng: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] }, f.properties));
  const opts = buildings.map((b, i) => '<option value="' + i + '">' + esc((b.compound || "") + b.name) + "</option>").join("");
  el("reg-person-building").innerHTML = '<option value="">选择居住楼栋</option>' + opts;
  el("reg-house-building").innerHTML = '<option value="">选择楼栋</option>' + opts;
}

// The grid of each building, found when it is picked (online) and kept on the phone, so a resident
// registered later with the network down still names their grid.
const GRIDS_KEY = "gridgov-building-grids";
const known = JSON.parse(localStorage.getItem(GRIDS_KEY) || "{}");

async function gridOf(b) {
  if (known[b.id]) return known[b.id];
  const r = await api("/api/v1/locate?lng=" + b.lng + "&lat=" + b.lat + "&crs=cgcs2000");
  if (r.grid && r.grid.code) {
    known[b.id] = r.grid.code;
    localStorage.setItem(GRIDS_KEY, JSON.stringify(known));
  }
  return known[b.id] || null;
}

function value(id) { return el(id).value.trim(); }

async function submit(kind) {
  const out = el("reg-result");
  const b = buildings[+el(kind === "person" ? "reg-person-building" : "reg-house-building").value];
  if (!b || el(kind === "person" ? "reg-person-building" : "reg-house-building").value === "") { out.innerHTML = '<p class="error">请选择楼栋</p>'; return; }
  let fields, label;
  if (kind === "person") {
    if (!value("reg-name") || !value("reg-id")) { out.innerHTML = '<p class="error">请填写姓名和身份证号</p>'; return; }
    let grid = null;
    try { grid = await gridOf(b); } catch (e) { grid = known[b.id] || null; }
    if (!grid) { out.innerHTML = '<p class="error">离线时无法确定该楼栋所属网格：请联网后选择楼栋，再提交</p>'; return; }
    fields = { name: value("reg-name"), id_number: value("reg-id"), gender: el("reg-gender").value || null,
      phone: value("reg-phone") || null, residence_type: el("reg-residence").value, registered_address: value("reg-origin") || null, grid_code: grid };
    label = "登记人口 " + fields.name;
  } else {
    if (!value("reg-room")) { out.innerHTML = '<p class="error">请填写房号</p>'; return; }
    fields = { building_id: b.id, unit: value("reg-unit"), room: value("reg-room"), use: "rented",
      landlord_name: value("reg-landlord") || null, landlord_phone: value("reg-landlord-phone") || null };
    label = "登记出租房屋 " + (b.compound || "") + b.name + " " + fields.room;
  }
  const item = await outbox.enqueue("proposal", { kind, action: "create", fields }, null, label);
  const sent = await outbox.flush();
  if (sent.some((s) => s.item.key === item.key)) {
    out.innerHTML = '<p class="ok">已提交，等待社区审核</p>';
    el(kind === "person" ? "reg-person-form" : "reg-house-form").reset();
  } else {
    const left = (await outbox.pending()).find((i) => i.key === item.key);
    out.innerHTML = left && left.status === "refused" ? '<p class="error">未被接受：' + esc(left.error) + "</p>"
      : '<p class="muted">网络不可用，已保存在本机，联网后自动提交</p>';
  }
  await loadMine();
}

async function loadMine() {
  const list = el("reg-mine");
  try {
    if (!Object.keys(states).length) {
      const codes = await api("/api/v1/register/codes");
      (codes.states || []).forEach((s) => { states[s.code] = s.label; });
    }
    // One list per state (the API lists one state at a time), newest first.
    const lists = await Promise.all(SHOWN.map((st) => api("/api/v1/register/proposals?mine=true&limit=20&state=" + st)));
    const mine = lists.flatMap((r) => r.data).sort((a, b) => b.id - a.id).slice(0, 20);
    list.innerHTML = mine.length ? mine.map((p) =>
      '<li data-state="' + esc(p.state) + '"><b>' + esc(p.summary || (p.kind + " " + p.action)) + '</b> <span class="pill">' + esc(states[p.state] || p.state) + "</span>" +
      (p.state === "returned" && p.reason ? '<br><span class="error">退回原因：' + esc(p.reason) + "</span>" : "") +
      '<br><span class="muted">' + dateTime(p.proposed_at) + "</span></li>").join("")
      : "<li class='muted'>暂无登记</li>";
  } catch (e) {
    list.innerHTML = '<li class="error">' + esc(isNetworkDown(e) ? "离线：暂时无法刷新登记状态" : e.message) + "</li>";
  }
}

// Enter in a field must not submit the form (a page reload would lose nothing, but nothing is sent).
["reg-person-form", "reg-house-form"].forEach((id) => el(id).addEventListener("submit", (e) => e.preventDefault()));
el("reg-person-building").addEventListener("change", (e) => {
  const b = buildings[+e.target.value];
  if (b && e.target.value !== "") gridOf(b).catch(() => null);
});
el("reg-person-submit").addEventListener("click", () => submit("person").catch((e) => toast(e.message)));
el("reg-house-submit").addEventListener("click", () => submit("house").catch((e) => toast(e.message)));
outbox.onChange(() => loadMine());
loadBuildings().catch((e) => toast(isNetworkDown(e) ? "离线：楼栋列表暂不可用" : e.message));
loadMine();
