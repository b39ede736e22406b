/* Boundary editor over the plans API: open a draft, reshape / split / merge grids, move buildings;
   after each edit the API answers with the plan's grids (households, band) and its validation
   (gaps, overlaps, band violations), which are redrawn. Submit, impact preview, approve. A plan's
   status is labelled by GET /api/v1/meta (plan_states). */
import { api, label, meta } from "./api.js";
import { number, today } from "./format.js";
import { addBase, fitTo, legend, makeMap } from "./map.js";
import { OUTLINE, PLAN } from "./palette.js";
import { cfg, el, empty, esc, toast } from "./page.js";

const map = makeMap("map"); // window.GG_MAP: the browser tests draw on it
map.pm.setLang("zh");
const wrap = document.querySelector(".mapwrap");
const gridsLayer = L.featureGroup().addTo(map);
const findingsLayer = L.featureGroup().addTo(map);
const buildingsLayer = L.featureGroup().addTo(map);
legend(map, "户数标准", [[PLAN.in_band, "标准内"], [PLAN.out_of_band, "超出标准"], [PLAN.finding, "缺口/重叠"]]);
let plan = null, selected = null, tool = null, picked = new Set(), editing = null;
let planStates = {};
const status = (s) => label(planStates, s);

function hint(msg) { el("hint").hidden = !msg; el("hint").textContent = msg || ""; el("t-cancel").hidden = !msg; }

async function listPlans() {
  try {
    const res = await api("/api/v1/plans");
    el("plans").innerHTML = res.data.length ? res.data.map((p) =>
      '<li data-id="' + p.id + '">' + esc(p.name) + ' <span class="muted">' + esc(p.community_code) + " · " + esc(status(p.status)) + " · 第" + p.version + "版</span></li>").join("")
      : "<li class='muted' id='no-plans'>暂无方案，可输入社区编码以现状新建草稿</li>";
    el("plans").querySelectorAll("li[data-id]").forEach((li) => li.addEventListener("click", () => openPlan(+li.dataset.id)));
  } catch (e) { toast(e.message); }
}

async function newPlan() {
  try {
    const p = await api("/api/v1/plans", { method: "POST", json: { community_code: el("new-community").value.trim(), source: el("new-source").value, band: cfg.band } });
    await listPlans();
    show(p);
  } catch (e) { toast(e.message); }
}

async function openPlan(id) {
  try { show(await api("/api/v1/plans/" + id)); } catch (e) { toast(e.message); }
}

function gridStyle(g) {
  const sel = selected === g.id;
  return { color: sel ? PLAN.selected : OUTLINE.grid_edge, weight: sel ? 3 : 1.5, fillColor: g.in_band === false ? PLAN.out_of_band : PLAN.in_band, fillOpacity: sel ? 0.5 : 0.35 };
}

function show(p) {
  const first = !plan || plan.id !== p.id;
  plan = p;
  el("plan").hidden = false;
  el("plan-title").textContent = p.name;
  el("plan-meta").textContent = p.community_code + " · 状态 " + status(p.status) + " · 第 " + p.version + " 版" + (p.lock && p.lock.locked_by ? " · 编辑锁：" + p.lock.locked_by : "");
  el("approve-box").hidden = !(cfg.may_approve && p.status === "submitted");
  gridsLayer.clearLayers();
  for (const g of p.grids) {
    const layer = L.geoJSON({ type: "Feature", geometry: g.geometry, properties: g }, { style: () => gridStyle(g), pmIgnore: false }).getLayers()[0];
    layer.gridId = g.id;
    layer.bindTooltip(esc(g.name) + "<br>" + number(g.households) + " 户 · " + number(g.buildings) + " 栋" + (g.in_band === false ? "（超出标准）" : ""), { sticky: true });
    layer.on("click", (ev) => {
      if (tool === "split") return; // the click belongs to the line being drawn
      L.DomEvent.stopPropagation(ev);
      clickGrid(g, layer);
    });
    layer.addTo(gridsLayer);
    const c = layer.getBounds().getCenter();
    L.marker(c, { icon: L.divIcon({ className: "grid-label", html: '<b style="white-space:nowrap;text-shadow:0 0 3px #fff">' + number(g.households) + "户</b>" }), interactive: false, pmIgnore: true }).addTo(gridsLayer);
  }
  el("plan-grids").innerHTML = "<tr><th>网格</th><th>户数</th><th>楼栋</th><th></th></tr>" + p.grids.map((g) =>
    '<tr data-id="' + g.id + '"><td>' + esc(g.name) + "</td><td>" + number(g.households) + "</td><td>" + number(g.buildings) + "</td><td>" + (g.in_band === false ? '<span class="pill due_soon">超标</span>' : "") + (g.contiguous ? "" : ' <span class="pill overdue">不连通</span>') + "</td></tr>").join("");
  findingsLayer.clearLayers();
  const v = p.validation;
  const items = v.errors.map((f) => ["error", f]).concat(v.warnings.map((f) => ["warning", f]));
  el("findings").innerHTML = items.length ? items.map(([s, f]) => '<li class="' + (s === "error" ? "error" : "") + '">' + esc(f.message) + "</li>").join("") : '<li id="no-findings">无缺口、无重叠，户数均在标准内</li>';
  for (const [s, f] of items) if (f.geometry) L.geoJSON(f.geometry, { interactive: false, style: { color: PLAN.finding, weight: 2, fillColor: PLAN.finding, fill: s === "error", fillOpacity: 0.6, dashArray: s === "error" ? null : "6 4" } }).addTo(findingsLayer);
  if (first) { fitTo(map, gridsLayer); loadBuildings(); }
  empty(wrap, p.grids.length ? null : "该方案没有网格");
}

