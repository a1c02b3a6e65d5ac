"""Hostile and damaged GSP backups and media folders: each refused with a clear message (or
skipped with a reason) before anything is written. These run on the reader and the checks
alone (preview with no gallery); tests/gallery/gspimport/test_import.py covers the writing."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gallery.gspimport import checks
from gallery.gspimport.errors import GspRefused
from gallery.gspimport.importer import preview
from gallery.gspimport.media_files import open_source
from tests.gallery.gspimport import sample

ROOT = Path(__file__).resolve().parents[3]
LIMITS = {"max_entries": 1000, "max_total": 1 << 30, "max_ratio": 100, "max_file": 1 << 30}


def minimal(extra=(), *, version="4.5.0", layout="4.5.0"):
    rows = [("Gallery", {"GalleryId": 1, "Description": "G", "IsTemplate": False, "DateAdded": sample.T}),
            sample.album(1, None, ""), sample.album(2, 1, "A"), *extra]
    if version:
        rows.append(("AppSetting", {"AppSettingId": 1, "SettingName": "DataSchemaVersion", "SettingValue": version}))
    return rows, layout


def write(tmp_path, extra=(), **kw):
    rows, layout = minimal(extra, **kw)
    return sample.write(tmp_path / "b.xml", rows, layout=layout)


async def refused(path, media=None, gallery_id=1) -> str:
    with pytest.raises(GspRefused) as info:
        await preview(None, path, media, gallery_id)
    return info.value.message


async def test_an_external_entity_is_refused_before_the_parser_reads_it(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    path = tmp_path / "xxe.xml"
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE GalleryServerData [<!ENTITY x SYSTEM "file://{secret}">]>\n'
                    "<GalleryServerData><Album><AlbumId>1</AlbumId><DirectoryName>&x;</DirectoryName>"
                    "</Album></GalleryServerData>")
    message = await refused(path)
    assert "DTD" in message and "root:x" not in message


async def test_an_entity_expansion_bomb_is_refused(tmp_path):
    # A billion laughs: each entity is ten of the one before it (10**11 "boom"s if expanded).
    entities = '<!ENTITY e0 "boom">' + "".join(
        f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 12))
    path = tmp_path / "bomb.xml"
    path.write_text(f'<?xml version="1.0"?><!DOCTYPE GalleryServerData [{entities}]>'
                    "<GalleryServerData><Album><DirectoryName>&e11;</DirectoryName></Album></GalleryServerData>")
    assert "DTD" in await refused(path)


async def test_an_undeclared_entity_is_a_parse_error_not_an_expansion(tmp_path):
    path = tmp_path / "undeclared.xml"
    path.write_text("<GalleryServerData><Album><DirectoryName>&e;</DirectoryName></Album></GalleryServerData>")
    assert "not well-formed" in await refused(path)


async def test_a_file_that_is_not_a_gsp_backup_says_so(tmp_path):
    other = tmp_path / "other.xml"
    other.write_text('<?xml version="1.0"?><backup xmlns="urn:atrium:backup"><album/></backup>')
    assert "not a Gallery Server Pro backup" in await refused(other)
    binary = tmp_path / "photo.xml"
    binary.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    assert "not a Gallery Server Pro backup" in await refused(binary)
    empty_root = tmp_path / "empty.xml"
    empty_root.write_text("<GalleryServerData></GalleryServerData>")
    assert "not a Gallery Server Pro backup" in await refused(empty_root)
    truncated = tmp_path / "cut.xml"
    truncated.write_text(write(tmp_path).read_text()[:-40])
    assert "not well-formed" in await refused(truncated)
    huge_other = tmp_path / "feed.xml"  # refused from its first bytes, not after reading it all
    huge_other.write_text('<?xml version="1.0"?>\n<!-- a feed -->\n<rss version="2.0">' + "<item>x</item>" * 200_000)
    message = await refused(huge_other)
    assert "its root element is <rss>" in message


async def test_a_backup_of_an_unknown_future_version_is_refused_naming_it(tmp_path):
    message = await refused(write(tmp_path, version="5.1.0"))
    assert "5.1.0" in message and "newer" in message and "closest to GSP 4.5.0" in message


async def test_a_backup_zip_must_hold_exactly_one_xml(tmp_path):
    xml = write(tmp_path)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.write(xml, "a.xml")
        zf.write(xml, "b.xml")
    assert "exactly one" in await refused(two)
    one = tmp_path / "GalleryServerBackup_2024-03-01_100000.zip"
    with zipfile.ZipFile(one, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(xml, "GalleryServerBackup_2024-03-01_100000.xml")
    assert (await preview(None, one, None, 1))["counts"]["albums"] == 2


async def test_a_cycle_two_roots_and_duplicate_ids_are_refused(tmp_path):
    cycle = [sample.album(5, 6, "x"), sample.album(6, 7, "y"), sample.album(7, 5, "z")]
    assert "5, 6, 7 form a cycle" in await refused(write(tmp_path, cycle))
    assert "2 root albums (ids 1, 9)" in await refused(write(tmp_path, [sample.album(9, None, "")]))
    assert "album id 2 appears more than once" in await refused(write(tmp_path, [sample.album(2, 1, "B")]))
    dup_media = [sample.media(4, 2, "a.jpg"), sample.media(4, 2, "b.jpg")]
    assert "media object id 4 appears more than once" in await refused(write(tmp_path, dup_media))
    only_cycle = tmp_path / "c.xml"
    sample.write(only_cycle, [sample.album(1, 2, "a"), sample.album(2, 1, "b")])
    assert "no root album" in await refused(only_cycle)


async def test_dangling_references_are_skipped_with_their_reason(tmp_path):
    extra = [sample.album(8, 77, "orphan"), sample.album(9, 8, "below"), sample.media(4, 55, "lost.jpg"),
             sample.media(5, 9, "under-orphan.jpg"), ("RoleAlbum", {"FKRoleName": "R", "FKAlbumId": 404}),
             sample.role("R", AllowViewAlbumsAndObjects=True)]
    pv = await preview(None, write(tmp_path, extra), None, 1)
    reasons = {(i["kind"], i["id"]): i["reason"] for i in pv["skipped"]}
    assert reasons[("albums", "8")] == "its parent album 77 is not in the backup"
    assert reasons[("albums", "9")] == "it is below an album that is not in the backup"
    assert reasons[("media", "4")] == "its album (FKAlbumId 55) is not in the backup"
    assert reasons[("media", "5")] == "its album was skipped"
    assert reasons[("grants", "404")] == "the album it names is not in the backup"


async def test_ids_beyond_64_bits_are_no_ids(tmp_path):
    """GSP's ids are 32-bit; a larger number fits neither the work file (SQLite) nor a stored
    document (BSON): such a row has no id, like a row without one, and the import goes on."""
    huge = 2**70
    extra = [sample.media(huge, 2, "huge-id.jpg"), sample.media(4, huge, "huge-album.jpg"),
             sample.media(5, 2, "fine.jpg"), sample.meta(29, "Huge", media_id=huge),
             sample.meta(29, "Fine", media_id=5), sample.album(huge, 1, "huge")]
    pv = await preview(None, write(tmp_path, extra), None, 1)
    assert pv["counts"]["media"] == 1 and pv["counts"]["albums"] == 2
    assert [(i["id"], i["reason"]) for i in pv["skipped"]] == [("4", "its album (FKAlbumId None) is not in the backup")]


@pytest.mark.parametrize("name, says", [
    ("..", "would leave its folder"), ("/etc", "absolute path"), ("C:\\Windows", "absolute path"),
    ("a\\..\\b", "path separator"), ("CON", "reserved Windows device name"), ("lpt1.txt", "reserved"),
    ("what?", "characters Windows does not allow"), ("tab\there", "characters Windows does not allow"),
    ("trailing.", "ends with a space or a dot"), ("a/b", "path separator"),
])
def test_unsafe_directory_names_are_named_for_what_they_are(name, says):
    assert says in checks.name_problem(name)


async def test_files_below_an_unsafe_directory_are_never_looked_for(tmp_path, make_jpeg):
    outside = tmp_path / "outside.jpg"
    make_jpeg(8, 8, name="outside.jpg")
    media = tmp_path / "media"
    (media / "inside").mkdir(parents=True)
    extra = [sample.album(3, 1, ".."), sample.media(4, 3, "outside.jpg"), sample.album(5, 1, "CON"),
             sample.album(6, 5, "ok"), sample.media(7, 6, "x.jpg"), sample.media(8, 2, "..\\outside.jpg")]
    pv = await preview(None, write(tmp_path, extra), media, 1)
    reasons = {(i["kind"], i["id"]): i["reason"] for i in pv["skipped"]}
    assert "would leave its folder" in reasons[("files", "4")] and outside.exists()
    assert "reserved Windows device name" in reasons[("files", "7")]
    assert "path separator" in reasons[("files", "8")]
    assert pv["media_files"]["found"] == 0


def test_a_media_zip_with_zip_slip_links_and_a_bomb_is_refused_entry_by_entry(tmp_path):
    path = tmp_path / "media.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("A/ok.jpg", b"\xff\xd8\xff" + b"x" * 100)
        zf.writestr("../../evil.jpg", b"x")
        zf.writestr("/abs.jpg", b"x")
        link = zipfile.ZipInfo("A/link.jpg")
        link.create_system = 3
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
        zf.writestr("A/bomb.jpg", b"\0" * (20 * 1024 * 1024))
    source = open_source(path, LIMITS)
    refused_names = {r["name"]: r["reason"] for r in source.refused}
    assert "paths with .. are not allowed" == refused_names["../../evil.jpg"]
    assert "absolute" in refused_names["/abs.jpg"]
    assert "symbolic links" in refused_names["A/link.jpg"]
    assert "ZIP bomb" in refused_names["A/bomb.jpg"]
    assert source.find(["A", "ok.jpg"]) is not None and source.find(["A", "bomb.jpg"]) is None


def test_a_zip_whose_unpacked_total_is_too_large_is_refused_whole(tmp_path):
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.jpg", b"\0" * (2 * 1024 * 1024))
    with pytest.raises(GspRefused, match="unpacks to"):
        open_source(path, {**LIMITS, "max_total": 1024 * 1024})


def test_a_backup_made_large_by_rows_the_import_does_not_keep_is_read_in_flat_memory(tmp_path):
    """Rows are cleared as they are read, and rows the import does not use (templates, error
    logs: often most of a large backup) are not kept: a file 20 times larger takes no more memory
    (peak RSS of a process that only loads it; libxml2's allocations are invisible to
    tracemalloc). What is kept grows with the albums and media, not with the file."""
    def peak_kb(n: int) -> int:
        rows = [("UiTemplate", {"UiTemplateId": i, "TemplateType": 1, "FKGalleryId": 1, "Name": f"t{i}",
                                "Description": "", "HtmlTemplate": "<div class='gsp_album'>{{:Title}}</div>\n" * 20,
                                "ScriptTemplate": "$(function () { gsp.init(); });\n" * 10})
                for i in range(n)]
        path = sample.write(tmp_path / f"rows-{n}.xml", [*minimal()[0], *rows], layout="4.5.0")
        # VmHWM: this process's own peak (ru_maxrss would carry the forking test's peak over exec).
        code = ("import re, sys\n"
                "from gallery.gspimport import model\n"
                "data = model.load(sys.argv[1])\n"
                "data.close()\n"
                "print(data.tables['UiTemplate'], re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])")
        out = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
        assert int(out[0]) == n
        return int(out[1])

    small, large = peak_kb(500), peak_kb(10_000)
    assert large < small + 8 * 1024, (small, large)


def test_four_times_the_media_objects_are_read_and_mapped_in_flat_memory(tmp_path):
    """What grows with the media count (media rows, their Metadata rows and tag links, the media
    documents built from them) lives in the import's work file on disk (workfile.py), not in
    memory: reading and mapping four times the media takes no more memory. Held in dicts,
    1,500 more media objects with 20 metadata values each took ~13 MB more. Peak RSS of a
    process that only analyses, measured from after its imports (clear_refs resets VmHWM)."""
    from tests.gsp_fixtures import write_scale_backup

    def peak_kb(n: int) -> int:
        made = write_scale_backup(tmp_path / f"media-{n}.xml", n, metadata_per_media=20)
        code = ("import re, sys\n"
                "from gallery import settings\n"
                "from gallery.gspimport.importer import analyse\n"
                "open('/proc/self/clear_refs', 'w').write('5')\n"
                "root = {'_id': 'r' * 24, 'title': '', 'parent_id': None, 'ancestors': [], 'dirname': '',"
                " 'dirpath': '', 'private': False}\n"
                "a = analyse(sys.argv[1], None, 1, root=root, settings=settings.defaults(), existing_users=set(),"
                " run='r', work_path=sys.argv[2])\n"
                "print(a.built.media_count, re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])\n"
                "a.close()")
        out = subprocess.run([sys.executable, "-c", code, str(made.xml), str(tmp_path / f"work-{n}.sqlite")],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
        assert int(out[0]) == n
        assert not (tmp_path / f"work-{n}.sqlite").exists()  # closed: the work file is gone
        return int(out[1])

    small, large = peak_kb(500), peak_kb(2000)
    assert large < small + 4 * 1024, (small, large)


def test_the_media_folders_index_holds_little_per_file(tmp_path):
    """The index of a media folder (a directory) is the one thing kept per file found: path
    strings, not Path objects (~500 bytes a file, twice what a string costs)."""
    import tracemalloc

    for a in range(20):
        folder = tmp_path / "media" / f"Album {a}"
        folder.mkdir(parents=True)
        for i in range(100):
            (folder / f"IMG_{a * 100 + i:07}.jpg").touch()
    tracemalloc.start()
    try:
        source = open_source(tmp_path / "media", LIMITS)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert source.find(["Album 3", "img_0000301.JPG"]) is not None  # found case-insensitively
    assert held / 2000 < 350, held / 2000
