// Stars on the media page for signed-in members (loaded only for them): marks the member's own
// vote (GET .../rating), votes by click (PUT), a second click on one's vote withdraws it
// (DELETE). The page body is shared by all members of a class, so one's own vote comes from here.
(function () {
  "use strict";
  const box = document.querySelector(".rating[data-rating-url]");
  if (!box) return;
  const url = box.dataset.ratingUrl;
  const buttons = Array.from(box.querySelectorAll("button.star"));
  const text = box.querySelector(".rating-text");
  const xsrf = () => {
    const input = document.querySelector("input[name=_xsrf]");
    if (input) return input.value;
    const m = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  };
  let mine = null;

  function show(r) {
    mine = r.mine;
    const lit = mine || (r.average ? Math.floor(r.average + 0.25) : 0);
    buttons.forEach((b) => {
      const n = Number(b.dataset.stars);
      b.classList.toggle("on", n <= lit);
      b.setAttribute("aria-pressed", String(n === mine));
    });
    if (!text) return;
    // Parts joined by " · ", each a whole phrase: "4.5 of 5 · 2 votes · yours: 5".
    const parts = [r.average ? _t("%(average)s of 5", { average: (Math.round(r.average * 10) / 10).toLocaleString(document.documentElement.lang) }) : _t("Not rated yet")];
    if (r.count) parts.push(_tn("%(count)s vote", "%(count)s votes", r.count));
    else if (r.average) parts.push(_t("the file's own rating"));
    if (mine) parts.push(_t("yours: %(stars)s", { stars: mine }));
    text.textContent = parts.join(" · ");
  }

  async function call(method, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") { headers["X-XSRFToken"] = xsrf(); headers["Content-Type"] = "application/json"; }
    const res = await fetch(url, { method, headers, credentials: "same-origin", body: body ? JSON.stringify(body) : undefined });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || _t("The rating was not saved."));
    return data.rating;
  }

  buttons.forEach((b) => b.addEventListener("click", async () => {
    const n = Number(b.dataset.stars);
    box.setAttribute("aria-busy", "true");
    try {
      show(n === mine ? await call("DELETE") : await call("PUT", { stars: n }));
    } catch (e) {
      if (text) text.textContent = e.message;
    } finally {
      box.removeAttribute("aria-busy");
    }
  }));
  call("GET").then(show).catch(() => {});
})();
