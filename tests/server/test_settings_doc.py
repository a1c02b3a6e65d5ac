"""docs/settings.md is generated from the settings schema and must match it; the schema
gives every choice words and every checklist its options (issue 18, item 1)."""

from __future__ import annotations

from gallery import settings as gallery_settings
from server import settings_doc


def test_docs_settings_md_is_current():
    assert settings_doc.DOC.read_text(encoding="utf-8") == settings_doc.render(), (
        "docs/settings.md is stale: run `python -m server.settings_doc`"
    )


def test_every_setting_reads_in_words():
    for s in gallery_settings.SETTINGS:
        assert s.group in gallery_settings.GROUPS, s.key
        if s.type == "choice" or s.widget in ("ordered_checklist", "grouped_checklist"):
            assert len(s.choice_labels) == len(s.choices) > 0, s.key
            assert len(set(s.choices)) == len(s.choices), s.key
        if s.widget == "grouped_checklist":
            assert len(s.choice_groups) == len(s.choices), s.key
        if s.type == "int" and s.minimum is not None and s.unit:
            # the description does not repeat the unit the page shows beside the field
            assert not s.description.endswith(f"in {s.unit}"), s.key
    assert all(gallery_settings.validate({s.key: s.default}) for s in gallery_settings.SETTINGS)


def test_the_order_of_new_albums_offers_every_album_order():
    from gallery.library.albums import SORT_FIELDS

    assert gallery_settings.BY_KEY["default_album_sort"].choices == SORT_FIELDS
