/* Boundary editor over the plans API. Pick a community (search its name, or click the map): its live
   grids show with households and band colours before any plan is open. Open or start a draft;
   reshape / split / merge / move buildings / rename, each saved on the server with its history
   (undo/redo survive a reload: buttons, Ctrl+Z, Ctrl+Y). While an edit is being drawn, the server
   computes the households per grid it would give (POST …/preview) and the table, the totals and the
   colours follow. Submission asks a reason for every grid that needs one; the approver returns (退回)
   with a reason or approves with an effective date. Which controls show is the plan's own
   ``actions`` (what the caller may do now, app/plans/workflow.py): nothing else is drawn. The band
   of a grid is the server's (band_of), its labels GET /api/v1/meta (bands), states plan_states. */
import { api, label, meta } from "./api.js";
import { number, today } from "./format.js";
import { addBase, fitTo, legend, makeMap } from "./map.js";
import { BAND, OUTLINE, PLAN } from "./palette.js";
import { cfg, el, empty, esc, toast } from "./page.js";

const map = makeMap("map"); // window.GG_MAP: the browser tests draw on it
map.pm.setLang("zh");
const wrap = document.querySelector(".mapwrap");
const liveLayer = L.featureGroup().addTo(map);
const gridsLayer = L.featureGroup().addTo(map);
const findingsLayer = L.featureGroup().addTo(map);
const buildingsLayer = L.featureGroup().addTo(map);
let community = null, names = {}, plan = null, selected = null, tool = null, picked = new Set(), editing = null;
let planStates = {}, bands = {}, preview = null, previewSeq = 0, previewTimer = null;
const status = (s) => label(planStates, s);
const bandLabel = (b) => label(bands, b);
const may = (a) => !!plan && plan.actions.includes(a);

function hint(msg) { el("hint").hidden = !msg; el("hint").textContent = msg || ""; el("t-cancel").hidden = !msg; }
function pill(band) { return band === "within" ? "" : '<span class="pill" style="background:' + BAND[band] + ';color:#fff">' + esc(bandLabel(band)) + "</span>"; }

// --------------------------------------------------------------------------- community
async function loadNames() {
  try { names = (await api("/api/v1/layers/names?level=community")).names || {}; } catch (e) { toast(e.message); }
}

function search() {
  const q = el("community-search").value.trim();
  const box = el("community-results");
  if (!q) { box.hidden = true; box.innerHTML = ""; return; }
  // Any part of the name (no pinyin needed), or the start of the code.
  const hits = Object.entries(names).filter(([code, name]) => code.length === 12 && (name.includes(q) || code.startsWith(q))).slice(0, 20);
  box.hidden = false;
  box.innerHTML = hits.length ? hits.map(([code, name]) => '<li data-code="' + code + '">' + esc(name) + ' <span class="muted">' + code + "</span></li>").join("")
    : '<li class="muted">没有名称含“' + esc(q) + "”的社区/村</li>";
  box.querySelectorAll("li[data-code]").forEach((li) => li.addEventListener("click", () => pickCommunity(li.dataset.code)));
}

async function pickCommunity(code) {
  el("community-results").hidden = true;
  el("community-search").value = names[code] || code;
  community = { code, name: names[code] || code };
  closePlan();
  el("community-box").hidden = false;
  el("community-title").textContent = community.name + "（" + code + "）";
  el("new-box").hidden = !el("new-box").dataset.may;
  await Promise.all([showLive(true), listPlans()]);
}

