// The page's language for scripts: _t("English words") gives them in the language of the
// page (<html lang>), from the catalogue static/i18n/<lang>.js that base.html loads first
// (made from locale/<lang>/LC_MESSAGES/atrium.po by `python -m server.i18n_extract compile`).
// English, and any message a catalogue lacks, stay as written.
(function () {
  "use strict";
  const messages = () => window.atriumMessages || {};
  window._t = (message) => {
    const found = messages()[message];
    return typeof found === "string" && found ? found : message;
  };
  window._tn = (singular, plural, n) => {
    const found = messages()[singular];
    if (Array.isArray(found) && found.length === 2) return n === 1 ? found[0] : found[1];
    return n === 1 ? singular : plural;
  };
})();
