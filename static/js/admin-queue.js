// The media queue page: polls the jobs API every 2 s and redraws the table (state, progress,
// error, Retry for a failed job, Cancel for a queued or running one). Text goes in with
// textContent only: a job's message and error can carry a file's name.
(function () {
  "use strict";
  const box = document.querySelector("[data-queue]");
  if (!box) return;
  const api = box.dataset.api;
  const kinds = JSON.parse(box.dataset.kinds || "{}");
  const states = { queued: _t("Waiting"), running: _t("Running"), done: _t("Done"), failed: _t("Failed"), cancelled: _t("Cancelled") };
  const tbody = box.querySelector("tbody");
  const note = box.querySelector("[data-queue-status]");
  const limit = box.dataset.limit || "100";

  function xsrf() {
    const m = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function words(kind) {
    if (kinds[kind]) return kinds[kind];
    const s = String(kind || "job").replace(/[._]/g, " ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }
  function when(value) {
    // The server's times are UTC (with or without a zone): written the page's language's way.
    if (!value) return _t("not yet");
    const text = String(value);
    const moment = new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : text + "Z");
    if (Number.isNaN(moment.getTime())) return text;
    return moment.toLocaleString(document.documentElement.lang, { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" }) + " UTC";
  }
  function cell(tr, label, cls) {
    const td = tr.insertCell();
    if (label) td.dataset.label = label;
    if (cls) td.className = cls;
    return td;
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  async function act(id, action, button) {
    button.disabled = true;
    const response = await fetch(api + "/jobs/" + encodeURIComponent(id) + "/" + action, {
      method: "POST", credentials: "same-origin", headers: { "X-XSRFToken": xsrf() },
    });
    if (!response.ok) {
      const status = response.status;
      let message = action === "retry" ? _t("Could not retry the job (the server answered %(status)s).", { status })
        : _t("Could not cancel the job (the server answered %(status)s).", { status });
      try { message = (await response.json()).error.message || message; } catch (e) { /* not JSON */ }
      note.textContent = message;
    }
    refresh();
  }

  function row(job) {
    const tr = document.createElement("tr");
    tr.dataset.job = job.id;
    tr.dataset.state = job.state;
    cell(tr, "", "queue-kind").textContent = words(job.kind);
    cell(tr, _t("State")).append(el("span", "badge job-state state-" + job.state, states[job.state] || job.state));
    const progress = cell(tr, _t("Progress"), "queue-progress");
    const bar = el("progress");
    bar.max = 100;
    bar.value = Math.round(100 * (job.progress || 0));
    progress.append(bar, el("span", "job-status", job.message || ""));
    if (job.error) progress.append(el("span", "queue-error", job.error));
    cell(tr, _t("Created (UTC)"), "nowrap").textContent = when(job.created);
    cell(tr, _t("Started (UTC)"), "nowrap").textContent = when(job.started);
    const actions = cell(tr, "", "queue-actions");
    if (job.state === "failed") {
      const b = el("button", "button small", _t("Retry"));
      b.type = "button"; b.dataset.retry = "";
      b.addEventListener("click", () => act(job.id, "retry", b));
      actions.append(b);
    } else if (job.state === "queued" || job.state === "running") {
      const b = el("button", "button small danger", _t("Cancel"));
      b.type = "button"; b.dataset.cancel = "";
      b.addEventListener("click", () => act(job.id, "cancel", b));
      actions.append(b);
    }
    return tr;
  }

  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      let url = api + "/jobs?limit=" + encodeURIComponent(limit);
      if (box.dataset.state) url += "&state=" + encodeURIComponent(box.dataset.state);
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) { note.textContent = _t("The queue could not be read (the server answered %(status)s).", { status: response.status }); return; }
      const items = (await response.json()).items || [];
      const rows = items.map(row);
      if (!rows.length) {
        const tr = el("tr", "queue-empty");
        const td = cell(tr, "", "empty");
        td.colSpan = 6;
        td.textContent = box.dataset.state ? _t("No jobs in this state.") : _t("No jobs.");
        rows.push(tr);
      }
      tbody.replaceChildren(...rows);
      box.dataset.updated = String(Date.now());
    } catch (e) {
      note.textContent = _t("The queue could not be read; trying again.");
    } finally {
      busy = false;
    }
  }

  // The server drew the first rows; buttons on them work through the same code.
  tbody.querySelectorAll("tr[data-job]").forEach((tr) => {
    const retry = tr.querySelector("[data-retry]");
    const cancel = tr.querySelector("[data-cancel]");
    if (retry) retry.addEventListener("click", () => act(tr.dataset.job, "retry", retry));
    if (cancel) cancel.addEventListener("click", () => act(tr.dataset.job, "cancel", cancel));
  });
  setInterval(refresh, 2000);
})();