async function showLive(fit) {
  liveLayer.clearLayers();
  try {
    const fc = await api("/api/v1/layers/grids?area=" + community.code);
    const fs = fc.features;
    L.geoJSON(fc, {
      style: (f) => ({ color: OUTLINE.grid_edge, weight: 1.5, fillColor: BAND[f.properties.band], fillOpacity: 0.35 }),
      onEachFeature: (f, layer) => {
        layer.bindTooltip(esc(f.properties.name) + "<br>" + number(f.properties.households) + " 户 · " + esc(bandLabel(f.properties.band)), { sticky: true });
        layer.on("click", (ev) => { if (!plan) L.DomEvent.stopPropagation(ev); });
      },
    }).addTo(liveLayer);
    for (const f of fs) labelAt(liveLayer, L.geoJSON(f).getBounds().getCenter(), f.properties.name, f.properties.households);
    const total = fs.reduce((n, f) => n + f.properties.households, 0);
    el("community-summary").textContent = "现行 " + fs.length + " 个网格 · " + number(total) + " 户（标准 " + cfg.band[0] + "–" + cfg.band[1] + " 户/网格）";
    el("current-grids").innerHTML = "<tr><th>现行网格</th><th>户数</th><th></th></tr>" + fs.map((f) =>
      '<tr data-code="' + esc(f.properties.code) + '"><td>' + esc(f.properties.name) + "</td><td>" + number(f.properties.households) + "</td><td>" + pill(f.properties.band) + "</td></tr>").join("");
    if (fit && !plan) fitTo(map, liveLayer);
  } catch (e) { toast(e.message); }
}

function labelAt(layer, at, name, households) {
  L.marker(at, { icon: L.divIcon({ className: "grid-label", html: '<b style="white-space:nowrap;text-shadow:0 0 3px #fff">' + esc(name) + "<br>" + number(households) + "户</b>" }), interactive: false, pmIgnore: true }).addTo(layer);
}

// A click on the map, with no plan open, picks the community there.
map.on("click", async (ev) => {
  if (plan || tool) return;
  try {
    const at = await api("/api/v1/areas/at?crs=cgcs2000&lng=" + ev.latlng.lng.toFixed(7) + "&lat=" + ev.latlng.lat.toFixed(7));
    if (at.community) { names[at.community.code] = at.community.name; await pickCommunity(at.community.code); } else toast("该位置不在任何社区/村内");
  } catch (e) { toast(e.message); }
});

// --------------------------------------------------------------------------- plans
async function listPlans() {
  try {
    const res = await api("/api/v1/plans" + (community ? "?community_code=" + community.code : ""));
    el("plans").innerHTML = res.data.length ? res.data.map((p) =>
      '<li data-id="' + p.id + '">' + esc(p.name) + ' <span class="muted">' + esc(names[p.community_code] || p.community_code) + " · " + esc(status(p.status)) + (p.status === "scheduled" ? "（" + esc(p.effective_date) + " 起生效）" : "") + " · 第" + p.version + "版</span></li>").join("")
      : "<li class='muted' id='no-plans'>" + (community ? "该社区暂无方案" : "暂无方案，请先选择社区/村") + "</li>";
    el("plans").querySelectorAll("li[data-id]").forEach((li) => li.addEventListener("click", () => openPlan(+li.dataset.id)));
  } catch (e) { toast(e.message); }
}

async function newPlan() {
  try {
    const p = await api("/api/v1/plans", { method: "POST", json: { community_code: community.code, source: el("new-source").value, band: cfg.band } });
    await listPlans();
    show(p);
  } catch (e) { toast(e.message); }
}

async function openPlan(id) {
  try { show(await api("/api/v1/plans/" + id)); } catch (e) { toast(e.message); }
}

function closePlan() {
  cancel();
  plan = null; selected = null;
  el("plan").hidden = true;
  gridsLayer.clearLayers(); findingsLayer.clearLayers(); buildingsLayer.clearLayers();
  liveLayer.addTo(map);
}

function gridStyle(g, band) {
  const sel = selected === g.id;
  return { color: sel ? PLAN.selected : OUTLINE.grid_edge, weight: sel ? 3 : 1.5, fillColor: BAND[band || g.band], fillOpacity: sel ? 0.5 : 0.35 };
}

