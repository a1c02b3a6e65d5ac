"""backup.xml checked in parts (gallery/archive/chunked.py) gives exactly the verdict and the
messages of the whole-document check (formats.check_and_upgrade on one tree), whatever part
the offending element sits in: documents of many media objects made from the kept real
backups of each format, checked with parts of 4 media objects against the whole tree."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from gallery.archive import chunked, formats
from gallery.archive.document import read_backup

BACKUPS = Path(__file__).parent / "backups"
PART = 4
MEDIA = 23  # parts of 4: the last one short


def kept(version: int) -> str:
    with zipfile.ZipFile(BACKUPS / f"format-{version}.zip") as zf:
        return zf.read("backup.xml").decode()


def many(version: int, count: int = MEDIA) -> str:
    """The kept backup of `version` with `count` media objects (copies of its first one under
    new ids and paths, spread over its albums, each its own file)."""
    text = kept(version)
    start, end = text.index("<media-objects>") + len("<media-objects>"), text.index("</media-objects>")
    first = re.match(r"<media .*?</media>", text[start:end]).group(0)
    albums = re.findall(r'<album id="(a[0-9a-f]{24})"', text)
    copies = []
    for i in range(count):
        media = re.sub(r'^<media id="m[0-9a-f]{24}"', f'<media id="m{i:024x}"', first)
        media = re.sub(r'album="a[0-9a-f]{24}"', f'album="{albums[i % len(albums)]}"', media, count=1)
        media = media.replace('path="originals/Trips/beach.jpg"', f'path="originals/many/{i}.jpg"')
        copies.append(media)
    text = text[:start] + "\n".join(copies) + text[end:]
    # The albums' covers: the second album's is media #22 (in the sixth part, in that album).
    return re.sub(r'cover="m[0-9a-f]{24}"', f'cover="m{22:024x}"', text)


def whole(text: str):
    """The whole-document check (the oracle): (message, errors) or the snapshot."""
    tree = etree.fromstring(text.encode(), formats.safe_parser(huge=True)).getroottree()
    try:
        upgraded = formats.check_and_upgrade(tree)
    except formats.FormatError as exc:
        return str(exc), exc.errors
    return read_backup(upgraded.getroot())


def parts(text: str, chunk: int = PART):
    data = text.encode()
    seen = []
    try:
        checked = chunked.check(lambda: io.BytesIO(data), 10 ** 9, chunk=chunk, on_media=seen.append)
    except (formats.FormatError, chunked.Refused) as exc:
        return str(exc), exc.errors
    checked.snapshot.media = seen
    return checked.snapshot


def same(text: str, chunk: int = PART):
    expected, got = whole(text), parts(text, chunk)
    if isinstance(expected, tuple):
        assert got == expected
        return expected
    assert not isinstance(got, tuple), got
    for name in ("settings", "albums", "roles", "users", "media", "omitted", "secrets", "watermark",
                 "slug", "title", "database_schema"):
        assert getattr(got, name) == getattr(expected, name), name
    return None


def media_id(i: int) -> str:
    return f"m{i:024x}"


@pytest.mark.parametrize("version", [1, 2, 3])
def test_a_valid_document_of_many_parts_reads_as_the_whole_one(version):
    assert same(many(version)) is None
    assert same(many(version), chunk=1) is None
    assert same(many(version), chunk=500) is None


def _media_album(i: int, album: str):
    return lambda t: re.sub(rf'(<media id="{media_id(i)}" album=")a[0-9a-f]{{24}}', rf"\g<1>{album}", t)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_a_media_object_in_a_late_part_without_its_album(version):
    text = _media_album(MEDIA - 2, "a" + "0" * 24)(many(version))
    message, errors = same(text)
    assert f"not a valid format {version} backup" in message
    assert len(errors) == 1 and "media object's album must be an album" in errors[0]
    assert f"[{MEDIA - 1}])" in errors[0]  # its place in the whole document, not in its part


def test_the_same_id_in_two_parts_is_the_schemas_duplicate():
    text = many(3).replace(f'<media id="{media_id(17)}"', f'<media id="{media_id(2)}"')
    _, errors = same(text)
    assert len(errors) == 1 and f"'{media_id(2)}' is not a valid value" in errors[0]


def test_the_same_id_three_times_and_in_one_part():
    text = many(3)
    for i in (3, 9, 18):
        text = text.replace(f'<media id="{media_id(i)}"', f'<media id="{media_id(1)}"')
    _, errors = same(text)
    assert len(errors) == 3  # every occurrence after the first


def test_a_media_id_that_a_later_user_has_too():
    user = re.search(r'<user id="(u[0-9a-f]{24})"', many(3)).group(1)
    text = many(3).replace(f'id="{user}"', f'id="{media_id(13)}"').replace(
        f'role="{user}"', f'role="{media_id(13)}"')
    _, errors = same(text)
    assert errors


def test_problems_of_the_skeleton_and_of_late_media_in_document_order():
    text = many(3).replace("<title>Alpha Gallery</title></gallery>",
                           "<title>Alpha Gallery</title><stray/></gallery>", 1)
    text = text.replace(f'<media id="{media_id(20)}" album=', f'<media id="{media_id(20)}" kind2="x" album=', 1)
    text = text.replace('<users>', '<users><stray/>', 1)
    _, errors = same(text)
    assert len(errors) == 3 and "stray" in errors[0] and "kind2" in errors[1] and "stray" in errors[2]


def test_rules_of_the_skeleton_and_of_media_in_several_parts():
    text = many(3)
    for i in (0, 5, 22):
        text = _media_album(i, "a" + "1" * 24)(text)
    text = re.sub(r'(<grant album=")a[0-9a-f]{24}', r"\1a" + "2" * 24, text)
    text = re.sub(r'(<album [^>]*?) parent="a[0-9a-f]{24}"', r"\1", text, count=1)  # two roots
    _, errors = same(text)
    assert len(errors) >= 5


def test_the_first_hundred_of_many_problems():
    text = many(3, count=150)
    text = re.sub(r'(<media id="m[0-9a-f]{24}" album=")a[0-9a-f]{24}', r"\1a" + "3" * 24, text)
    _, errors = same(text, chunk=7)
    assert len(errors) == formats.MAX_ERRORS
    text = re.sub(r'(<media id="m[0-9a-f]{24}") album=', r"\1 bad=", text)
    _, errors = same(text, chunk=7)
    assert len(errors) == formats.MAX_ERRORS


def test_a_cover_in_another_parts_album():
    """Media #22 (sixth part) is the cover of an album it is not in nor below: the same verdict
    as the whole document (format 1-3's cover rule never fires: its context comes after the
    parent rule in its pattern; see the rules that do below)."""
    text = _media_album(22, re.findall(r'<album id="(a[0-9a-f]{24})"', many(3))[0])(many(3))
    same(text)
    text = re.sub(r'cover="m[0-9a-f]{24}"', f'cover="m{99:024x}"', many(3))
    same(text)


@pytest.fixture
def covers_checked(tmp_path, monkeypatch):
    """The formats with the cover rule in a pattern of its own (so that it fires): a real
    rule set the part check must serve, kept apart from the project's formats."""
    formats_dir = tmp_path / "formats"
    shutil.copytree(formats.FORMATS_DIR, formats_dir)
    sch = formats_dir / "3" / "backup.sch"
    text = sch.read_text()
    rule = re.search(r"\s*<sch:rule context=\"b:album\[@cover\]\">.*?</sch:rule>", text, re.DOTALL).group(0)
    text = text.replace(rule, "").replace('<sch:pattern id="references">',
                                          f'<sch:pattern id="covers">{rule}</sch:pattern>\n  '
                                          '<sch:pattern id="references">')
    sch.write_text(text)
    monkeypatch.setattr(formats, "FORMATS_DIR", formats_dir)
    formats.rules.cache_clear()
    yield
    formats.rules.cache_clear()


