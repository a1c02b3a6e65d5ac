// Atrium's small shared script: theme switch, copy fields, password strength hint.
(function () {
  "use strict";
  const root = document.documentElement;
  // The theme menu shows the current choice on its button and in its list; a choice
  // applies at once (a cycle through auto → light on a light system changed nothing visible).
  const icons = { auto: "◐", light: "☀", dark: "☾" };
  document.querySelectorAll(".theme-menu").forEach((menu) => {
    const summary = menu.querySelector("summary");
    const show = () => {
      const theme = icons[root.dataset.theme] ? root.dataset.theme : "auto";
      summary.querySelector(".theme-current").textContent = icons[theme];
      summary.title = "Theme: " + theme;
      summary.setAttribute("aria-label", "Theme: " + theme);
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