function show(p) {
  const first = !plan || plan.id !== p.id;
  plan = p; preview = null;
  if (!community || community.code !== p.community_code) {
    community = { code: p.community_code, name: names[p.community_code] || p.community_code };
    el("community-box").hidden = false;
    el("community-title").textContent = community.name + "（" + community.code + "）";
    showLive(false);
  }
  liveLayer.remove(); // the plan's grids take the live grids' place while it is open
  el("plan").hidden = false;
  el("plan-title").textContent = p.name;
  el("plan-meta").textContent = status(p.status) + " · 第 " + p.version + " 版 · " + p.created_by + (p.lock && p.lock.locked_by ? " · 编辑锁：" + p.lock.locked_by : "");
  el("plan-returned").hidden = !(p.return_reason && ["draft", "rejected"].includes(p.status));
  el("plan-returned").textContent = "审批人" + (p.returned_by || "") + "退回：" + (p.return_reason || "");
  el("plan-scheduled").hidden = p.status !== "scheduled";
  el("plan-scheduled").textContent = "已批准，待生效：" + (p.effective_date || "") + " 起生效（批准原因：" + (p.reason || "") + "）";
  el("edit-tools").hidden = !may("edit");
  el("t-undo").disabled = !may("undo"); el("t-undo").title = p.undo ? "撤销：" + p.undo + "（Ctrl+Z）" : "没有可以撤销的编辑";
  el("t-redo").disabled = !may("redo"); el("t-redo").title = p.redo ? "重做：" + p.redo + "（Ctrl+Y）" : "没有可以重做的编辑";
  el("approve-box").hidden = !may("approve");
  gridsLayer.clearLayers();
  for (const g of p.grids) {
    const layer = L.geoJSON({ type: "Feature", geometry: g.geometry, properties: g }, { style: () => gridStyle(g), pmIgnore: false }).getLayers()[0];
    layer.gridId = g.id;
    layer.bindTooltip(esc(g.name) + "<br>" + number(g.households) + " 户 · " + number(g.buildings) + " 栋 · " + esc(bandLabel(g.band)), { sticky: true });
    layer.on("click", (ev) => {
      if (tool === "split") return; // the click belongs to the line being drawn
      L.DomEvent.stopPropagation(ev);
      clickGrid(g);
    });
    layer.on("mouseover", () => hoverGrid(g));
    layer.addTo(gridsLayer);
    labelAt(gridsLayer, layer.getBounds().getCenter(), g.name, g.households);
  }
  table(p.grids.map((g) => Object.assign({}, g)), false);
  findingsLayer.clearLayers();
  const v = p.validation;
  const items = v.errors.map((f) => ["error", f]).concat(v.warnings.map((f) => ["warning", f]));
  el("findings").innerHTML = items.length ? items.map(([s, f]) => '<li class="' + (s === "error" ? "error" : "") + '">' + esc(f.message) + "</li>").join("") : '<li id="no-findings">无缺口、无重叠，户数均在标准内</li>';
  for (const [s, f] of items) if (f.geometry && f.kind !== "needs_reason" && f.kind !== "above_band") L.geoJSON(f.geometry, { interactive: false, style: { color: PLAN.finding, weight: 2, fillColor: PLAN.finding, fill: s === "error", fillOpacity: 0.6, dashArray: s === "error" ? null : "6 4" } }).addTo(findingsLayer);
  reasonsBox(p);
  if (first) { fitTo(map, gridsLayer); loadBuildings(); }
  empty(wrap, p.grids.length ? null : "该方案没有网格");
}

