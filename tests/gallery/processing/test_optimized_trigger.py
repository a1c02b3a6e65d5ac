"""Optimized copies above a file size (issue 18, item 7; GSP's OptimizedImageTriggerSizeKb):
a heavy photo whose pixels already fit the optimized size gets a lighter web copy once the
setting asks for it; a light one does not; bad values are refused."""

from __future__ import annotations

import os

import pytest
from PIL import Image

from gallery.errors import Invalid
from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing
from gallery.settings import update_settings, validate
from tests.handlers.media_api import processed


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def _noise(path, side: int, quality: int):
    """Random pixels: JPEG cannot compress them, so the file is heavy for its size."""
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, "JPEG", quality=quality)
    return path


async def _process(app, ctx, album, path) -> dict:
    doc = await add_media_file(ctx, album, path, path.name)
    await enqueue_processing(ctx, app.services.jobs.queue, doc["_id"])
    media = await processed(ctx, doc["_id"])
    assert media["state"] == "ready", media.get("failure")
    return media


async def test_heavy_photos_get_an_optimized_copy_above_the_trigger(app, make_gallery, tmp_path):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    root = await albums.root_album(ctx)
    heavy = _noise(tmp_path / "heavy.jpg", 600, 98)  # fits 1920 px, several hundred KB
    light = _noise(tmp_path / "light.jpg", 120, 60)
    assert os.path.getsize(heavy) > 400 * 1024 and os.path.getsize(light) < 40 * 1024

    # Off (the default): pixels that fit get no optimized copy, however heavy the file.
    assert "optimized" not in (await _process(app, ctx, root, heavy))["derivatives"]

    await update_settings(ctx, {"optimized_trigger_kb": 200})
    made = await _process(app, ctx, root, _noise(tmp_path / "heavy2.jpg", 600, 98))
    optimized = made["derivatives"]["optimized"]
    path = ctx.storage.resolve(optimized["path"])
    assert path.stat().st_size < made["original"]["size"] / 2
    assert (optimized["width"], optimized["height"]) == (600, 600)  # same pixels, lighter file
    assert "optimized" not in (await _process(app, ctx, root, light))["derivatives"]

    for hostile in (-1, "1e9", "200 KB", 10**7, True):
        with pytest.raises(Invalid):
            validate({"optimized_trigger_kb": hostile})
