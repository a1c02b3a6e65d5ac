// Backup and restore page: send the chosen backup file as the request's body (streamed by
// the service, never parsed as a form), show the upload's progress, then the result: where
// to sign in with the backup's accounts, or every problem that stopped the restore.
(function () {
  "use strict";

  const form = document.querySelector("form[data-restore]");
  if (!form) return;
  const bar = form.querySelector(".restore-progress");
  const result = form.querySelector(".restore-result");
  const problems = form.querySelector(".restore-problems");

  function show(text, ok) {
    result.hidden = false;
    result.textContent = text;
    result.className = "restore-result alert " + (ok ? "ok" : "error");
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    problems.replaceChildren();
    problems.hidden = true;
    bar.hidden = false;
    bar.value = 0;
    show(_t("Sending the backup…"), true);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") + "?confirm=1");
    xhr.setRequestHeader("X-XSRFToken", form.querySelector("input[name=_xsrf]").value);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", "application/zip");
    const passphrase = form.querySelector("input[name=passphrase]");
    if (passphrase && passphrase.value) xhr.setRequestHeader("X-Backup-Passphrase", passphrase.value);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
      if (e.loaded === e.total) show(_t("Checking and restoring the backup…"), true);
    });
    xhr.addEventListener("load", () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch (err) { data = {}; }
      if (xhr.status === 200 && data.restored) {
        bar.value = 100;
        const r = data.restored;
        const albums = _tn("%(count)s album", "%(count)s albums", r.albums);
        const media = _tn("%(count)s photo or video", "%(count)s photos and videos", r.media);
        const users = _tn("%(count)s user", "%(count)s users", r.users);
        show(_t("Restored: %(albums)s, %(media)s, %(users)s. Sign in with an account from the backup.", { albums, media, users }), true);
        const link = document.createElement("a");
        link.href = data.next;
        link.className = "button primary";
        link.textContent = _t("Sign in");
        result.append(" ", link);
        (r.not_restored || []).forEach((line) => {
          const li = document.createElement("li");
          li.textContent = line;
          problems.append(li);
          problems.hidden = false;
        });
        return;
      }
      const error = data.error || {};
      show(error.message || _t("The restore failed (the server answered %(status)s).", { status: xhr.status }), false);
      (error.problems || []).forEach((line) => {
        const li = document.createElement("li");
        li.textContent = line;
        problems.append(li);
        problems.hidden = false;
      });
      button.disabled = false;
      bar.hidden = true;
    });
    xhr.addEventListener("error", () => {
      show(_t("The connection failed while sending the backup."), false);
      button.disabled = false;
    });
    xhr.send(file);
  });
})();
