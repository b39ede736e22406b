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

/* Keyboard reach of list rows that open something on click (WCAG 2.1.1): a list marked
   ``data-keyrows`` in its template has each row with data-id, data-code or data-grid focusable
   (Tab) and opened with Enter or Space, as a click opens it; the row's click handler stays the
   page's own. One rule for every page, including rows drawn later. */
const KEY_ROWS = "[data-keyrows] > [data-id], [data-keyrows] > [data-code], [data-keyrows] > [data-grid]";

function focusable(root) {
  if (root.matches && root.matches(KEY_ROWS) && !root.hasAttribute("tabindex")) root.tabIndex = 0;
  if (root.querySelectorAll) for (const row of root.querySelectorAll(KEY_ROWS)) if (!row.hasAttribute("tabindex")) row.tabIndex = 0;
}

document.addEventListener("keydown", (ev) => {
  if (ev.key !== "Enter" && ev.key !== " ") return;
  const row = ev.target;
  if (!(row instanceof Element) || !row.matches(KEY_ROWS)) return;
  ev.preventDefault();
  row.click();
});
if (document.body) {
  focusable(document.body);
  new MutationObserver((changes) => {
    for (const c of changes) for (const n of c.addedNodes) if (n.nodeType === 1) focusable(n);
  }).observe(document.body, { childList: true, subtree: true });
}
