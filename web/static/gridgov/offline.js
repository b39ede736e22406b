/* The phone's outbox: reports and visit check-ins wait here (IndexedDB, through idb-keyval) until
   the server has them. Each item gets its Idempotency-Key when it is queued, so sending it again
   (the network dropped after the server stored it, the page was reloaded, two tabs flushed at once)
   never makes a second case or visit: the API answers the first one (docs/domain.md#field-tasks-the-phone).

   Drafts (a handling not yet accepted: its note and photos) live in a second store, so a photo the
   server refuses (413) or a dropped connection loses nothing the worker typed. */

import { createStore, del, get, set, values } from "/static/vendor/idb-keyval/index.js";
import { ApiError, api, isNetworkDown } from "./api.js";
import { cfg } from "./page.js";

// One outbox and one draft store per account: on a shared phone, what one worker queued is sent
// under their own account after they sign in again, never under the next one's.
const owner = encodeURIComponent(cfg.user || "anonymous");
const outbox = createStore("gridgov-phone-outbox-" + owner, "items");
const draftStore = createStore("gridgov-phone-drafts-" + owner, "drafts");

const ENDPOINT = {
  report: "/api/v1/incidents",
  visit: "/api/v1/visits",
  arrival: "/api/v1/duties/arrivals", // 四必到: I was there (duties_phone.js)
  proposal: "/api/v1/register/proposals", // a register change for the community to review (register_phone.js)
};
// Answers after which the same request may succeed later: keep the item waiting and retry.
const RETRY_LATER = new Set([0, 401, 408, 425, 429, 500, 502, 503, 504]);

/** A random UUID (v4); crypto.randomUUID exists only on https and localhost. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const listeners = new Set();
/** ``fn(items)`` after every change of the outbox (the page redraws its "待发送" list). */
export function onChange(fn) { listeners.add(fn); }
async function changed() {
  const items = await pending();
  listeners.forEach((fn) => fn(items));
}

/** Every item waiting or refused, oldest first. */
export async function pending() {
  const all = await values(outbox);
  return all.sort((a, b) => a.queued_at.localeCompare(b.queued_at));
}

/** Put a report or a check-in in the outbox. ``fields`` are the API's JSON fields, ``photo`` an
    optional Blob (a File), ``label`` what the worker sees in the list. Returns the item. */
export async function enqueue(kind, fields, photo, label) {
  const key = newKey();
  const item = { key, kind, fields, photo: photo || null, label, queued_at: new Date().toISOString(), status: "waiting", error: "" };
  await set(key, item, outbox);
  await changed();
  return item;
}

export async function remove(key) {
  await del(key, outbox);
  await changed();
}

/** Send the item again with its photo left out (after the server refused the photo). */
export async function dropPhoto(key) {
  const item = await get(key, outbox);
  if (!item) return;
  item.photo = null;
  item.status = "waiting";
  item.error = "";
  await set(key, item, outbox);
  await changed();
}

export async function retry(key) {
  const item = await get(key, outbox);
  if (!item) return;
  item.status = "waiting";
  item.error = "";
  await set(key, item, outbox);
  await changed();
}

function base64(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(",")[1]);
    r.onerror = () => reject(new Error("读取照片失败"));
    r.readAsDataURL(blob);
  });
}

async function send(item) {
  const headers = { "Idempotency-Key": item.key };
  const url = ENDPOINT[item.kind];
  if (item.kind === "visit") {
    const json = Object.assign({}, item.fields);
    if (item.photo) {
      json.photo_base64 = await base64(item.photo);
      json.photo_content_type = item.photo.type || "image/jpeg";
    }
    return api(url, { method: "POST", json, headers });
  }
  if (item.kind === "proposal") {
    // The proposal's client_id is the item's key: a replay answers the proposal already filed.
    return api(url, { method: "POST", json: Object.assign({ client_id: item.key }, item.fields), headers });
  }
  if (item.photo) {
    const form = new FormData();
    for (const [k, v] of Object.entries(item.fields)) if (v !== null && v !== undefined) form.append(k, String(v));
    form.append("photos", item.photo, item.photo.name || "photo.jpg");
    return api(url, { method: "POST", body: form, headers });
  }
  return api(url, { method: "POST", json: item.fields, headers });
}

let flushing = null;
/** Send what waits, oldest first. Stops at the first item the network cannot carry (the rest wait
    for the next flush); an item the server refuses stays, marked with its message, until the
    worker deletes or changes it. Resolves to [{item, result}] for the items the server accepted. */
export function flush() {
  if (!flushing) flushing = doFlush().finally(() => { flushing = null; });
  return flushing;
}

async function doFlush() {
  const sent = [];
  for (const item of await pending()) {
    if (item.status !== "waiting") continue;
    try {
      const result = await send(item);
      await del(item.key, outbox);
      sent.push({ item, result });
    } catch (e) {
      if (!(e instanceof ApiError) || RETRY_LATER.has(e.status)) {
        item.error = isNetworkDown(e) ? "网络不可用，联网后自动发送" : "服务器暂时无法接收（" + e.message + "），稍后自动重试";
        await set(item.key, item, outbox);
        break;
      }
      item.status = "refused";
      item.code = e.status;
      item.error = e.message;
      await set(item.key, item, outbox);
    }
  }
  await changed();
  return sent;
}

/** Flush when the network comes back, when the page is shown again, and every ``seconds`` while
    something waits (some phones never fire "online"). */
export function autoFlush(onSent, seconds) {
  const go = async () => {
    const sent = await flush();
    if (sent.length) onSent(sent);
  };
  window.addEventListener("online", go);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) go(); });
  setInterval(async () => { if ((await pending()).some((i) => i.status === "waiting")) go(); }, (seconds || 15) * 1000);
  go();
  return go;
}

// ----------------------------------------------------------------------------- drafts

export const saveDraft = (id, draft) => set(id, Object.assign({ saved_at: new Date().toISOString() }, draft), draftStore);
export const loadDraft = (id) => get(id, draftStore);
export const dropDraft = (id) => del(id, draftStore);

// ----------------------------------------------------------------------------- the service worker

/** Register the page's service worker (served at /m/sw.js, scope /m/): the page and its modules
    come from its cache when the network is down. */
export function registerWorker() {
  if (!("serviceWorker" in navigator)) return Promise.resolve(null);
  return navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).catch(() => null);
}
