"""The settings page in sections (issue 18, item 1): words instead of raw keys and choice
values, units beside numbers, the metadata panel as an ordered checklist, allowed file types
as a grouped checklist, the parent of personal albums picked from this gallery's albums; and
hostile posts (values outside the offered lists, another gallery's album, huge lists)."""

from __future__ import annotations

import html
import re

from gallery import settings as gallery_settings
from gallery.library import albums
from gallery.settings import get_settings
from tests.client import text

CHECKLISTS = ("ordered_checklist", "grouped_checklist", "roles")


def form_of(values: dict, **changes) -> dict:
    """The form a browser posts for these settings (unticked boxes are simply absent)."""
    form: dict = {}
    for s in gallery_settings.SETTINGS:
        value = changes.get(s.key, values.get(s.key))
        if s.secret:
            continue
        if s.widget in CHECKLISTS:
            form[s.key] = list(value)
        elif s.type == "bool":
            if value:
                form[s.key] = "on"
        elif s.type == "list":
            form[s.key] = ", ".join(value)
        else:
            form[s.key] = str(value)
    return form


async def _admin(app, g):
    admin = app.browser()
    assert (await admin.login(g["prefix"], "admin", g["password"])).code == 302
    return admin


async def test_sections_words_and_units(app, make_gallery):
    g = await make_gallery("alpha")
    admin = await _admin(app, g)
    page = text(await admin.get(g["prefix"] + "/admin/settings"))
    for group in gallery_settings.GROUPS:
        slug = group.lower().replace(" ", "-")
        assert f'<section class="card settings-section" id="section-{slug}"' in page
        assert f'href="#section-{slug}"' in page  # the section menu
    assert page.count('type="submit">Save settings</button>') == 1  # one save bar
    # Choices read as words: the option text is the label, never the stored value.
    options = {(v, html.unescape(t)) for v, t in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', page)}
    for s in gallery_settings.SETTINGS:
        if s.type == "choice":
            for value, label in zip(s.choices, s.choice_labels, strict=True):
                assert (value, label) in options
    assert ">skip_gallery<" not in page and ">bottom-right<" not in page
    # Units sit beside numbers.
    assert re.search(r'name="thumbnail_size"[^>]*><span class="unit">pixels</span>', page)
    assert re.search(r'name="max_upload_mb"[^>]*><span class="unit">MB</span>', page)
    # Checklists in words: metadata fields and file types grouped by kind.
    assert 'value="focal_length" checked> Focal length' in page
    assert 'value="file_name" > File name' in page  # offered, not shown by default
    for heading in ("Photos", "Video", "Audio", "Documents"):
        assert f'aria-label="{heading}"><h3>{heading}</h3>' in page
    assert "hide_watermark" not in page  # no raw permission names in the descriptions


async def test_checklists_and_album_picker_are_saved(app, make_gallery, viewer_of):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin_viewer = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    members = await albums.create_album(ctx, admin_viewer, root["_id"], {"title": "Members"})
    admin = await _admin(app, g)
    page = text(await admin.get(g["prefix"] + "/admin/settings"))
    assert f'<option value="{members["_id"]}" >' in page and "Alpha Gallery / Members" in page
    values = await get_settings(ctx)
    order = ["camera", "title", "date_added"]
    response = await admin.post_form(g["prefix"] + "/admin/settings", form_of(
        values, metadata_fields=order, allowed_extensions=["jpg", "png", "bmp"],
        user_album_parent_id=members["_id"],
    ))
    assert response.code == 200, text(response)[:2000]
    saved = await get_settings(ctx)
    assert saved["metadata_fields"] == order
    assert saved["allowed_extensions"] == ["jpg", "png", "bmp"]
    assert saved["user_album_parent_id"] == members["_id"]
    page = text(response)
    # The saved order is the page's order: ticked fields first, as ordered.
    ticked = re.findall(r'name="metadata_fields" value="(\w+)" checked', page)
    assert ticked == order
    assert f'<option value="{members["_id"]}" selected>' in page


async def test_hostile_values_are_refused(app, make_gallery, viewer_of):
    g = await make_gallery("alpha")
    other = await make_gallery("beta")
    beta_root = await albums.root_album(other["ctx"])
    beta_album = await albums.create_album(
        other["ctx"], await viewer_of(other["ctx"]), beta_root["_id"], {"title": "Theirs"}
    )
    admin = await _admin(app, g)
    before = await get_settings(g["ctx"])
    hostile = [
        ("metadata_fields", {"metadata_fields": ["title", "<script>alert(1)</script>"]}),
        ("allowed_extensions", {"allowed_extensions": ["jpg", "exe"]}),
        ("allowed_extensions", {"allowed_extensions": ["jpg"] * 300}),
        ("metadata_fields", {"metadata_fields": [f"field{i}" for i in range(300)]}),
        ("user_album_parent_id", {"user_album_parent_id": beta_album["_id"]}),
        ("user_album_parent_id", {"user_album_parent_id": "not-an-id"}),
        ("derivative_format", {"derivative_format": "bmp"}),
        ("watermark_position", {"watermark_position": "javascript:alert(1)"}),
    ]
    for key, change in hostile:
        response = await admin.post_form(
            g["prefix"] + "/admin/settings", form_of(before, **change)
        )
        assert response.code == 400, (key, response.code)
        page = text(response)
        assert re.search(rf'<div class="setting has-error">.*?name="{key}"', page, re.S), key
        assert "<script>alert(1)</script>" not in page
    # Far more values than a form has fields: refused before the handler reads them.
    response = await admin.post_form(
        g["prefix"] + "/admin/settings", form_of(before, metadata_fields=["title"] * 50_000)
    )
    assert response.code in (400, 413)
    assert await get_settings(g["ctx"]) == before  # nothing was stored
