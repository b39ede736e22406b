/* Micro-grids (微网格) on the coverage map: thin dashed outlines inside the grids, labelled with
   name, households and steward (单元管家/楼栋长), the band (default 50–80) in their popup;
   a side section lists them and, for planners and the county admin (cfg.may_edit_micro), draws a
   new one inside a grid, renames it, assigns its steward, redraws or retires it (Leaflet-Geoman,
   loaded by the coverage page). Data: /api/v1/micro-grids (docs/domain.md#micro-grids). */
import { api, label as metaLabel, meta } from "./api.js";
import { number } from "./format.js";
import { OUTLINE } from "./palette.js";
import { cfg, esc, toast } from "./page.js";

const URL = "/api/v1/micro-grids";

function label(p) {
  return esc(p.name) + " · " + number(p.households) + "户" + (p.steward ? " · " + esc(p.steward.name) : " · 未配管家");
}

function tooltip(p, band, bands) {
  return "<b>" + esc(p.name) + "</b> " + esc(p.code) + "<br>所属网格：" + esc(p.grid_name || p.grid_code) +
    "<br>户数：" + number(p.households) + "（" + esc(metaLabel(bands, p.band)) + " " + band[0] + "–" + band[1] + "）" +
    "<br>单元管家/楼栋长：" + (p.steward ? esc(p.steward.name) + " " + esc(p.steward.phone || "") : "未配备");
}

/** Draw the micro-grids of ``area`` on ``map`` and fill the #micro-grids section; ``grids`` is the
    grids layer's FeatureCollection (the parents a new micro-grid can be drawn in). */
