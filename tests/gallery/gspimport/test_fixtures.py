"""The GSP backup generator (tests/gsp_fixtures.py) writes what GSP wrote, for every generation."""

from __future__ import annotations

import zipfile
from collections import defaultdict

import pytest
from lxml import etree

from tests.gsp_fixtures import write_backup, write_scale_backup
from tests.gsp_hostile import HOSTILE_KINDS, SECRET, write_hostile
from tests.gsp_writer import METADATA_CODES, ROLE_COLUMNS, XS, BackupWriter, schema_errors

SAFE = etree.XMLParser(resolve_entities=False, no_network=True)


def rows(path) -> dict[str, list[dict[str, str]]]:
    """{table: [{column: text}]} of a small backup file."""
    tables: dict[str, list[dict[str, str]]] = defaultdict(list)
    for el in etree.parse(str(path), SAFE).getroot():
        if el.tag != XS + "schema":
            tables[el.tag].append({c.tag: c.text or "" for c in el})
    return tables


@pytest.fixture(scope="module")
def backups(tmp_path_factory):
    out = tmp_path_factory.mktemp("gsp")
    # '3.x' and '4.x' are the issue's names; the generator takes them for 3.2.1 and 4.5.0
    made = {
        gen: write_backup(
            out / gen, gen, media=gen == "4.x", media_zip=True, zipped=True, video=False
        )
        for gen in ("2.5", "2.6", "3.x", "4.x")
    }
    assert (made["3.x"].generation, made["4.x"].generation) == ("3.2.1", "4.5.0")
    made["3.2.1"], made["4.5.0"] = made.pop("3.x"), made.pop("4.x")
    return made


@pytest.mark.parametrize("generation", ["2.5", "2.6", "3.2.1", "4.5.0"])
def test_every_generation_is_valid_against_its_own_inline_schema(backups, generation):
    backup = backups[generation]
    assert schema_errors(backup.xml) == []
    root = etree.parse(str(backup.xml), SAFE).getroot()
    assert root.tag == "GalleryServerData"
    assert root[0].tag == XS + "schema" and root[0].get("id") == "GalleryServerData"
    with zipfile.ZipFile(backup.zip) as zf:
        assert zf.namelist() == [backup.xml.name]


@pytest.mark.parametrize(
    ("generation", "table", "marker"),
    [
        ("2.5", "gs_AppSetting", None),
        ("2.6", "gs_AppSetting", "2.6.0"),
        ("3.2.1", "AppSetting", "3.2.1"),
        ("4.5.0", "AppSetting", "4.5.0"),
    ],
)
def test_the_data_schema_version_marker_is_where_each_generation_kept_it(
    backups, generation, table, marker
):
    tables = rows(backups[generation].xml)
    found = [r["SettingValue"] for r in tables[table] if r["SettingName"] == "DataSchemaVersion"]
    assert found == ([marker] if marker else [])
    if generation == "2.5":
        assert tables["gs_SchemaVersion"] == [{"SchemaVersion": "2.5.0"}]
    # 2.x prefixes its tables and keeps titles in columns; 3.x+ has unprefixed tables and Metadata rows
    assert ("gs_Album" in tables) == generation.startswith("2.")
    assert ("Album" in tables) == (not generation.startswith("2."))


