// Gallery pages: sort menu, infinite scroll of the media grid, keyboard and swipe on the
// media page. The pages work without it (links and forms); this only makes them nicer.
// Exposes window.AtriumGallery = {config, loadMore(), hasMore(), tiles(), tileItem(tile)}.
(function () {
  "use strict";

  const configNode = document.getElementById("gallery-config");
  const config = configNode ? JSON.parse(configNode.textContent) : {};
  const grid = document.getElementById("media-grid");

  // -- sort menu: apply on change ---------------------------------------------------------
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });

  // -- tiles ------------------------------------------------------------------------------
  // The sort the viewer chose travels with the links (the media page's prev/next follow it).
  const params = new URLSearchParams(location.search);
  const sortQuery = new URLSearchParams();
  ["sort", "dir"].forEach((k) => params.get(k) && sortQuery.set(k, params.get(k)));
  const sortSuffix = sortQuery.toString() ? "?" + sortQuery.toString() : "";

  function tileSize(item) {
    const w = item.width, h = item.height;
    if (!(w > 0 && h > 0) || !["image", "video"].includes(item.kind)) return [320, 320];
    const ratio = Math.max(0.4, Math.min(w / h, 3));
    return ratio >= 1 ? [320, Math.round(320 / ratio)] : [Math.round(320 * ratio), 320];
  }

  function formatDuration(seconds) {
    if (!(seconds > 0)) return "";
    const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
  }

  // Built with DOM calls (textContent, setAttribute): nothing from the server is parsed as HTML.
  function buildTile(item) {
    const [w, h] = tileSize(item);
    const label = (item.title || "").trim() || item.file_name || _t("Untitled");
    const li = document.createElement("li");
    li.className = "media-tile";
    li.dataset.mediaId = item.id;
    li.dataset.kind = item.kind || "other";
    li.dataset.state = item.state || "";
    if (item.caption) li.dataset.caption = item.caption;
    li.style.setProperty("--w", w);
    li.style.setProperty("--h", h);
    const a = document.createElement("a");
    a.href = (config.mediaBase || "/media/") + encodeURIComponent(item.id) + sortSuffix;
    a.title = label;
    if (item.urls && item.urls.thumbnail) {
      const img = document.createElement("img");
      img.src = item.urls.thumbnail;
      img.width = w;
      img.height = h;
      img.loading = "lazy";
      img.decoding = "async";
      img.alt = item.state === "failed" ? _t("%(label)s (could not be processed)", { label }) : label;
      a.appendChild(img);
    } else {
      const pending = document.createElement("span");
      pending.className = "tile-pending";
      pending.setAttribute("role", "img");
      pending.setAttribute("aria-label", _t("%(label)s (still processing)", { label }));
      a.appendChild(pending);
    }
    if (item.kind === "video" || item.kind === "audio") {
      const badge = document.createElement("span");
      badge.className = "tile-badge";
      badge.setAttribute("aria-hidden", "true");
      const length = formatDuration(item.duration);
      badge.textContent = (item.kind === "video" ? "▶" : "♪") + (length ? " " + length : "");
      a.appendChild(badge);
    } else if (item.kind && item.kind !== "image") {
      // Documents say what they are, as the server's tiles do (handlers/page_format.doc_type):
      // their ending in capitals; a file without one has no badge (its icon says it).
      const name = item.file_name || "";
      const ending = name.includes(".") ? name.split(".").pop().slice(0, 5) : "";
      if (ending) {
        const badge = document.createElement("span");
        badge.className = "tile-badge doc";
        badge.setAttribute("aria-hidden", "true");
        badge.textContent = ending.toUpperCase();
        a.appendChild(badge);
      }
      if (item.mime === "application/pdf" && item.urls && item.urls.thumbnail) li.dataset.preview = "1";
    }
    const caption = document.createElement("span");
    caption.className = "tile-caption";
    caption.setAttribute("aria-hidden", "true");
    caption.textContent = label;
    a.appendChild(caption);
    li.appendChild(a);
    return li;
  }

  // The timeline groups its grid by month: a heading before the first item of each month.
  const MONTHS = [_t("January"), _t("February"), _t("March"), _t("April"), _t("May"), _t("June"), _t("July"), _t("August"),
    _t("September"), _t("October"), _t("November"), _t("December")];
  function monthHeading(item) {
    const month = item && typeof item.date_taken === "string" ? item.date_taken.slice(0, 7) : "";
    const headings = grid.querySelectorAll(".timeline-month");
    const last = headings.length ? headings[headings.length - 1].dataset.month : null;
    if (last === month) return;
    const li = document.createElement("li");
    li.className = "timeline-month";
    li.dataset.month = month;
    const h2 = document.createElement("h2");
    h2.textContent = month ? MONTHS[Number(month.slice(5, 7)) - 1] + " " + month.slice(0, 4) : _t("No date");
    li.appendChild(h2);
    grid.appendChild(li);
  }

  function tiles() {
    return grid ? Array.from(grid.querySelectorAll(".media-tile")) : [];
  }

  // What the lightbox needs of a tile; everything comes from the tile's own link and image.
  function tileItem(tile) {
    const a = tile.querySelector("a");
    const img = tile.querySelector("img");
    const page = a.getAttribute("href");
    const base = page.split("?")[0];
    return {
      id: tile.dataset.mediaId,
      kind: tile.dataset.kind,
      page: page,
      label: a.title || (img && img.alt) || "",
      optimized: base + "/optimized",
      web: base + "/web",
      thumbnail: img ? img.currentSrc || img.src : null,
      preview: tile.dataset.preview === "1",
      download: grid && grid.dataset.mayDownload === "1" ? base + "/original?download=1" : null,
      link: a,
    };
  }

  // -- files dropped on an album page appear as their thumbnails are made ------------------
  const albumRoot = document.getElementById("album");
  document.addEventListener("atrium:media-ready", async (event) => {
    if (!grid || !albumRoot || !albumRoot.dataset.api) return;
    const id = event.detail && event.detail.id;
    if (!id || grid.querySelector(`.media-tile[data-media-id="${CSS.escape(id)}"]`)) return;
    try {
      const response = await fetch(albumRoot.dataset.api + "/media/" + encodeURIComponent(id), { credentials: "same-origin" });
      if (!response.ok) return;
      const media = (await response.json()).media;
      // Only what landed here: a dropped folder's files go into new albums below this one.
      if (!media || media.album_id !== albumRoot.dataset.albumId) return;
      grid.appendChild(buildTile(media));
      const section = grid.closest(".media-section");
      if (section) section.hidden = false;
      document.querySelectorAll("#album .empty").forEach((e) => { e.hidden = true; });
    } catch (e) { /* the next page load shows it */ }
  });

  // -- infinite scroll --------------------------------------------------------------------
  let loading = null;
  let failed = false;
  const status = document.querySelector(".scroll-status");
  const pager = document.querySelector("[data-pager]");

  function hasMore() {
    return Boolean(grid && grid.dataset.next);
  }

  function say(text) {
    if (!status) return;
    status.hidden = !text;
    status.textContent = text || "";
  }

  function nextUrl(next, cursor) {
    const url = new URL(next, location.href);
    url.searchParams.set("cursor", cursor);
    return url.pathname + url.search;
  }

  function loadMore() {
    if (!hasMore()) return Promise.resolve([]);
    if (loading) return loading;
    const next = grid.dataset.next;
    say(_t("Loading more…"));
    loading = fetch(next, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then((data) => {
        const added = (data.items || []).map(buildTile);
        const items = data.items || [];
        added.forEach((li, i) => {
          if (grid.dataset.group === "month") monthHeading(items[i]);
          grid.appendChild(li);
        });
        grid.dataset.next = data.next_cursor ? nextUrl(next, data.next_cursor) : "";
        say(grid.dataset.next ? "" : _t("Everything is shown."));
        if (added.length) {
          document.dispatchEvent(new CustomEvent("atrium:tiles-added", { detail: { tiles: added } }));
        }
        return added;
      })
      .catch(() => {
        failed = true;
        say(_t("Could not load more. Use the page links below."));
        if (pager) pager.hidden = false;
        if (moreButton) moreButton.hidden = true;
        return [];
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  let moreButton = null;
  if (grid && hasMore() && pager) {
    pager.hidden = true; // with scripts, the pages come to the reader
    const holder = document.createElement("div");
    holder.className = "scroll-more";
    moreButton = document.createElement("button");
    moreButton.type = "button";
    moreButton.className = "button small";
    moreButton.textContent = _t("Load more");
    moreButton.addEventListener("click", () => loadMore());
    holder.appendChild(moreButton);
    grid.after(holder);
    if ("IntersectionObserver" in window) {
      // The observer speaks only when the holder comes into reach: after a page that left
      // it still in reach (a short page, a tall screen), load on until it is out of reach.
      const near = () => holder.getBoundingClientRect().top < window.innerHeight + 800;
      const fill = () => {
        if (failed) return;
        loadMore().then(() => {
          if (!hasMore()) {
            observer.disconnect();
            holder.remove();
          } else if (near()) {
            fill();
          }
        });
      };
      const observer = new IntersectionObserver(
        (entries) => {
          if (entries.some((e) => e.isIntersecting)) fill();
        },
        { rootMargin: "800px 0px" }
      );
      observer.observe(holder);
    }
  }

  // -- justified rows --------------------------------------------------------------------
  // CSS alone lets a short row grow tall; here each row is scaled to fill the width
  // exactly (the last row keeps the target height). Re-run when tiles come, go or move.
  function justify() {
    if (!grid) return;
    const style = getComputedStyle(grid);
    const width = grid.clientWidth;
    const gap = parseFloat(style.columnGap) || 0;
    const target = parseFloat(style.getPropertyValue("--row")) || 210;
    if (!width) return;
    const place = (row, h) => row.forEach(([tile, r]) => {
      tile.style.width = Math.floor(r * h * 100) / 100 + "px";
    });
    // Greedy rows; a row ends at the tile count whose height comes closest to the target.
    let row = [], sum = 0, lastHeight = target;
    const close = (items, total) => {
      lastHeight = (width - gap * (items.length - 1)) / total;
      place(items, lastHeight);
    };
    tiles().forEach((tile) => {
      const r = parseFloat(tile.style.getPropertyValue("--w")) / parseFloat(tile.style.getPropertyValue("--h")) || 1;
      const h = (width - gap * row.length) / (sum + r);
      if (row.length && h < target) {
        const without = (width - gap * (row.length - 1)) / sum;
        if (without - target < target - h) {
          close(row, sum);
          row = [[tile, r]];
          sum = r;
          return;
        }
        row.push([tile, r]);
        close(row, sum + r);
        row = [];
        sum = 0;
        return;
      }
      row.push([tile, r]);
      sum += r;
    });
    if (row.length) place(row, Math.min(lastHeight, (width - gap * (row.length - 1)) / sum));
    grid.classList.add("justified");
  }
  if (grid) {
    let queued = false, lastWidth = 0;
    const soon = () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; justify(); });
    };
    justify();
    new MutationObserver(soon).observe(grid, { childList: true });
    if ("ResizeObserver" in window) {
      new ResizeObserver(() => {
        if (grid.clientWidth !== lastWidth) { lastWidth = grid.clientWidth; soon(); }
      }).observe(grid);
    }
  }

  // -- media page: arrows and swipe -------------------------------------------------------
  function typing(event) {
    const t = event.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  const mediaPage = document.getElementById("media");
  if (mediaPage) {
    const go = (which) => {
      const link = document.querySelector(`.stage-nav[data-nav="${which}"]`);
      if (link) location.href = link.href;
    };
    document.addEventListener("keydown", (event) => {
      if (typing(event) || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === "ArrowLeft") go("prev");
      else if (event.key === "ArrowRight") go("next");
    });
    const stage = mediaPage.querySelector("[data-swipe]");
    if (stage) onSwipe(stage, (dir) => go(dir > 0 ? "prev" : "next"));
  }

  // Calls back with +1 (swipe right) or -1 (swipe left) for a mostly horizontal swipe.
  function onSwipe(element, callback) {
    let x0 = null, y0 = null;
    element.addEventListener("touchstart", (e) => {
      if (e.touches.length !== 1) return;
      x0 = e.touches[0].clientX;
      y0 = e.touches[0].clientY;
    }, { passive: true });
    element.addEventListener("touchend", (e) => {
      if (x0 === null) return;
      const dx = e.changedTouches[0].clientX - x0, dy = e.changedTouches[0].clientY - y0;
      x0 = null;
      if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) callback(dx > 0 ? 1 : -1);
    });
  }

  window.AtriumGallery = { config, loadMore, hasMore, tiles, tileItem, onSwipe, typing };
})();
