// Settings page: the section menu (links on desktop, a select on phones, the current
// section marked), the unsaved-changes marker and leave-page warning, and the ordered
// checklists (drag, or the ↑/↓ buttons for keyboards and phones).
(function () {
  "use strict";
  const form = document.querySelector("[data-settings-form]");
  if (!form) return;

  // --- Section menu ---------------------------------------------------------------
  const jump = document.querySelector("[data-section-jump]");
  const links = Array.from(document.querySelectorAll(".settings-nav a"));
  if (jump) {
    jump.addEventListener("change", () => {
      const target = document.getElementById(jump.value);
      if (target) target.scrollIntoView({ block: "start" });
    });
  }
  if ("IntersectionObserver" in window) {
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        const id = entry.target.id;
        for (const a of links) a.setAttribute("aria-current", a.hash === "#" + id ? "true" : "false");
        if (jump && jump.value !== id) jump.value = id;
      }
    }, { rootMargin: "0px 0px -70% 0px" });
    document.querySelectorAll(".settings-section").forEach((s) => observer.observe(s));
  }

  // --- Unsaved changes ------------------------------------------------------------
  // The form's state as one string: names and values in document order (so re-ordering
  // an ordered checklist counts as a change, and moving it back does not).
  function state() {
    return new URLSearchParams(new FormData(form)).toString();
  }
  const marker = form.querySelector("[data-unsaved]");
  const saved = state();
  let dirty = false;
  let submitting = false;
  function check() {
    dirty = state() !== saved;
    if (marker) marker.hidden = !dirty;
    form.classList.toggle("is-dirty", dirty);
  }
  form.addEventListener("input", check);
  form.addEventListener("change", check);
  form.addEventListener("submit", () => { submitting = true; });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty || submitting) return;
    event.preventDefault();
    event.returnValue = "";  // older browsers need a value to ask
  });

  // --- Ordered checklists -----------------------------------------------------------
  function moved(li) {
    li.querySelector("input").dispatchEvent(new Event("change", { bubbles: true }));
  }
  for (const list of form.querySelectorAll("[data-ordered]")) {
    list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-move]");
      if (!button) return;
      const li = button.closest("li");
      if (button.dataset.move === "up" && li.previousElementSibling) {
        list.insertBefore(li, li.previousElementSibling);
      } else if (button.dataset.move === "down" && li.nextElementSibling) {
        list.insertBefore(li.nextElementSibling, li);
      } else {
        return;
      }
      button.focus();  // keep the keyboard where it was, on the moved item's button
      moved(li);
    });
    // A heading box in a row: a press there selects its text instead of dragging the row.
    list.addEventListener("pointerdown", (event) => {
      const li = event.target.closest("li");
      if (li) li.draggable = !event.target.closest(".row-heading");
    });
    let dragged = null;
    list.addEventListener("dragstart", (event) => {
      dragged = event.target.closest("li");
      if (!dragged) return;
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", "");
    });
    list.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      const over = event.target.closest("li");
      if (!over || over === dragged || over.parentNode !== list) return;
      const box = over.getBoundingClientRect();
      list.insertBefore(dragged, event.clientY > box.top + box.height / 2 ? over.nextSibling : over);
    });
    list.addEventListener("drop", (event) => event.preventDefault());
    list.addEventListener("dragend", () => {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      moved(dragged);
      dragged = null;
    });
  }
})();
