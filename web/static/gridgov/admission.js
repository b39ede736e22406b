/* 网格事务准入 (/admission): the county's admission list (kept by the county admin), giving a task to a
   grid worker (a task off the list is refused by the API, and the reason is shown here), the caller's
   own tasks, the tasks given in the area and the load per worker by kind. Everything through
   /api/v1/task-kinds and /api/v1/grid-tasks (docs/party.md#task-admission). */

import { api } from "./api.js";
import { loadTable } from "./load_table.js";
import { cfg, el, empty, esc, toast } from "./page.js";

const may = cfg.may || {};
const query = cfg.area ? "?area=" + encodeURIComponent(cfg.area) : "";
let editing = null;

async function loadKinds() {
  const kinds = await api("/api/v1/task-kinds" + query);
  const body = el("kinds").tBodies[0];
  body.innerHTML = kinds.map((k) =>
    '<tr data-kind="' + esc(k.name) + '"><td>' + esc(k.name) + "</td><td>" + esc(k.description || "—") + "</td><td>" + (k.active ? "在清单内" : "已移出") +
    "</td><td class=\"muted small\">" + esc(k.updated_by) + "</td><td>" +
    (may.edit_list ? '<button type="button" data-edit="' + k.id + '">编辑</button> <button type="button" data-toggle="' + k.id + '">' + (k.active ? "移出清单" : "重新列入") + "</button>" : "") +
    "</td></tr>").join("");
  empty(el("kinds").parentElement, kinds.length ? null : "准入清单为空：任何事务都不能派给网格员");
  el("kind-options").innerHTML = kinds.filter((k) => k.active).map((k) => '<option value="' + esc(k.name) + '">').join("");
  for (const b of body.querySelectorAll("button[data-edit]")) {
    b.onclick = () => {
      const k = kinds.find((x) => String(x.id) === b.dataset.edit);
      editing = k;
      el("kind-name").value = k.name;
      el("kind-desc").value = k.description;
      el("kind-form-title").textContent = "编辑事务";
      el("kind-save").textContent = "保存";
      el("kind-cancel").hidden = false;
    };
  }
  for (const b of body.querySelectorAll("button[data-toggle]")) {
    b.onclick = async () => {
      const k = kinds.find((x) => String(x.id) === b.dataset.toggle);
      try {
        await api("/api/v1/task-kinds/" + k.id, { method: "PUT", json: { name: k.name, description: k.description, active: !k.active } });
        toast(k.active ? "已移出准入清单" : "已重新列入准入清单", true);
        await loadKinds();
      } catch (e) { toast(e.message); }
    };
  }
}

function resetKindForm() {
  editing = null;
  el("kind-form").reset();
  el("kind-form-title").textContent = "列入清单";
  el("kind-save").textContent = "列入";
  el("kind-cancel").hidden = true;
}

async function saveKind(ev) {
  ev.preventDefault();
  const json = { name: el("kind-name").value, description: el("kind-desc").value, active: editing ? editing.active : true };
  try {
    if (editing) await api("/api/v1/task-kinds/" + editing.id, { method: "PUT", json });
    else await api("/api/v1/task-kinds", { method: "POST", json });
    toast(editing ? "已保存" : "已列入准入清单", true);
    resetKindForm();
    await loadKinds();
  } catch (e) { toast(e.message); }
}

const taskCells = (t) => "<td>" + esc(t.kind_name) + "</td><td>" + esc(t.title) + "</td><td>" + esc(t.unit_name || "县/乡镇办公室") + "</td>";

async function loadTasks() {
  const res = await api("/api/v1/grid-tasks" + query);
  el("tasks-count").textContent = res.count + " 项";
  el("tasks").tBodies[0].innerHTML = res.data.map((t) =>
    "<tr>" + taskCells(t) + "<td>" + esc(t.assignee_name || t.assignee) + "</td><td>" + esc(t.grid_name || t.grid_code) + "</td><td>" + esc(t.due_on || "—") + "</td><td>" + esc(t.state_label) + "</td></tr>").join("");
  empty(el("tasks").parentElement, res.count ? null : "暂无派发的事务");
}

async function loadMine() {
  const res = await api("/api/v1/grid-tasks/mine");
  el("mine-count").textContent = res.count + " 项";
  const body = el("mine").tBodies[0];
  body.innerHTML = res.data.map((t) =>
    '<tr data-task="' + t.id + '">' + taskCells(t) + "<td>" + esc(t.grid_name || t.grid_code) + "</td><td>" + esc(t.due_on || "—") + "</td><td>" + esc(t.state_label) + "</td><td>" +
    (t.state === "open" ? '<button type="button" data-done="' + t.id + '">完成</button>' : "") + "</td></tr>").join("");
  empty(el("mine").parentElement, res.count ? null : "暂无派给您的事务");
  for (const b of body.querySelectorAll("button[data-done]")) {
    b.onclick = async () => {
      try {
        await api("/api/v1/grid-tasks/" + b.dataset.done + "/done", { method: "POST" });
        toast("已完成", true);
        await loadMine();
      } catch (e) { toast(e.message); }
    };
  }
}

async function give(ev) {
  ev.preventDefault();
  const box = el("give-error");
  box.hidden = true;
  const json = { kind: el("give-kind").value, grid_code: el("give-grid").value, title: el("give-title").value };
  if (el("give-due").value) json.due_on = el("give-due").value;
  if (el("give-assignee").value) json.assignee = el("give-assignee").value;
  try {
    const t = await api("/api/v1/grid-tasks", { method: "POST", json });
    toast("已派发给 " + (t.assignee_name || t.assignee), true);
    el("give-form").reset();
    if (may.read_list) await loadTasks();
  } catch (e) {
    // The refusal's reason (a kind off the admission list names the kind and the list) stays on the page.
    box.textContent = "未派发：" + e.message;
    box.hidden = false;
  }
}

async function loadLoad() {
  const res = await api("/api/v1/grid-tasks/load" + query);
  loadTable(el("load"), res);
}

async function start() {
  el("kind-form").hidden = !may.edit_list;
  el("give-card").hidden = !may.give;
  el("mine-card").hidden = !may.do;
  el("tasks-card").hidden = !may.give && !may.load;
  el("load-card").hidden = !may.load;
  el("kind-form").addEventListener("submit", saveKind);
  el("kind-cancel").addEventListener("click", resetKindForm);
  el("give-form").addEventListener("submit", give);
  const jobs = [loadKinds()];
  if (may.do) jobs.push(loadMine());
  if (may.give || may.load) jobs.push(loadTasks());
  if (may.load) jobs.push(loadLoad());
  for (const r of await Promise.allSettled(jobs)) if (r.status === "rejected") toast(r.reason.message);
}

start();
