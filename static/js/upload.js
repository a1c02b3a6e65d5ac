// The upload page: drop files or a folder, send each one (one request for small files,
// tus 1.0 for large ones so a lost connection resumes where it stopped), then follow the
// media object's processing until its thumbnail is there. No library: the tus client
// (static/js/tus.js) is the three requests the protocol needs.
(function () {
  "use strict";
  const root = document.getElementById("upload");
  if (!root) return;

  const api = root.dataset.api;
  const opts = Object.assign(
    {
      tusThreshold: Number(root.dataset.tusThreshold) || 16 << 20,
      chunkSize: Number(root.dataset.tusChunk) || 8 << 20,
      parallel: 3,
      pollMs: 1200,
      retries: 6,
      zipQuery: "?zip=1", // tests add &background=1 to take the import-job path
    },
    window.ATRIUM_UPLOAD || {}, // tuning hook (tests use small chunks)
  );
  const maxBytes = Number(root.dataset.maxBytes) || Infinity;
  const allowed = new Set((root.dataset.allowed || "").split(",").filter(Boolean));
  const ALIASES = { jpeg: "jpg", jpe: "jpg", tiff: "tif", heif: "heic", m4v: "mp4", oga: "ogg", mpeg: "mpg", wma: "wmv", asf: "wmv" };
  const picker = document.getElementById("upload-album");
  const unzip = document.getElementById("upload-unzip");
  const folders = document.getElementById("upload-folders");
  const list = document.getElementById("upload-list");
  const queueBox = document.getElementById("upload-queue");
  const summary = document.getElementById("upload-summary");
  const totalBar = document.getElementById("upload-total-bar");
  const dropZone = document.getElementById("drop-zone");
  const openAlbum = document.getElementById("upload-open-album");

  const items = [];
  const waiting = [];
  let running = 0;
  const processing = new Map(); // media id -> item (or zip entry counter)
  let pollTimer = null;

  // -- small helpers --------------------------------------------------------------------
  function xsrf() {
    const input = document.querySelector("input[name=_xsrf]");
    if (input && input.value) return input.value;
    const m = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function bytes(n) {
    if (!isFinite(n)) return "";
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + " " + units[i];
  }
  function duration(s) {
    if (!isFinite(s) || s < 0) return "";
    if (s < 1) return _t("under 1 s");
    s = Math.round(s);
    if (s < 60) return _t("%(seconds)s s", { seconds: s });
    if (s < 3600) return _t("%(minutes)s min %(seconds)s s", { minutes: Math.floor(s / 60), seconds: s % 60 });
    return _t("%(hours)s h %(minutes)s min", { hours: Math.floor(s / 3600), minutes: Math.round((s % 3600) / 60) });
  }
  function toast(message, kind) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const t = el("div", "toast " + (kind || "ok"), message);
    t.setAttribute("role", kind === "error" ? "alert" : "status");
    box.appendChild(t);
    while (box.children.length > 3) box.firstChild.remove();
    setTimeout(() => t.classList.add("leaving"), 4000);
    setTimeout(() => t.remove(), 4600);
  }
  class UploadError extends Error {
    constructor(message, status, retry, code) { super(message); this.status = status || 0; this.retry = !!retry; this.code = code || ""; }
  }
  function errorFrom(status, text) {
    // The message is in the page's language; what kind of refusal it is comes from `code`.
    let message = "", code = "";
    try { ({ message, code } = JSON.parse(text).error); } catch (e) { /* not JSON */ }
    if (!message) {
      message = status === 413 ? _t("This file is too large for this gallery.")
        : status === 415 ? _t("This type of file is not accepted here.")
        : status === 0 ? _t("The connection was lost.")
        : _t("The server answered %(status)s.", { status });
    }
    // Server errors and lost connections are worth another try; refusals are not.
    return new UploadError(message, status, status === 0 || status >= 500 || status === 423, code);
  }

  // -- the list of items ------------------------------------------------------------------
  function extensionOf(name) {
    const dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
  }
  function precheck(file, isZip) {
    if (file.size === 0) return _t("This file is empty.");
    if (file.size > maxBytes) return _t("Too large: %(size)s (this gallery takes up to %(limit)s per file).", { size: bytes(file.size), limit: bytes(maxBytes) });
    const ext = extensionOf(file.name);
    if (!isZip && ext && allowed.size && !allowed.has(ext) && !allowed.has(ALIASES[ext])) {
      return _t("Wrong type: .%(extension)s files are not accepted in this gallery.", { extension: ext });
    }
    return null;
  }

  function addFile(file, relPath) {
    const isZip = unzip.checked && /\.zip$/i.test(file.name);
    const name = relPath || file.name;
    // A file of a dropped folder goes into an album named after its folder (made by the
    // server below the chosen album) unless the visitor turned that off.
    const slash = name.lastIndexOf("/");
    const item = {
      file, isZip, name, albumId: picker.value,
      folder: folders && folders.checked && slash > 0 ? name.slice(0, slash) : "",
      state: "queued", sent: 0, samples: [], mediaId: null, xhr: null, canceled: false,
    };
    render(item);
    items.push(item);
    const problem = precheck(file, isZip);
    if (problem) fail(item, new UploadError(problem, 400));
    else { waiting.push(item); pump(); }
    update();
  }

  function render(item) {
    const li = el("li", "upload-item");
    item.li = li;
    const thumb = el("div", "upload-thumb");
    thumb.setAttribute("aria-hidden", "true");
    thumb.appendChild(el("span", "upload-ext", extensionOf(item.file.name).slice(0, 4) || _t("file")));
    if (/^image\/(jpeg|png|gif|webp)$/.test(item.file.type) && item.file.size < 25 << 20) {
      const img = el("img");
      img.alt = "";
      img.src = URL.createObjectURL(item.file);
      // The type label stays only for files whose picture cannot be shown: under a shown
      // (half-transparent, until the server's thumbnail arrives) preview it showed through.
      img.onload = () => { URL.revokeObjectURL(img.src); thumb.classList.add("has-preview"); };
      img.onerror = () => { URL.revokeObjectURL(img.src); img.remove(); };
      thumb.appendChild(img);
    }
    const body = el("div", "upload-body");
    const line = el("div", "upload-line");
    // A file from a folder shows its own name first; the folder goes with the size.
    const slash = item.name.lastIndexOf("/");
    const name = el("span", "upload-name", item.name.slice(slash + 1));
    name.title = item.name;
    // The size is never cut ("41…" at phone width); the folder gives way first.
    const size = el("span", "upload-size");
    if (slash > 0) size.append(el("span", "upload-folder", item.name.slice(0, slash) + " · "));
    size.append(el("span", "upload-bytes", bytes(item.file.size)));
    line.append(name, size);
    const bar = el("div", "upload-bar");
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", _t("Upload of %(name)s", { name: item.name }));
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.appendChild(el("span"));
    const status = el("div", "upload-line upload-meta");
    status.append(el("span", "upload-status", _t("Waiting…")), el("span", "upload-badge"));
    const error = el("p", "upload-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    const details = el("div", "upload-details");
    body.append(line, bar, status, error, details);
    const actions = el("div", "upload-actions");
    const cancel = el("button", "icon-button", "✕");
    cancel.type = "button";
    cancel.title = _t("Cancel");
    cancel.setAttribute("aria-label", _t("Cancel upload of %(name)s", { name: item.name }));
    cancel.addEventListener("click", () => cancelItem(item));
    const retry = el("button", "button small", _t("Retry"));
    retry.type = "button";
    retry.hidden = true;
    retry.addEventListener("click", () => retryItem(item));
    actions.append(retry, cancel);
    li.append(thumb, body, actions);
    Object.assign(item, { thumb, bar, status: status.firstChild, badge: status.lastChild, error, details, retryButton: retry, cancelButton: cancel });
    list.appendChild(li);
    queueBox.hidden = false;
    setState(item, "queued");
    return li;
  }

  const LABELS = { queued: _t("Queued"), uploading: _t("Uploading"), importing: _t("Unpacking"), processing: _t("Processing"), ready: _t("Done"), failed: _t("Failed"), skipped: _t("Skipped"), canceled: _t("Canceled") };
  // Out of the list's work: a failed item may be retried; a skipped one (a duplicate) was not wanted.
  const settled = (state) => state === "failed" || state === "skipped";
  function setState(item, state, text) {
    item.state = state;
    item.li.dataset.state = state;
    item.badge.textContent = LABELS[state] || state;
    if (text != null) item.status.textContent = text;
    item.cancelButton.hidden = !["queued", "uploading", "failed", "skipped"].includes(state);
    const name = item.name;
    item.cancelButton.setAttribute("aria-label", settled(state) ? _t("Remove %(name)s", { name }) : _t("Cancel upload of %(name)s", { name }));
    item.cancelButton.title = settled(state) ? _t("Remove from the list") : _t("Cancel");
    item.retryButton.hidden = !(state === "failed" && item.canRetry);
    update();
  }
  function setProgress(item, sent) {
    item.sent = sent;
    const total = item.file.size || 1;
    const pct = Math.min(100, Math.floor((sent / total) * 100));
    item.bar.firstChild.style.width = pct + "%";
    item.bar.setAttribute("aria-valuenow", String(pct));
    const now = performance.now();
    item.samples.push([now, sent]);
    while (item.samples.length > 2 && now - item.samples[0][0] > 4000) item.samples.shift();
    const [t0, b0] = item.samples[0];
    const speed = now > t0 ? ((sent - b0) * 1000) / (now - t0) : 0;
    const parts = [pct + "%"];
    if (speed > 0 && sent < total) {
      parts.push(bytes(speed) + "/s", _t("%(time)s left", { time: duration((total - sent) / speed) }));
    }
    if (item.state === "uploading") item.status.textContent = parts.join(" · ");
    updateTotal();
  }
  function fail(item, err) {
    item.canRetry = err.retry || err.status === 0 || err.status >= 500;
    item.error.textContent = err.message;
    item.error.hidden = false;
    const label = err.status === 413 ? (err.code === "quota_exceeded" ? _t("Over the storage quota") : _t("Too large"))
      : err.status === 415 ? _t("Not accepted")
      : err.status === 409 ? (err.code === "already_in_gallery" ? _t("Already in the gallery") : _t("Already in this album"))
      : _t("Not uploaded");
    // A duplicate is skipped, not failed: nothing to retry (gallery.intake.duplicates).
    setState(item, err.status === 409 ? "skipped" : "failed", label);
  }

  function update() {
    const done = items.filter((i) => i.state === "ready").length;
    const failed = items.filter((i) => i.state === "failed").length;
    const skipped = items.filter((i) => i.state === "skipped").length;
    const busy = items.filter((i) => ["queued", "uploading", "importing", "processing"].includes(i.state)).length;
    const total = items.filter((i) => i.state !== "canceled" && i.state !== "skipped").length;
    const parts = [_t("%(done)s of %(total)s done", { done, total })];
    if (failed) parts.push(_t("%(count)s failed", { count: failed }));
    if (skipped) parts.push(_t("%(count)s skipped", { count: skipped }));
    if (busy) parts.push(_t("%(count)s in progress", { count: busy }));
    summary.textContent = "· " + parts.join(" · ");
    updateTotal();
  }
  function updateTotal() {
    const active = items.filter((i) => i.state !== "canceled" && !settled(i.state));
    const total = active.reduce((s, i) => s + i.file.size, 0);
    const sent = active.reduce((s, i) => s + (i.state === "uploading" || i.state === "queued" ? i.sent : i.file.size), 0);
    totalBar.style.width = (total ? Math.floor((sent / total) * 100) : 0) + "%";
  }

  // -- sending ----------------------------------------------------------------------------
  function pump() {
    while (running < opts.parallel && waiting.length) {
      const item = waiting.shift();
      if (item.canceled) continue;
      running++;
      send(item).finally(() => { running--; pump(); });
    }
  }

  async function send(item) {
    item.error.hidden = true;
    item.samples = [];
    setState(item, "uploading", _t("Starting…"));
    setProgress(item, 0);
    try {
      if (item.isZip) {
        let result = await sendWhole(item, withFolder(opts.zipQuery, item));
        // A large archive is imported by a job (202): follow it until it has a result.
        if (result.job) result = await followImportJob(item, result.job.url);
        showZipResult(item, result);
      } else if (item.file.size >= opts.tusThreshold) {
        const mediaId = await sendTus(item);
        follow(item, mediaId);
      } else {
        const media = await sendWhole(item, withFolder("", item));
        follow(item, media._id || media.id, media.album_id);
      }
    } catch (err) {
      if (item.canceled) return;
      fail(item, err instanceof UploadError ? err : new UploadError(String(err.message || err), 0, true));
    }
  }

  function withFolder(query, item) {
    if (!item.folder) return query;
    return query + (query ? "&" : "?") + "folder=" + encodeURIComponent(item.folder);
  }

  function sendWhole(item, query) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      item.xhr = xhr;
      xhr.open("POST", api + "/albums/" + item.albumId + "/upload" + query);
      xhr.setRequestHeader("X-XSRFToken", xsrf());
      xhr.setRequestHeader("X-File-Name", encodeURIComponent(item.file.name));
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = (e) => setProgress(item, e.loaded);
      xhr.upload.onload = () => {
        setProgress(item, item.file.size);
        if (item.isZip) setState(item, "importing", _t("Unpacking the archive…"));
      };
      xhr.onload = () => {
        item.xhr = null;
        if (xhr.status >= 200 && xhr.status < 300) {
          setProgress(item, item.file.size);
          resolve(JSON.parse(xhr.responseText));
        } else reject(errorFrom(xhr.status, xhr.responseText));
      };
      xhr.onerror = () => { item.xhr = null; reject(errorFrom(0, "")); };
      xhr.onabort = () => { item.xhr = null; reject(new UploadError(_t("Canceled."), 0)); };
      xhr.send(item.file);
    });
  }

  // Large files: tus (static/js/tus.js); the upload is remembered per album and file.
  function sendTus(item) {
    const f = item.file;
    item.tus = window.AtriumTus.upload(f, {
      endpoint: api + "/uploads/",
      metadata: Object.assign({ filename: f.name, album_id: item.albumId }, item.folder ? { folder: item.folder } : {}),
      key: "atrium-tus:" + [item.albumId, item.folder, f.name, f.size, f.lastModified].join(":"),
      headers: () => ({ "X-XSRFToken": xsrf() }),
      makeError: errorFrom,
      chunkSize: opts.chunkSize,
      retries: opts.retries,
      onStart: (offset) => { item.li.dataset.startOffset = String(offset); },
      onProgress: (sent) => setProgress(item, sent),
      onWait: (ms) => { item.status.textContent = _t("Connection lost · resuming in %(time)s…", { time: duration(ms / 1000) }); },
      onResume: (offset, count) => {
        item.li.dataset.resumed = String(count);
        item.samples = [];
        setProgress(item, offset);
      },
    });
    return item.tus.start();
  }

  function cancelItem(item) {
    if (settled(item.state)) {
      items.splice(items.indexOf(item), 1);
      item.li.remove();
      queueBox.hidden = items.length === 0;
      update();
      return;
    }
    item.canceled = true;
    if (item.xhr) item.xhr.abort();
    if (item.tus) item.tus.abort();
    setState(item, "canceled", _t("Canceled"));
  }
  function retryItem(item) {
    item.canceled = false;
    item.mediaId = null;
    item.tus = null;
    waiting.push(item);
    setState(item, "queued", _t("Waiting…"));
    pump();
  }

  // -- processing: follow the media objects until their thumbnails exist ----------------------
  // The album's server-sent events bring each state change as it happens; a slower poll of
  // the media API stays as the safety net (items in ZIP sub-albums, a dropped stream).
  const streams = new Map(); // album id -> EventSource
  function follow(item, mediaId, albumId) {
    item.mediaId = mediaId;
    setState(item, "processing", _t("Uploaded · making thumbnails…"));
    processing.set(mediaId, item);
    watchAlbum(albumId || item.albumId);
    schedulePoll();
  }
  function watchAlbum(albumId) {
    if (!window.EventSource || !albumId || streams.has(albumId)) return;
    const source = new EventSource(api + "/albums/" + albumId + "/events");
    const stop = () => { source.close(); streams.delete(albumId); schedulePoll(); };
    streams.set(albumId, source);
    source.addEventListener("media", (e) => {
      try { settle(JSON.parse(e.data)); } catch (err) { /* the poll will catch it */ }
    });
    source.addEventListener("done", stop);
    source.onerror = stop;
  }
  function schedulePoll() {
    if (!pollTimer && processing.size) pollTimer = setTimeout(poll, streams.size ? opts.pollMs * 4 : opts.pollMs);
  }
  async function poll() {
    pollTimer = null;
    const ids = [...processing.keys()].slice(0, 200);
    try {
      const response = await fetch(api + "/media?fields=state,failure,urls,title&ids=" + ids.join(","), { credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        for (const media of data.items) settle(media);
      }
    } catch (e) { /* try again at the next tick */ }
    schedulePoll();
  }
  function settle(media) {
    const target = processing.get(media.id);
    if (!target || media.state === "pending") return;
    processing.delete(media.id);
    if (target.zip) { zipEntryDone(target, media); return; }
    if (media.state === "ready") {
      showThumbnail(target, media);
      setState(target, "ready", _t("Ready"));
      // An album page shows it in its grid at once (static/js/gallery.js).
      document.dispatchEvent(new CustomEvent("atrium:media-ready", { detail: { id: media.id } }));
    } else {
      target.canRetry = false;
      target.error.textContent = _t("Uploaded, but it could not be processed: %(reason)s", { reason: media.failure || media.state });
      target.error.hidden = false;
      setState(target, "failed", _t("Stored, not processed"));
    }
  }
  function showThumbnail(item, media) {
    const link = el("a");
    link.href = root.dataset.mediaUrl + media.id;
    link.className = "upload-thumb-link";
    const src = media.urls && (media.urls.thumbnail || media.urls.optimized);
    if (src) {
      const img = el("img", "upload-final");
      img.alt = media.title || item.name;
      img.src = src;
      link.appendChild(img);
    }
    item.thumb.replaceChildren(link);
    item.li.classList.add("has-thumbnail");
  }

  async function followImportJob(item, url) {
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new UploadError(_t("Could not follow the import (the server answered %(status)s).", { status: response.status }), response.status);
      const job = (await response.json()).job || {};
      if (job.state === "done") return job.result || {};
      if (job.state === "failed" || job.state === "cancelled") {
        const reason = job.error || _t("no reason given");
        throw new UploadError(job.state === "cancelled" ? _t("The import was cancelled: %(reason)s", { reason })
          : _t("The import failed: %(reason)s", { reason }), 0);
      }
      const unpacking = _t("Unpacking the archive… %(percent)s%%", { percent: Math.round(100 * (job.progress || 0)) });
      setState(item, "importing", job.message ? [unpacking, job.message].join(" · ") : unpacking);
    }
  }

  function showZipResult(item, result) {
    const imported = (result.entries || []).filter((e) => e.status === "imported" && e.media_id);
    const problems = (result.entries || []).filter((e) => e.status !== "imported");
    item.zip = { total: imported.length, ready: 0, failed: 0 };
    const text = _t("%(imported)s imported · %(skipped)s skipped · %(failed)s failed",
      { imported: result.imported || 0, skipped: result.skipped || 0, failed: result.failed || 0 });
    if (problems.length) {
      const details = el("details");
      details.appendChild(el("summary", null, _t("%(count)s not imported", { count: problems.length })));
      const ul = el("ul");
      problems.slice(0, 200).forEach((e) => ul.appendChild(el("li", null, e.name + ": " + (e.reason || e.status))));
      details.appendChild(ul);
      item.details.replaceChildren(details);
    }
    if (!imported.length) {
      if (result.failed || !result.imported) fail(item, new UploadError(_t("Nothing was imported: %(result)s", { result: text }), 400));
      else setState(item, "ready", text);
      return;
    }
    item.zip.text = text;
    setState(item, "processing", _t("%(result)s · processing…", { result: text }));
    imported.forEach((e) => processing.set(e.media_id, { zip: item }));
    schedulePoll();
  }
  function zipEntryDone(entry, media) {
    const item = entry.zip;
    item.zip[media.state === "ready" ? "ready" : "failed"]++;
    if (media.state === "ready") document.dispatchEvent(new CustomEvent("atrium:media-ready", { detail: { id: media.id } }));
    const z = item.zip;
    const progress = z.failed ? _t("%(ready)s of %(total)s processed (%(failed)s could not be)", { ready: z.ready, total: z.total, failed: z.failed })
      : _t("%(ready)s of %(total)s processed", { ready: z.ready, total: z.total });
    item.status.textContent = z.text + " · " + progress;
    if (z.ready + z.failed >= z.total) setState(item, "ready");
  }

  // -- getting files in: static/js/upload-intake.js (drop zone, pickers, folders) ---------------
  window.AtriumUploadIntake.bind(dropZone, addFile, (err) => toast(_t("Could not read the dropped files: %(reason)s", { reason: err.message }), "error"));

  picker.addEventListener("change", () => {
    openAlbum.href = root.dataset.albumUrl + picker.value;
    const url = new URL(location.href);
    url.searchParams.set("album", picker.value);
    history.replaceState(null, "", url);
  });
  document.getElementById("upload-clear").addEventListener("click", () => {
    for (let i = items.length - 1; i >= 0; i--) {
      if (["ready", "canceled", "skipped"].includes(items[i].state)) { items[i].li.remove(); items.splice(i, 1); }
    }
    queueBox.hidden = items.length === 0;
    update();
  });
  window.addEventListener("beforeunload", (e) => {
    if (items.some((i) => i.state === "uploading" || i.state === "queued")) { e.preventDefault(); e.returnValue = ""; }
  });
})();
