/* 承办单位与分派规则 (/admin/units, county admins): the routing table (category × area → the default
   unit or tier of a dispatch), the responsible units and their staff. Everything through the units
   API (/api/v1/units, /api/v1/routing-rules); labels of unit kinds and categories from /api/v1/meta. */

import { api, meta } from "./api.js";
import { cfg, el, empty, esc, toast } from "./page.js";
import { today } from "./format.js";

const TIERS = ["grid", "community", "township", "county"];
let M = null;
let units = [];
let editing = null; // code of the unit being edited, or null when adding
let membersOf = null; // code of the unit whose staff are shown

const query = () => (cfg.area ? "?area=" + encodeURIComponent(cfg.area) : "");
const kindLabel = (k) => (M.unit_kinds && M.unit_kinds[k]) || k;
const unitName = (code) => {
  const u = units.find((x) => x.code === code);
  return u ? u.name : code;
};

async function loadRules() {
  const rules = await api("/api/v1/routing-rules" + query());
  const body = el("rules").tBodies[0];
  body.innerHTML = rules.map((r) =>
    "<tr><td>" + esc(r.category_code) + " " + esc(r.category_name || "") + "</td><td>" + esc(r.area_code) +
    "</td><td>" + (r.unit_code ? esc(r.unit_name || r.unit_code) : esc(kindLabel(r.tier)) + "（按层级）") +
    "</td><td>" + esc(r.note) + '</td><td><button type="button" class="danger" data-rule="' + r.id + '">删除</button></td></tr>'
  ).join("");
  empty(el("rules").parentElement, rules.length ? null : "尚无分派规则：派遣时默认建议类别的处置层级对应的单位");
  for (const b of body.querySelectorAll("button[data-rule]")) {
    b.onclick = async () => {
      if (!confirm("删除这条分派规则？")) return;
      try {
        await api("/api/v1/routing-rules/" + b.dataset.rule, { method: "DELETE" });
        toast("已删除", true);
        await loadRules();
      } catch (e) { toast(e.message); }
    };
  }
}

function fillTargets() {
  const active = units.filter((u) => u.active);
  el("rule-target").innerHTML =
    '<optgroup label="按层级（本案所在区域的该层级单位）">' +
    TIERS.map((t) => '<option value="tier:' + t + '">' + esc(kindLabel(t)) + "</option>").join("") + "</optgroup>" +
    '<optgroup label="指定单位">' +
    active.map((u) => '<option value="unit:' + esc(u.code) + '">' + esc(u.name) + "（" + esc(kindLabel(u.kind)) + "）</option>").join("") +
    "</optgroup>";
}

async function loadUnits() {
  const kind = el("unit-kind").value;
  const sep = query() ? "&" : "?";
  units = await api("/api/v1/units" + query() + (kind ? sep + "kind=" + kind : ""));
  const body = el("units").tBodies[0];
  body.innerHTML = units.map((u) =>
    "<tr><td>" + esc(u.code) + "</td><td>" + esc(u.name) + "</td><td>" + esc(kindLabel(u.kind)) + "</td><td>" + esc(u.area_code) +
    "</td><td>" + esc(u.parent_code ? unitName(u.parent_code) : "—") + "</td><td>" + esc(u.phone || "—") + "</td><td>" + (u.active ? "启用" : "停用") +
    '</td><td><button type="button" data-edit="' + esc(u.code) + '">编辑</button> <button type="button" data-members="' + esc(u.code) + '">人员</button></td></tr>'
  ).join("");
  empty(el("units").parentElement, units.length ? null : "没有承办单位");
  for (const b of body.querySelectorAll("button[data-edit]")) b.onclick = () => startEdit(b.dataset.edit);
  for (const b of body.querySelectorAll("button[data-members]")) b.onclick = () => showMembers(b.dataset.members);
  fillTargets();
}

function startEdit(code) {
  const u = units.find((x) => x.code === code);
  editing = code;
  el("unit-form-title").textContent = "编辑单位";
  el("unit-code").value = u.code;
  el("unit-code").disabled = true;
  el("unit-name").value = u.name;
  el("unit-kind-input").value = u.kind;
  el("unit-area").value = u.area_code;
  el("unit-parent").value = u.parent_code || "";
  el("unit-phone").value = u.phone || "";
  el("unit-active").checked = u.active;
  el("unit-save").textContent = "保存";
  el("unit-cancel").hidden = false;
}

