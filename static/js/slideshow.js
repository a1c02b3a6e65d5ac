// The slideshow: the lightbox in full screen (Fullscreen API; the fixed overlay when the
// browser refuses), advancing every `slideshow_interval` seconds, looping when
// `slideshow_loop` is on. Space pauses and resumes, ←/→ step, Escape ends it. The next
// image is preloaded (the lightbox does that) and the timer starts once the shown image
// has loaded, so a slow image is never skipped.
// Exposes window.AtriumSlideshow = {start(index), stop(), toggle(), playing()}.
(function () {
  "use strict";
  const G = window.AtriumGallery;
  const LB = window.AtriumLightbox;
  if (!G || !LB) return;

  const seconds = Math.max(1, Number(G.config.slideshowInterval) || 4);
  const loop = G.config.slideshowLoop !== false;
  const box = LB.element;
  let timer = null;
  let active = false;
  let playing = false;

  box.style.setProperty("--interval", seconds + "s");
  // fade, slide or none (the setting slideshow_transition): gallery.css animates each new
  // item of a running slideshow by this attribute.
  const transition = String(G.config.slideshowTransition || "fade");
  box.dataset.transition = ["fade", "slide", "none"].includes(transition) ? transition : "none";

  function setButton() {
    const icon = LB.playButton.querySelector(".lb-play-icon");
    const label = LB.playButton.querySelector(".lb-label");
    icon.textContent = playing ? "❚❚" : "▶";
    label.textContent = playing ? _t("Pause") : active ? _t("Play") : _t("Slideshow");
    LB.playButton.setAttribute("aria-pressed", playing ? "true" : "false");
    box.dataset.playing = playing ? "1" : "0";
    box.classList.toggle("playing", false);
    if (playing) {
      void box.offsetWidth; // restart the progress bar's animation
      box.classList.add("playing");
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (!playing) return;
    const shown = box.querySelector(".lb-media");
    const arm = () => {
      if (!playing) return;
      setButton();
      timer = setTimeout(advance, seconds * 1000);
    };
    if (shown && shown.tagName === "IMG" && !shown.complete) {
      shown.addEventListener("load", arm, { once: true });
      shown.addEventListener("error", arm, { once: true });
    } else {
      arm();
    }
  }

  async function advance() {
    const moved = await LB.step(1);
    if (!moved) {
      if (loop && G.tiles().length > 1) LB.show(0);
      else { pause(); return; }
    }
  }

  function enterFullscreen() {
    if (document.fullscreenElement || !box.requestFullscreen) return;
    box.requestFullscreen().catch(() => { /* the overlay already covers the window */ });
  }

  function start(index) {
    active = true;
    box.classList.add("slideshow");
    if (!LB.isOpen()) LB.open(index || 0);
    enterFullscreen();
    resume();
  }

  function resume() {
    playing = true;
    setButton();
    schedule();
  }

  function pause() {
    playing = false;
    clearTimeout(timer);
    timer = null;
    setButton();
  }

  function stop() {
    if (!active) return;
    active = false;
    pause();
    box.classList.remove("slideshow");
    setButton();
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  }

  function toggle() {
    if (!active) start(Math.max(0, LB.index()));
    else if (playing) pause();
    else resume();
  }

  // Every shown item (by timer, arrows or swipe) restarts the countdown.
  LB.onShow(() => { if (playing) schedule(); });
  // Leaving full screen (Escape in the browser's own handling) ends the slideshow too.
  document.addEventListener("fullscreenchange", () => {
    if (!document.fullscreenElement && active) { stop(); LB.close(); }
  });

  LB.playButton.hidden = false;
  document.querySelectorAll('[data-action="slideshow"]').forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => start(0));
  });

  window.AtriumSlideshow = { start, stop, toggle, pause, resume, playing: () => playing };
})();
