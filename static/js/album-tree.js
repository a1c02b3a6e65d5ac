// The album tree: a pane beside the page on desktop, a drawer on phones, opened by the
// "Albums" button of an album page. It shows only albums the viewer may see, one level at a
// time (GET /api/v1/album-tree), and unfolds along the breadcrumb to the current album.
(function () {
  "use strict";
  const page = document.getElementById("album");
  const head = document.querySelector(".album-head");
  if (!page || !head || !page.dataset.api) return;
  const api = page.dataset.api + "/album-tree";
  const config = JSON.parse((document.getElementById("gallery-config") || {}).textContent || "{}");
  const albumsBase = (config.mediaBase || "/media/").replace(/media\/$/, "albums/");
  const current = page.dataset.root ? null : page.dataset.albumId;
  const path = [...document.querySelectorAll(".breadcrumb a")]
    .map((a) => (/\/albums\/([0-9a-f]{24})/.exec(a.getAttribute("href")) || [])[1])
    .filter(Boolean).concat(current ? [current] : []);
  const phone = window.matchMedia("(max-width: 900px)");

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text) node.textContent = text;
    return node;
  }

  const pane = el("nav", { id: "album-tree", class: "album-tree-pane", "aria-label": _t("Albums") });
  const top = el("div", { class: "tree-head" });
  const close = el("button", { type: "button", class: "icon-button tree-close", "aria-label": _t("Close the album tree") }, "✕");
  top.append(el("h2", {}, _t("Albums")), close);
  const rootList = el("ul", { role: "tree", class: "tree-level" });
  pane.append(top, rootList);
  const backdrop = el("div", { class: "tree-backdrop", hidden: "" });
  document.body.append(pane, backdrop);

  const toggle = el("button", { type: "button", class: "button small tree-toggle", "aria-controls": "album-tree", "aria-expanded": "false" });
  toggle.append(el("span", { "aria-hidden": "true" }, "☰"), " ", el("span", { class: "btn-label" }, _t("Albums")));
  head.prepend(toggle);

  let loaded = false;
  async function level(parentId, list) {
    const response = await fetch(api + (parentId ? "?parent=" + encodeURIComponent(parentId) : ""),
      { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const data = await response.json();
    list.replaceChildren(...data.albums.map(node));
    if (!data.albums.length) list.append(el("li", { class: "tree-empty muted" }, _t("No albums")));
  }
  function node(album) {
    const li = el("li", { role: "treeitem", "data-id": album.id });
    const row = el("div", { class: "tree-row" });
    const link = el("a", { href: albumsBase + album.id }, album.title);
    if (album.id === current) { link.setAttribute("aria-current", "page"); li.classList.add("current"); }
    if (album.has_children) {
      li.setAttribute("aria-expanded", "false");
      const twisty = el("button", { type: "button", class: "twisty", "aria-label": _t("Sub-albums of %(album)s", { album: album.title }) }, "▸");
      const children = el("ul", { role: "group", class: "tree-level", hidden: "" });
      twisty.addEventListener("click", () => expand(li, children, li.getAttribute("aria-expanded") !== "true"));
      row.append(twisty, link);
      li.append(row, children);
    } else {
      row.append(el("span", { class: "twisty-space", "aria-hidden": "true" }), link);
      li.append(row);
    }
    return li;
  }
  async function expand(li, children, open) {
    li.setAttribute("aria-expanded", String(open));
    children.hidden = !open;
    if (open && !children.dataset.loaded) {
      children.dataset.loaded = "1";
      children.replaceChildren(el("li", { class: "tree-empty muted" }, _t("Loading…")));
      try { await level(li.dataset.id, children); }
      catch (e) { delete children.dataset.loaded; children.replaceChildren(el("li", { class: "tree-empty" }, _t("Could not load the albums."))); }
    }
  }
  async function load() {
    if (loaded) return;
    loaded = true;
    try {
      await level(null, rootList);
      // Unfold along the way to this album.
      for (const id of path) {
        const li = pane.querySelector(`li[data-id="${id}"]`);
        const children = li && li.querySelector(":scope > ul");
        if (children && li.getAttribute("aria-expanded") === "false") await expand(li, children, true);
      }
      const here = pane.querySelector("li.current");
      if (here) here.scrollIntoView({ block: "nearest" });
    } catch (e) {
      loaded = false;
      rootList.replaceChildren(el("li", { class: "tree-empty" }, _t("Could not load the albums.")));
    }
  }
  function show(open) {
    document.body.classList.toggle("tree-open", open);
    toggle.setAttribute("aria-expanded", String(open));
    backdrop.hidden = !(open && phone.matches);
    if (!phone.matches) localStorage.setItem("atrium-tree", open ? "open" : "closed");
    if (open) load();
  }
  toggle.addEventListener("click", () => show(!document.body.classList.contains("tree-open")));
  close.addEventListener("click", () => { show(false); toggle.focus(); });
  backdrop.addEventListener("click", () => show(false));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && phone.matches && document.body.classList.contains("tree-open")) show(false);
  });
  if (!phone.matches && localStorage.getItem("atrium-tree") === "open") show(true);
})();