/** The grid table and the totals: the plan's grids, or an edit's preview (``draft``: not saved). */
function table(rows, draft) {
  const low = rows.filter((g) => g.band === "below").length, high = rows.filter((g) => g.band === "above").length;
  const total = rows.reduce((n, g) => n + g.households, 0);
  el("balance").innerHTML = (draft ? '<b class="preview">预览（未保存）</b> ' : "") + rows.length + " 个网格 · " + number(total) + " 户 · " +
    '<span style="color:' + BAND.below + '">' + esc(bandLabel("below")) + " " + low + "</span> · " + '<span style="color:' + BAND.above + '">' + esc(bandLabel("above")) + " " + high + "</span>" +
    (draft && preview.outside ? " · 不在任何网格 " + number(preview.outside) + " 户" : "");
  const before = new Map((plan ? plan.grids : []).map((g) => [g.id, g.households]));
  el("plan-grids").innerHTML = "<tr><th>网格</th><th>户数</th><th>楼栋</th><th>标准</th><th>说明</th></tr>" + rows.map((g) =>
    '<tr data-id="' + g.id + '"' + (draft && before.get(g.id) !== g.households ? ' class="changed"' : "") + (selected === g.id ? ' aria-selected="true"' : "") + "><td>" + esc(g.name) + "</td><td>" + number(g.households) + "</td><td>" + number(g.buildings) + "</td><td>" + pill(g.band) +
    (g.contiguous === false ? ' <span class="pill overdue">不连通</span>' : "") + '</td><td class="muted">' + esc(g.exception_reason || "") + "</td></tr>").join("");
  el("plan-grids").querySelectorAll("tr[data-id]").forEach((tr) => tr.addEventListener("click", () => { const g = plan.grids.find((x) => x.id === +tr.dataset.id); if (g) clickGrid(g); }));
  if (draft) gridsLayer.eachLayer((l) => { if (l.gridId) { const r = rows.find((x) => x.id === l.gridId); const g = plan.grids.find((x) => x.id === l.gridId); if (g) l.setStyle(gridStyle(g, r ? r.band : g.band)); } });
}

/** A reason box per grid that needs one (no households, no buildings, below the band). */
function reasonsBox(p) {
  el("submit-box").hidden = !may("submit");
  const need = p.validation.errors.concat(p.validation.warnings).filter((f) => f.kind === "needs_reason");
  el("reasons").innerHTML = need.length ? "<p class='muted'>以下网格需要说明理由才能提交：</p>" + need.map((f) => {
    const g = p.grids.find((x) => x.id === f.grid_id);
    return '<label class="reason">' + esc(g ? g.name : f.objects.join("、")) + ' <input data-grid="' + f.grid_id + '" size="24" placeholder="说明理由" value="' + esc(f.reason || "") + '"></label>';
  }).join("<br>") : "";
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
          hint("已选 " + picked.size + " 栋楼，指向目标网格可预览户数，点击完成移动");
        });
      },
    }).addTo(buildingsLayer);
  } catch (e) { toast(e.message); }
}

// --------------------------------------------------------------------------- edits and their live balance
async function edit(kind, body) {
  try {
    const p = await api("/api/v1/plans/" + plan.id + "/" + kind, { method: "POST", json: Object.assign({ version: plan.version }, body) });
    cancel();
    show(p);
    listPlans();
    toast("已保存，方案第 " + p.version + " 版", true);
  } catch (e) { toast(e.message); }
}

/** Ask the server what this edit would give (debounced; an answer older than the last ask is dropped). */
function livePreview(body) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(async () => {
    const seq = ++previewSeq;
    try {
      const res = await api("/api/v1/plans/" + plan.id + "/preview", { method: "POST", json: body });
      if (seq !== previewSeq || !tool) return;
      preview = res;
      table(res.grids, true);
    } catch (e) { if (seq === previewSeq) el("balance").textContent = "预览：" + e.message; }
  }, 120);
}

function clearPreview() { previewSeq++; clearTimeout(previewTimer); if (preview && plan) { preview = null; table(plan.grids, false); gridsLayer.eachLayer((l) => { if (l.gridId) l.setStyle(gridStyle(plan.grids.find((x) => x.id === l.gridId))); }); } }