def test_the_sample_holds_every_case_the_issue_names(backups):
    tables = rows(backups["4.5.0"].xml)
    galleries = {r["GalleryId"]: r["IsTemplate"] for r in tables["Gallery"]}
    assert galleries == {"1": "true", "2": "false", "3": "false"}
    parents = {r["AlbumId"]: r.get("FKAlbumParentId") for r in tables["Album"]}
    depth = {a: 0 for a in parents}
    for a, p in parents.items():
        while p:
            depth[a] += 1
            p = parents[p]
    assert max(depth.values()) == 6
    assert [a for a, p in parents.items() if p is None] == [
        "10",
        "30",
    ]  # one root per gallery, FKAlbumParentId left out
    codes = {int(r["MetaName"]) for r in tables["Metadata"]}
    assert codes == set(METADATA_CODES)
    values = [r["Value"] for r in tables["Metadata"]]
    assert (
        any("<script>" in v for v in values)
        and any("日本" in v for v in values)
        and any("🌞" in v for v in values)
    )
    for column in ROLE_COLUMNS:
        assert {r[column] for r in tables["Role"]} == {"true", "false"}, column
    assert tables["RoleAlbum"]
    assert {r["PasswordFormat"] for r in tables["Memberships"]} == {"0", "1", "2"}
    assert any("Email" not in r for r in tables["Memberships"])
    assert {r["IsLockedOut"] for r in tables["Memberships"]} == {"true", "false"}
    assert {r["IsApproved"] for r in tables["Memberships"]} == {"true", "false"}
    profile = {
        (r["UserName"], r["SettingName"]): r["SettingValue"] for r in tables["UserGalleryProfile"]
    }
    assert (
        profile[("alice", "EnableUserAlbum")] == "True"
        and profile[("alice", "UserAlbumId")] == "19"
    )
    external = [r["ExternalHtmlSource"] for r in tables["MediaObject"] if r["ExternalHtmlSource"]]
    assert any("youtube.com/embed" in h for h in external) and any(
        "<script>" in h for h in external
    )
    assert {r["TagName"] for r in tables["Tag"]} >= {
        "New York City",
        "family reunion",
        "été",
        "Anna Smith",
    }
    assert {r["SettingName"] for r in tables["GallerySetting"]} >= {
        "MaxThumbnailLength",
        "EnableSelfRegistration",
    }


def test_the_media_folder_follows_album_directories_and_keeps_gsp_derivatives_beside(backups):
    backup = backups["4.5.0"]
    content, folder = backup.content, backup.media_dirs[2]
    for m in content.media:
        if content.gallery_of(m.album_id) != 2 or m.external_html:
            continue
        path = folder.joinpath(*content.album_path(m.album_id), m.original_filename)
        assert path.is_file() == m.has_file, path
    assert (
        folder
        / "Holidays"
        / "Norway"
        / "Day 1"
        / "Mountains"
        / "Peaks"
        / "Summit"
        / "Sony_HDR-HC3.jpg"
    ).is_file()
    assert (folder / "日本 旅行" / "Ærø café.jpg").is_file()
    assert (folder / "Holidays" / "zThumb_Canon_40D.jpg").is_file() and (
        folder / "Holidays" / "zOpt_Canon_40D.jpg"
    ).is_file()
    assert backup.expected()["missing_files"] == [104]
    with zipfile.ZipFile(backup.media_zips[2]) as zf:
        names = set(zf.namelist())
    assert names == {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_the_writer_refuses_a_row_its_schema_would_not_take(tmp_path):
    with BackupWriter(tmp_path / "x.xml", "4.5.0") as w:
        with pytest.raises(KeyError):
            w.row("Album", AlbumId=1, Title="2.x had this column, 4.5 does not")
        with pytest.raises(ValueError, match="required"):
            w.row("Tag")
        with pytest.raises(KeyError):
            w.row("gs_Album", AlbumId=1)


def test_schema_check_catches_a_row_of_the_wrong_type(tmp_path):
    path = tmp_path / "bad.xml"
    with BackupWriter(path, "4.5.0") as w:
        w.row("Tag", TagName="fine")
        bad = etree.Element("Gallery")
        for column, text in (
            ("GalleryId", "not a number"),
            ("Description", "x"),
            ("IsTemplate", "false"),
            ("DateAdded", "2012-05-17T09:30:15"),
        ):
            etree.SubElement(bad, column).text = text
        w.raw(bad)
    assert any("GalleryId" in e for e in schema_errors(path))


def test_hostile_entity_files_really_are_hostile(tmp_path):
    xxe = write_hostile(tmp_path / "xxe", "xxe")
    careless = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True)
    assert SECRET in etree.tostring(etree.parse(str(xxe.path), careless)).decode()
    assert SECRET not in etree.tostring(etree.parse(str(xxe.path), SAFE)).decode()
    bomb = write_hostile(tmp_path / "bomb", "entity_bomb")
    assert bomb.path.stat().st_size < 40_000  # the inline schema is most of it
    with pytest.raises(etree.XMLSyntaxError):  # libxml2 refuses to expand it (amplification)
        etree.parse(str(bomb.path), etree.XMLParser(resolve_entities=True, huge_tree=False))


