"""User-visible text is translatable and translated: no template shows English outside `_()`
(tests/template_text.py), and every catalogue in locale/ has every message, with the same
placeholders, compiled into the committed .mo (a fresh clone runs without a compile step)."""

import gettext
import re

from babel.messages.pofile import read_po

from server import i18n_extract
from tests.template_text import TEMPLATES, templates, untranslated, untranslated_in_code

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


def test_no_template_shows_text_outside_the_translation_function():
    found = [
        f"{path.relative_to(TEMPLATES)}:{line}: {text}"
        for path in templates()
        for check in (untranslated, untranslated_in_code)
        for line, text in check(path.read_text(encoding="utf-8"))
    ]
    assert not found, "wrap these in {{ _(\"…\") }}:\n" + "\n".join(found)


def test_the_check_finds_english_in_text_and_attributes_but_not_in_code():
    assert untranslated("<p>Hello</p>") == [(1, "Hello")]
    assert untranslated('<p>\n{% if x %}\n<b>Delete for good</b>{% end %}</p>') == [(3, "Delete for good")]
    assert untranslated('<img alt="A photo" src="{{ u }}">') == [(1, "A photo")]
    assert untranslated('<button aria-label="Close">×</button>') == [(1, "Close")]
    assert untranslated('<input placeholder="Search {{ what }}…">') == [(1, "Search …")]
    assert untranslated("<p>&lt;Albums&gt;</p>") == [(1, "<Albums>")]
    assert untranslated('<p>{{ _("Hello") }} {{ name }} · {{ n }}</p>') == []
    assert untranslated('<p title="{{ _("Close") }}">Atrium · ZIP</p>') == []
    assert untranslated("<script>const a = 'Loading';</script><code>rsync -a</code>") == []
    assert untranslated('{% block main_class %}page gallery{% if x %} wide{% end %}{% end %}') == []
    # Words written as string literals in template code count too, unless _() takes them.
    assert untranslated_in_code('{{ title or "Untitled album" }}') == [(1, "Untitled album")]
    assert untranslated_in_code('{{ _("Sees %(v)s") % {"v": "this item"} }}') == [(1, "this item")]
    assert untranslated_in_code('{{ _("%(n)d item", "%(n)d items", n) % {"n": n} }}') == []
    assert untranslated_in_code('{% if group == "Watermarks" %}{{ "%.1f MB" % size }}') == []


def _catalogue(path):
    with path.open("rb") as f:
        return read_po(f)


def test_every_language_has_every_message_compiled(tmp_path):
    pot = tmp_path / "atrium.pot"
    i18n_extract.extract(pot)
    wanted = {m.id for m in _catalogue(pot) if m.id}
    languages = sorted(p.name for p in i18n_extract.LOCALE.iterdir() if p.is_dir())
    assert {"en", "de"} <= set(languages)
    for language in languages:
        po = i18n_extract.LOCALE / language / "LC_MESSAGES" / "atrium.po"
        catalogue = _catalogue(po)
        have = {m.id: m for m in catalogue if m.id}
        missing = sorted(map(str, wanted - set(have)))
        assert not missing, f"{language}: run `python -m server.i18n_extract update` and translate {missing[:10]}"
        with (po.with_suffix(".mo")).open("rb") as f:
            compiled = gettext.GNUTranslations(f)
        for msgid in wanted:
            message = have[msgid]
            ids = msgid if isinstance(msgid, tuple) else (msgid,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings) and not message.fuzzy, f"{language}: {msgid!r} is not translated"
            for source, translation in zip(ids, strings):
                assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(translation)), (
                    f"{language}: {translation!r} has other placeholders than {source!r}"
                )
            if isinstance(msgid, tuple):
                got = (compiled.ngettext(msgid[0], msgid[1], 1), compiled.ngettext(msgid[0], msgid[1], 2))
            else:
                got = (compiled.gettext(msgid),)
            assert got == tuple(strings), f"{language}: the .mo is stale; run `python -m server.i18n_extract compile`"


def test_the_script_catalogues_are_compiled_from_the_current_po():
    for language in sorted(p.name for p in i18n_extract.LOCALE.iterdir() if p.is_dir() and p.name != "en"):
        served = (i18n_extract.SCRIPT_CATALOGUES / f"{language}.js").read_text(encoding="utf-8")
        assert served == i18n_extract.script_catalogue(language), (
            f"static/i18n/{language}.js is stale: run `python -m server.i18n_extract compile`"
        )
    assert '"Close the album tree": "Albumbaum schließen"' in (i18n_extract.SCRIPT_CATALOGUES / "de.js").read_text()
