// Editing in place, for viewers who may edit (the page sets data-can-edit="1"):
// the media page (title, caption, tags, rotate, cover, move/copy, delete) and the album
// page (new album, upload, multi-select with bulk actions, drag-and-drop ordering with a
// keyboard alternative). Every write sends Tornado's XSRF token in X-XSRFToken.
(function () {
  "use strict";
  const album = document.querySelector('#album[data-can-edit="1"]');
  const media = document.querySelector('#media[data-can-edit="1"]');
  if (!album && !media) return;

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
      throw new Error("The connection was lost; nothing was changed.");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((data.error && data.error.message) || "The server answered " + response.status + ".");
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
    upload: '<path d="M12 16V4m-5 5 5-5 5 5M4 20h16"/>',
    select: '<rect x="3" y="3" width="18" height="18" rx="4"/><path d="m8 12 3 3 5-6"/>',
    tag: '<path d="M3 12V4a1 1 0 0 1 1-1h8l9 9-9 9z"/><circle cx="7.5" cy="7.5" r="1.5"/>',
    download: '<path d="M12 4v12m-5-5 5 5 5-5M4 20h16"/>',
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
      bar.appendChild(el("button", { type: "button", class: "button", value: "" }, "Cancel")).addEventListener("click", () => d.close(""));
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
    }, [["ok", "Save"]]);
  }
  async function pickAlbum(title, excludeId) {
    let list;
    try { list = (await api("GET", "/album-picker?permission=add_media")).albums; }
    catch (e) { toast(e.message, "error"); return null; }
    return dialog(title, (body) => {
      const filter = el("input", { type: "search", placeholder: "Filter albums…", "aria-label": "Filter albums" });
      const box = el("div", { class: "album-choices", role: "radiogroup", "aria-label": "Albums" });
      list.forEach((a, i) => {
        const label = el("label", { class: "album-choice" });
        const radio = el("input", { type: "radio", name: "album", value: a.id });
        if (a.id === excludeId) { radio.disabled = true; label.classList.add("current"); }
        label.append(radio, el("span", {}, a.label));
        label.title = a.label;
        box.appendChild(label);
        if (i === 0 && !radio.disabled) radio.checked = true;
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
    }, [["copy", "Copy here", "secondary"], ["move", "Move here"]]);
  }

  // -- the media page ------------------------------------------------------------------------
  // `stored` resolves to the media object from the API: the page may show a label (the file
  // name for an untitled item) or hide the caption by setting, and editing must start from
  // what is really stored, never from what happens to be displayed.
  function editable(node, field, multiline, stored) {
    node.classList.add("editable");
    node.tabIndex = 0;
    node.setAttribute("role", "button");
    node.setAttribute("aria-label", "Edit " + field + ": " + (node.textContent.trim() || "empty"));
    node.dataset.placeholder = field === "caption" ? "Add a caption…" : "Add a title…";
    const fallback = field === "title" ? node.textContent.trim() : "";
    const start = async () => {
      if (node.querySelector(".inline-editor") || node.classList.contains("editing")) return;
      node.classList.add("editing");
      const current = await stored;
      const shown = node.textContent;
      const original = current ? current[field] || "" : shown.trim();
      const input = el(multiline ? "textarea" : "input", { class: "inline-editor", "aria-label": field, maxlength: multiline ? "10000" : "500" });
      input.value = original;
      if (fallback) input.placeholder = fallback;
      if (multiline) input.rows = Math.min(8, Math.max(2, original.split("\n").length + 1));
      node.replaceChildren(input);
      input.focus();
      input.select();
      let done = false;
      const finish = async (save) => {
        if (done) return;
        done = true;
        const value = input.value.trim();
        node.classList.remove("editing");
        node.textContent = save && value !== original ? value || fallback : shown;
        if (!save || value === original) return;
        const ok = await attempt(() => api("PATCH", "/media/" + media.dataset.mediaId, { [field]: value }), field === "title" ? "Title saved" : "Caption saved");
        if (!ok) node.textContent = shown;
        else {
          if (current) current[field] = value;
          if (field === "title") document.title = (value || fallback) + " · " + document.title.split(" · ").slice(1).join(" · ");
        }
        node.setAttribute("aria-label", "Edit " + field + ": " + (node.textContent || "empty"));
      };
      input.addEventListener("keydown", (e) => {
        if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); finish(false); node.focus(); }
        else if (e.key === "Enter" && !(multiline && e.shiftKey)) { e.preventDefault(); finish(true); node.focus(); }
      });
      input.addEventListener("blur", () => finish(true));
    };
    node.addEventListener("click", (e) => { if (!e.target.closest("a")) start(); });
    node.addEventListener("keydown", (e) => { if (e.target === node && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); start(); } });
  }

  function tagEditor(list) {
    const id = media.dataset.mediaId;
    const tags = () => [...list.querySelectorAll("li[data-tag]")].map((li) => li.dataset.tag);
    const render = (values) => {
      list.querySelectorAll("li[data-tag]").forEach((li) => li.remove());
      values.forEach((t) => {
        const li = el("li", { "data-tag": t });
        li.appendChild(el("a", { href: prefix + "/search?q=" + encodeURIComponent(t) }, t));
        const x = el("button", { type: "button", class: "tag-remove", "aria-label": "Remove tag " + t, title: "Remove" }, "×");
        x.addEventListener("click", () => save(tags().filter((v) => v !== t)));
        li.appendChild(x);
        list.insertBefore(li, adder);
      });
    };
    const save = async (values) => {
      const data = await attempt(() => api("PATCH", "/media/" + id, { tags: values }), "Tags saved");
      if (data) render(data.media.tags);
    };
    const adder = el("li", { class: "tag-adder" });
    const input = el("input", { type: "text", list: "tag-suggestions", placeholder: "Add tag…", "aria-label": "Add a tag", maxlength: "100" });
    const datalist = el("datalist", { id: "tag-suggestions" });
    adder.append(input, datalist);
    const initial = [...list.querySelectorAll("li")].map((li) => li.textContent.trim()).filter(Boolean);
    list.replaceChildren(adder);
    render(initial);
    list.classList.add("editing-tags");
    let timer = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (!q) return;
      timer = setTimeout(async () => {
        try {
          const data = await api("GET", "/tags?limit=10&prefix=" + encodeURIComponent(q));
          const found = (data.tags || data.items || []).map((t) => (typeof t === "string" ? t : t.tag));
          datalist.replaceChildren(...found.filter((t) => !tags().includes(t)).map((t) => el("option", { value: t })));
        } catch (e) { /* suggestions are a nicety */ }
      }, 150);
    });
    input.addEventListener("keydown", (e) => {
      if ((e.key === "Enter" || e.key === ",") && input.value.trim()) {
        e.preventDefault();
        const fresh = input.value.split(",").map((t) => t.trim()).filter(Boolean);
        input.value = "";
        save([...new Set([...tags(), ...fresh])]);
      } else if (e.key === "Backspace" && !input.value && tags().length) {
        save(tags().slice(0, -1));
      }
    });
  }

  async function waitUntilProcessed(id) {
    for (let i = 0; i < 120; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const data = await api("GET", "/media/" + id);
      if (data.media.state !== "pending") return data.media;
    }
    return null;
  }

  function mediaPage() {
    const id = media.dataset.mediaId;
    const title = media.querySelector(".media-title");
    const caption = media.querySelector(".media-caption");
    const stored = api("GET", "/media/" + id).then((d) => d.media, () => null);
    if (title) editable(title, "title", false, stored);
    if (caption) editable(caption, "caption", true, stored);
    const tagList = media.querySelector(".media-tags");
    if (tagList) tagEditor(tagList);
    const bar = el("div", { class: "edit-actions", role: "toolbar", "aria-label": "Edit" });
    const button = (label, name, handler, cls, short) => {
      const b = el("button", { type: "button", class: "button small " + (cls || ""), title: label, "aria-label": label });
      b.append(icon(name), el("span", { class: "label", "aria-hidden": "true" }, short || label));
      b.addEventListener("click", handler);
      bar.appendChild(b);
      return b;
    };
    const rotate = async (degrees) => {
      const data = await attempt(() => api("POST", "/media/" + id + "/rotate", { rotate: degrees }), "Rotating…");
      if (!data) return;
      const img = media.querySelector(".media-image");
      if (img) img.style.transform = "rotate(" + (degrees === 90 ? 90 : -90) + "deg)";
      const done = await waitUntilProcessed(id).catch(() => null);
      if (done && done.state === "ready" && img) {
        const stamp = "?v=" + Date.now();
        img.removeAttribute("srcset");
        img.src = img.src.split("?")[0] + stamp;
        img.onload = () => { img.style.transform = ""; };
        toast("Rotated");
      } else if (done) toast("The rotated image could not be made: " + (done.failure || done.state), "error");
    };
    if (media.dataset.kind === "image") {
      button("Rotate left", "rotate-left", () => rotate(270), "", "Left");
      button("Rotate right", "rotate-right", () => rotate(90), "", "Right");
    }
    button("Set as album cover", "star", () => attempt(
      () => api("POST", "/media/" + id + "/cover", { album_id: media.dataset.albumId }), "Set as the album's cover"), "", "Cover");
    button("Move or copy…", "move", async () => {
      const choice = await pickAlbum("Move or copy to another album", media.dataset.albumId);
      if (!choice) return;
      const data = await attempt(() => api("POST", "/media/" + id + "/" + choice.action, { album_id: choice.albumId }));
      if (!data) return;
      if (choice.action === "move") { toastAfterNavigation("Moved"); location.reload(); }
      else toast("Copied");
    }, "", "Move/copy");
    button("Delete", "trash", async () => {
      if (!(await confirmDialog("Delete this item?", "“" + (title ? title.textContent.trim() : "") + "” and its files are removed for good.", "Delete"))) return;
      if (await attempt(() => api("DELETE", "/media/" + id))) {
        toastAfterNavigation("Deleted");
        location.href = prefix + "/albums/" + media.dataset.albumId;
      }
    }, "danger-outline");
    const actions = media.querySelector(".media-actions") || media;
    actions.after(bar);
  }

  // -- the album page --------------------------------------------------------------------------
  function albumPage() {
    const albumId = album.dataset.albumId;
    const toolbar = document.getElementById("album-toolbar");
    const grid = () => document.getElementById("media-grid");
    const live = el("p", { class: "sr-only", "aria-live": "assertive" });
    document.body.appendChild(live);
    const group = el("div", { class: "edit-tools" });
    const tool = (label, name, handler, cls) => {
      const b = el(handler ? "button" : "a", { class: "button small " + (cls || "") });
      if (handler) { b.type = "button"; b.addEventListener("click", handler); } else b.href = name[1];
      b.append(icon(handler ? name : name[0]), el("span", { class: "label" }, label));
      group.appendChild(b);
      return b;
    };
    tool("New album", "plus", async () => {
      const name = await promptDialog("New album", "Title", "", "It is created inside this album.");
      if (!name) return;
      const data = await attempt(() => api("POST", "/albums", { parent_id: albumId, title: name }));
      if (data) { toastAfterNavigation("Album “" + name + "” created"); location.href = prefix + "/albums/" + data.album.id; }
    });
    tool("Upload", ["upload", prefix + "/upload?album=" + albumId], null, "primary");
    const selectButton = tool("Select", "select", () => setSelecting(!selecting));
    selectButton.setAttribute("aria-pressed", "false");
    selectButton.title = "Select items: click or Space, Shift for a range, Escape to stop";
    if (toolbar) toolbar.prepend(group);

    // Selection: a bar of bulk actions while selecting; click/space toggles, shift extends.
    let selecting = false;
    let anchor = null;
    const bar = el("div", { class: "selection-bar", role: "toolbar", "aria-label": "Selected items", hidden: "" });
    const count = el("span", { class: "selection-count", "aria-live": "polite" });
    bar.appendChild(count);
    const bulkButton = (label, handler, cls, name) => {
      const b = el("button", { type: "button", class: "button small " + (cls || ""), title: label, "aria-label": label });
      if (name) b.appendChild(icon(name));
      b.appendChild(el("span", { class: "label" }, label));
      b.addEventListener("click", handler);
      bar.appendChild(b);
      return b;
    };
    const tiles = () => [...document.querySelectorAll("#media-grid .media-tile")];
    const selected = () => tiles().filter((t) => t.classList.contains("selected"));
    const refresh = () => {
      const n = selected().length;
      count.textContent = n === 1 ? "1 selected" : n + " selected";
      bar.querySelectorAll("button[data-needs]").forEach((b) => { b.disabled = n === 0; });
    };
    const toggle = (tile, on) => {
      tile.classList.toggle("selected", on);
      tile.setAttribute("aria-selected", on ? "true" : "false");
    };
    function setSelecting(on) {
      selecting = on;
      album.classList.toggle("selecting", on);
      bar.hidden = !on;
      selectButton.setAttribute("aria-pressed", String(on));
      selectButton.classList.toggle("active", on);
      tiles().forEach((t) => { if (on) t.setAttribute("aria-selected", "false"); else { t.removeAttribute("aria-selected"); t.classList.remove("selected"); } });
      anchor = null;
      refresh();
    }
    const bulk = async (action, extra, verb) => {
      const ids = selected().map((t) => t.dataset.mediaId);
      const data = await attempt(() => api("POST", "/media/bulk", Object.assign({ action, ids }, extra)));
      if (!data) return;
      const failed = data.failed || [];
      if (action === "delete" || action === "move") {
        (data.done || []).forEach((id) => { const t = document.querySelector('.media-tile[data-media-id="' + id + '"]'); if (t) t.remove(); });
      }
      if (failed.length) toast(failed.length + " not " + verb + ": " + failed[0].error, "error");
      if ((data.done || []).length) toast((data.done.length === 1 ? "1 item " : data.done.length + " items ") + verb);
      refresh();
    };
    bulkButton("All", () => { tiles().forEach((t) => toggle(t, true)); refresh(); }, "", "all");
    bulkButton("Move…", async () => {
      const choice = await pickAlbum("Move or copy the selected items", albumId);
      if (choice) bulk(choice.action, { album_id: choice.albumId }, choice.action === "move" ? "moved" : "copied");
    }, "", "move").dataset.needs = "1";
    bulkButton("Tag…", async () => {
      const text = await promptDialog("Add tags", "Tags", "", "Separate tags with commas.");
      if (text) bulk("tag", { tags: text.split(",").map((t) => t.trim()).filter(Boolean) }, "tagged");
    }, "", "tag").dataset.needs = "1";
    bulkButton("Download", () => {
      const ids = selected().map((t) => t.dataset.mediaId).join(",");
      const a = el("a", { href: prefix + "/download/media?size=optimized&ids=" + ids, download: "" });
      document.body.appendChild(a);
      a.click();
      a.remove();
    }, "", "download").dataset.needs = "1";
    bulkButton("Delete…", async () => {
      const n = selected().length;
      if (await confirmDialog(n === 1 ? "Delete 1 item?" : "Delete " + n + " items?", "The selected items and their files are removed for good.", "Delete")) bulk("delete", {}, "deleted");
    }, "danger-outline", "trash").dataset.needs = "1";
    bulkButton("Done", () => setSelecting(false), "primary");
    document.body.appendChild(bar);

    const pick = (tile, shift) => {
      const all = tiles();
      if (shift && anchor && all.includes(anchor)) {
        const [a, b] = [all.indexOf(anchor), all.indexOf(tile)].sort((x, y) => x - y);
        all.slice(a, b + 1).forEach((t) => toggle(t, true));
      } else {
        toggle(tile, !tile.classList.contains("selected"));
        anchor = tile;
      }
      refresh();
    };
    document.addEventListener("click", (e) => {
      const tile = e.target.closest("#media-grid .media-tile");
      if (!selecting || !tile) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      pick(tile, e.shiftKey);
    }, true);
    document.addEventListener("keydown", (e) => {
      const tile = e.target.closest && e.target.closest(".media-tile, .album-tile");
      if (selecting && e.key === "Escape" && !document.querySelector("dialog[open]")) { setSelecting(false); return; }
      if (!tile) return;
      if (selecting && tile.classList.contains("media-tile") && (e.key === " " || e.key === "Enter")) {
        e.preventDefault();
        e.stopImmediatePropagation();
        pick(tile, e.shiftKey);
      } else if (e.altKey && ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(e.key)) {
        e.preventDefault();
        const back = e.key === "ArrowLeft" || e.key === "ArrowUp";
        const sibling = back ? tile.previousElementSibling : tile.nextElementSibling;
        if (!sibling) return;
        if (back) sibling.before(tile); else sibling.after(tile);
        (tile.querySelector("a") || tile).focus();
        const list = [...tile.parentElement.children];
        live.textContent = "Moved to position " + (list.indexOf(tile) + 1) + " of " + list.length;
        saveOrderSoon(tile.parentElement, 700);
      }
    }, true);

    // Ordering by drag and drop: the tile follows the pointer inside its own list.
    let dragged = null;
    let before = null;
    const help = el("p", { id: "reorder-help", class: "sr-only" }, "Drag to reorder, or press Alt with an arrow key to move this item.");
    document.body.appendChild(help);
    const prepare = (list) => list.forEach((t) => {
      t.draggable = true;
      t.querySelectorAll("a, img").forEach((n) => { n.draggable = false; });
      const link = t.querySelector("a");
      if (link) link.setAttribute("aria-describedby", "reorder-help");
    });
    const lists = () => [document.getElementById("child-albums"), grid()].filter(Boolean);
    lists().forEach((l) => prepare([...l.children]));
    document.addEventListener("atrium:tiles-added", (e) => {
      const added = (e.detail && e.detail.tiles) || [];
      prepare([...added]);
      if (selecting) added.forEach((t) => t.setAttribute("aria-selected", "false"));
    });
    document.addEventListener("dragstart", (e) => {
      const tile = e.target.closest && e.target.closest("#media-grid > .media-tile, #child-albums > .album-tile");
      if (!tile) return;
      dragged = tile;
      before = [...tile.parentElement.children];
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", tile.dataset.mediaId || tile.dataset.albumId);
      requestAnimationFrame(() => tile.classList.add("dragging"));
    });
    document.addEventListener("dragover", (e) => {
      if (!dragged) return;
      const over = e.target.closest && e.target.closest(".media-tile, .album-tile");
      if (!over || over.parentElement !== dragged.parentElement) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      if (over === dragged) return;
      const box = over.getBoundingClientRect();
      const after = e.clientX > box.left + box.width / 2;
      if (after) over.after(dragged); else over.before(dragged);
    });
    document.addEventListener("drop", (e) => { if (dragged) e.preventDefault(); });
    document.addEventListener("dragend", () => {
      if (!dragged) return;
      const list = dragged.parentElement;
      dragged.classList.remove("dragging");
      const changed = [...list.children].some((t, i) => t !== before[i]);
      dragged = null;
      if (changed) saveOrderSoon(list, 0);
    });

    const timers = new Map();
    function saveOrderSoon(list, delay) {
      clearTimeout(timers.get(list));
      timers.set(list, setTimeout(() => saveOrder(list), delay));
    }
    async function saveOrder(list) {
      const isMedia = list.id === "media-grid";
      const ids = [...list.children].map((t) => (isMedia ? t.dataset.mediaId : t.dataset.albumId)).filter(Boolean);
      const body = isMedia ? { media: ids } : { albums: ids };
      const ok = await attempt(() => api("POST", "/albums/" + albumId + "/order", body), "Order saved");
      list.dataset.orderSaved = ok ? String(Date.now()) : "failed";
    }
  }

  if (media) mediaPage();
  if (album) albumPage();
})();