@pytest.mark.parametrize(
    "kind",
    [
        "album_cycle",
        "two_roots",
        "dangling_album",
        "duplicate_ids",
        "unsafe_names",
        "future_version",
    ],
)
def test_structural_hostile_files_pass_the_schema_so_only_meaning_can_catch_them(tmp_path, kind):
    hostile = write_hostile(tmp_path, kind)
    assert schema_errors(hostile.path) == []
    tables = rows(hostile.path)
    album_ids = [r["AlbumId"] for r in tables["Album"]]
    if kind == "album_cycle":
        parents = {r["AlbumId"]: r.get("FKAlbumParentId") for r in tables["Album"]}
        assert parents["11"] == "13" and parents["13"] == "12" and parents["12"] == "11"
    elif kind == "two_roots":
        assert [
            r["AlbumId"]
            for r in tables["Album"]
            if r["FKGalleryId"] == "2" and "FKAlbumParentId" not in r
        ] == ["10", "21"]
    elif kind == "dangling_album":
        assert "9999" not in album_ids
        assert any(r["FKAlbumId"] == "9999" for r in tables["MediaObject"])
        assert any(r["FKAlbumId"] == "9999" for r in tables["RoleAlbum"])
    elif kind == "duplicate_ids":
        assert album_ids.count("13") == 2
        assert [r["MediaObjectId"] for r in tables["MediaObject"]].count("101") == 2
    elif kind == "unsafe_names":
        names = {r["DirectoryName"] for r in tables["Album"]}
        assert {"..", "/etc", "CON", "a\\b", 'bad<>:"|?*'} <= names
        assert "../../escape.jpg" in {r["OriginalFilename"] for r in tables["MediaObject"]}
    else:
        assert [
            r["SettingValue"]
            for r in tables["AppSetting"]
            if r["SettingName"] == "DataSchemaVersion"
        ] == ["9.1.0"]


def test_hostile_media_zips(tmp_path):
    slip = write_hostile(tmp_path, "zip_slip")
    with zipfile.ZipFile(slip.path) as zf:
        names = zf.namelist()
        link = zf.getinfo("Holidays/link.jpg")
    assert {
        "../evil.jpg",
        "/tmp/atrium-abs.jpg",
        "Holidays/../../evil2.jpg",
        "C:\\evil.jpg",
    } <= set(names)
    assert (link.external_attr >> 16) & 0o170000 == 0o120000  # a symlink entry
    bomb = write_hostile(tmp_path, "zip_bomb", bomb_bytes=16 << 20)
    with zipfile.ZipFile(bomb.path) as zf:
        (info,) = zf.infolist()
    assert info.file_size == 16 << 20 and info.file_size > 500 * bomb.path.stat().st_size


def test_every_hostile_kind_is_made(tmp_path):
    for kind in HOSTILE_KINDS:
        hostile = write_hostile(tmp_path / kind, kind, bomb_bytes=1 << 20)
        assert hostile.path.is_file() and hostile.about, kind
    with pytest.raises(ValueError, match="unknown hostile kind"):
        write_hostile(tmp_path, "nonsense")


def test_scale_backup_streams_a_valid_file_with_sparse_real_jpegs(tmp_path):
    made = write_scale_backup(
        tmp_path / "big.xml", 250, media_dir=tmp_path / "media", file_bytes=1 << 20
    )
    assert schema_errors(made.xml) == []
    tables = rows(made.xml)
    assert len(tables["MediaObject"]) == 250 and len(tables["Metadata"]) == 2500
    files = sorted((tmp_path / "media").rglob("*.jpg"))
    assert len(files) == 250 and made.media_bytes == 250 << 20
    assert files[0].read_bytes()[:2] == b"\xff\xd8" and files[0].stat().st_blocks * 512 < 1 << 19
    assert files[0].read_bytes() != files[1].read_bytes()
