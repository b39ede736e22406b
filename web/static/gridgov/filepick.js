/* File pickers that speak Chinese. A native <input type=file> shows the browser's own words
   ("Choose File", "No file chosen") in the browser's language, not the page's; here every file
   input on the page (and any added later) is hidden and replaced by a labelled button that opens it, with
   the chosen file names beside it in Chinese. The input stays in its form and keeps its id, so
   the page's script reads ``files`` and clears ``value`` as before; clearing it also clears the
   names shown. Load it once per page: <script type="module" src="/static/gridgov/filepick.js">. */

const VALUE = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value");
let seq = 0;

function chosen(input) {
  const files = [...(input.files || [])];
  if (!files.length) return "未选择文件";
  if (files.length === 1) return "已选择：" + files[0].name;
  return "已选择 " + files.length + " 个文件：" + files.map((f) => f.name).join("、");
}

/** Put the button and the names beside ``input`` (once). */
export function enhance(input) {
  if (input.dataset.picker) return;
  input.dataset.picker = "1";
  const label = input.closest("label");
  const what = label ? label.textContent.trim() : "";
  const multiple = input.multiple;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "file-pick";
  button.textContent = multiple ? "选择照片（可多张）" : (input.accept || "").startsWith("image/") ? "选择照片" : "选择文件";
  if (what) button.setAttribute("aria-label", button.textContent + "：" + what);
  const names = document.createElement("span");
  names.className = "file-names";
  names.id = "file-names-" + ++seq;
  names.setAttribute("aria-live", "polite");
  button.setAttribute("aria-describedby", names.id);
  const sync = () => { names.textContent = chosen(input); };
  // Hidden outright (not only from sight): a screen reader would still read the browser's English.
  input.hidden = true;
  input.after(button, names);
  button.addEventListener("click", (ev) => { ev.preventDefault(); input.click(); });
  input.addEventListener("change", sync);
  // A script that clears the input (value = "") clears the names shown too.
  Object.defineProperty(input, "value", {
    configurable: true,
    get() { return VALUE.get.call(this); },
    set(v) { VALUE.set.call(this, v); sync(); },
  });
  const form = input.form;
  if (form) form.addEventListener("reset", () => setTimeout(sync));
  sync();
}

function scan(root) {
  if (root.matches && root.matches("input[type=file]")) enhance(root);
  if (root.querySelectorAll) for (const input of root.querySelectorAll("input[type=file]")) enhance(input);
}

scan(document);
new MutationObserver((changes) => {
  for (const c of changes) for (const n of c.addedNodes) if (n.nodeType === 1) scan(n);
}).observe(document.body, { childList: true, subtree: true });
