// Backup and restore page: follow each running backup job through the jobs API (files,
// bytes, time left), cancel it, and reload when one ends so its Download link appears.
(function () {
  "use strict";
  const box = document.getElementById("backups");
  if (!box) return;
  const api = box.dataset.api;

  function xsrf() {
    const m = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  async function follow(row) {
    const id = row.dataset.job;
    const bar = row.querySelector("progress");
    const status = row.querySelector(".backup-status");
    const state = row.querySelector(".backup-state");
    for (;;) {
      const response = await fetch(api + "/jobs/" + id, { credentials: "same-origin" });
      if (!response.ok) { status.textContent = "Progress unavailable (" + response.status + ")"; return; }
      const job = (await response.json()).job || {};
      state.textContent = job.state;
      bar.value = Math.round(100 * (job.progress || 0));
      if (job.message) status.textContent = job.message;
      if (job.state !== "queued" && job.state !== "running") { window.location.reload(); return; }
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
  }
  box.querySelectorAll("tr[data-job]").forEach((row) => {
    const running = row.dataset.state === "queued" || row.dataset.state === "running";
    if (running) follow(row);
    const cancel = row.querySelector("[data-cancel]");
    if (cancel) cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      await fetch(api + "/jobs/" + row.dataset.job + "/cancel", {
        method: "POST", credentials: "same-origin", headers: { "X-XSRFToken": xsrf() },
      });
    });
  });
})();
