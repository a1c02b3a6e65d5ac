// The "being upgraded" page (templates/errors/upgrading.html): follows the upgrade through
// the gallery's progress JSON (/_upgrade: counts only) and reloads the page once the gallery
// is no longer being upgraded (back, read-only, or failed: the reloaded page says which).
(function () {
  "use strict";
  const card = document.querySelector(".upgrade-card[data-progress-url]");
  if (!card) return;
  const url = card.dataset.progressUrl;
  const every = 2000;
  const field = (name) => card.querySelector(`[data-field="${name}"]`);
  const number = (n) => Number(n).toLocaleString(document.documentElement.lang);

  // The time left as a whole phrase ("About 3 minutes left").
  function left(seconds) {
    if (seconds < 90) return _t("About %(value)s seconds left", { value: number(Math.max(1, Math.round(seconds))) });
    if (seconds < 90 * 60) return _t("About %(value)s minutes left", { value: number(Math.round(seconds / 60)) });
    return _t("About %(value)s hours left", { value: Number((seconds / 3600).toFixed(1)).toLocaleString(document.documentElement.lang) });
  }

  function show(p) {
    field("step").textContent = p.step ? _t("Step %(step)s of %(steps)s", { step: p.step, steps: p.steps }) : _t("Starting");
    const bar = card.querySelector("progress");
    if (p.total) {
      bar.max = p.total;
      bar.value = p.done;
      bar.textContent = `${p.percent}%`;
      field("count").textContent = _t("%(value)s of %(value2)s documents (%(value3)s%%)", { value: number(p.done), value2: number(p.total), value3: p.percent });
    } else {
      bar.removeAttribute("value");
      field("count").textContent = _t("%(value)s documents", { value: number(p.done) });
    }
    field("estimate").textContent = p.seconds_left === null || p.seconds_left === undefined
      ? "" : left(p.seconds_left);
  }

  async function poll() {
    let progress = null;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" });
      progress = await response.json();
    } catch (err) {
      progress = null; // the service is restarting or the network is down: try again
    }
    if (progress && progress.state && progress.state !== "upgrading") {
      window.location.reload();
      return;
    }
    if (progress && progress.state === "upgrading") show(progress);
    window.setTimeout(poll, every);
  }

  window.setTimeout(poll, every);
})();
