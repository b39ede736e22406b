/* The building desk (/b/): a building leader's or unit steward's phone page. Their building(s) from
   /api/v1/desk, a report placed at the building, the cases open there, and residents' changes
   (register proposals in state 待确认) to confirm before the community reviews them. */
import { api } from "./api.js";
import { dateTime, number } from "./format.js";
import { cfg, el, esc, toast } from "./page.js";

let desk = { posts: [], cases: [] };

async function loadDesk() {
  try {
    desk = await api("/api/v1/desk");
    el("role-label").textContent = desk.role_label;
    el("posts").innerHTML = desk.posts.length ? desk.posts.map((p) =>
      "<li><b>" + esc((p.compound || "") + p.building_name) + (p.unit ? " " + esc(p.unit) + "单元" : "") + "</b>" +
      '<br><span class="muted">网格 ' + esc(p.grid_code) + "</span></li>").join("")
      : "<li class='muted'>当前没有负责的楼栋，请联系社区</li>";
    el("desk-building").innerHTML = desk.posts.map((p, i) =>
      '<option value="' + i + '">' + esc((p.compound || "") + p.building_name + (p.unit ? p.unit + "单元" : "")) + "</option>").join("");
    el("cases-count").textContent = desk.cases.length ? number(desk.cases.length) + " 件" : "";
    el("desk-cases").innerHTML = desk.cases.length ? desk.cases.map((c) =>
      "<li><b>" + esc(c.case_no) + "</b> " + esc(c.category_name) + '<br><span class="muted">' +
      esc(c.description.slice(0, 60)) + " · " + dateTime(c.reported_at) + "</span></li>").join("")
      : "<li class='muted' id='cases-empty'>本楼暂无待办事件</li>";
  } catch (e) {
    el("posts").innerHTML = '<li class="error">' + esc(e.message) + "</li>";
  }
}

async function loadCategories() {
  const rows = (await api("/api/v1/incident-categories")).filter((c) => c.parent_code && c.active !== false);
  el("desk-category").innerHTML = '<option value="">选择事件类别</option>' +
    rows.map((c) => '<option value="' + esc(c.code) + '">' + esc(c.name) + "</option>").join("");
}

async function report() {
  const category = el("desk-category").value, description = el("desk-desc").value.trim();
  const post = desk.posts[+el("desk-building").value];
  const out = el("desk-report-result");
  if (!category || !description) { out.innerHTML = '<p class="error">请选择事件类别并填写情况说明</p>'; return; }
  if (!post) { out.innerHTML = '<p class="error">没有可上报的楼栋</p>'; return; }
  try {
    const c = await api("/api/v1/incidents", { method: "POST", json: {
      category_code: category, description, lng: post.lng, lat: post.lat, crs: "cgcs2000",
      address: (post.compound || "") + post.building_name + (post.unit ? post.unit + "单元" : ""),
    } });
    out.innerHTML = '<p class="ok">已上报，案件编号 <b>' + esc(c.case_no) + "</b></p>";
    el("desk-desc").value = "";
    await loadDesk();
  } catch (e) { out.innerHTML = '<p class="error">' + esc(e.message) + "</p>"; }
}

async function loadProposals() {
  try {
    const r = await api("/api/v1/register/proposals?state=submitted");
    el("proposals-count").textContent = r.data.length ? number(r.data.length) + " 条" : "";
    el("desk-proposals").innerHTML = r.data.length ? r.data.map((p) =>
      '<li data-id="' + p.id + '"><b>' + esc(p.kind_label || p.kind) + " · " + esc(p.action_label || p.action) + "</b>" +
      "<ul class='diff'>" + (p.diff || []).map((d) => "<li>" + esc(d.label || d.field) + "：" + esc(d.before == null ? "（无）" : String(d.before)) + " → " + esc(d.after == null ? "（无）" : String(d.after)) + "</li>").join("") + "</ul>" +
      '<span class="muted">' + esc(p.proposed_by) + " · " + dateTime(p.proposed_at) + "</span> " +
      (cfg.may && cfg.may.confirm ? '<button type="button" class="confirm">确认无误，提交社区审核</button>' : "") + "</li>").join("")
      : "<li class='muted' id='proposals-empty'>暂无待确认的变更</li>";
    el("desk-proposals").querySelectorAll("button.confirm").forEach((b) => b.addEventListener("click", () => confirmOne(b)));
  } catch (e) { el("desk-proposals").innerHTML = '<li class="error">' + esc(e.message) + "</li>"; }
}

async function confirmOne(btn) {
  const id = btn.closest("li").dataset.id;
  btn.disabled = true;
  try {
    await api("/api/v1/register/proposals/" + id + "/confirm", { method: "POST", json: {} });
    toast("已确认，已提交社区审核", true);
    await loadProposals();
  } catch (e) { toast(e.message); btn.disabled = false; }
}

el("desk-report").addEventListener("click", report);
loadDesk();
loadCategories().catch((e) => toast(e.message));
loadProposals();
