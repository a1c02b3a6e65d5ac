// Editing in place on the media page (loaded by edit.js, whose helpers it uses): title and
// caption by click, tags with suggestions, rotate and flip, replace the file, album cover,
// move/copy, delete.
(function (E) {
  "use strict";
  const { media, prefix, api, el, icon, toast, toastAfterNavigation, attempt, confirmDialog, pickAlbum } = E;

  // `stored` resolves to the media object from the API: the page may show a label (the file
  // name for an untitled item) or hide the caption by setting, and editing must start from
  // what is really stored, never from what happens to be displayed.
  function editable(node, field, multiline, stored) {
    node.classList.add("editable");
    node.tabIndex = 0;
    node.setAttribute("role", "button");
    const describe = (text) => {
      const value = text || _t("empty");
      node.setAttribute("aria-label", field === "caption"
        ? _t("Edit the caption: %(value)s", { value }) : _t("Edit the title: %(value)s", { value }));
    };
    describe(node.textContent.trim());
    node.dataset.placeholder = field === "caption" ? _t("Add a caption…") : _t("Add a title…");
    const fallback = field === "title" ? node.textContent.trim() : "";
    const start = async () => {
      if (node.querySelector(".inline-editor") || node.classList.contains("editing")) return;
      node.classList.add("editing");
      const current = await stored;
      const shown = node.textContent;
      const shownHtml = node.innerHTML; // the server's markup (a caption may hold sanitised HTML)
      const original = current ? current[field] || "" : shown.trim();
      const input = el(multiline ? "textarea" : "input", { class: "inline-editor", "aria-label": field === "caption" ? _t("Caption") : _t("Title"), maxlength: multiline ? "10000" : "500" });
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
        if (save && value !== original) node.textContent = value || fallback;
        else node.innerHTML = shownHtml;
        if (!save || value === original) return;
        const ok = await attempt(() => api("PATCH", "/media/" + media.dataset.mediaId, { [field]: value }), field === "title" ? _t("Title saved") : _t("Caption saved"));
        if (!ok) node.innerHTML = shownHtml;
        else {
          if (current) current[field] = value;
          // The caption as the server renders it (sanitised HTML when the gallery allows it).
          if (field === "caption" && ok.media && typeof ok.media.caption_html === "string") node.innerHTML = ok.media.caption_html;
          if (field === "title") document.title = (value || fallback) + " · " + document.title.split(" · ").slice(1).join(" · ");
        }
        describe(node.textContent);
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

  // A metadata field the gallery lets editors correct (dd[data-editable], its heading in the
  // attribute): the correction is saved apart from the file's value (meta_edits), which
  // "Use the file's value" brings back.
  function metaEditor(dd) {
    const key = dd.dataset.field;
    const heading = dd.dataset.editable;
    dd.classList.add("editable");
    dd.tabIndex = 0;
    dd.setAttribute("role", "button");
    dd.dataset.placeholder = _t("Add…");
    const describe = () => {
      const value = dd.textContent.trim() || _t("empty");
      dd.setAttribute("aria-label", _t("Edit %(field)s: %(value)s", { field: heading, value }));
    };
    describe();
    const save = async (value, saved) => {
      // Shown as saving (and marked for anyone waiting on it) until the server has answered.
      dd.dataset.saving = "1";
      dd.setAttribute("aria-busy", "true");
      let data;
      try {
        data = await attempt(() => api("PATCH", "/media/" + media.dataset.mediaId, { meta_edits: { [key]: value } }), saved);
      } finally {
        delete dd.dataset.saving;
        dd.removeAttribute("aria-busy");
      }
      if (!data) return false;
      if (value === null) { delete dd.dataset.edited; dd.textContent = dd.dataset.file || ""; }
      else { dd.dataset.edited = "1"; dd.textContent = data.media.meta_edits[key]; }
      describe();
      return true;
    };
    const start = () => {
      if (dd.classList.contains("editing")) return;
      dd.classList.add("editing");
      const shownHtml = dd.innerHTML;
      const original = dd.textContent.trim();
      const input = el("input", { class: "inline-editor", "aria-label": heading, maxlength: "500" });
      input.value = original;
      let done = false;
      const row = el("span", { class: "meta-edit" });
      row.append(input);
      if (dd.dataset.edited) {
        const reset = el("button", { type: "button", class: "button small" }, _t("Use the file's value"));
        reset.addEventListener("mousedown", (e) => e.preventDefault()); // keep the input's focus
        reset.addEventListener("click", async () => { done = true; dd.classList.remove("editing"); if (!(await save(null, _t("The file's value is shown again")))) dd.innerHTML = shownHtml; });
        row.append(reset);
      }
      dd.replaceChildren(row);
      input.focus();
      input.select();
      const finish = async (keep) => {
        if (done) return;
        done = true;
        dd.classList.remove("editing");
        const value = input.value.trim();
        if (!keep || value === original) { dd.innerHTML = shownHtml; return; }
        dd.textContent = value;
        if (!(await save(value, _t("%(field)s saved", { field: heading })))) dd.innerHTML = shownHtml;
      };
      input.addEventListener("keydown", (e) => {
        if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); finish(false); dd.focus(); }
        else if (e.key === "Enter") { e.preventDefault(); finish(true); dd.focus(); }
      });
      input.addEventListener("blur", () => finish(true));
    };
    dd.addEventListener("click", (e) => { if (!e.target.closest("a, button, input")) start(); });
    dd.addEventListener("keydown", (e) => { if (e.target === dd && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); start(); } });
  }

  // Tags, or (field "people") the people field: the same chips, saved as that field.
  function tagEditor(list, field = "tags") {
    const people = field === "people";
    const id = media.dataset.mediaId;
    const tags = () => [...list.querySelectorAll("li[data-tag]")].map((li) => li.dataset.tag);
    const render = (values) => {
      list.querySelectorAll("li[data-tag]").forEach((li) => li.remove());
      values.forEach((t) => {
        const li = el("li", { "data-tag": t });
        li.appendChild(el("a", { href: prefix + "/search?" + (people ? "person=" : "q=") + encodeURIComponent(t) }, t));
        const x = el("button", {
          type: "button", class: "tag-remove", title: _t("Remove"),
          "aria-label": people ? _t("Remove the person %(name)s", { name: t }) : _t("Remove the tag %(tag)s", { tag: t }),
        }, "×");
        x.addEventListener("click", () => save(tags().filter((v) => v !== t)));
        li.appendChild(x);
        list.insertBefore(li, adder);
      });
    };
    const save = async (values) => {
      const data = await attempt(() => api("PATCH", "/media/" + id, { [field]: values }), people ? _t("People saved") : _t("Tags saved"));
      if (data) render(data.media[field] || []);
    };
    const adder = el("li", { class: "tag-adder" });
    const input = people
      ? el("input", { type: "text", placeholder: _t("Add person…"), "aria-label": _t("Add a person"), maxlength: "100" })
      : el("input", { type: "text", list: "tag-suggestions", placeholder: _t("Add tag…"), "aria-label": _t("Add a tag"), maxlength: "100" });
    const datalist = el("datalist", { id: people ? "people-suggestions" : "tag-suggestions" });
    adder.append(input, datalist);
    const initial = [...list.querySelectorAll("li")].map((li) => li.textContent.trim()).filter(Boolean);
    list.replaceChildren(adder);
    render(initial);
    list.classList.add("editing-tags");
    let timer = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (!q || people) return;
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

  // The page only says "may edit"; the album's `can` says what exactly (roles differ), so
  // only what the server would allow is offered. Unknown (request failed): offer everything.
  async function permissions() {
    try {
      const album = (await api("GET", "/albums/" + media.dataset.albumId + "?limit=1")).album;
      return { ...(album.can || {}), read_only_media: Boolean(album.read_only_media), trash_days: album.trash_days || 0 };
    } catch (e) {
      return {};
    }
  }

  async function mediaPage() {
    const id = media.dataset.mediaId;
    const can = await permissions();
    const may = (permission) => can[permission] !== false;
    const title = media.querySelector(".media-title");
    const caption = media.querySelector(".media-caption");
    const stored = api("GET", "/media/" + id).then((d) => d.media, () => null);
    if (may("edit_media")) {
      if (title) editable(title, "title", false, stored);
      if (caption) editable(caption, "caption", true, stored);
      const tagList = media.querySelector(".media-tags");
      if (tagList) tagEditor(tagList);
      const peopleList = media.querySelector(".media-people");
      if (peopleList) tagEditor(peopleList, "people");
      media.querySelectorAll("dd[data-editable]").forEach(metaEditor);
    }
    const bar = el("div", { class: "edit-actions", role: "toolbar", "aria-label": _t("Edit") });
    const button = (label, name, handler, cls, short) => {
      const b = el("button", { type: "button", class: "button small " + (cls || ""), title: label, "aria-label": label });
      b.append(icon(name), el("span", { class: "label", "aria-hidden": "true" }, short || label));
      b.addEventListener("click", handler);
      bar.appendChild(b);
      return b;
    };
    const rotate = async (degrees) => {
      const data = await attempt(() => api("POST", "/media/" + id + "/rotate", { rotate: degrees }), _t("Rotating…"));
      if (!data) return;
      const img = media.querySelector(".media-image");
      if (img) img.style.transform = "rotate(" + (degrees === 90 ? 90 : -90) + "deg)";
      const done = await waitUntilProcessed(id).catch(() => null);
      if (done && done.state === "ready" && img) {
        const stamp = "?v=" + Date.now();
        img.removeAttribute("srcset");
        img.src = img.src.split("?")[0] + stamp;
        img.onload = () => { img.style.transform = ""; };
        // A quarter turn swaps the shown width and height (the server shows them so too).
        const size = media.querySelector('dd[data-field="dimensions"]');
        const parts = size ? size.textContent.split(" × ") : [];
        if (parts.length === 2) size.textContent = parts[1] + " × " + parts[0];
        toast(_t("Rotated"));
      } else if (done) toast(_t("The rotated image could not be made: %(reason)s", { reason: done.failure || done.state }), "error");
    };
    const flip = async (direction) => {
      if (!(await attempt(() => api("POST", "/media/" + id + "/rotate", { rotate: 0, flip: direction }), _t("Flipping…")))) return;
      const img = media.querySelector(".media-image");
      if (img) img.style.transform = direction === "horizontal" ? "scaleX(-1)" : "scaleY(-1)";
      const done = await waitUntilProcessed(id).catch(() => null);
      if (done && done.state === "ready" && img) {
        img.removeAttribute("srcset");
        img.src = img.src.split("?")[0] + "?v=" + Date.now();
        img.onload = () => { img.style.transform = ""; };
        toast(_t("Flipped"));
      } else if (done) toast(_t("The flipped image could not be made: %(reason)s", { reason: done.failure || done.state }), "error");
    };
    const replaceFile = (file, trigger) => new Promise((resolve) => {
      const status = el("div", { class: "replace-progress", role: "status" });
      const meter = el("progress", { max: "100", value: "0" });
      const words = el("span", {}, _t("Sending %(name)s…", { name: file.name }));
      status.append(words, meter);
      bar.after(status);
      trigger.disabled = true;
      const xhr = new XMLHttpRequest();
      xhr.open("POST", E.apiBase + "/media/" + id + "/file");
      xhr.setRequestHeader("X-XSRFToken", E.xsrf());
      xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) meter.value = Math.round(100 * e.loaded / e.total); };
      const fail = (message) => { status.remove(); trigger.disabled = false; toast(message, "error"); resolve(); };
      xhr.onerror = () => fail(_t("The connection was lost; the file was not replaced."));
      xhr.onload = async () => {
        if (xhr.status !== 202) {
          let message = _t("The server answered %(status)s.", { status: xhr.status });
          try { message = JSON.parse(xhr.responseText).error.message || message; } catch (e) { /* not JSON */ }
          fail(message);
          return;
        }
        meter.removeAttribute("value"); // indeterminate while the server processes it
        words.textContent = _t("Processing the new file…");
        const done = await waitUntilProcessed(id).catch(() => null);
        if (done && done.state === "ready") { toastAfterNavigation(_t("File replaced")); location.reload(); }
        else {
          const reason = (done && (done.failure || done.state)) || _t("no answer");
          fail(_t("The new file could not be processed: %(reason)s", { reason }));
        }
        resolve();
      };
      xhr.send(file);
    });
    if (media.dataset.kind === "image" && may("edit_media")) {
      button(_t("Rotate left"), "rotate-left", () => rotate(270));
      button(_t("Rotate right"), "rotate-right", () => rotate(90));
      button(_t("Flip horizontally"), "flip-h", () => flip("horizontal"), "", _t("Flip ↔"));
      button(_t("Flip vertically"), "flip-v", () => flip("vertical"), "", _t("Flip ↕"));
    }
    // Replace the file: picked, sent to POST /media/<id>/file with its progress shown, then
    // the page shows the new file once it is processed (a reload: kind and size may change).
    if (may("edit_media") && !can.read_only_media) {
      const picker = el("input", { type: "file", hidden: "", "aria-label": _t("New file"), "data-replace-input": "" });
      bar.appendChild(picker);
      const replaceButton = button(_t("Replace file…"), "replace", () => picker.click(), "", _t("Replace file"));
      picker.addEventListener("change", () => {
        const file = picker.files[0];
        if (file) replaceFile(file, replaceButton).finally(() => { picker.value = ""; });
      });
    }
    if (may("edit_album")) {
      button(_t("Set as album cover"), "star", () => attempt(
        () => api("POST", "/media/" + id + "/cover", { album_id: media.dataset.albumId }), _t("Set as the album's cover")), "", _t("Set as cover"));
    }
    // Files in the host's read-only folder are never moved or copied (the server refuses).
    if (!can.read_only_media) button(_t("Move or copy…"), "move", async () => {
      const choice = await pickAlbum(_t("Move or copy to another album"), media.dataset.albumId);
      if (!choice) return;
      const data = await attempt(() => api("POST", "/media/" + id + "/" + choice.action, { album_id: choice.albumId }));
      if (!data) return;
      if (choice.action === "move") { toastAfterNavigation(_t("Moved")); location.reload(); }
      else toast(_t("Copied"));
    }, "", _t("Move or copy"));
    if (may("delete_media")) button(_t("Delete"), "trash", async () => {
      const name = title ? title.textContent.trim() : "";
      const what = can.read_only_media
        ? _t("“%(name)s” is removed from the gallery; its file stays in the read-only folder, and a synchronization brings it back while it is there.", { name })
        : can.trash_days > 0
          ? _tn("“%(name)s” is moved to the trash for %(count)s day; it can be restored from there until then.",
            "“%(name)s” is moved to the trash for %(count)s days; it can be restored from there until then.", can.trash_days, { name })
          : _t("“%(name)s” and its files are deleted for good.", { name });
      if (!(await confirmDialog(_t("Delete this item?"), what, _t("Delete")))) return;
      if (await attempt(() => api("DELETE", "/media/" + id))) {
        toastAfterNavigation(can.trash_days > 0 ? _t("Moved to the trash") : _t("Deleted"));
        location.href = prefix + "/albums/" + media.dataset.albumId;
      }
    }, "danger-outline");
    const actions = media.querySelector(".media-actions") || media;
    actions.after(bar);
  }

  mediaPage().finally(E.ready);
})(window.AtriumEdit);
