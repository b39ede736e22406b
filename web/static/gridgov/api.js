/* Calls to the gridgov API from the pages: JSON in and out, the API's own (Chinese) message on
   failure, the CSRF header on writes, and the labels of GET /api/v1/meta. */

export class ApiError extends Error {
  constructor(status, message, body) { super(message); this.status = status; this.body = body; }
}

// The page session is a cookie, so every write echoes the CSRF cookie in a header (double submit):
// another site can make the browser send our cookies, but cannot read this one.
export function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)gridgov_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

/** What a person is told when the network gave no answer at all (status 0 on ApiError). */
export const NETWORK_DOWN = "网络连接失败，请检查网络后重试";

/** Whether ``err`` means "no answer from the server" (offline, connection cut), not a refusal. */
export const isNetworkDown = (err) => err instanceof ApiError && err.status === 0;

/** fetch ``url``; ``opts.json`` is sent as a JSON body. Every failing call throws an ApiError whose
    message is the API's "detail" (Chinese); a 401 sends the browser to the login page. */
export async function api(url, opts) {
  opts = Object.assign({ credentials: "same-origin", headers: {} }, opts || {});
  if (opts.json !== undefined) {
    opts.body = JSON.stringify(opts.json);
    opts.headers["Content-Type"] = "application/json";
    delete opts.json;
  }
  if (!/^(GET|HEAD|OPTIONS)$/i.test(opts.method || "GET")) opts.headers["X-CSRF-Token"] = csrfToken();
  let res;
  try {
    res = await fetch(url, opts);
  } catch (e) {
    // fetch rejects (with the browser's English "Failed to fetch") only when no answer came back.
    throw new ApiError(0, NETWORK_DOWN);
  }
  const type = res.headers.get("content-type") || "";
  const body = type.includes("json") ? await res.json() : await res.text();
  if (!res.ok) {
    let msg = (body && body.detail) || ("请求失败（" + res.status + "）");
    if (typeof msg !== "string") msg = JSON.stringify(msg);
    if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); }
    throw new ApiError(res.status, msg, body);
  }
  return body;
}

/** A missing endpoint (404 without a domain message) means "that module is not deployed yet". */
export function isMissing(err) { return err instanceof ApiError && err.status === 404 && /Not Found/.test(err.message); }

const EMPTY_META = { states: {}, in_progress_states: [], transitions: {}, events: {}, categories: {}, roles: {} };
let metaPromise = null;
/** The labels of states, transitions, categories and roles (GET /api/v1/meta), fetched once per
    page; if they cannot be had, empty tables (the pages then show the codes). */
export function meta() {
  if (!metaPromise) metaPromise = api("/api/v1/meta").catch(() => EMPTY_META);
  return metaPromise;
}

/** The label of ``code`` in one of meta's tables, or the code itself. */
export const label = (table, code) => (table && table[code]) || code;