async function loadBuildings() {
  buildingsLayer.clearLayers();
  try {
    const fc = await api("/api/v1/layers/buildings?area=" + plan.community_code);
    L.geoJSON(fc, {
      pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 5, color: PLAN.building, weight: 1, fillColor: PLAN.building_fill, fillOpacity: 1, pmIgnore: true }),
      onEachFeature: (f, layer) => {
        layer.bindTooltip(esc(f.properties.name) + " · " + number(f.properties.households) + " 户");
        layer.on("click", (ev) => {
          if (tool !== "move") return;
          L.DomEvent.stopPropagation(ev);
          const id = f.properties.id;
          if (picked.has(id)) { picked.delete(id); layer.setStyle({ fillColor: PLAN.building_fill }); } else { picked.add(id); layer.setStyle({ fillColor: PLAN.picked }); }
          hint("已选 " + picked.size + " 栋楼，点击目标网格完成移动");
        });
      },
    }).addTo(buildingsLayer);
  } catch (e) { toast(e.message); }
}

async function edit(kind, body) {
  try {
    const p = await api("/api/v1/plans/" + plan.id + "/" + kind, { method: "POST", json: Object.assign({ version: plan.version }, body) });
    cancel();
    show(p);
    listPlans();
    toast("已保存，方案第 " + p.version + " 版", true);
  } catch (e) { toast(e.message); }
}

function clickGrid(g, layer) {
  if (tool === "merge" && selected && selected !== g.id) return edit("merge", { grid_id: selected, other_grid_id: g.id });
  if (tool === "move" && picked.size) return edit("move-buildings", { building_ids: [...picked], to_grid_id: g.id });
  selected = g.id;
  gridsLayer.eachLayer((l) => { if (l.gridId) l.setStyle(gridStyle(plan.grids.find((x) => x.id === l.gridId))); });
}

function need(msg) { if (!selected) { toast(msg); return false; } return true; }

function cancel() {
  tool = null; picked.clear();
  if (editing) { editing.pm.disable(); editing = null; }
  map.pm.disableDraw();
  el("t-save").hidden = true;
  hint(null);
}

el("t-reshape").addEventListener("click", () => {
  if (!need("请先点击选中一个网格")) return;
  cancel(); tool = "reshape";
  gridsLayer.eachLayer((l) => { if (l.gridId === selected) editing = l; });
  editing.pm.enable({ allowSelfIntersection: false });
  el("t-save").hidden = false;
  hint("拖动节点调整边界，完成后点“保存形状”");
});
el("t-save").addEventListener("click", () => { if (editing) edit("reshape", { grid_id: selected, geometry: editing.toGeoJSON().geometry }); });
el("t-split").addEventListener("click", () => {
  if (!need("请先点击选中要拆分的网格")) return;
  cancel(); tool = "split";
  map.pm.enableDraw("Line", { snappable: false });
  hint("画一条完全穿过所选网格的线（再次单击最后一点结束）");
});
el("t-merge").addEventListener("click", () => { if (!need("请先点击选中一个网格")) return; cancel(); tool = "merge"; hint("点击要并入的相邻网格"); });
el("t-move").addEventListener("click", () => { cancel(); tool = "move"; hint("点选要移动的楼栋，再点击目标网格"); });
el("t-cancel").addEventListener("click", cancel);
map.on("pm:create", (e) => {
  const line = e.layer.toGeoJSON().geometry;
  e.layer.remove();
  if (tool === "split") edit("split", { grid_id: selected, line });
});

el("new-plan").addEventListener("click", newPlan);
el("submit").addEventListener("click", async () => {
  try {
    const v = await api("/api/v1/plans/" + plan.id + "/submit", { method: "POST", json: { version: plan.version } });
    toast(v.ok ? "已提交审批" : "校验未通过，不能提交", v.ok);
    await openPlan(plan.id); await listPlans();
  } catch (e) { toast(e.message); }
});
el("impact").addEventListener("click", async () => {
  try {
    const r = await api("/api/v1/plans/" + plan.id + "/impact");
    const sec = (label, s) => "<tr><td>" + label + "</td><td>" + (s.available ? s.count : "—") + "</td><td class='muted'>" + esc(s.note || "") + "</td></tr>";
    el("impact-box").innerHTML = '<table class="grid" id="impact-table"><tr><th colspan="3">影响预览</th></tr>' +
      "<tr><td>保留网格</td><td>" + r.grids_kept.length + "</td><td></td></tr><tr><td>变更网格</td><td>" + r.grids_changed.length + "</td><td>" + esc(r.grids_changed.join("、")) + "</td></tr>" +
      "<tr><td>撤销网格</td><td>" + r.grids_retired.length + "</td><td>" + esc(r.grids_retired.join("、")) + "</td></tr><tr><td>新增网格</td><td>" + r.grids_new + "</td><td></td></tr>" +
      sec("移动楼栋", r.buildings) + sec("移动住户", r.households) + sec("人员调整", r.staff_assignments) + sec("走访记录", r.visits) + sec("在办案件", r.incidents) + "</table>";
  } catch (e) { toast(e.message); }
});
el("approve").addEventListener("click", async () => {
  try {
    const r = await api("/api/v1/plans/" + plan.id + "/approve", { method: "POST", json: { effective_date: el("eff-date").value, reason: el("reason").value } });
    toast("已批准，" + r.effective_date + " 起生效", true);
    await openPlan(plan.id); await listPlans();
  } catch (e) { toast(e.message); }
});
// The approval's default effective date is today in Shanghai (before 08:00 toISOString said yesterday).
el("eff-date").value = today();
addBase(map, cfg.area).then((fc) => { if (fc && !plan) fitTo(map, L.geoJSON(fc)); });
meta().then((m) => { planStates = m.plan_states || {}; }).finally(listPlans);
