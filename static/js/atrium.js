// Atrium's small shared script: theme switch, copy fields, password strength hint.
(function () {
  "use strict";
  const root = document.documentElement;
  // The theme menu shows the current choice on its button and in its list; a choice
  // applies at once (a cycle through auto → light on a light system changed nothing visible).
  const icons = { auto: "◐", light: "☀", dark: "☾" };
  const names = { auto: _t("Theme: auto"), light: _t("Theme: light"), dark: _t("Theme: dark") };
  document.querySelectorAll(".theme-menu").forEach((menu) => {
    const summary = menu.querySelector("summary");
    const show = () => {
      const theme = icons[root.dataset.theme] ? root.dataset.theme : "auto";
      summary.querySelector(".theme-current").textContent = icons[theme];
      summary.title = names[theme];
      summary.setAttribute("aria-label", names[theme]);
      menu.querySelectorAll("[data-theme-choice]").forEach((b) => {
        b.setAttribute("aria-pressed", String(b.dataset.themeChoice === theme));
      });
    };
    show();
    menu.querySelectorAll("[data-theme-choice]").forEach((b) => b.addEventListener("click", () => {
      root.dataset.theme = b.dataset.themeChoice;
      localStorage.setItem("atrium-theme", b.dataset.themeChoice);
      show();
      menu.open = false;
    }));
    document.addEventListener("click", (e) => { if (!menu.contains(e.target)) menu.open = false; });
  });
  document.querySelectorAll("input[data-copy]").forEach((input) => {
    input.addEventListener("focus", () => input.select());
    // A Copy button beside each link to hand on (installer links, sign-in addresses).
    const wrap = document.createElement("span");
    wrap.className = "copy-field";
    input.replaceWith(wrap);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button small";
    button.textContent = _t("Copy");
    const what = input.getAttribute("aria-label");
    button.setAttribute("aria-label", what ? _t("Copy %(what)s", { what }) : _t("Copy link"));
    wrap.append(input, button);
    button.addEventListener("click", async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
      } catch (e) {
        document.execCommand("copy");  // plain-http pages have no clipboard API
      }
      button.textContent = _t("Copied");
      setTimeout(() => { button.textContent = _t("Copy"); }, 2000);
    });
  });
  // A page rendered by a form's POST names its own address: put it in the location bar, so
  // a reload shows the page instead of posting the form again.
  const own = document.querySelector("[data-replace-url]");
  if (own && location.pathname !== own.dataset.replaceUrl) history.replaceState(null, "", own.dataset.replaceUrl);
  // Confirmation fields that must repeat a name say so in words, not "match the format".
  document.querySelectorAll("input[data-must-equal]").forEach((input) => {
    const check = () => input.setCustomValidity(
      input.value === "" || input.value === input.dataset.mustEqual ? "" : input.dataset.mismatch);
    input.addEventListener("input", check);
    input.form.addEventListener("submit", (e) => {
      if (input.value !== input.dataset.mustEqual) {
        input.setCustomValidity(input.dataset.mismatch);
        input.reportValidity();
        e.preventDefault();
      }
    });
  });
  // Whether a message carrying a link went out, said where the link is shown.
  document.querySelectorAll("[data-mail-status]").forEach((line) => {
    const to = line.dataset.to;
    const started = Date.now();
    const poll = async () => {
      let answer = null;
      try {
        const response = await fetch(line.dataset.mailStatus, { headers: { Accept: "application/json" } });
        if (response.ok) answer = await response.json();
      } catch (e) { /* try again below */ }
      const state = answer ? answer.state : "sending";
      if (state === "sent") {
        line.className = "alert ok mail-status";
        line.textContent = _t("The link was sent to %(address)s.", { address: to });
        return;
      }
      if (state === "failed" || state === "retrying" || state === "skipped") {
        line.className = "alert error mail-status";
        line.setAttribute("role", "alert");
        const values = { address: to, reason: answer.error };
        line.textContent = state === "retrying"
          ? (answer.error ? _t("The link could not be sent to %(address)s yet (it will be tried again): %(reason)s Copy the link above and give it to them.", values)
            : _t("The link could not be sent to %(address)s yet (it will be tried again). Copy the link above and give it to them.", values))
          : (answer.error ? _t("The link could not be sent to %(address)s: %(reason)s Copy the link above and give it to them.", values)
            : _t("The link could not be sent to %(address)s. Copy the link above and give it to them.", values));
        if (state !== "retrying") return;
      }
      if (Date.now() - started < 120000) setTimeout(poll, 1500);
      else if (state === "sending") line.textContent = _t("The link to %(address)s is still waiting to be sent; copy it above to be sure.", { address: to });
    };
    poll();
  });
  document.querySelectorAll("input[data-strength]").forEach((input) => {
    const meter = input.parentElement.querySelector("meter.strength");
    if (!meter) return;
    input.addEventListener("input", () => {
      const v = input.value;
      let score = 0;
      if (v.length >= 10) score++;
      if (v.length >= 14) score++;
      if (/[a-z]/.test(v) && /[A-Z]/.test(v)) score++;
      if (/[0-9]/.test(v) && /[^A-Za-z0-9]/.test(v)) score++;
      meter.value = score;
    });
  });
})();
