// Editing in place, for viewers who may edit (the page sets data-can-edit="1"). This file
// holds what both pages share — the API call with Tornado's XSRF token in X-XSRFToken,
// toasts, dialogs, the album picker — as window.AtriumEdit, then loads the page's part:
// edit-media.js (title, caption, tags, rotate, cover, move/copy, delete) or edit-album.js
// (new album, upload, multi-select with bulk actions, drag-and-drop ordering). When that
// part is wired up, <html> gets data-edit-ready="1".
(function () {
  "use strict";
  const album = document.querySelector('#album[data-can-edit="1"]');
  const media = document.querySelector('#media[data-can-edit="1"]');
  if (!album && !media) return;
  // The page's part sits next to this file (loaded without a version: see docs/uploads.md).
  const here = document.currentScript ? document.currentScript.src : "";

  const apiBase = (album && album.dataset.api) ||
    location.pathname.replace(/\/(media|albums)\/[0-9a-f]{24}.*$/, "").replace(/\/$/, "") + "/api/v1";
  const prefix = apiBase.replace(/\/api\/v1$/, "");

  // -- shared helpers -------------------------------------------------------------------
  function xsrf() {
    const input = document.querySelector("input[name=_xsrf]");
    if (input && input.value) return input.value;
    const m = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-XSRFToken"] = xsrf();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(apiBase + path, {
        method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new Error(_t("The connection was lost; nothing was changed."));
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((data.error && data.error.message) || _t("The server answered %(status)s.", { status: response.status }));
    return data;
  }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "class") node.className = v;
      else if (k in node && typeof v !== "string") node[k] = v;
      else node.setAttribute(k, v);
    });
    if (text != null) node.textContent = text;
    return node;
  }
  // Line icons (24px grid, drawn with the text colour); fixed strings, never user input.
  const ICONS = {
    "rotate-left": '<path d="M3 12a9 9 0 1 0 3-6.7L3 8"/><path d="M3 3v5h5"/>',
    "rotate-right": '<path d="M21 12a9 9 0 1 1-3-6.7L21 8"/><path d="M21 3v5h-5"/>',
    star: '<path d="M12 3l2.8 5.7 6.2.9-4.5 4.4 1 6.2L12 17.3l-5.5 2.9 1-6.2L3 9.6l6.2-.9z"/>',
    move: '<path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z"/><path d="M9 13h7m-3-3 3 3-3 3"/>',
    trash: '<path d="M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3"/>',
    plus: '<path d="M12 5v14M5 12h14"/>',
    pencil: '<path d="M4 20h4L19 9l-4-4L4 16z"/><path d="m13.5 6.5 4 4"/>',
    upload: '<path d="M12 16V4m-5 5 5-5 5 5M4 20h16"/>',
    select: '<rect x="3" y="3" width="18" height="18" rx="4"/><path d="m8 12 3 3 5-6"/>',
    tag: '<path d="M3 12V4a1 1 0 0 1 1-1h8l9 9-9 9z"/><circle cx="7.5" cy="7.5" r="1.5"/>',
    download: '<path d="M12 4v12m-5-5 5 5 5-5M4 20h16"/>',
    link: '<path d="M10 14a5 5 0 0 0 7 0l3-3a5 5 0 0 0-7-7l-1 1"/><path d="M14 10a5 5 0 0 0-7 0l-3 3a5 5 0 0 0 7 7l1-1"/>',
    "flip-h": '<path d="M12 3v18"/><path d="M8 7 3 12l5 5z"/><path d="M16 7l5 5-5 5z"/>',
    "flip-v": '<path d="M3 12h18"/><path d="M7 8l5-5 5 5z"/><path d="M7 16l5 5 5-5z"/>',
    replace: '<path d="M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9z"/><path d="M14 3v6h6M9 15l3-3 3 3M12 12v6"/>',
    all: '<rect x="3" y="3" width="7" height="7" rx="1.5"/><rect x="14" y="3" width="7" height="7" rx="1.5"/><rect x="3" y="14" width="7" height="7" rx="1.5"/><rect x="14" y="14" width="7" height="7" rx="1.5"/>',
  };
  function icon(name) {
    const span = el("span", { class: "icon", "aria-hidden": "true" });
    span.innerHTML = '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">' + ICONS[name] + "</svg>";
    return span;
  }
  function toasts() {
    let box = document.getElementById("toasts");
    if (!box) {
      box = el("div", { id: "toasts", class: "toasts", "aria-live": "polite" });
      document.body.appendChild(box);
    }
    return box;
  }
  function toast(message, kind) {
    const t = el("div", { class: "toast " + (kind || "ok"), role: kind === "error" ? "alert" : "status" }, message);
    const box = toasts();
    box.appendChild(t);
    while (box.children.length > 3) box.firstChild.remove(); // the newest say enough
    setTimeout(() => t.classList.add("leaving"), kind === "error" ? 6000 : 3500);
    setTimeout(() => t.remove(), kind === "error" ? 6600 : 4100);
  }
  // A toast that survives the navigation that follows an action (delete, move).
  function toastAfterNavigation(message) { sessionStorage.setItem("atrium-toast", message); }
  const pending = sessionStorage.getItem("atrium-toast");
  if (pending) { sessionStorage.removeItem("atrium-toast"); toast(pending); }
  async function attempt(work, success) {
    try {
      const result = await work();
      if (success) toast(typeof success === "function" ? success(result) : success);
      return result;
    } catch (e) {
      toast(e.message, "error");
      return undefined;
    }
  }

  // -- dialogs (native <dialog>: focus trap, Escape and backdrop for free) --------------
  function dialog(title, build, actions) {
    return new Promise((resolve) => {
      const d = el("dialog", { class: "edit-dialog", "aria-labelledby": "edit-dialog-title" });
      const form = el("form", { method: "dialog" });
      form.appendChild(el("h2", { id: "edit-dialog-title" }, title));
      const body = el("div", { class: "dialog-body" });
      const read = build(body) || (() => true);
      const bar = el("div", { class: "dialog-actions" });
      bar.appendChild(el("button", { type: "button", class: "button", value: "" }, _t("Cancel"))).addEventListener("click", () => d.close(""));
      actions.forEach(([value, label, cls]) => bar.appendChild(el("button", { class: "button " + (cls || "primary"), value }, label)));
      form.append(body, bar);
      d.appendChild(form);
      document.body.appendChild(d);
      d.addEventListener("close", () => {
        const value = d.returnValue;
        d.remove();
        resolve(value ? read(value) : null);
      });
      d.showModal();
      const first = d.querySelector("input, textarea, [data-autofocus]") || bar.lastChild;
      first.focus();
    });
  }
  function confirmDialog(title, message, label) {
    return dialog(title, (body) => { body.appendChild(el("p", {}, message)); }, [["yes", label, "danger"]]);
  }
  function promptDialog(title, label, value, hint) {
    return dialog(title, (body) => {
      const input = el("input", { type: "text", name: "value", value: value || "", maxlength: "500", required: "" });
      const l = el("label", { class: "dialog-field" }, label);
      l.appendChild(input);
      if (hint) l.appendChild(el("span", { class: "hint" }, hint));
      body.appendChild(l);
      return () => input.value.trim() || null;
    }, [["ok", _t("Save")]]);
  }
  async function pickAlbum(title, excludeId) {
    let list;
    try { list = (await api("GET", "/album-picker?permission=add_media")).albums; }
    catch (e) { toast(e.message, "error"); return null; }
    return dialog(title, (body) => {
      const filter = el("input", { type: "search", placeholder: _t("Filter albums…"), "aria-label": _t("Filter albums") });
      const box = el("div", { class: "album-choices", role: "radiogroup", "aria-label": _t("Albums") });
      list.forEach((a) => {
        const label = el("label", { class: "album-choice" });
        // Nothing is chosen beforehand (a slip of Enter must not move things to the root);
        // `required` makes the dialog's form ask for a choice instead of closing.
        const radio = el("input", { type: "radio", name: "album", value: a.id, required: "" });
        if (a.id === excludeId) { radio.disabled = true; label.classList.add("current"); }
        label.append(radio, el("span", {}, a.label));
        label.title = a.label;
        box.appendChild(label);
      });
      filter.addEventListener("input", () => {
        const q = filter.value.toLowerCase();
        box.querySelectorAll(".album-choice").forEach((c) => { c.hidden = !c.title.toLowerCase().includes(q); });
      });
      body.append(filter, box);
      return (action) => {
        const checked = box.querySelector("input:checked");
        return checked ? { action, albumId: checked.value } : null;
      };
    }, [["copy", _t("Copy here"), "secondary"], ["move", _t("Move here")]]);
  }

  window.AtriumEdit = {
    album, media, apiBase, prefix, api, el, icon, toast, toastAfterNavigation, attempt,
    dialog, confirmDialog, promptDialog, pickAlbum, xsrf,
    ready() { document.documentElement.dataset.editReady = "1"; },
  };
  const part = document.createElement("script");
  part.src = here.replace(/edit\.js(\?.*)?$/, media ? "edit-media.js" : "edit-album.js");
  part.onerror = () => toast(_t("The editing tools could not be loaded; reload the page to try again."), "error");
  document.head.appendChild(part);
})();
