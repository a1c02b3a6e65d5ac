// The "Share" dialog of the album and media pages (templates/partials/share_dialog.html):
// makes a link through POST /shares (JSON, the XSRF cookie's token in X-XSRFToken) and shows
// it with Copy buttons. The server builds the link from the gallery's trusted address.
(() => {
  const dialog = document.getElementById("share-dialog");
  const opener = document.querySelector("[data-share-open]");
  if (!dialog || !opener || typeof dialog.showModal !== "function") return;
  // Beside the page's other actions: the album toolbar, or the media page's buttons.
  const home = document.getElementById("album-toolbar") || document.querySelector(".media-actions");
  if (home) home.append(opener);
  opener.hidden = false;
  const form = dialog.querySelector("form");
  const options = dialog.querySelector(".share-options");
  const result = dialog.querySelector(".share-result");
  const error = dialog.querySelector(".share-error");
  const create = dialog.querySelector("[data-share-create]");
  const xsrf = () => {
    const input = document.querySelector("input[name=_xsrf]");
    if (input && input.value) return input.value;
    const m = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  };
  const reset = () => {
    form.reset();
    options.hidden = false;
    result.hidden = true;
    error.hidden = true;
    create.hidden = false;
    create.disabled = false;
  };
  opener.addEventListener("click", () => { reset(); dialog.showModal(); });
  // "Create link" is the form's submit button, so Enter in a field makes the link too.
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!create.hidden && !create.disabled) make();
  });
  dialog.querySelector("[data-share-close]").addEventListener("click", () => dialog.close());
  async function make() {
    if (!form.reportValidity()) return;
    error.hidden = true;
    create.disabled = true;
    const field = (name) => form.elements[name];
    const body = {
      kind: dialog.dataset.kind,
      target_id: dialog.dataset.target,
      subalbums: !!(field("subalbums") && field("subalbums").checked),
      allow_original: !!(field("allow_original") && field("allow_original").checked),
      expires_days: field("expires_days").value || null,
      password: field("password").value || null,
    };
    try {
      const response = await fetch(dialog.dataset.endpoint, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-XSRFToken": xsrf() },
        body: JSON.stringify(body),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error((data.error && data.error.message) || _t("The link could not be made."));
      field("url").value = data.url;
      const feed = dialog.querySelector(".share-feed");
      feed.hidden = !data.feed_url;
      field("feed_url").value = data.feed_url || "";
      options.hidden = true;
      create.hidden = true;
      result.hidden = false;
      field("url").focus();
      field("url").select();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      create.disabled = false;
    }
  }
  dialog.querySelectorAll("[data-copy-from]").forEach((button) => button.addEventListener("click", async () => {
    const input = form.elements[button.dataset.copyFrom];
    input.select();
    try { await navigator.clipboard.writeText(input.value); } catch (e) { document.execCommand("copy"); }
    button.textContent = _t("Copied");
    setTimeout(() => { button.textContent = _t("Copy"); }, 2000);
  }));
})();
