// Editing on the album page (loaded by edit.js, whose helpers it uses): the toolbar's New
// album / Upload / Select, multi-select with bulk actions, and ordering of media and child
// albums by drag and drop or Alt+arrow keys, saved with POST /api/v1/albums/<id>/order.
(function (E) {
  "use strict";
  const { album, prefix, api, el, icon, toast, toastAfterNavigation, attempt, dialog, confirmDialog, promptDialog, pickAlbum } = E;

  // Title, summary and privacy of the album, in a dialog; title and summary change in place,
  // a privacy change reloads (what the page shows, and to whom, follows from it). The home
  // page's heading is the gallery's title (a setting), so there only the summary is offered.
  async function editDetails(current) {
    const isRoot = album.dataset.root === "1";
    const heading = album.querySelector(".album-heading h1");
    const summaryNode = album.querySelector(".album-heading .summary");
    const before = {
      title: current ? current.title : heading.textContent,
      summary: current ? current.summary : (summaryNode ? summaryNode.textContent : ""),
      private: current ? !!current.private : !!album.querySelector(".album-meta .private-badge"),
    };
    const values = await dialog(isRoot ? _t("Edit the home page") : _t("Edit album"), (body) => {
      const title = el("input", { type: "text", name: "title", value: before.title, maxlength: "200", required: "" });
      const summary = el("textarea", { name: "summary", rows: "4", maxlength: "4000" });
      summary.value = before.summary || "";
      const priv = el("input", { type: "checkbox", name: "private" });
      priv.checked = before.private;
      const check = el("label", { class: "dialog-check" });
      check.append(priv, el("span", {}, _t("Private")), el("span", { class: "hint" }, _t("Hidden from visitors who are not signed in; albums inside it follow.")));
      const titleField = el("label", { class: "dialog-field" }, _t("Title"));
      const summaryField = el("label", { class: "dialog-field" }, isRoot ? _t("Welcome text") : _t("Summary"));
      titleField.appendChild(title);
      summaryField.appendChild(summary);
      if (isRoot) body.append(summaryField, el("p", {}, _t("The gallery's title is changed in Settings.")));
      else body.append(titleField, summaryField, check);
      return () => isRoot ? { summary: summary.value.trim() }
        : { title: title.value.trim(), summary: summary.value.trim(), private: priv.checked };
    }, [["ok", _t("Save")]]);
    if (!values || (!isRoot && !values.title)) return;
    const changes = {};
    Object.keys(values).forEach((k) => { if (values[k] !== before[k]) changes[k] = values[k]; });
    if (!Object.keys(changes).length) return;
    const data = await attempt(() => api("PATCH", "/albums/" + album.dataset.albumId, changes));
    if (!data) return;
    if ("private" in changes) { toastAfterNavigation(_t("Album saved")); location.reload(); return; }
    Object.assign(current || {}, data.album);
    if (!isRoot) {
      heading.textContent = data.album.title;
      document.title = document.title.replace(before.title, data.album.title);
      // The breadcrumb names this album too (its last, current step).
      const here = document.querySelector('.breadcrumb [aria-current="page"] span');
      if (here) here.textContent = data.album.title;
    }
    let node = summaryNode;
    if (data.album.summary && !node) {
      node = el("div", { class: "summary" });
      heading.after(node);
    }
    // summary_html: as the server renders it (escaped, or sanitised HTML when allowed).
    if (node) { node.innerHTML = data.album.summary_html || ""; node.hidden = !data.album.summary; }
    toast(_t("Album saved"));
  }

  // "Add external media": embed code pasted in a dialog, the server's allowlist verdict shown
  // as it is typed (POST .../external with check: true stores nothing), then saved.
  async function addExternal() {
    const path = "/albums/" + album.dataset.albumId + "/external";
    const values = await dialog(_t("Add external media"), (body) => {
      const code = el("textarea", { name: "html", rows: "5", maxlength: "10000", required: "", placeholder: "<iframe src=\"https://www.youtube.com/embed/…\"></iframe>" });
      const title = el("input", { type: "text", name: "title", maxlength: "500" });
      const verdict = el("p", { class: "embed-verdict hint", role: "status", "data-verdict": "" }, _t("Paste the embed code (an <iframe>) from YouTube, Vimeo or another allowed site."));
      const codeField = el("label", { class: "dialog-field" }, _t("Embed code"));
      const titleField = el("label", { class: "dialog-field" }, _t("Title (optional)"));
      codeField.appendChild(code);
      titleField.appendChild(title);
      body.append(codeField, verdict, titleField);
      let timer = null;
      let asked = 0;
      code.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(async () => {
          const mine = ++asked;
          if (!code.value.trim()) return;
          let ok = false, message;
          try {
            await api("POST", path, { html: code.value, check: true });
            ok = true;
            message = _t("Allowed: this embed can be added.");
          } catch (e) { message = _t("Not allowed: %(reason)s", { reason: e.message }); }
          if (mine !== asked) return; // an older answer after a newer one
          verdict.textContent = message;
          verdict.dataset.verdict = ok ? "allowed" : "refused";
          verdict.style.color = ok ? "var(--ok)" : "var(--error)";
        }, 250);
      });
      return () => ({ html: code.value, title: title.value.trim() });
    }, [["ok", _t("Add")]]);
    if (!values || !values.html.trim()) return;
    if (await attempt(() => api("POST", path, values))) {
      toastAfterNavigation(_t("External media added"));
      location.reload();
    }
  }

  function albumPage() {
    const albumId = album.dataset.albumId;
    const toolbar = document.getElementById("album-toolbar");
    const grid = () => document.getElementById("media-grid");
    const live = el("p", { class: "sr-only", "aria-live": "assertive" });
    document.body.appendChild(live);
    const group = el("div", { class: "edit-tools" });
    // The page only says "may edit"; the album's API answer says what exactly, and what the
    // server would refuse is hidden (until it answers, everything is offered).
    const perms = { add_album: true, add_media: true, edit_album: true, edit_media: true, delete_media: true };
    const needs = [];
    const tool = (label, name, handler, cls) => {
      const b = el(handler ? "button" : "a", { class: "button small " + (cls || "") });
      if (handler) { b.type = "button"; b.addEventListener("click", handler); } else b.href = name[1];
      b.append(icon(handler ? name : name[0]), el("span", { class: "label" }, label));
      group.appendChild(b);
      return b;
    };
    const newAlbum = tool(_t("New album"), "plus", async () => {
      const name = await promptDialog(_t("New album"), _t("Title"), "", _t("It is created inside this album."));
      if (!name) return;
      const data = await attempt(() => api("POST", "/albums", { parent_id: albumId, title: name }));
      if (data) { toastAfterNavigation(_t("Album “%(name)s” created", { name })); location.href = prefix + "/albums/" + data.album.id; }
    });
    let current = null; // the album as the API answered (fresh title, summary, privacy)
    const editAlbum = tool(album.dataset.root === "1" ? _t("Edit") : _t("Edit album"), "pencil", () => editDetails(current));
    const upload = tool(_t("Upload"), ["upload", prefix + "/upload?album=" + albumId], null, "primary");
    const external = tool(_t("Add external media"), "link", addExternal);
    needs.push([newAlbum, "add_album"], [editAlbum, "edit_album"], [upload, "add_media"], [external, "add_media"]);
    const selectButton = tool(_t("Select"), "select", () => setSelecting(!selecting));
    selectButton.setAttribute("aria-pressed", "false");
    selectButton.title = _t("Select items: click or Space, Shift for a range, Escape to stop");
    selectButton.hidden = !grid(); // nothing to select in an album without media
    if (toolbar) toolbar.prepend(group);

    // Selection: a bar of bulk actions while selecting; click/space toggles, shift extends.
    let selecting = false;
    let anchor = null;
    const bar = el("div", { class: "selection-bar", role: "toolbar", "aria-label": _t("Selected items"), hidden: "" });
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
      count.textContent = _tn("%(count)s selected", "%(count)s selected", n);
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
    // What a bulk action says afterwards, by its outcome: how many it did, how many it could
    // not (with the first reason).
    const OUTCOMES = {
      moved: [(n) => _tn("%(count)s item moved", "%(count)s items moved", n),
        (n, reason) => _tn("%(count)s item not moved: %(reason)s", "%(count)s items not moved: %(reason)s", n, { reason })],
      copied: [(n) => _tn("%(count)s item copied", "%(count)s items copied", n),
        (n, reason) => _tn("%(count)s item not copied: %(reason)s", "%(count)s items not copied: %(reason)s", n, { reason })],
      tagged: [(n) => _tn("%(count)s item tagged", "%(count)s items tagged", n),
        (n, reason) => _tn("%(count)s item not tagged: %(reason)s", "%(count)s items not tagged: %(reason)s", n, { reason })],
      trashed: [(n) => _tn("%(count)s item moved to the trash", "%(count)s items moved to the trash", n),
        (n, reason) => _tn("%(count)s item not moved to the trash: %(reason)s", "%(count)s items not moved to the trash: %(reason)s", n, { reason })],
      deleted: [(n) => _tn("%(count)s item deleted", "%(count)s items deleted", n),
        (n, reason) => _tn("%(count)s item not deleted: %(reason)s", "%(count)s items not deleted: %(reason)s", n, { reason })],
    };
    const bulk = async (action, extra, outcome) => {
      const ids = selected().map((t) => t.dataset.mediaId);
      const data = await attempt(() => api("POST", "/media/bulk", Object.assign({ action, ids }, extra)));
      if (!data) return;
      const failed = data.failed || [];
      if (action === "delete" || action === "move") {
        (data.done || []).forEach((id) => { const t = document.querySelector('.media-tile[data-media-id="' + id + '"]'); if (t) t.remove(); });
      }
      const [did, didNot] = OUTCOMES[outcome];
      if (failed.length) toast(didNot(failed.length, failed[0].error), "error");
      if ((data.done || []).length) toast(did(data.done.length));
      refresh();
    };
    bulkButton(_t("All"), () => { tiles().forEach((t) => toggle(t, true)); refresh(); }, "", "all");
    const moveButton = bulkButton(_t("Move…"), async () => {
      const choice = await pickAlbum(_t("Move or copy the selected items"), albumId);
      if (choice) bulk(choice.action, { album_id: choice.albumId }, choice.action === "move" ? "moved" : "copied");
    }, "", "move");
    moveButton.dataset.needs = "1";
    const tagButton = bulkButton(_t("Tag…"), async () => {
      const text = await promptDialog(_t("Add tags"), _t("Tags"), "", _t("Separate tags with commas."));
      if (text) bulk("tag", { tags: text.split(",").map((t) => t.trim()).filter(Boolean) }, "tagged");
    }, "", "tag");
    tagButton.dataset.needs = "1";
    // The gallery may turn selection ZIPs off (data-no-selection-zip): then no button.
    if (album.dataset.noSelectionZip !== "1") bulkButton(_t("Download"), () => {
      const ids = selected().map((t) => t.dataset.mediaId).join(",");
      const a = el("a", { href: prefix + "/download/media?size=optimized&ids=" + ids, download: "" });
      document.body.appendChild(a);
      a.click();
      a.remove();
    }, "", "download").dataset.needs = "1";
    const deleteButton = bulkButton(_t("Delete…"), async () => {
      const n = selected().length;
      const days = current ? current.trash_days : 0;
      const what = current && current.read_only_media
        ? _t("The selected items are removed from the gallery; their files stay in the read-only folder, and a synchronization brings back what is still there.")
        : days > 0
          ? (n === 1
            ? _tn("The selected item is moved to the trash for %(count)s day; it can be restored from there until then.",
              "The selected item is moved to the trash for %(count)s days; it can be restored from there until then.", days)
            : _tn("The selected items are moved to the trash for %(count)s day; they can be restored from there until then.",
              "The selected items are moved to the trash for %(count)s days; they can be restored from there until then.", days))
          : _t("The selected items and their files are deleted for good.");
      if (await confirmDialog(_tn("Delete %(count)s item?", "Delete %(count)s items?", n), what, _t("Delete"))) bulk("delete", {}, days > 0 ? "trashed" : "deleted");
    }, "danger-outline", "trash");
    deleteButton.dataset.needs = "1";
    needs.push([tagButton, "edit_media"], [deleteButton, "delete_media"]);
    bulkButton(_t("Done"), () => setSelecting(false), "primary");
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
      } else if (perms.edit_album && e.altKey && ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(e.key)) {
        e.preventDefault();
        const back = e.key === "ArrowLeft" || e.key === "ArrowUp";
        const sibling = back ? tile.previousElementSibling : tile.nextElementSibling;
        if (!sibling) return;
        if (back) sibling.before(tile); else sibling.after(tile);
        (tile.querySelector("a") || tile).focus();
        const list = [...tile.parentElement.children];
        live.textContent = _t("Moved to position %(position)s of %(total)s", { position: list.indexOf(tile) + 1, total: list.length });
        saveOrderSoon(tile.parentElement, 700);
      }
    }, true);

    // Ordering by drag and drop: the tile follows the pointer inside its own list.
    let dragged = null;
    let before = null;
    const help = el("p", { id: "reorder-help", class: "sr-only" }, _t("Drag to reorder, or press Alt with an arrow key to move this item."));
    document.body.appendChild(help);
    const prepare = (list) => list.forEach((t) => {
      t.draggable = perms.edit_album;
      t.querySelectorAll("a, img").forEach((n) => { n.draggable = false; });
      const link = t.querySelector("a");
      if (link && perms.edit_album) link.setAttribute("aria-describedby", "reorder-help");
      else if (link) link.removeAttribute("aria-describedby");
    });
    const lists = () => [document.getElementById("child-albums"), grid()].filter(Boolean);
    lists().forEach((l) => prepare([...l.children]));
    api("GET", "/albums/" + albumId + "?limit=1").then((data) => {
      current = data.album;
      Object.assign(perms, data.album.can || {});
      needs.forEach(([node, permission]) => { node.hidden = !perms[permission]; });
      if (data.album.read_only_media) {
        moveButton.hidden = true; // files would move or be copied: the server refuses
        const note = el("p", { class: "muted read-only-note", role: "note" },
          _t("No uploads here: this gallery's files are in a read-only folder on the server and come in by synchronization."));
        (toolbar || group).after(note);
      }
      lists().forEach((l) => prepare([...l.children]));
      album.dataset.permsLoaded = "1";
    }, () => {});
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
      const ok = await attempt(() => api("POST", "/albums/" + albumId + "/order", body), _t("Order saved"));
      list.dataset.orderSaved = ok ? String(Date.now()) : "failed";
    }
  }

  albumPage();
  E.ready();
})(window.AtriumEdit);
