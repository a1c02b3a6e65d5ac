// "Import from Gallery Server Pro": send the backup and the media folder's ZIP as resumable
// uploads (static/js/tus.js against /admin/import-gsp/uploads/), remembered per file so that
// choosing the same file again after a dropped connection or a reload goes on where it
// stopped; then open the preview of what the import would do (nothing is imported yet).
(function () {
  "use strict";

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
    const err = new Error(message || (status ? "The upload failed (" + status + ")." : "The connection was lost."));
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
      onWait: (ms) => say("Connection lost; trying again in " + Math.round(ms / 1000) + " s…"),
      onResume: (offset) => say("Going on from " + Math.round((100 * offset) / file.size) + " %…"),
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
      say("Sending the backup…");
      const backupId = await send("backup", backup);
      let mediaId = "";
      if (media) {
        say("Sending the media folder…");
        mediaId = await send("media", media);
      }
      say("Reading the backup for the preview…");
      const params = new URLSearchParams({ backup: backupId });
      if (mediaId) params.set("media", mediaId);
      window.location.assign(form.getAttribute("action") + "?" + params.toString());
    } catch (err) {
      say(err.message, true);
      button.disabled = false;
    }
  });
})();