export async function microGrids(map, area, grids) {
  const box = document.getElementById("micro-grids");
  // A county or township would be thousands of labels: micro-grids show from a community down.
  if (area.length < 12) return;
  let layer = null, editing = null;
  const labels = await meta();
  const bands = labels.bands || {};

  async function load() {
    let fc;
    try { fc = await api(URL + "?f=geojson&area=" + area); } catch (e) { toast(e.message); return; }
    if (layer) layer.remove();
    layer = L.geoJSON(fc, {
      style: { color: OUTLINE.grid_edge, weight: 1.5, dashArray: "4 3", fill: true, fillOpacity: 0.05 },
      onEachFeature: (f, l) => {
        l.bindTooltip(label(f.properties), { permanent: true, direction: "center", className: "micro-label" });
        l.bindPopup(() => tooltip(f.properties, fc.band, bands));
      },
    }).addTo(map);
    window.GG_MICRO = layer; // the browser test reads what is drawn
    render(fc);
  }

  function render(fc) {
    if (!box) return;
    const rows = fc.features.map((f) => {
      const p = f.properties;
      const tools = cfg.may_edit_micro
        ? ' <button type="button" data-edit="' + esc(p.code) + '">编辑</button>'
        : "";
      return '<li data-micro="' + esc(p.code) + '">' + esc(p.name) + ' <span class="muted">' + number(p.households) + "户 · " +
        (p.steward ? esc(p.steward.name) : "未配管家") + "</span>" + tools + "</li>";
    });
    box.innerHTML = "<h3>微网格（" + fc.features.length + "）</h3>" +
      '<ul class="list" id="micro-list">' + (rows.join("") || "<li class='muted'>暂无微网格</li>") + "</ul>" +
      (cfg.may_edit_micro ? form() : "");
    box.querySelectorAll("li[data-micro]").forEach((li) => li.addEventListener("click", (ev) => {
      if (ev.target.dataset.edit) return;
      const f = fc.features.find((g) => g.properties.code === li.dataset.micro);
      if (f) map.fitBounds(L.geoJSON(f).getBounds());
    }));
    box.querySelectorAll("button[data-edit]").forEach((b) => b.addEventListener("click", () => {
      edit(fc.features.find((g) => g.properties.code === b.dataset.edit));
    }));
    const start = document.getElementById("micro-draw");
    if (start) start.addEventListener("click", draw);
    const parent = document.getElementById("micro-grid");
    if (parent) { parent.addEventListener("change", () => fillStewards(parent.value)); fillStewards(parent.value); }
  }

  function form() {
    const parents = (grids ? grids.features : []).filter((f) => f.properties.type === "comprehensive");
    return '<div class="toolbar" id="micro-form"><label>所属网格 <select id="micro-grid">' +
      parents.map((f) => '<option value="' + esc(f.properties.code) + '">' + esc(f.properties.name) + "</option>").join("") +
      '</select></label><label>名称 <input id="micro-name" maxlength="100"></label>' +
      '<label>单元管家/楼栋长 <select id="micro-steward"><option value="">暂不配备</option></select></label>' +
      '<button type="button" id="micro-draw">绘制新微网格</button></div>';
  }

  function steward(raw) { return raw ? Number(raw) : null; }

  // The grid's building leaders and unit stewards (GET /api/v1/micro-grids/stewards).
  async function candidates(grid) {
    try { return (await api(URL + "/stewards?grid=" + grid)).data; } catch (e) { toast(e.message); return []; }
  }

  function personText(c) { return c.name + "（" + metaLabel(labels.roles, c.role) + "，编号 " + c.staff_id + "）"; }

  async function fillStewards(grid) {
    const sel = document.getElementById("micro-steward");
    if (!sel || !grid) return;
    const people = await candidates(grid);
    sel.innerHTML = '<option value="">暂不配备</option>' +
      people.map((c) => '<option value="' + c.staff_id + '">' + esc(personText(c)) + "</option>").join("");
  }

  function draw() {
    const name = document.getElementById("micro-name").value.trim();
    if (!name) { toast("请填写微网格名称"); return; }
    const body = { grid_code: document.getElementById("micro-grid").value, name };
    const s = steward(document.getElementById("micro-steward").value);
    if (s) body.steward_staff_id = s;
    if (!map.pm) { toast("绘图工具未加载"); return; }
    toast("在所属网格内点击绘制，双击或点首点结束", true);
    map.pm.enableDraw("Polygon", { snappable: true });
    map.once("pm:create", async (e) => {
      map.pm.disableDraw();
      body.geometry = e.layer.toGeoJSON().geometry;
      e.layer.remove();
      try {
        const f = await api(URL, { method: "POST", json: body });
        toast("已新建微网格 " + f.properties.code, true);
        await load();
      } catch (err) { toast(err.message); }
    });
  }

  async function edit(f) {
    if (!f) return;
    const p = f.properties;
    const name = prompt("微网格名称（" + p.code + "）", p.name);
    if (name === null) return;
    const people = await candidates(p.grid_code);
    const choices = people.length ? "\n可选：" + people.map(personText).join("、") : "";
    const who = prompt("单元管家/楼栋长的人员编号（留空为不配备）" + choices, p.steward ? String(p.steward.staff_id) : "");
    if (who === null) return;
    const reshape = confirm("是否重新绘制边界？（确定：在地图上拖动顶点后点击地图空白处保存）");
    const body = { name: name.trim() || p.name, steward_staff_id: steward(who.trim()) };
    if (!reshape) { save(p.code, body); return; }
    if (editing) editing.remove();
    editing = L.geoJSON(f).getLayers()[0].addTo(map);
    editing.pm.enable({ allowSelfIntersection: false });
    map.once("click", () => {
      body.geometry = editing.toGeoJSON().geometry;
      editing.remove(); editing = null;
      save(p.code, body);
    });
  }

  async function save(code, body) {
    try {
      await api(URL + "/" + code, { method: "PATCH", json: body });
      toast("已保存 " + code, true);
    } catch (err) { toast(err.message); }
    await load();
  }

  // Retiring is asked from the popup's context menu: right-click a micro-grid.
  map.on("contextmenu", async (e) => {
    if (!cfg.may_edit_micro || !layer) return;
    const hit = layer.getLayers().find((l) => l.getBounds().contains(e.latlng));
    if (!hit) return;
    const p = hit.feature.properties;
    if (!confirm("撤销微网格 " + p.name + "（" + p.code + "）？编码不再启用。")) return;
    try { await api(URL + "/" + p.code, { method: "DELETE" }); toast("已撤销 " + p.code, true); await load(); } catch (err) { toast(err.message); }
  });

  await load();
}
