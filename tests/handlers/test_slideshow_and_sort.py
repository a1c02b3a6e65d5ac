"""Slideshow on/off and its transition, and the gallery's order for new albums including
metadata orders (issue 18, item 6; GSP's EnableSlideShow, SlideShowType, SortByMetaName)."""

from __future__ import annotations

import json
import re

import pytest
from PIL import Image

from gallery.errors import Invalid
from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing
from gallery.settings import update_settings, validate
from tests.client import text
from tests.handlers.media_api import processed


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def _config(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="gallery-config">(.*?)</script>',
                                page, re.S).group(1))


async def test_slideshow_switch_and_transition(app, make_gallery, make_jpeg):
    g = await make_gallery("alpha")
    path = make_jpeg(64, 48)
    await add_media_file(g["ctx"], await albums.root_album(g["ctx"]), path, path.name)
    visitor = app.browser()
    page = text(await visitor.get(g["prefix"] + "/"))
    assert 'data-action="slideshow"' in page and "js/slideshow.js" in page
    assert _config(page)["slideshowTransition"] == "fade"
    await update_settings(g["ctx"], {"slideshow_transition": "slide"})
    assert _config(text(await visitor.get(g["prefix"] + "/")))["slideshowTransition"] == "slide"
    # Off: no button, and no script that would put one in the lightbox (the page seen
    # before is not served again from the page cache).
    await update_settings(g["ctx"], {"enable_slideshow": False})
    page = text(await visitor.get(g["prefix"] + "/"))
    assert 'data-action="slideshow"' not in page and "js/slideshow.js" not in page
    for hostile in ("<script>", "fade; x", "", "FADE"):
        with pytest.raises(Invalid):
            validate({"slideshow_transition": hostile})


def _photo(path, make: str, model: str, iso: int):
    image = Image.new("RGB", (320, 240), (iso % 255, 90, 160))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x8827] = make, model, iso
    image.save(path, "JPEG", exif=exif, quality=80)
    return path


async def test_new_albums_take_the_gallery_order_and_sort_by_metadata(app, make_gallery, viewer_of, tmp_path):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin_viewer = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    before = await albums.create_album(ctx, admin_viewer, root["_id"], {"title": "Before"})
    assert (before["sort_field"], before["sort_direction"]) == ("position", 1)
    await update_settings(ctx, {"default_album_sort": "camera", "default_album_sort_direction": "descending"})
    album = await albums.create_album(ctx, admin_viewer, root["_id"], {"title": "Cameras"})
    assert (album["sort_field"], album["sort_direction"]) == ("camera", -1)
    # An album's own choice still wins over the gallery's.
    chosen = await albums.create_album(ctx, admin_viewer, root["_id"], {"title": "Own", "sort_field": "title"})
    assert chosen["sort_field"] == "title"

    queue = app.services.jobs.queue
    ids = {}
    for model, iso in (("Bravo 2", 400), ("Alpha 1", 100), ("Charlie 3", 3200)):
        path = _photo(tmp_path / f"{model}.jpg", "Maker", model, iso)
        doc = await add_media_file(ctx, album, path, path.name)
        await enqueue_processing(ctx, queue, doc["_id"])
        ids[model] = doc["_id"]
    for media_id in ids.values():
        assert (await processed(ctx, media_id))["state"] == "ready"

    admin = app.browser()
    assert (await admin.login(g["prefix"], "admin", g["password"])).code == 302
    # The album's own order (camera, descending), one item a page through the cursor.
    seen, url = [], f"{g['prefix']}/api/v1/albums/{album['_id']}/media?limit=1"
    while url:
        body = json.loads((await admin.get(url)).body)
        seen += [m["id"] for m in body["items"]]
        cursor = body.get("next_cursor")
        url = f"{g['prefix']}/api/v1/albums/{album['_id']}/media?limit=1&cursor={cursor}" if cursor else None
    assert seen == [ids["Charlie 3"], ids["Bravo 2"], ids["Alpha 1"]]
    by_iso = json.loads((await admin.get(
        f"{g['prefix']}/api/v1/albums/{album['_id']}/media?sort=iso&dir=1")).body)
    assert [m["id"] for m in by_iso["items"]] == [ids["Alpha 1"], ids["Bravo 2"], ids["Charlie 3"]]
    # The album page offers the metadata orders in words.
    page = text(await admin.get(f"{g['prefix']}/albums/{album['_id']}"))
    assert re.search(r'value="camera"[^>]*>Camera<', page) or ">Camera</option>" in page
    # Hostile orders: a raw field path or an operator is no order.
    for hostile in ("metadata.camera.model", "$where", "camera.model"):
        response = await admin.get(f"{g['prefix']}/api/v1/albums/{album['_id']}/media?sort={hostile}")
        assert response.code == 400
        with pytest.raises(Invalid):
            validate({"default_album_sort": hostile})
