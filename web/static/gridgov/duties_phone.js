/* 履职待办 on the phone (/m/): the arrivals (四必到) a dispute, a death or a wedding in my grids asks
   of me, with their due time and a button to record that I was there (through the outbox, so it
   works offline and is sent once); this month's field days against the minimum; the households of
   my linked grids I have not visited yet (a cadre). Data: GET /api/v1/duties/mine. */
import { api, isNetworkDown } from "./api.js";
import { dateTime, number } from "./format.js";
import * as outbox from "./offline.js";
import { el, esc, toast } from "./page.js";

async function load() {
  const list = el("duty-list");
  try {
    const d = await api("/api/v1/duties/mine");
    const items = [];
    d.arrivals.forEach((a) => items.push(
      '<li class="duty" data-id="' + a.incident_id + '"><b>' + esc(a.label) + "</b> " + esc(a.category_name) + " " + esc(a.case_no) +
      '<br><span class="muted">' + esc(a.address || a.description.slice(0, 40)) + "</span>" +
      '<br><span class="' + (a.overdue ? "error" : "muted") + '">' + (a.overdue ? "已超期 · " : "") + "应于 " + dateTime(a.due_at) + " 前到场</span>" +
      ' <button type="button" class="arrive">登记到场</button></li>'));
    if (d.field_days && d.field_days.days < d.field_days.required) {
      items.push('<li class="duty"><b>本月入户走访</b> 已 ' + number(d.field_days.days) + " 天，每月不少于 " + number(d.field_days.required) + " 天</li>");
    }
    d.cadre.forEach((c) => items.push('<li class="duty"><b>联系网格走访</b> 网格 ' + esc(c.grid_code) + " 尚有 " +
      number(c.not_visited) + "/" + number(c.households) + " 户未走访（" + esc(c.due_on) + " 前走访全部住户）</li>"));
    el("duty-count").textContent = items.length ? number(items.length) + " 项" : "";
    list.innerHTML = items.length ? items.join("") : "<li class='muted' id='duty-empty'>暂无履职待办</li>";
    list.querySelectorAll("button.arrive").forEach((b) => b.addEventListener("click", () => arrive(b)));
  } catch (e) {
    list.innerHTML = '<li class="error">' + esc(isNetworkDown(e) ? "离线：暂时无法刷新履职待办" : e.message) + "</li>";
  }
}

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve({}); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lng: p.coords.longitude, lat: p.coords.latitude, crs: "wgs84" }),
      () => resolve({}), { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
  });
}

async function arrive(btn) {
  const li = btn.closest("li");
  btn.disabled = true;
  const fields = Object.assign({ incident_id: +li.dataset.id, arrived_at: new Date().toISOString() }, await position());
  const item = await outbox.enqueue("arrival", fields, null, "到场 " + li.querySelector("b").textContent);
  const sent = await outbox.flush();
  if (sent.some((s) => s.item.key === item.key)) { toast("到场已登记", true); await load(); return; }
  toast("网络不可用，到场记录已保存在本机，联网后自动发送");
}

load();
