/* The dashboard's party-building and task-burden panel: grids with a party organisation, buildings led
   by party members, 双报到 members and hours per community (/api/v1/party/figures), and the load per
   grid worker by kind of task (/api/v1/grid-tasks/load). Its own module beside dashboard.js; it
   renders into <section id="party-panel"> and reads the area from the page (the #area input). */

import { api } from "./api.js";
import { loadTable } from "./load_table.js";
import { cfg, esc } from "./page.js";

const panel = document.getElementById("party-panel");

function areaNow() {
  const input = document.getElementById("area");
  return (input && input.value) || cfg.area || "";
}

async function render() {
  const area = areaNow();
  const q = area ? "?area=" + encodeURIComponent(area) : "";
  const [f, load] = await Promise.allSettled([api("/api/v1/party/figures" + q), api("/api/v1/grid-tasks/load" + q)]);
  let html = "<h3>党建引领与网格减负</h3>";
  if (f.status === "fulfilled") {
    const v = f.value;
    const share = v.grids ? Math.round((100 * v.grids_with_org) / v.grids) + "%" : "—";
    html += '<div class="party-figures" id="party-figures">' +
      [["有党组织的网格", v.grids_with_org + " / " + v.grids + "（" + share + "）", "fig-grids"],
       ["党员任楼栋长的楼栋", v.buildings_party_led + " / " + v.buildings_led, "fig-buildings"],
       ["双报到党员", v.dual_members, "fig-dual"], ["服务时长（小时）", v.dual_hours, "fig-hours"]]
        .map(([k, val, id]) => '<div id="' + id + '"><b>' + esc(val) + "</b>" + esc(k) + "</div>").join("") + "</div>";
    if (v.by_community.length) {
      html += '<table class="grid" id="dual-by-community"><tr><th>社区</th><th>双报到党员</th><th>服务时长（小时）</th></tr>' +
        v.by_community.map((c) => "<tr><td>" + esc(c.community_name || c.community_code) + "</td><td>" + c.members + "</td><td>" + esc(c.hours) + "</td></tr>").join("") + "</table>";
    }
  }
  html += '<h3>网格员事务负担（本月，按准入事务类型）</h3><div id="task-load"></div>';
  panel.innerHTML = html;
  const box = document.getElementById("task-load");
  if (load.status === "fulfilled") loadTable(box, load.value);
  else box.innerHTML = '<p class="muted">' + esc(load.reason.message) + "</p>";
}

if (panel) {
  render();
  const input = document.getElementById("area");
  if (input) input.addEventListener("change", render);
}
