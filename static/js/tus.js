// A small tus 1.0 client (core + creation + termination), no library: POST creates the
// upload, PATCH appends chunks at Upload-Offset, HEAD says where to go on after a failure.
// The upload's URL is remembered in localStorage under `key`, so a reloaded page resumes it.
//
//   const upload = AtriumTus.upload(file, {endpoint, metadata, key, headers, makeError,
//                            chunkSize, retries, onStart, onProgress, onWait, onResume});
//   const mediaId = await upload.start();   upload.abort();
//
// `makeError(status, responseText)` builds the errors thrown; an error with `retry` set
// (lost connection, 5xx) is retried after HEAD, with backoff; 409 (the offset moved) too.
window.AtriumTus = (function () {
  "use strict";
  const VERSION = "1.0.0";

  function b64(text) {
    let bin = "";
    new TextEncoder().encode(text).forEach((b) => { bin += String.fromCharCode(b); });
    return btoa(bin);
  }
  function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

  function upload(file, o) {
    const state = { url: null, xhr: null, aborted: false, mediaId: null, resumed: 0 };
    const headers = (extra) => Object.assign({ "Tus-Resumable": VERSION }, o.headers ? o.headers() : {}, extra || {});

    async function request(method, url, extra) {
      const response = await fetch(url, { method, credentials: "same-origin", headers: headers(extra) });
      if (!response.ok) throw o.makeError(response.status, await response.text());
      return response;
    }
    async function offsetNow() {
      const response = await request("HEAD", state.url);
      state.mediaId = response.headers.get("Upload-Media-Id") || state.mediaId;
      return Number(response.headers.get("Upload-Offset"));
    }
    function patch(offset, blob) {
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        state.xhr = xhr;
        xhr.open("PATCH", state.url);
        Object.entries(headers({ "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }))
          .forEach(([k, v]) => xhr.setRequestHeader(k, v));
        xhr.upload.onprogress = (e) => o.onProgress && o.onProgress(offset + e.loaded);
        xhr.onload = () => {
          state.xhr = null;
          if (xhr.status === 204 || xhr.status === 200) {
            resolve({ offset: Number(xhr.getResponseHeader("Upload-Offset")), mediaId: xhr.getResponseHeader("Upload-Media-Id") });
          } else reject(o.makeError(xhr.status, xhr.responseText));
        };
        xhr.onerror = () => { state.xhr = null; reject(o.makeError(0, "")); };
        xhr.onabort = () => { state.xhr = null; reject(o.makeError(0, "")); };
        xhr.send(blob);
      });
    }

    async function start() {
      const size = file.size;
      let offset = 0;
      state.url = o.key ? localStorage.getItem(o.key) : null;
      if (state.url) {
        try { offset = await offsetNow(); }
        catch (err) { if (err.retry) throw err; forget(); state.url = null; }
      }
      if (!state.url) {
        const meta = Object.entries(o.metadata || {}).map(([k, v]) => k + " " + b64(String(v))).join(",");
        const created = await request("POST", o.endpoint, { "Upload-Length": String(size), "Upload-Metadata": meta });
        state.url = created.headers.get("Location");
        if (o.key) localStorage.setItem(o.key, state.url);
      }
      if (o.onStart) o.onStart(offset);
      if (o.onProgress) o.onProgress(offset);
      let failures = 0;
      // Until the server names the media object: with every byte sent but no id (the
      // answer to the last PATCH was lost, HEAD did not have it yet), the empty PATCH at
      // the full length asks again (204 + Upload-Media-Id, or 409 while it is stored).
      while (!state.mediaId) {
        try {
          const result = await patch(offset, file.slice(offset, Math.min(size, offset + (o.chunkSize || 8 << 20))));
          offset = result.offset;
          if (result.mediaId) state.mediaId = result.mediaId;
          failures = 0;
        } catch (err) {
          if (state.aborted) throw err;
          if (!err.retry && err.status !== 409) { forget(); throw err; }
          if (++failures > (o.retries == null ? 6 : o.retries)) throw err;
          const wait = Math.min(30000, 500 * 2 ** failures);
          if (o.onWait) o.onWait(wait);
          await sleep(wait);
          try { offset = await offsetNow(); }
          catch (headErr) { if (!headErr.retry) throw headErr; continue; }
          state.resumed++;
          if (o.onResume) o.onResume(offset, state.resumed);
        }
      }
      forget();
      if (o.onProgress) o.onProgress(size);
      return state.mediaId;
    }
    function forget() { if (o.key) localStorage.removeItem(o.key); }
    function abort() {
      state.aborted = true;
      if (state.xhr) state.xhr.abort();
      forget();
      if (state.url) request("DELETE", state.url).catch(() => {});
    }
    return { start, abort, state };
  }

  return { upload, VERSION };
})();