def test_a_cover_rule_that_fires_sees_the_cover_in_whatever_part_holds_it(covers_checked):
    albums = re.findall(r'<album id="(a[0-9a-f]{24})"', many(3))
    assert same(many(3)) is None  # the second album's cover, media #22, is in the sixth part
    elsewhere = _media_album(22, albums[0])(many(3))  # now in the root: above the album
    _, errors = same(elsewhere)
    assert len(errors) == 1 and "cover must be a media object of that album or an album below" in errors[0]
    gone = re.sub(r'cover="m[0-9a-f]{24}"', f'cover="m{99:024x}"', many(3))
    _, errors = same(gone)
    assert any("cover must be a media object of the backup" in e for e in errors)


def test_a_hostile_document_is_refused_in_parts_as_whole():
    doctype = many(3).replace("<backup ", '<!DOCTYPE backup [<!ENTITY x "y">]>\n<backup ', 1)
    assert "DOCTYPE" in parts(doctype.replace("<title>", "<title>&x;", 1))[0]
    assert "not well-formed" in parts(many(3)[:-200])[0]
    assert "format version 99" in parts(re.sub(r'format="\d+"', 'format="99"', many(3), count=1))[0]


MEMORY = """
import sys
from gallery.archive import chunked

def peak():  # kB; VmHWM, not ru_maxrss (which a child keeps from the parent it forked from)
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))

before = peak()
checked = chunked.check(lambda: open(sys.argv[1], "rb"), 10 ** 9)
print(checked.media, peak() - before)
"""


