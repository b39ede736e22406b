/* The load per grid worker by kind of task (GET /api/v1/grid-tasks/load): one row per worker, a
   stacked bar of their tasks by kind and the counts; shared by the admission page and the dashboard. */

import { esc } from "./page.js";
import { TASK_KINDS } from "./palette.js";

const colour = (i) => TASK_KINDS[i % TASK_KINDS.length];

/** Render ``res`` ({kinds, rows}) into ``box``. */
export function loadTable(box, res) {
  if (!res.rows.length) {
    box.innerHTML = '<p class="muted">本期没有派给网格员的事务</p>';
    return;
  }
  const max = Math.max(...res.rows.map((r) => r.total));
  const keyRow = res.kinds.map((k, i) => '<span class="load-key"><i style="background:' + colour(i) + '"></i>' + esc(k) + "</span>").join(" ");
  const head = "<tr><th>网格员</th><th>负担</th>" + res.kinds.map((k) => "<th>" + esc(k) + "</th>").join("") + "<th>合计</th><th>未完成</th></tr>";
  const rows = res.rows.map((r) => {
    const bar = res.kinds.map((k, i) => {
      const n = r.by_kind[k] || 0;
      return n ? '<span class="load-seg" title="' + esc(k) + " " + n + '" style="width:' + (100 * n / max).toFixed(1) + "%;background:" + colour(i) + '"></span>' : "";
    }).join("");
    return '<tr data-worker="' + esc(r.assignee) + '"><td>' + esc(r.name || r.assignee) + '</td><td class="load-bar">' + bar + "</td>" +
      res.kinds.map((k) => "<td>" + (r.by_kind[k] || 0) + "</td>").join("") + '<td class="load-total">' + r.total + "</td><td>" + r.open + "</td></tr>";
  }).join("");
  box.innerHTML = '<p class="small">' + keyRow + '</p><table class="grid load-table">' + head + rows + "</table>";
}
