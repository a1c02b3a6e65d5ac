// Job tables of the admin pages (Backup and restore, Synchronize): follow each queued or
// running job through the jobs API (its message says files, bytes or directories and the
// time left), cancel it, and reload when it ends so its report and links appear.
(function () {
  "use strict";

  function xsrf() {
    const m = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  const states = { queued: _t("Waiting"), running: _t("Running"), done: _t("Done"), failed: _t("Failed"), cancelled: _t("Cancelled") };

  async function follow(api, row) {
    const id = row.dataset.job;
    const bar = row.querySelector("progress");
    const status = row.querySelector(".job-status");
    const state = row.querySelector(".job-state");
    for (;;) {
      const response = await fetch(api + "/jobs/" + id, { credentials: "same-origin" });
      if (!response.ok) { status.textContent = _t("Progress unavailable (the server answered %(status)s)", { status: response.status }); return; }
      const job = (await response.json()).job || {};
      state.textContent = states[job.state] || job.state;
      bar.value = Math.round(100 * (job.progress || 0));
      if (job.message) status.textContent = job.message;
      if (job.state !== "queued" && job.state !== "running") { window.location.reload(); return; }
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
  }

  document.querySelectorAll("[data-jobs]").forEach((box) => {
    const api = box.dataset.api;
    box.querySelectorAll("tr[data-job]").forEach((row) => {
      if (row.dataset.state === "queued" || row.dataset.state === "running") follow(api, row);
      const cancel = row.querySelector("[data-cancel]");
      if (cancel) cancel.addEventListener("click", async () => {
        cancel.disabled = true;
        await fetch(api + "/jobs/" + row.dataset.job + "/cancel", {
          method: "POST", credentials: "same-origin", headers: { "X-XSRFToken": xsrf() },
        });
      });
    });
  });
})();
