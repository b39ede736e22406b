/* 楼栋长、单元管家账号 on /admin/units (for those the policy lets give logins): the area's building
   leaders and unit stewards assigned now (GET /api/v1/desk/logins) and a 开通登录 button per person
   without a login (POST /api/v1/desk/logins). The server makes the initial password and answers it
   once: it is shown here once, never stored by the page; a refusal is shown as the server words it. */

import { api } from "./api.js";
import { cfg, el, empty, esc } from "./page.js";

const query = () => (cfg.area ? "?area=" + encodeURIComponent(cfg.area) : "");

function suggestedUsername(p) {
  return ("desk-" + p.staff_code).toLowerCase().replace(/[^a-z0-9_.-]/g, "-").slice(0, 64);
}

function show(html, ok) {
  const box = el("desk-login-result");
  box.className = ok ? "ok" : "error";
  box.innerHTML = html;
}

async function grant(p, button) {
  const input = el("desk-username-" + p.staff_code);
  const username = input.value.trim();
  if (!username) { show("请填写账号（用户名）", false); input.focus(); return; }
  button.disabled = true;
  try {
    const r = await api("/api/v1/desk/logins", { method: "POST", json: { staff_code: p.staff_code, username } });
    show(
      "<p>" + esc(r.message) + "</p><p>账号：<strong id='desk-granted-username'>" + esc(r.username) +
      "</strong>　初始密码：<code id='desk-granted-password'>" + esc(r.initial_password || "") +
      "</code></p><p class='muted small'>初始密码只显示这一次，请当面告知本人，登录后尽快修改。</p>", true);
    await load();
  } catch (e) {
    show(esc(e.message), false);
    button.disabled = false;
  }
}

async function load() {
  let list;
  try {
    list = (await api("/api/v1/desk/logins" + query())).data;
  } catch (e) { show(esc(e.message), false); return; }
  const body = el("desk-logins").tBodies[0];
  body.innerHTML = list.map((p) =>
    "<tr><td>" + esc(p.staff_code) + "</td><td>" + esc(p.name) + "</td><td>" + esc(p.role_label) +
    "</td><td>" + esc(p.building_name) + "</td><td>" + esc(p.unit || "整栋") + "</td><td>" + esc(p.grid_code) +
    "</td><td>" + (p.username ? "已开通：" + esc(p.username)
      : '<label>账号 <input id="desk-username-' + esc(p.staff_code) + '" maxlength="64" size="14" value="' +
        esc(suggestedUsername(p)) + '"></label> <button type="button" data-staff="' + esc(p.staff_code) +
        '">开通登录</button>') + "</td></tr>"
  ).join("");
  empty(el("desk-logins").parentElement, list.length ? null : "本辖区暂无在任的楼栋长或单元管家（先在人员任职中登记）");
  for (const b of body.querySelectorAll("button[data-staff]")) {
    const p = list.find((x) => x.staff_code === b.dataset.staff);
    b.onclick = () => grant(p, b);
  }
}

load();
