/* What every page script needs from its page: the config the server rendered (#gg-config, JSON, no
   inline script), elements by id, escaping for the HTML pages build, toasts and empty states. */

const cfgEl = document.getElementById("gg-config");
export const cfg = cfgEl ? JSON.parse(cfgEl.textContent) : {};

export const el = (id) => document.getElementById(id);

export function esc(s) {
  return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

let toastTimer = null;
/** A message in the page's toast: errors stay 8 s, confirmations (ok) 2.5 s. */
export function toast(msg, ok) {
  const box = el("toast");
  box.textContent = msg;
  box.className = "toast" + (ok ? " ok" : "");
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, ok ? 2500 : 8000);
}

/** Show ``msg`` as the empty state of ``container`` (none: remove it). */
export function empty(container, msg) {
  let box = container.querySelector(".empty");
  if (!msg) { if (box) box.remove(); return; }
  if (!box) { box = document.createElement("div"); box.className = "empty"; container.appendChild(box); }
  box.textContent = msg;
}
