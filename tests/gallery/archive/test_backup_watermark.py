"""The gallery's uploaded watermark PNG in a backup (issue 14, format 3): carried as a member
of the archive (even metadata only), checked by sha256 and given back on restore; a member
that differs from what backup.xml says of it stops the restore."""

from __future__ import annotations

import asyncio
import io
import zipfile

import pytest
from PIL import Image

from gallery.archive.export import export_to_file
from gallery.archive.restore import RestoreError, prepare
from gallery.intake.ingest import job_queue
from gallery.processing import watermarks
from gallery.settings import get_settings, update_settings
from tenants.restore import restore_new
from tests.gallery.archive.test_backup import make_source
from tests.gallery.archive.test_backup_hostile import rebuild


def stamp_png() -> bytes:
    image = Image.new("RGBA", (40, 20), (255, 255, 255, 0))
    image.paste((200, 30, 30, 180), (5, 5, 35, 15))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def marked(app, make_gallery, tmp_path):
    ctx, _made = await make_source(make_gallery)
    data = stamp_png()
    digest = await asyncio.to_thread(watermarks.store_image, ctx, data)
    await update_settings(ctx, {"watermark_image": digest, "watermark_enabled": True})
    return ctx, digest, data


async def test_the_watermark_png_goes_into_the_backup_and_comes_back(app, marked, tmp_path):
    ctx, digest, data = marked
    services = app.services
    for metadata_only in (False, True):
        path = tmp_path / f"b-{metadata_only}.zip"
        await export_to_file(ctx, path, metadata_only=metadata_only)
        with zipfile.ZipFile(path) as zf:
            assert zf.read(f"watermarks/{digest}.png") == data
            assert f'<watermark path="watermarks/{digest}.png" size="{len(data)}"'.encode() in zf.read("backup.xml")
        slug = f"copy-{int(metadata_only)}"
        await restore_new(services.registry, job_queue(services), path, slug)
        new = await services.registry.context_for_slug(slug)
        assert (await get_settings(new))["watermark_image"] == digest
        assert new.storage.resolve(f"watermarks/{digest}.png").read_bytes() == data
        assert (await new.db.meta.find_one({"_id": "usage"}))["bytes"] == (
            0 if metadata_only else sum(m["original"]["size"] for m in await new.db.media.find({}).to_list()))


async def test_a_watermark_member_that_differs_restores_nothing(app, marked, tmp_path):
    ctx, digest, data = marked
    path = tmp_path / "b.zip"
    await export_to_file(ctx, path)
    name = f"watermarks/{digest}.png"
    cases = {
        "swapped": ({"content": {name: data[:-1] + bytes([data[-1] ^ 1])}}, "sha256 is not the one"),
        "missing": ({"drop": (name,)}, "is not in the archive"),
        "elsewhere": ({"xml": lambda x: x.replace(f'path="{name}"', 'path="watermarks/' + "0" * 64 + '.png"')},
                      "does not name its sha256"),
    }
    for label, (change, message) in cases.items():
        bad = tmp_path / f"{label}.zip"
        rebuild(path, bad, **change)
        with pytest.raises(RestoreError, match=message):
            await restore_new(app.services.registry, job_queue(app.services), bad, f"bad-{label}")
        assert await app.services.host_db.tenants.find_one({"_id": f"bad-{label}"}) is None
    assert prepare(path).watermark is not None  # the untouched archive is fine


async def test_a_vanished_watermark_is_left_out_and_reported(app, marked, tmp_path):
    ctx, digest, _data = marked
    ctx.storage.resolve(f"watermarks/{digest}.png").unlink()
    path = tmp_path / "b.zip"
    report = await export_to_file(ctx, path)
    assert [x["path"] for x in report.left_out] == [f"watermarks/{digest}.png"]
    with zipfile.ZipFile(path) as zf:
        assert b"<watermark" not in zf.read("backup.xml")
    await asyncio.to_thread(prepare, path)  # still a valid backup