function clickGrid(g) {
  if (tool === "merge" && selected && selected !== g.id) return edit("merge", { grid_id: selected, other_grid_id: g.id });
  if (tool === "move" && picked.size) return edit("move-buildings", { building_ids: [...picked], to_grid_id: g.id });
  selected = g.id;
  gridsLayer.eachLayer((l) => { if (l.gridId) l.setStyle(gridStyle(plan.grids.find((x) => x.id === l.gridId))); });
  el("plan-grids").querySelectorAll("tr[data-id]").forEach((tr) => tr.toggleAttribute("aria-selected", +tr.dataset.id === g.id));
}

function hoverGrid(g) {
  if (tool === "merge" && selected && selected !== g.id) livePreview({ kind: "merge", grid_id: selected, other_grid_id: g.id });
  if (tool === "move" && picked.size) livePreview({ kind: "move-buildings", building_ids: [...picked], to_grid_id: g.id });
}

function need(msg) { if (!selected) { toast(msg); return false; } return true; }

function cancel() {
  tool = null; picked.clear();
  if (editing) { editing.pm.disable(); editing = null; }
  map.pm.disableDraw();
  el("t-save").hidden = true;
  hint(null);
  clearPreview();
}

el("t-reshape").addEventListener("click", () => {
  if (!need("请先点击选中一个网格")) return;
  cancel(); tool = "reshape";
  gridsLayer.eachLayer((l) => { if (l.gridId === selected) editing = l; });
  editing.pm.enable({ allowSelfIntersection: false });
  editing.on("pm:edit", () => { if (tool === "reshape") livePreview({ kind: "reshape", grid_id: selected, geometry: editing.toGeoJSON().geometry }); });
  el("t-save").hidden = false;
  hint("拖动节点调整边界（户数随之预览），完成后点“保存形状”");
});
el("t-save").addEventListener("click", () => { if (editing) edit("reshape", { grid_id: selected, geometry: editing.toGeoJSON().geometry }); });
el("t-split").addEventListener("click", () => {
  if (!need("请先点击选中要拆分的网格")) return;
  cancel(); tool = "split";
  map.pm.enableDraw("Line", { snappable: false });
  hint("画一条完全穿过所选网格的线（户数随之预览；再次单击最后一点结束）");
});
map.on("pm:drawstart", ({ workingLayer }) => {
  workingLayer.on("pm:vertexadded", () => {
    const pts = workingLayer.getLatLngs();
    if (tool === "split" && pts.length >= 2) livePreview({ kind: "split", grid_id: selected, line: workingLayer.toGeoJSON().geometry });
  });
});
el("t-merge").addEventListener("click", () => { if (!need("请先点击选中一个网格")) return; cancel(); tool = "merge"; hint("指向相邻网格预览合并后的户数，点击完成合并"); });
el("t-move").addEventListener("click", () => { cancel(); tool = "move"; hint("点选要移动的楼栋，再点击目标网格"); });
el("t-rename").addEventListener("click", () => {
  if (!need("请先点击选中要改名的网格")) return;
  cancel(); tool = "rename";
  const g = plan.grids.find((x) => x.id === selected);
  hint(" ");
  el("hint").innerHTML = '<label>新名称 <input id="rename-input" size="14" value="' + esc(g.name) + '"></label> <button id="rename-ok">确定</button>';
  el("rename-input").focus();
  const ok = () => edit("rename", { grid_id: selected, name: el("rename-input").value });
  el("rename-ok").addEventListener("click", ok);
  el("rename-input").addEventListener("keydown", (e) => { if (e.key === "Enter") ok(); });
});
el("t-cancel").addEventListener("click", cancel);
map.on("pm:create", (e) => {
  const line = e.layer.toGeoJSON().geometry;
  e.layer.remove();
  if (tool === "split") edit("split", { grid_id: selected, line });
});

