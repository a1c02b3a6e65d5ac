"""Format 4 (issue 14): an album's cover is a media object of that album or of an album below
it. Format 3 declared that rule after another rule of the same Schematron pattern, where it
never applied; format 4 gives it a pattern of its own, from-3.xsl drops a cover that breaks
it, and the exporter never writes one."""

from __future__ import annotations

import re
import zipfile

import pytest

from gallery.archive import formats
from gallery.archive.export import export_to_file
from gallery.archive.restore import RestoreError
from gallery.intake.ingest import job_queue
from tenants.restore import restore_new
from tests.gallery.archive.test_backup import make_source
from tests.gallery.archive.test_backup_hostile import rebuild

BACKUPS = __import__("pathlib").Path(__file__).parent / "backups"
OUTSIDE = "an album's cover must be a media object of that album or an album below it"


def _album_ids(xml: str) -> dict[str, str]:
    """Album title -> xml id, media title -> xml id, of the kept backups (Trips holds Beach,
    Coast below Trips holds Rock)."""
    ids = dict(re.findall(r'<album id="([^"]+)"[^>]*>\s*<title>([^<]+)</title>', xml))
    media = dict(re.findall(r'<media id="([^"]+)"[^>]*>\s*<title>([^<]+)</title>', xml))
    return {title: i for i, title in ids.items()} | {title: i for i, title in media.items()}


def _cover(xml: str, album: str, media: str) -> str:
    """Give the album titled `album` the media object titled `media` as its cover."""
    ids = _album_ids(xml)
    tag = re.search(rf'<album id="{ids[album]}"[^>]*>', xml)[0]
    bare = re.sub(r' cover="[^"]*"', "", tag)
    return xml.replace(tag, bare[:-1] + f' cover="{ids[media]}">')


def test_format_4_is_not_decided_compatible_with_3_and_has_a_transformation(tmp_path):
    from gallery.archive.history import check_steps

    step = next(s for s in check_steps(tmp_path, versions=[3, 4]) if (s.old, s.new) == (3, 4))
    assert step.verdict != "compatible" and formats.upgrade_path(4) is not None


@pytest.mark.parametrize("album, media", [("Coast", "Beach"), ("Coast", "Coast")])
async def test_a_format_3_cover_outside_its_album_is_dropped_on_restore(app, tmp_path, album, media):
    """Coast's cover is Beach, of its parent Trips (or an id of no media object at all): valid
    format 3 as its rules ran, so it restores; the cover is dropped, the rest kept."""
    source = tmp_path / "three.zip"
    rebuild(BACKUPS / "format-3.zip", source, xml=lambda x: _cover(x, album, media))
    before = source.read_bytes()
    services = app.services
    result = await restore_new(services.registry, job_queue(services), source, "three")
    assert result["format"] == 3 and result["media"] == 2
    ctx = await services.registry.context_for_slug("three")
    coast = await ctx.db.albums.find_one({"title": "Coast"})
    trips = await ctx.db.albums.find_one({"title": "Trips"})
    rock = await ctx.db.media.find_one({"title": "Rock"})
    assert coast["cover_id"] is None
    assert trips["cover_id"] == rock["_id"]  # a cover from below is kept
    assert source.read_bytes() == before


async def test_a_format_4_cover_outside_its_album_is_refused_and_nothing_restored(app, tmp_path):
    source = tmp_path / "four.zip"
    rebuild(BACKUPS / "format-4.zip", source, xml=lambda x: _cover(x, "Coast", "Beach"))
    services = app.services
    with pytest.raises(RestoreError) as refused:
        await restore_new(services.registry, job_queue(services), source, "four")
    assert "not a valid format 4 backup" in str(refused.value)
    assert OUTSIDE in refused.value.full_text()
    assert services.registry.database_name("four") not in await services.client.list_database_names()


async def test_the_exporter_drops_a_cover_from_outside_the_album(app, make_gallery, tmp_path):
    """An album moved away from under its ancestor can leave that ancestor's cover outside
    it in the database; the backup leaves such a cover out, so it restores."""
    ctx, made = await make_source(make_gallery)
    await ctx.db.albums.update_one({"_id": made["deep"]["_id"]}, {"$set": {"cover_id": made["one"]["_id"]}})
    out = tmp_path / "alpha.zip"
    await export_to_file(ctx, out)
    with zipfile.ZipFile(out) as zf:
        xml = zf.read("backup.xml").decode()
    assert 'format="4"' in xml
    ids = _album_ids(xml)
    assert not re.search(rf'<album id="{ids["Coast"]}"[^>]* cover=', xml)
    assert re.search(rf'<album id="{ids["Trips"]}"[^>]* cover="{ids["Rock"]}"', xml)  # from below: kept
    services = app.services
    result = await restore_new(services.registry, job_queue(services), out, "copy")
    assert result["format"] == 4
