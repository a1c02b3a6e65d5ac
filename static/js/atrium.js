// Atrium's small shared script: theme switch, copy fields, password strength hint.
(function () {
  "use strict";
  const root = document.documentElement;
  const order = ["auto", "light", "dark"];
  document.querySelectorAll(".theme-toggle").forEach((btn) => {
    const label = () => (btn.title = "Theme: " + (root.dataset.theme || "auto"));
    label();
    btn.addEventListener("click", () => {
      const next = order[(order.indexOf(root.dataset.theme || "auto") + 1) % order.length];
      root.dataset.theme = next;
      localStorage.setItem("atrium-theme", next);
      label();
    });
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
