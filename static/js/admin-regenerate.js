// Settings page: regenerate every derivative as the media.regenerate job and follow its
// progress through the jobs API until it ends.
(function () {
  "use strict";
  const box = document.getElementById("regenerate");
  if (!box) return;
  const button = box.querySelector("[data-regenerate]");
  const wrap = box.querySelector(".regenerate-progress");
  const bar = wrap.querySelector("progress");
  const status = wrap.querySelector(".regenerate-status");
  const api = box.dataset.api;

  function xsrf() {
    const m = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function show(fraction, text) {
    wrap.hidden = false;
    bar.value = Math.round(100 * fraction);
    status.textContent = text;
  }
  async function follow(jobId) {
    for (;;) {
      const response = await fetch(api + "/jobs/" + jobId, { credentials: "same-origin" });
      if (!response.ok) throw new Error(_t("The job could not be read (the server answered %(status)s).", { status: response.status }));
      const job = (await response.json()).job || {};
      if (job.state === "done") {
        const r = job.result || {};
        const remade = r.processed !== undefined;
        show(1, remade && r.failed ? _t("Done: %(done)s remade, %(failed)s could not be.", { done: r.processed, failed: r.failed })
          : remade ? _t("Done: %(done)s remade.", { done: r.processed })
            : r.failed ? _t("Done: %(failed)s could not be remade.", { failed: r.failed }) : _t("Done."));
        return;
      }
      if (job.state === "failed" || job.state === "cancelled") {
        show(job.progress || 0, job.state === "cancelled" ? _t("The job was cancelled.")
          : job.error ? _t("The job failed: %(reason)s", { reason: job.error }) : _t("The job failed."));
        return;
      }
      show(job.progress || 0, (job.state === "queued" ? _t("Waiting to start…") : _t("Regenerating… %(percent)s%%", { percent: Math.round(100 * (job.progress || 0)) })) + (job.message ? " · " + job.message : ""));
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    show(0, _t("Starting…"));
    try {
      const response = await fetch(api + "/albums/" + box.dataset.albumId + "/regenerate", {
        method: "POST", credentials: "same-origin",
        headers: { "X-XSRFToken": xsrf(), "Content-Type": "application/json" }, body: "{}",
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error((data.error && data.error.message) || _t("The server answered %(status)s.", { status: response.status }));
      await follow(data.job_id);
    } catch (err) {
      show(0, _t("Could not regenerate: %(reason)s", { reason: err.message }));
    } finally {
      button.disabled = false;
    }
  });
})();
