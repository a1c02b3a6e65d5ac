// The page's language for scripts: _t("English words") gives them in the language of the
// page (<html lang>), from the catalogue static/i18n/<lang>.js that base.html loads first
// (made from locale/<lang>/LC_MESSAGES/atrium.po by `python -m server.i18n_extract compile`).
// English, and any message a catalogue lacks, stay as written.
// Names and numbers go into a message as placeholders, never by joining translated pieces:
// _t("Sending %(name)s…", { name: file.name }); _tn("%(count)s day", "%(count)s days", n)
// fills %(count)s with n unless the values say otherwise; "%%" is a percent sign. (Pass
// plain values, never a _t call: the extractor does not look inside another call's arguments.)
(function () {
  "use strict";
  const messages = () => window.atriumMessages || {};
  const fill = (text, values) => (values
    ? text.replace(/%\((\w+)\)s|%%/g, (whole, name) => (whole === "%%" ? "%" : name in values ? String(values[name]) : whole))
    : text);
  window._t = (message, values) => {
    const found = messages()[message];
    return fill(typeof found === "string" && found ? found : message, values);
  };
  window._tn = (singular, plural, n, values) => {
    const found = messages()[singular];
    const text = Array.isArray(found) && found.length === 2 ? (n === 1 ? found[0] : found[1]) : (n === 1 ? singular : plural);
    return fill(text, { count: n, ...(values || {}) });
  };
})();
