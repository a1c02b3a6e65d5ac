// The lightbox: a thumbnail click opens the optimized image over the page. Arrows, swipe
// and Escape; neighbours are preloaded; the address becomes the media page's, so a reload
// lands there. Without scripts the thumbnail is a plain link to that page.
// Exposes window.AtriumLightbox = {open(index), close(), show(index), next(), prev(), element}.
(function () {
  "use strict";
  const G = window.AtriumGallery;
  const grid = document.getElementById("media-grid");
  if (!G || !grid) return;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text) node.textContent = text;
    return node;
  }

  const box = el("div", { class: "lightbox", role: "dialog", "aria-modal": "true", "aria-label": _t("Photo viewer"), hidden: "" });
  const bar = el("div", { class: "lb-bar" });
  const counter = el("span", { class: "lb-counter", "aria-live": "polite" });
  const title = el("span", { class: "lb-title" });
  const details = el("a", { class: "lb-button lb-details", title: _t("Details and download") });
  details.textContent = _t("Details");
  const play = el("button", { class: "lb-button lb-play", type: "button", title: _t("Slideshow (space)") });
  play.append(el("span", { class: "lb-play-icon", "aria-hidden": "true" }, "▶"), el("span", { class: "lb-label" }, _t("Slideshow")));
  const closeButton = el("button", { class: "lb-button lb-close", type: "button", "aria-label": _t("Close"), title: _t("Close (Esc)") }, "✕");
  bar.append(counter, title, details, play, closeButton);
  const stage = el("div", { class: "lb-stage" });
  const prevButton = el("button", { class: "lb-nav lb-prev", type: "button", "aria-label": _t("Previous"), title: _t("Previous (←)") }, "‹");
  const nextButton = el("button", { class: "lb-nav lb-next", type: "button", "aria-label": _t("Next"), title: _t("Next (→)") }, "›");
  const progress = el("div", { class: "lb-progress" });
  const caption = el("div", { class: "lb-caption" });
  stage.append(prevButton, nextButton, progress);
  box.append(bar, stage, caption);
  document.body.appendChild(box);
  play.hidden = true; // slideshow.js shows it

  let index = -1;
  let opener = null;
  let pushed = false;
  let media = null;
  let pageTitle = document.title;
  const listeners = [];

  const items = () => G.tiles();

  function preload(i) {
    const tile = items()[i];
    if (!tile) return;
    const item = G.tileItem(tile);
    if (item.kind === "image") new Image().src = item.optimized;
  }

  function render(item) {
    if (media) media.remove();
    if (item.kind === "image") {
      media = el("img", { src: item.optimized, alt: item.label });
      if (item.thumbnail) {
        // the thumbnail stands in (already cached) until the optimized copy arrives
        media.style.backgroundImage = "url(" + JSON.stringify(item.thumbnail) + ")";
        media.style.backgroundSize = "contain";
      }
    } else if (item.kind === "video") {
      media = el("video", { src: item.web, controls: "", preload: "metadata", poster: item.optimized });
    } else if (item.kind === "audio") {
      media = el("audio", { src: item.web, controls: "", preload: "metadata" });
    } else {
      // A document: its first page (or its type's icon), what it is, and clear ways to it.
      media = el("div", { class: "lb-file" });
      const picture = item.preview ? item.optimized : item.thumbnail;
      if (picture) {
        const img = el("img", { src: picture, alt: item.preview ? _t("First page of %(name)s", { name: item.label }) : item.label,
                                class: item.preview ? "lb-page" : "lb-icon" });
        media.appendChild(img);
      }
      media.appendChild(el("p", { class: "lb-file-name" }, item.label));
      const actions = el("p", { class: "lb-file-actions" });
      actions.appendChild(el("a", { class: "lb-button", href: item.page }, _t("Open")));
      if (item.download) {
        const download = el("a", { class: "lb-button primary", href: item.download, download: "" }, _t("Download"));
        actions.appendChild(download);
      }
      media.appendChild(actions);
    }
    media.classList.add("lb-media");
    stage.insertBefore(media, progress);
    return media;
  }

  function show(i) {
    const all = items();
    if (!all.length) return;
    index = Math.max(0, Math.min(i, all.length - 1));
    const item = G.tileItem(all[index]);
    const shown = render(item);
    title.textContent = item.label;
    document.title = item.label + " · " + pageTitle;
    counter.textContent = `${index + 1} / ${all.length}${G.hasMore() ? "+" : ""}`;
    details.href = item.page;
    let tileCaption = all[index].dataset.caption || "";
    // With user HTML allowed (gallery/richtext.py) the caption is markup: the lightbox's one
    // line shows its text. A DOMParser document is inert (no script runs, nothing loads).
    // Script and style contents are not text a reader sees (the page drops them too).
    if (grid.dataset.userHtml === "1") {
      const doc = new DOMParser().parseFromString(tileCaption, "text/html");
      doc.querySelectorAll("script, style, template, noscript, title, textarea, xmp").forEach((n) => n.remove());
      tileCaption = doc.body.textContent;
    }
    caption.textContent = tileCaption;
    box.dataset.mediaId = item.id;
    box.dataset.index = String(index);
    prevButton.disabled = index === 0;
    nextButton.disabled = index === all.length - 1 && !G.hasMore();
    if (pushed) history.replaceState({ lightbox: item.id }, "", item.page);
    preload(index + 1);
    preload(index - 1);
    if (index >= all.length - 3 && G.hasMore()) G.loadMore().then(() => {
      counter.textContent = `${index + 1} / ${items().length}${G.hasMore() ? "+" : ""}`;
      nextButton.disabled = index === items().length - 1 && !G.hasMore();
    });
    listeners.forEach((fn) => fn(item, shown));
  }

  // Step by +1/-1; past the last loaded tile, load the next page first. Resolves to
  // false at the very end (the slideshow then loops or stops).
  async function step(delta) {
    let all = items();
    let target = index + delta;
    if (target >= all.length && G.hasMore()) {
      await G.loadMore();
      all = items();
    }
    if (target < 0 || target >= all.length) return false;
    show(target);
    return true;
  }

  function onKey(event) {
    if (box.hidden || G.typing(event)) return;
    if (event.key === "Escape") { event.preventDefault(); close(); }
    else if (event.key === "ArrowRight") { event.preventDefault(); step(1); }
    else if (event.key === "ArrowLeft") { event.preventDefault(); step(-1); }
    else if (event.key === " " && window.AtriumSlideshow && !/^(VIDEO|AUDIO)$/.test(event.target.tagName)) {
      // space is the slideshow's pause key, even on a focused button (Enter still clicks)
      event.preventDefault();
      window.AtriumSlideshow.toggle();
    } else if (event.key === "Tab") {
      // keep focus inside the dialog
      const focusable = Array.from(box.querySelectorAll("a[href], button:not([disabled]), video, audio"))
        .filter((n) => !n.hidden && n.offsetParent !== null);
      if (!focusable.length) return;
      const first = focusable[0], last = focusable[focusable.length - 1];
      if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
    }
  }

  function open(i, options) {
    opener = document.activeElement;
    const wasHidden = box.hidden;
    if (wasHidden) pageTitle = document.title;
    box.hidden = false;
    document.body.classList.add("lightbox-open");
    if (wasHidden && !(options && options.noHistory)) {
      const item = G.tileItem(items()[i] || items()[0]);
      history.pushState({ lightbox: item.id }, "", item.page);
      pushed = true;
    }
    show(i);
    closeButton.focus();
  }

  function close(fromHistory) {
    if (box.hidden) return;
    if (window.AtriumSlideshow) window.AtriumSlideshow.stop();
    box.hidden = true;
    document.title = pageTitle;
    document.body.classList.remove("lightbox-open");
    if (media) { media.remove(); media = null; }
    const wasPushed = pushed;
    pushed = false;
    if (wasPushed && !fromHistory) history.back(); // back to the album's address
    const tile = items()[index];
    const target = tile ? tile.querySelector("a") : opener;
    if (target && target.focus) target.focus();
  }

  grid.addEventListener("click", (event) => {
    const a = event.target.closest(".media-tile > a");
    if (!a || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    const tile = a.parentElement;
    if (tile.closest(".selecting")) return; // edit.js is selecting tiles
    event.preventDefault();
    open(items().indexOf(tile));
  });
  window.addEventListener("popstate", (event) => {
    const id = event.state && event.state.lightbox;
    if (!box.hidden) { close(true); return; }
    // Forward again onto a lightbox address: open that item without a new history entry.
    const at = id ? items().findIndex((t) => t.dataset.mediaId === id) : -1;
    if (at >= 0) {
      open(at, { noHistory: true });
      pushed = true;
    }
  });
  document.addEventListener("keydown", onKey);
  closeButton.addEventListener("click", () => close());
  prevButton.addEventListener("click", () => step(-1));
  nextButton.addEventListener("click", () => step(1));
  play.addEventListener("click", () => window.AtriumSlideshow && window.AtriumSlideshow.toggle());
  stage.addEventListener("click", (event) => { if (event.target === stage) close(); });
  G.onSwipe(stage, (dir) => step(dir > 0 ? -1 : 1));

  window.AtriumLightbox = {
    open, close, show, step,
    next: () => step(1),
    prev: () => step(-1),
    onShow: (fn) => listeners.push(fn),
    isOpen: () => !box.hidden,
    index: () => index,
    element: box,
    playButton: play,
    progress,
  };
})();