function stopEdit() {
  editing = null;
  el("unit-form").reset();
  el("unit-code").disabled = false;
  el("unit-form-title").textContent = "新增单位";
  el("unit-save").textContent = "新增";
  el("unit-cancel").hidden = true;
}

async function showMembers(code) {
  membersOf = code;
  el("members-card").hidden = false;
  el("members-title").textContent = unitName(code);
  const rows = await api("/api/v1/units/" + encodeURIComponent(code) + "/members");
  const body = el("members").tBodies[0];
  body.innerHTML = rows.map((m) =>
    "<tr><td>" + esc(m.username) + "</td><td>" + esc(m.full_name || "—") + "</td><td>" + esc(m.valid_from) + "</td><td>" + esc(m.valid_to || "长期") +
    "</td><td>" + (m.valid_to ? "" : '<button type="button" data-end="' + m.id + '">今日离岗</button>') + "</td></tr>"
  ).join("");
  empty(el("members").parentElement, rows.length ? null : "本单位尚无人员（网格单位的网格员按网格任职自动计入）");
  for (const b of body.querySelectorAll("button[data-end]")) {
    const m = rows.find((x) => String(x.id) === b.dataset.end);
    b.onclick = async () => {
      try {
        await api("/api/v1/units/" + encodeURIComponent(code) + "/members/" + m.id, {
          method: "PUT", json: { username: m.username, valid_from: m.valid_from, valid_to: today() },
        });
        toast("已设置离岗", true);
        await showMembers(code);
      } catch (e) { toast(e.message); }
    };
  }
}

async function init() {
  M = await meta();
  const kinds = Object.entries(M.unit_kinds || {});
  el("unit-kind").innerHTML += kinds.map(([k, l]) => '<option value="' + k + '">' + esc(l) + "</option>").join("");
  el("unit-kind-input").innerHTML = kinds.map(([k, l]) => '<option value="' + k + '">' + esc(l) + "</option>").join("");
  const cats = await api("/api/v1/incident-categories");
  el("rule-category").innerHTML = cats.map((c) =>
    '<option value="' + esc(c.code) + '">' + (c.parent_code ? "　" : "") + esc(c.code + " " + c.name) + (c.parent_code ? "" : "（大类）") + "</option>"
  ).join("");
  el("unit-kind").onchange = () => loadUnits().catch((e) => toast(e.message));
  el("unit-cancel").onclick = stopEdit;
  el("member-from").value = today();

  el("rule-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const [how, value] = el("rule-target").value.split(/:(.*)/s);
    const body = {
      category_code: el("rule-category").value, area_code: el("rule-area").value.trim(),
      note: el("rule-note").value.trim(), unit_code: how === "unit" ? value : null, tier: how === "tier" ? value : null,
    };
    try {
      await api("/api/v1/routing-rules", { method: "PUT", json: body });
      toast("规则已保存", true);
      await loadRules();
    } catch (e) { toast(e.message); }
  };

  el("unit-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const body = {
      name: el("unit-name").value.trim(), kind: el("unit-kind-input").value, area_code: el("unit-area").value.trim(),
      parent_code: el("unit-parent").value.trim() || null, phone: el("unit-phone").value.trim() || null, active: el("unit-active").checked,
    };
    try {
      if (editing) {
        await api("/api/v1/units/" + encodeURIComponent(editing), { method: "PUT", json: body });
      } else {
        await api("/api/v1/units", { method: "POST", json: Object.assign({ code: el("unit-code").value.trim() }, body) });
      }
      toast(editing ? "单位已保存" : "单位已新增", true);
      stopEdit();
      await loadUnits();
    } catch (e) { toast(e.message); }
  };

  el("member-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const body = { username: el("member-username").value.trim(), valid_from: el("member-from").value, valid_to: el("member-to").value || null };
    try {
      await api("/api/v1/units/" + encodeURIComponent(membersOf) + "/members", { method: "POST", json: body });
      toast("人员已添加", true);
      el("member-username").value = "";
      await showMembers(membersOf);
    } catch (e) { toast(e.message); }
  };

  await loadUnits();
  await loadRules();
}

init().catch((e) => toast(e.message));
