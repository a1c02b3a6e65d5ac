// Settings page: the watermark preview follows the watermark fields as they change
// (a debounced request to /admin/watermark/preview with the unsaved values). When the
// values cannot be previewed (the server refuses them), the dimmed preview says so in words.
(function () {
  "use strict";
  const figure = document.getElementById("watermark-preview");
  if (!figure) return;
  const img = figure.querySelector("img");
  const form = figure.closest("form");
  const problem = document.createElement("p");
  problem.className = "field-error watermark-preview-problem";
  problem.setAttribute("role", "status");
  problem.hidden = true;
  problem.textContent = _t("These values cannot be previewed: check the watermark fields above.");
  figure.append(problem);
  let timer = null;
  function update() {
    const params = new URLSearchParams();
    for (const field of form.elements) {
      if (!field.name || !field.name.startsWith("watermark_")) continue;
      if (field.type === "checkbox") {
        if (field.checked) params.set(field.name, "on");
      } else {
        params.set(field.name, field.value);
      }
    }
    figure.classList.remove("invalid");
    img.src = figure.dataset.url + "?" + params.toString();
  }
  img.addEventListener("error", () => { figure.classList.add("invalid"); problem.hidden = false; });
  img.addEventListener("load", () => { problem.hidden = true; });
  form.addEventListener("input", (event) => {
    if (!event.target.name || !event.target.name.startsWith("watermark_")) return;
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  });
  form.addEventListener("change", (event) => {
    if (event.target.name && event.target.name.startsWith("watermark_")) update();
  });
})();
