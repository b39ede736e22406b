/* 党建引领网格 (/party): the area's party figures, its party organisations (the grids each covers,
   members and the buildings they lead), and 双报到: the community registers in-service party members
   of county units and their service hours; a unit's member sees their own registration and logs
   their hours. Everything through /api/v1/party (docs/party.md). */

import { api } from "./api.js";
import { today } from "./format.js";
import { cfg, el, empty, esc, toast } from "./page.js";

const may = cfg.may || {};
const query = cfg.area ? "?area=" + encodeURIComponent(cfg.area) : "";
let openOrg = null;

async function loadFigures() {
  const f = await api("/api/v1/party/figures" + query);
  const cells = [
    ["网格", f.grids], ["有党组织的网格", f.grids_with_org], ["党组织", f.orgs], ["党员", f.party_members],
    ["有楼栋长的楼栋", f.buildings_led], ["党员任楼栋长的楼栋", f.buildings_party_led],
    ["双报到党员", f.dual_members], ["服务时长（小时）", f.dual_hours],
  ];
  el("figures").innerHTML = cells.map(([k, v]) => "<div><b>" + esc(v) + "</b>" + esc(k) + "</div>").join("");
}

async function loadOrgs() {
  const orgs = await api("/api/v1/party/orgs" + query);
  const body = el("orgs").tBodies[0];
  body.innerHTML = orgs.map((o) =>
    '<tr data-org="' + o.id + '"><td>' + esc(o.name) + "</td><td>" + esc(o.kind_label) + "</td><td>" + esc(o.area_name || o.area_code) +
    "</td><td>" + esc(o.grid_codes.join("、") || "—") + "</td><td>" + o.members + "</td><td>" + o.buildings_led +
    '</td><td><button type="button" data-members="' + o.id + '">党员</button></td></tr>').join("");
  empty(el("orgs").parentElement, orgs.length ? null : "本区域尚未建立网格党组织");
  for (const b of body.querySelectorAll("button[data-members]")) {
    b.onclick = () => showMembers(orgs.find((o) => String(o.id) === b.dataset.members));
  }
}

async function showMembers(org) {
  openOrg = org;
  el("members-card").hidden = false;
  el("members-title").textContent = org.name;
  el("member-form").hidden = !may.edit_orgs;
  const rows = await api("/api/v1/party/orgs/" + org.id + "/members");
  el("members").tBodies[0].innerHTML = rows.map((m) =>
    "<tr><td>" + esc(m.name) + "</td><td>" + esc(m.phone || "—") + "</td><td>" + esc(m.buildings_led.join("、") || "—") + "</td><td>" + (m.active ? "在册" : "已停用") + "</td></tr>").join("");
  empty(el("members").parentElement, rows.length ? null : "尚无党员");
}

async function addOrg(ev) {
  ev.preventDefault();
  const grids = el("org-grids").value.split(/[,，、\s]+/).filter(Boolean);
  const json = { name: el("org-name").value, kind: el("org-kind").value, area_code: el("org-area").value, grid_codes: grids };
  if (el("org-secretary").value) json.secretary = el("org-secretary").value;
  try {
    await api("/api/v1/party/orgs", { method: "POST", json });
    toast("已建立党组织", true);
    el("org-form").reset();
    await Promise.all([loadOrgs(), loadFigures()]);
  } catch (e) { toast(e.message); }
}

async function addMember(ev) {
  ev.preventDefault();
  const json = { name: el("member-name").value };
  if (el("member-phone").value) json.phone = el("member-phone").value;
  if (el("member-staff").value) json.staff_id = Number(el("member-staff").value);
  try {
    await api("/api/v1/party/orgs/" + openOrg.id + "/members", { method: "POST", json });
    toast("已添加党员", true);
    el("member-form").reset();
    await Promise.all([showMembers(openOrg), loadOrgs(), loadFigures()]);
  } catch (e) { toast(e.message); }
}

async function loadDual() {
  const rows = await api("/api/v1/party/dual" + (may.register ? query : ""));
  el("dual").tBodies[0].innerHTML = rows.map((d) =>
    '<tr data-reg="' + d.id + '"><td>' + esc(d.name) + "</td><td>" + esc(d.unit_name || d.unit_code) + "</td><td>" + esc(d.community_name || d.community_code) +
    "</td><td>" + esc(d.phone || "—") + "</td><td>" + esc(d.registered_on) + '</td><td class="hours">' + esc(d.hours) + "</td><td>" + d.entries + "</td></tr>").join("");
  empty(el("dual").parentElement, rows.length ? null : may.register ? "尚无在职党员报到" : "您尚未向居住地社区报到");
  el("hours-reg").innerHTML = rows.filter((d) => d.active).map((d) => '<option value="' + d.id + '">' + esc(d.name) + "（" + esc(d.community_name || d.community_code) + "）</option>").join("");
}

async function register(ev) {
  ev.preventDefault();
  const json = { community_code: el("dual-community").value, unit_code: el("dual-unit").value, name: el("dual-name").value, phone: el("dual-phone").value };
  if (el("dual-username").value) json.username = el("dual-username").value;
  try {
    await api("/api/v1/party/dual", { method: "POST", json });
    toast("已登记报到", true);
    el("dual-form").reset();
    await loadDual();
  } catch (e) { toast(e.message); }
}

async function logHours(ev) {
  ev.preventDefault();
  const json = { served_on: el("hours-day").value, hours: Number(el("hours-n").value), activity: el("hours-activity").value };
  try {
    await api("/api/v1/party/dual/" + el("hours-reg").value + "/hours", { method: "POST", json });
    toast("已记录服务时长", true);
    el("hours-n").value = "";
    el("hours-activity").value = "";
    await loadDual();
    if (may.orgs) await loadFigures();
  } catch (e) { toast(e.message); }
}

async function start() {
  el("figures-card").hidden = !may.orgs;
  el("orgs-card").hidden = !may.orgs;
  el("org-form").hidden = !may.edit_orgs;
  el("dual-form").hidden = !may.register;
  el("hours-form").hidden = !may.log_hours;
  el("hours-day").value = today();
  if (cfg.area && cfg.area.length === 12) { el("dual-community").value = cfg.area; el("org-area").value = cfg.area; }
  el("org-form").addEventListener("submit", addOrg);
  el("member-form").addEventListener("submit", addMember);
  el("dual-form").addEventListener("submit", register);
  el("hours-form").addEventListener("submit", logHours);
  const jobs = [loadDual()];
  if (may.orgs) jobs.push(loadFigures(), loadOrgs());
  if (may.register) {
    jobs.push(api("/api/v1/units" + query).then((units) => {
      el("dual-unit").innerHTML = units.filter((u) => u.active).map((u) => '<option value="' + esc(u.code) + '">' + esc(u.name) + "</option>").join("");
    }));
  }
  for (const r of await Promise.allSettled(jobs)) if (r.status === "rejected") toast(r.reason.message);
}

start();
