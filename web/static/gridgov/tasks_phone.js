/* The phone's 网格事务 section (/m/): the tasks departments gave the worker through the admission list
   (GET /api/v1/grid-tasks/mine), open ones first, each with 完成 (POST /api/v1/grid-tasks/{id}/done).
   Its own module beside worker.js; it renders into <section id="grid-tasks">. */

import { api } from "./api.js";
import { esc, toast } from "./page.js";

const section = document.getElementById("grid-tasks");

async function render() {
  const list = document.getElementById("grid-task-list");
  let res;
  try {
    res = await api("/api/v1/grid-tasks/mine?state=open");
  } catch (e) {
    list.innerHTML = '<li class="muted">' + esc(e.message) + "</li>";
    return;
  }
  document.getElementById("grid-task-count").textContent = res.count ? res.count + " 项" : "";
  list.innerHTML = res.data.length
    ? res.data.map((t) => '<li data-task="' + t.id + '"><b>' + esc(t.kind_name) + "</b> " + esc(t.title) +
      '<br><span class="muted">' + esc(t.unit_name || "县/乡镇办公室") + " · " + esc(t.grid_name || t.grid_code) + (t.due_on ? " · 期限 " + esc(t.due_on) : "") +
      '</span> <button type="button" data-done="' + t.id + '">完成</button></li>').join("")
    : '<li class="muted">暂无派给您的网格事务</li>';
  for (const b of list.querySelectorAll("button[data-done]")) {
    b.onclick = async () => {
      try {
        await api("/api/v1/grid-tasks/" + b.dataset.done + "/done", { method: "POST" });
        toast("已完成", true);
        await render();
      } catch (e) { toast(e.message); }
    };
  }
}

if (section) render();
