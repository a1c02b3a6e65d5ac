"""Directory synchronization types new files like uploads (issue 18 item 10): a NEF (a TIFF
to libmagic) becomes the RAW its name says, download-only endings take unknown content, and an
Office file that is a ZIP bomb or a "RAW" that is HTML is skipped with the reason, its file
left where it lies. Files: tests/media/filetype_samples.py."""

from __future__ import annotations

from gallery.intake import sync
from gallery.settings import update_settings
from tests.media.filetype_samples import make_dng, make_office


async def test_synchronized_files_are_typed_by_content_with_the_name_agreeing(app, make_gallery):
    ctx = (await make_gallery("alpha"))["ctx"]
    await update_settings(ctx, {"sync_min_age_seconds": 0, "allowed_extensions": ["jpg", "nef", "docx"],
                                "download_only_extensions": ["stl"]})
    root = await ctx.db.albums.find_one({"parent_id": None})
    admin = await ctx.db.users.find_one({"username": "admin"})
    originals = ctx.storage.originals
    (originals / "DSC_0001.NEF").write_bytes(make_dng())
    (originals / "notes.docx").write_bytes(make_office("docx"))
    (originals / "part.stl").write_bytes(b"solid part\n" + bytes(range(256)) * 4)
    (originals / "bomb.docx").write_bytes(make_office("docx", padding=4_000_000))
    (originals / "IMG_2.nef").write_bytes(b"<!DOCTYPE html><html><script>alert(1)</script></html>")

    result = await sync.synchronize(ctx, app.services, admin, root)
    skipped = {e["path"]: e["reason"] for e in result["skipped_entries"]}
    assert result["new"] == 3 and set(skipped) == {"bomb.docx", "IMG_2.nef"}
    assert "ZIP bomb" in skipped["bomb.docx"]
    assert "named .nef but its content is text/html" in skipped["IMG_2.nef"]
    media = {m["file_name"]: m async for m in ctx.db.media.find({})}
    assert (media["DSC_0001.NEF"]["mime"], media["DSC_0001.NEF"]["extension"]) == ("image/x-nikon-nef", "nef")
    assert media["notes.docx"]["kind"] == "document"
    assert (media["part.stl"]["kind"], media["part.stl"]["mime"]) == ("other", "application/octet-stream")
    assert (originals / "bomb.docx").is_file()  # reported, never touched