async function step(kind) {
  if (!may(kind)) return;
  cancel();
  await edit(kind, {});
}
el("t-undo").addEventListener("click", () => step("undo"));
el("t-redo").addEventListener("click", () => step("redo"));
document.addEventListener("keydown", (e) => {
  if (!(e.ctrlKey || e.metaKey) || !plan || /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) return;
  const k = e.key.toLowerCase();
  if (k === "z" && !e.shiftKey) { e.preventDefault(); step("undo"); } else if (k === "y" || (k === "z" && e.shiftKey)) { e.preventDefault(); step("redo"); }
});

// --------------------------------------------------------------------------- workflow
el("new-plan").addEventListener("click", newPlan);
el("community-search").addEventListener("input", search);
el("submit").addEventListener("click", async () => {
  const reasons = {};
  el("reasons").querySelectorAll("input[data-grid]").forEach((i) => { reasons[i.dataset.grid] = i.value; });
  try {
    await api("/api/v1/plans/" + plan.id + "/submit", { method: "POST", json: { version: plan.version, reasons } });
    toast("已提交审批", true);
    await openPlan(plan.id); await listPlans();
  } catch (e) { toast(e.message); }
});
el("impact").addEventListener("click", async () => {
  try {
    const r = await api("/api/v1/plans/" + plan.id + "/impact");
    const sec = (title, s) => "<tr><td>" + title + "</td><td>" + (s.available ? s.count : "—") + "</td><td class='muted'>" + esc(s.note || "") + "</td></tr>";
    el("impact-box").innerHTML = '<table class="grid" id="impact-table"><tr><th colspan="3">影响预览</th></tr>' +
      "<tr><td>保留网格</td><td>" + r.grids_kept.length + "</td><td></td></tr><tr><td>变更网格</td><td>" + r.grids_changed.length + "</td><td>" + esc(r.grids_changed.join("、")) + "</td></tr>" +
      "<tr><td>撤销网格</td><td>" + r.grids_retired.length + "</td><td>" + esc(r.grids_retired.join("、")) + "</td></tr><tr><td>新增网格</td><td>" + r.grids_new + "</td><td></td></tr>" +
      sec("移动楼栋", r.buildings) + sec("移动住户", r.households) + sec("人员调整", r.staff_assignments) + sec("走访记录", r.visits) + sec("在办案件", r.incidents) + "</table>";
  } catch (e) { toast(e.message); }
});
el("approve").addEventListener("click", async () => {
  try {
    const r = await api("/api/v1/plans/" + plan.id + "/approve", { method: "POST", json: { effective_date: el("eff-date").value, reason: el("reason").value } });
    toast(r.status === "scheduled" ? "已批准，" + r.effective_date + " 起生效" : "已批准并生效", true);
    await openPlan(plan.id); await listPlans();
    if (r.status === "approved") showLive(false);
  } catch (e) { toast(e.message); }
});
el("return").addEventListener("click", async () => {
  const reason = el("return-reason").value.trim();
  if (!reason) { toast("请填写退回理由"); el("return-reason").focus(); return; }
  try {
    await api("/api/v1/plans/" + plan.id + "/return", { method: "POST", json: { reason } });
    toast("已退回", true);
    await openPlan(plan.id); await listPlans();
  } catch (e) { toast(e.message); }
});
// The approval's default effective date is today in Shanghai (before 08:00 toISOString said yesterday).
el("eff-date").value = today();
addBase(map, cfg.area).then((fc) => { if (fc && !plan && !community) fitTo(map, L.geoJSON(fc)); });
Promise.all([meta().then((m) => { planStates = m.plan_states || {}; bands = m.bands || {}; }), loadNames()]).finally(() => {
  legend(map, "户数与标准（" + cfg.band[0] + "–" + cfg.band[1] + " 户）", ["below", "within", "above"].map((b) => [BAND[b], esc(bandLabel(b))]).concat([[PLAN.finding, "缺口/重叠"]]));
  if (cfg.area && cfg.area.length === 12) pickCommunity(cfg.area); else listPlans();
});
