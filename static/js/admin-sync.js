// Synchronize page: follow each running sync job through the jobs API (directories,
// files, new/changed/removed/skipped, time left), cancel it, reload when it ends so its
// report appears.
(function () {
  "use strict";
  const box = document.getElementById("syncs");
  if (!box) return;
  const api = box.dataset.api;

  function xsrf() {
    const m = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  async function follow(row) {
    const id = row.dataset.job;
    const bar = row.querySelector("progress");
    const status = row.querySelector(".sync-status");
    const state = row.querySelector(".sync-state");
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
    if (row.dataset.state === "queued" || row.dataset.state === "running") follow(row);
    const cancel = row.querySelector("[data-cancel]");
    if (cancel) cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      await fetch(api + "/jobs/" + row.dataset.job + "/cancel", {
        method: "POST", credentials: "same-origin", headers: { "X-XSRFToken": xsrf() },
      });
    });
  });
})();
