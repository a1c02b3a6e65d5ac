// "Import from Gallery Server Pro": send the backup and the media folder's ZIP as resumable
// uploads (static/js/tus.js against /admin/import-gsp/uploads/), remembered per file so that
// choosing the same file again after a dropped connection or a reload goes on where it
// stopped; then open the preview of what the import would do (nothing is imported yet).
// Below, the import jobs are followed to their end.
(function () {
  "use strict";

  // The import jobs below the form: followed through the jobs API until they end, then the
  // page reloads with the report. Unlike the other admin pages' job tables (admin-jobs.js) a
  // failed request is not the end: while an import switches the gallery over, the gallery
  // answers 503 for a moment, so the page waits and asks again.
  function xsrfCookie() {
    const m = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function follow(api, row) {
    const bar = row.querySelector("progress");
    const status = row.querySelector(".job-status");
    const state = row.querySelector(".job-state");
    let misses = 0;
    for (;;) {
      let job = null;
      try {
        const response = await fetch(api + "/jobs/" + row.dataset.job, { credentials: "same-origin" });
        if (response.ok) job = (await response.json()).job || {};
      } catch (err) { job = null; }
      if (!job) {
        misses += 1;
        status.textContent = _t("Waiting for the gallery…");
        if (misses > 40) { window.location.reload(); return; }
        await sleep(1500);
        continue;
      }
      misses = 0;
      state.textContent = job.state;
      bar.value = Math.round(100 * (job.progress || 0));
      if (job.message) status.textContent = job.message;
      if (job.state !== "queued" && job.state !== "running") { window.location.reload(); return; }
      await sleep(700);
    }
  }

  document.querySelectorAll("#imports[data-jobs] tr[data-job]").forEach((row) => {
    const api = row.closest("[data-jobs]").dataset.api;
    if (row.dataset.state === "queued" || row.dataset.state === "running") follow(api, row);
    const cancel = row.querySelector("[data-cancel]");
    if (cancel) cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      await fetch(api + "/jobs/" + row.dataset.job + "/cancel", {
        method: "POST", credentials: "same-origin", headers: { "X-XSRFToken": xsrfCookie() },
      });
    });
  });

  const form = document.querySelector("form[data-gsp-upload]");
  if (!form || !window.AtriumTus) return;
  const status = form.querySelector(".gsp-status");
  const button = form.querySelector("[data-start-upload]");
  const xsrf = form.querySelector("input[name=_xsrf]").value;

  function say(text, error) {
    status.textContent = text;
    status.className = "gsp-status " + (error ? "alert error" : "muted");
  }
  function makeError(status, text) {
    let message = "";
    try { message = (JSON.parse(text).error || {}).message || ""; } catch (e) { message = ""; }
    const err = new Error(message || (status ? _t("The upload failed (the server answered %(status)s).", { status }) : _t("The connection was lost.")));
    err.status = status;
    err.retry = status === 0 || status >= 500;
    return err;
  }

  async function send(kind, file) {
    const bar = form.querySelector('progress[data-for="' + kind + '"]');
    bar.hidden = false;
    const upload = window.AtriumTus.upload(file, {
      endpoint: form.dataset.endpoint,
      metadata: { filename: file.name, kind: kind },
      key: "gsp-import:" + kind + ":" + [file.name, file.size, file.lastModified].join(":"),
      headers: () => ({ "X-XSRFToken": xsrf, Accept: "application/json" }),
      makeError: makeError,
      onProgress: (sent) => { bar.value = file.size ? Math.round((100 * sent) / file.size) : 100; },
      onWait: (ms) => say(_t("Connection lost; trying again in %(seconds)s s…", { seconds: Math.round(ms / 1000) })),
      onResume: (offset) => say(_t("Going on from %(percent)s %%…", { percent: Math.round((100 * offset) / file.size) })),
    });
    return upload.start();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const backup = form.querySelector("input[name=backup]").files[0];
    const media = form.querySelector("input[name=media]").files[0];
    if (!backup) return;
    button.disabled = true;
    try {
      say(_t("Sending the backup…"));
      const backupId = await send("backup", backup);
      let mediaId = "";
      if (media) {
        say(_t("Sending the media folder…"));
        mediaId = await send("media", media);
      }
      say(_t("Reading the backup for the preview…"));
      const params = new URLSearchParams({ backup: backupId });
      if (mediaId) params.set("media", mediaId);
      window.location.assign(form.getAttribute("action") + "?" + params.toString());
    } catch (err) {
      say(err.message, true);
      button.disabled = false;
    }
  });
})();
