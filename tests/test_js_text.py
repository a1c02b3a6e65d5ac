"""The scripts in static/js/ show no English outside `_t()` / `_tn()`, and every translated
message is a whole sentence (tests/js_text.py says how a script is read); the German page's
scripts then speak German from static/i18n/de.js (tests/browser/test_js_german.py)."""

from tests.js_text import SCRIPTS, fragments, scripts, untranslated


def test_no_script_shows_text_outside_the_translation_function():
    found = [
        f"static/js/{path.name}:{line}: {text}"
        for path in scripts()
        for line, text in untranslated(path.read_text(encoding="utf-8"))
    ]
    assert not found, "wrap these in _t(\"…\") (placeholders for names and numbers):\n" + "\n".join(found)


def test_no_script_builds_a_sentence_from_translated_pieces():
    found = [
        f"static/js/{path.name}:{line}: {text!r}"
        for path in scripts()
        for line, text in fragments(path.read_text(encoding="utf-8"))
    ]
    assert not found, "one message with %(name)s placeholders instead:\n" + "\n".join(found)


def test_every_script_is_read():
    names = {p.name for p in scripts()}
    assert {"edit-media.js", "admin-settings.js", "admin-watermark.js", "upload.js"} <= names
    assert len(names) == len(list(SCRIPTS.glob("*.js")))


def test_the_check_finds_words_where_they_are_shown():
    # Assigned to what the member sees or hears (a screen reader reads aria-label and title).
    assert untranslated('node.textContent = "Rotated";') == [(1, "Rotated")]
    assert untranslated('words.textContent = "Processing the new file…";') == [(1, "Processing the new file…")]
    assert untranslated('b.title = "Remove";') == [(1, "Remove")]
    assert untranslated('node.dataset.placeholder = x ? "Add a caption…" : "Add a title…";') == [
        (1, "Add a caption…"), (1, "Add a title…")]
    assert untranslated('n.setAttribute("aria-label", "Edit " + field + ": " + v);') == [(1, "Edit")]
    assert untranslated('el("input", { type: "text", placeholder: "Add tag…", "aria-label": "Add a tag" });') == [
        (1, "Add tag…"), (1, "Add a tag")]
    assert untranslated('el("button", { class: "button small" }, "Use the file\'s value");') == [
        (1, "Use the file's value")]
    # Handed to something that shows it: the browser's boxes, a toast, an error's message.
    assert untranslated('alert("Saved"); confirm("Delete this item?");') == [(1, "Saved"), (1, "Delete this item?")]
    assert untranslated('toast("Copied"); toast(_t("Copied"), "error");') == [(1, "Copied")]
    assert untranslated('attempt(() => api("POST", "/x"), "Rotating…");') == [(1, "Rotating…")]
    assert untranslated('throw new Error("HTTP " + status);') == []  # a protocol's name
    assert untranslated('throw new Error("the job could not be read");') == [(1, "the job could not be read")]
    assert untranslated('button("Rotate left", "rotate-left", go, "", "Flip ↔");') == [
        (1, "Rotate left"), (1, "Flip ↔")]
    # Prose anywhere: a piece of a sentence, a capitalised word, a template literal.
    assert untranslated('const what = name + " is moved to the trash for " + n + " days";') == [
        (1, "is moved to the trash for"), (1, "days")]
    assert untranslated("return `About ${n} seconds`;") == [(1, "About seconds")]
    assert untranslated('if (s < 1) return "under 1 s";') == [(1, "under 1 s")]


def test_the_check_leaves_code_and_translated_text_alone():
    assert untranslated('"use strict"; toast(_t("Rotated")); x.textContent = _t("Sending %(name)s…", { name });') == []
    assert untranslated('if (e.key === "Escape" || e.key == "Enter") go(); switch (k) { case "Tab": }') == []
    assert untranslated('node.classList.add("editable"); el.addEventListener("keydown", f);') == []
    assert untranslated('document.querySelector(".media-title"); api("PATCH", "/media/" + id, { title: v });') == []
    assert untranslated('el("div", { class: "edit-actions small", role: "toolbar" });') == []
    assert untranslated('headers["Content-Type"] = "application/json"; b.className = "button small " + c;') == []
    assert untranslated('x.className = "gsp-status " + (error ? "alert error" : "muted");') == []
    assert untranslated('xhr.setRequestHeader("Content-Type", "application/octet-stream");') == []
    assert untranslated("s.innerHTML = '<svg viewBox=\"0 0 24 24\">' + icon + '</svg>';") == []
    assert untranslated('toast(message, "error"); button(_t("Delete"), "trash", f, "danger-outline");') == []
    assert untranslated('if (p === "Thumbs.db" || typeof f === "function") return;') == []
    assert untranslated('img.style.transform = "rotate(" + d + "deg)"; const s = " · ";') == []


def test_the_check_finds_sentences_built_from_pieces():
    assert fragments('t = _t("Moved to position ") + i + _t(" of ") + n;') == [
        (1, "Moved to position "), (1, " of ")]
    assert fragments('t = n + _t(" selected");') == [(1, " selected")]
    assert fragments('t = _t("Edit %(f)s", { f: _t("title") });') == [(1, "Edit %(f)s")]
    assert fragments('t = _t("Moved to position %(p)s of %(n)s", { p, n }); u = [a, _t("yours")].join(" · ");') == []


def test_the_check_would_have_caught_the_media_editor_before_its_strings_were_wrapped():
    # Lines of static/js/edit-media.js, admin-restore.js and upgrading.js as they were.
    before = "\n".join([
        'node.setAttribute("aria-label", "Edit " + field + ": " + (node.textContent.trim() || "empty"));',
        'const x = el("button", { type: "button", class: "tag-remove", "aria-label": (people ? "Remove person " : "Remove tag ") + t, title: "Remove" }, "×");',
        'toast("The rotated image could not be made: " + (done.failure || done.state), "error");',
        'if (!(await confirmDialog("Delete this item?", what, "Delete"))) return;',
        'count(r.media, "photo or video", "photos and videos") + ". Sign in with an account from the backup.";',
        "field(\"step\").textContent = p.step ? `Step ${p.step} of ${p.steps}` : _t(\"Starting\");",
    ])
    assert untranslated(before) == [
        (1, "Edit"), (1, "empty"),
        (2, "Remove person"), (2, "Remove tag"), (2, "Remove"),
        (3, "The rotated image could not be made:"),
        (4, "Delete this item?"), (4, "Delete"),
        (5, "photo or video"), (5, "photos and videos"), (5, ". Sign in with an account from the backup."),
        (6, "Step of"),
    ]