def test_memory_does_not_grow_with_the_media(tmp_path):
    """A document of 12,000 media objects (~9 MB) is checked in about the memory of one of
    1,000 (peak +21 MB and +10 MB over the process's start here; 30,000: +25 MB): the whole tree took ~7 KB
    per media object (+82 MB for 12,000, +7 MB for 1,000)."""
    grown = []
    for count in (1_000, 12_000):
        path = tmp_path / f"{count}.xml"
        path.write_text(many(3, count=count))
        out = subprocess.run([sys.executable, "-c", MEMORY, str(path)], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parents[3], check=True)
        media, kb = map(int, out.stdout.split())
        assert media == count
        grown.append(kb)
    assert grown[1] - grown[0] < 20_000, grown


@pytest.mark.parametrize("version", [1, 3])
async def test_a_kept_backup_restores_from_parts_of_one_media_object(app, monkeypatch, version):
    """Checked, upgraded (format 1: the XSLT per part) and inserted one media object a part."""
    import hashlib

    from gallery.archive import load
    from gallery.intake.ingest import job_queue
    from tenants.restore import restore_new

    monkeypatch.setattr(chunked, "MEDIA_CHUNK", 1)
    monkeypatch.setattr(load, "BATCH", 1)
    services = app.services
    path = BACKUPS / f"format-{version}.zip"
    result = await restore_new(services.registry, job_queue(services), path, f"parts{version}",
                               passphrase="format 3 fixture passphrase" if version == 3 else None)
    assert result["format"] == version and result["media"] == 2 and result["processing_jobs"] == 1
    ctx = await services.registry.context_for_slug(f"parts{version}")
    media = await ctx.db.media.find({}).sort("title", 1).to_list()
    assert [m["title"] for m in media] == ["Beach", "Rock"]
    assert all(m["state"] == "pending" and m["search_keys"] for m in media)
    with zipfile.ZipFile(path) as zf:
        for m in media:
            data = ctx.storage.resolve(m["original"]["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == m["original"]["sha256"] == \
                hashlib.sha256(zf.read(m["original"]["path"])).hexdigest()


@pytest.mark.parametrize("count", [1, 2, 5])
def test_a_report_names_the_media_object_by_its_place_in_the_whole_document(count):
    """Schematron's XPath gives no position to an only child: nor does the part check for a
    document of one media object, and it gives the whole document's one otherwise."""
    text = _media_album(count - 1, "a" + "0" * 24)(many(3, count=count))
    for chunk in (1, 2, 500):
        _, errors = same(text, chunk=chunk)
        assert len(errors) == 1


def test_documents_read_again_must_be_the_ones_checked(tmp_path):
    """The media documents are read from the archive again while they are inserted: an archive
    changed since its check fails the restore (inside its staging area) before its last batch."""
    from gallery.archive.restore import RestoreError, prepare

    path = tmp_path / "backup.zip"
    shutil.copy(BACKUPS / "format-3.zip", path)
    prepared = prepare(path)
    assert [m["title"] for m in prepared.snapshot.media] == ["Beach", "Rock"]
    with zipfile.ZipFile(BACKUPS / "format-3.zip") as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "backup.xml":
                data = data.replace(b"<title>Beach</title>", b"<title>Unchecked</title>")
            zout.writestr(info, data)
    with pytest.raises(RestoreError, match="changed while it was restored"):
        list(prepared.snapshot.media)
