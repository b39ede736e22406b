/* The register's review page: the community's pending changes with their diffs, approved or
   returned with a reason, and the register browsed masked (docs/register.md#review-page). */
import { api } from "./api.js";
import { cfg, el, esc, toast, empty } from "./page.js";

const BASE = "/api/v1/register";
let codes = null;
let nextBefore = null;
let nextOffset = null;

const area = () => (cfg.area ? `&area=${encodeURIComponent(cfg.area)}` : "");

function shown(field, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.map((v) => groupLabel(v)).join("、") || "—";
  if (typeof value === "boolean") return value ? "是" : "否";
  const table = {
    residence_type: "residence_types", relation: "relations", gender: "genders",
    use: "house_uses", kind: "org_kinds", status: "person_statuses", id_type: "id_types",
  }[field];
  if (table && codes) {
    const hit = codes[table].find((c) => c.code === String(value));
    if (hit) return hit.label;
  }
  return String(value);
}

function groupLabel(code) {
  const hit = codes && codes.special_groups.find((g) => g.code === code);
  return hit ? hit.label : code;
}

function proposalCard(p) {
  const card = document.createElement("article");
  card.className = "proposal";
  card.dataset.id = p.id;
  const rows = p.diff.map((d) =>
    `<tr><th scope="row">${esc(d.label)}</th><td class="before">${esc(shown(d.field, d.before))}</td><td class="after">${esc(shown(d.field, d.after))}</td></tr>`).join("");
  const move = p.from_grid_code ? `（自网格 ${esc(p.from_grid_code)} 迁入）` : "";
  card.innerHTML = `
    <h3>${esc(p.summary)}</h3>
    <div class="meta">#${p.id} · ${esc(p.state_label)} · 网格 ${esc(p.grid_code)}${move} · ${esc(p.proposed_by)} 提交于 ${esc(p.proposed_at.slice(0, 16).replace("T", " "))}${p.note ? " · 备注：" + esc(p.note) : ""}</div>
    <table><thead><tr><th>字段</th><th>原值</th><th>新值</th></tr></thead><tbody>${rows}</tbody></table>
    ${p.reason ? `<p class="reason">退回理由：${esc(p.reason)}</p>` : ""}`;
  if (p.state === "pending" && cfg.may_approve) {
    const actions = document.createElement("div");
    actions.className = "actions";
    actions.innerHTML = `<button type="button" class="primary approve">通过</button>
      <input type="text" class="why" maxlength="500" placeholder="退回理由（必填）" aria-label="退回理由">
      <button type="button" class="return">退回</button>`;
    actions.querySelector(".approve").addEventListener("click", () => decide(p, "approve"));
    actions.querySelector(".return").addEventListener("click", () => {
      const reason = actions.querySelector(".why").value.trim();
      if (reason.length < 2) { toast("请填写退回理由（至少 2 个字）"); actions.querySelector(".why").focus(); return; }
      decide(p, "return", { reason });
    });
    card.appendChild(actions);
  }
  return card;
}

async function decide(p, verb, body) {
  try {
    await api(`${BASE}/proposals/${p.id}/${verb}`, { method: "POST", json: body || {} });
    toast(verb === "approve" ? `已通过 #${p.id}` : `已退回 #${p.id}`, true);
    loadProposals(false);
  } catch (err) {
    toast(err.message);
  }
}

async function loadProposals(more) {
  const list = el("proposals");
  if (!more) { list.innerHTML = ""; nextBefore = null; }
  const kind = el("kind").value;
  let url = `${BASE}/proposals?state=${el("state").value}${kind ? "&kind=" + kind : ""}${area()}`;
  if (more && nextBefore) url += `&before_id=${nextBefore}`;
  try {
    const page = await api(url);
    for (const p of page.data) list.appendChild(proposalCard(p));
    nextBefore = page.next_before_id;
    el("more-proposals").hidden = !nextBefore;
    empty(list, list.querySelector(".proposal") ? "" : "没有符合条件的变更");
  } catch (err) {
    empty(list, err.message);
  }
}

async function loadPersons(more) {
  const body = el("persons");
  if (!more) { body.innerHTML = ""; nextOffset = 0; }
  const q = new URLSearchParams();
  if (el("grid").value.trim()) q.set("grid", el("grid").value.trim());
  if (el("group").value) q.set("special_group", el("group").value);
  if (el("residence").value) q.set("residence_type", el("residence").value);
  if (cfg.area) q.set("area", cfg.area);
  q.set("offset", String(nextOffset || 0));
  try {
    const page = await api(`${BASE}/persons?${q}`);
    for (const p of page.data) {
      const tr = document.createElement("tr");
      tr.innerHTML = `<td>${esc(p.name)}</td><td>${esc(p.id_number)}</td><td>${esc(shown("gender", p.gender))}</td>
        <td>${esc(shown("residence_type", p.residence_type))}</td><td>${esc(p.phone || "—")}</td>
        <td>${p.special_groups === null ? "（无权查看）" : esc(shown("special_groups", p.special_groups))}</td>
        <td>${p.party_member ? "是" : ""}</td><td>${esc(p.grid_code)}</td><td>${p.version}</td>`;
      body.appendChild(tr);
    }
    nextOffset = page.next_offset;
    el("more-persons").hidden = nextOffset === null;
    if (!body.children.length) body.innerHTML = `<tr><td colspan="9">没有符合条件的人员</td></tr>`;
  } catch (err) {
    toast(err.message);
  }
}

function tab(which) {
  for (const name of ["review", "browse"]) {
    el(`tab-${name}`).setAttribute("aria-selected", String(name === which));
    el(`pane-${name}`).hidden = name !== which;
  }
  if (which === "browse" && !el("persons").children.length) loadPersons(false);
}

async function main() {
  try {
    codes = await api(`${BASE}/codes`);
    for (const g of codes.special_groups) el("group").add(new Option(g.label, g.code));
    for (const r of codes.residence_types) el("residence").add(new Option(r.label, r.code));
  } catch (err) {
    toast(err.message);
  }
  el("tab-review").addEventListener("click", () => tab("review"));
  el("tab-browse").addEventListener("click", () => tab("browse"));
  el("reload").addEventListener("click", () => loadProposals(false));
  el("state").addEventListener("change", () => loadProposals(false));
  el("kind").addEventListener("change", () => loadProposals(false));
  el("more-proposals").addEventListener("click", () => loadProposals(true));
  el("search").addEventListener("click", () => loadPersons(false));
  el("more-persons").addEventListener("click", () => loadPersons(true));
  loadProposals(false);
}

main();
