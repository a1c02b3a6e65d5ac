"""Every bad input of issue 14, each a real hostile archive made from a real backup: a clear
message, nothing restored (no tenant record, database or storage root), the source untouched."""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import warnings
import zipfile

import pytest

from gallery.archive.restore import RestoreError, prepare
from gallery.intake.ingest import job_queue
from tenants.restore import restore_new
from tests.gallery.archive.test_backup import make_source

_BASE: dict = {}


@pytest.fixture
async def base(app, make_gallery, tmp_path_factory):
    """A real backup of a small gallery (made once per session, copied per test)."""
    from gallery.archive.export import export_to_file

    if "path" not in _BASE:
        ctx, _ = await make_source(make_gallery, "source")
        path = tmp_path_factory.mktemp("backup") / "source.zip"
        await export_to_file(ctx, path)
        _BASE["path"] = path
    return _BASE["path"]


def rebuild(src, dst, *, xml=None, drop=(), add=(), rename=None, content=None):
    """Copy archive `src` to `dst`, changing backup.xml (xml: text -> text), leaving members
    out, adding (ZipInfo, bytes) pairs, renaming members, or replacing a member's bytes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we add
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info)
            if info.filename == "backup.xml" and xml:
                data = xml(data.decode()).encode()
            if content and info.filename in content:
                data = content[info.filename]
            name = (rename or {}).get(info.filename, info.filename)
            zout.writestr(zipfile.ZipInfo(name, info.date_time), data, compress_type=info.compress_type)
        for info, data in add:
            zout.writestr(info, data)
    return dst


def first_original(path) -> str:
    with zipfile.ZipFile(path) as zf:
        return next(n for n in zf.namelist() if n.startswith("originals/"))


def sub(pattern, repl, count=1):
    return lambda text: re.sub(pattern, repl, text, count=count)


def _doctype(decl: str):
    return lambda text: text.replace("<backup ", f"{decl}\n<backup ", 1).replace(
        "<title>", "<title>&x;", 1)


def _bomb_member(name="originals/bomb.bin", size=64 * 1024 * 1024):
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info, b"\0" * size


def _symlink(name):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, b"/etc/passwd"


CASES = {
    "xxe": (lambda b, d: rebuild(b, d, xml=_doctype('<!DOCTYPE backup [<!ENTITY x SYSTEM "file:///etc/passwd">]>')),
            "DOCTYPE"),
    "entity bomb": (lambda b, d: rebuild(b, d, xml=_doctype(
        '<!DOCTYPE backup [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY x "&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>')),
        "DOCTYPE"),
    "parent dir name": (lambda b, d: rebuild(b, d, add=[(zipfile.ZipInfo("../evil.txt"), b"x")]), r"leaves"),
    "absolute name": (lambda b, d: rebuild(b, d, add=[(zipfile.ZipInfo("/tmp/evil.txt"), b"x")]), "absolute"),
    "symlink member": (lambda b, d: rebuild(b, d, add=[_symlink("originals/link.jpg")]), "symbolic link"),
    "duplicate names": (lambda b, d: rebuild(b, d, add=[(zipfile.ZipInfo(first_original(b)), b"other")]),
                        "appears twice"),
    "size differs": (lambda b, d: rebuild(b, d, content={first_original(b): b"short"}), "bytes, backup.xml says"),
    "sha256 differs": (lambda b, d: rebuild(b, d, xml=sub(r'sha256="[0-9a-f]{64}"', 'sha256="' + "0" * 64 + '"')),
                       "sha256"),
    "missing member": (lambda b, d: rebuild(b, d, drop={first_original(b)}), "is not in the archive"),
    "zip bomb": (lambda b, d: rebuild(b, d, add=[_bomb_member()]), "ZIP bomb"),
    "dangling album": (lambda b, d: rebuild(b, d, xml=sub(r'(<media [^>]*album=")a[0-9a-f]{24}', r"\1r" + "0" * 24)),
                       "line"),
    "album cycle": (lambda b, d: rebuild(b, d, xml=_cycle), "ancestors"),
    "two roots": (lambda b, d: rebuild(b, d, xml=sub(r'(<album [^>]*?) parent="a[0-9a-f]{24}"', r"\1")),
                  "exactly one root"),
    "duplicate ids": (lambda b, d: rebuild(b, d, xml=_duplicate_id), "line"),
    "future version": (lambda b, d: rebuild(b, d, xml=sub(r'format="\d+"', 'format="99"')),
                       r"format version 99.*reads format versions 1 to"),
    "not an archive": (lambda b, d: _write(d, b"just some text, not a zip\n" * 100), "not a backup archive"),
    "truncated archive": (lambda b, d: _write(d, b.read_bytes()[: b.stat().st_size // 2]),
                          "not a backup archive"),
    "no backup.xml": (lambda b, d: rebuild(b, d, drop={"backup.xml"}), "no backup.xml"),
    "not well-formed": (lambda b, d: rebuild(b, d, xml=lambda t: t[: len(t) // 2]), "not well-formed"),
    "local header differs": (lambda b, d: _write(d, _local_name_changed(b.read_bytes(), first_original(b))),
                             "damaged archive: its header names"),
}


def _local_name_changed(data: bytes, name: str) -> bytes:
    """The member's name in its local header (the first place it appears) no longer the one
    the central directory gives: the bytes at its offset belong to no listed member."""
    raw = name.encode()
    return data.replace(raw, raw[:-1] + (b"x" if raw[-1:] != b"x" else b"y"), 1)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _cycle(text: str) -> str:
    """Make the root's child the parent of the root's grandchild's parent chain loop: the
    second album claims the third as its parent (Trips <-> Coast)."""
    ids = re.findall(r'<album id="(a[0-9a-f]{24})"', text)
    trips, coast = ids[1], ids[2]
    text = re.sub(rf'(<album id="{trips}"[^>]*?parent=")a[0-9a-f]{{24}}', rf"\g<1>{coast}", text)
    return text


def _duplicate_id(text: str) -> str:
    ids = re.findall(r'<media id="(m[0-9a-f]{24})"', text)
    return text.replace(f'<media id="{ids[1]}"', f'<media id="{ids[0]}"')


@pytest.mark.parametrize("case", list(CASES))
async def test_a_hostile_archive_is_refused_with_a_clear_message_and_nothing_restored(app, base, tmp_path, case):
    make, expected = CASES[case]
    source = tmp_path / "source.zip"
    shutil.copy(base, source)
    hostile = make(source, tmp_path / "hostile.zip")
    before = hashlib.sha256(hostile.read_bytes()).hexdigest()
    services = app.services
    with pytest.raises(RestoreError) as caught:
        await restore_new(services.registry, job_queue(services), hostile, "target")
    assert re.search(expected, caught.value.full_text()), caught.value.full_text()
    assert hashlib.sha256(hostile.read_bytes()).hexdigest() == before  # the source untouched
    assert await services.host_db.tenants.find_one({"_id": "target"}) is None
    assert not services.registry.storage("target").exists()
    assert services.registry.database_name("target") not in await services.client.list_database_names()
    assert await services.host_db.jobs.count_documents({"tenant": "target"}) == 0


def _last_media_album(text: str) -> str:
    at = text.rindex("<media ")
    return text[:at] + re.sub(r'(<media [^>]*album=")a[0-9a-f]{24}', r"\1a" + "0" * 24, text[at:], count=1)


#: Checked one media object a part (gallery/archive/chunked.py): the offending element in the
#: last part, or the same id in two parts.
LATE = {
    "dangling album": CASES["dangling album"],
    "dangling album of the last media": (lambda b, d: rebuild(b, d, xml=_last_media_album),
                                         r"line \d+ \(.*media.*\[2\]\): a media object's album"),
    "duplicate ids": (CASES["duplicate ids"][0], r"'m[0-9a-f]{24}' is not a valid value of the atomic type"),
    "album cycle": CASES["album cycle"],
    "two roots": CASES["two roots"],
    "sha256 differs": CASES["sha256 differs"],
    "missing member": CASES["missing member"],
    "size differs": CASES["size differs"],
}


@pytest.mark.parametrize("case", list(LATE))
async def test_a_hostile_archive_checked_in_parts_of_one(app, base, tmp_path, case, monkeypatch):
    from gallery.archive import chunked

    monkeypatch.setattr(chunked, "MEDIA_CHUNK", 1)
    monkeypatch.setitem(CASES, case, LATE[case])
    await test_a_hostile_archive_is_refused_with_a_clear_message_and_nothing_restored(app, base, tmp_path, case)


async def test_schematron_errors_name_their_lines(app, base, tmp_path):
    hostile = rebuild(base, tmp_path / "h.zip", xml=sub(r'(<grant album=")a[0-9a-f]{24}', r"\1r" + "1" * 24))
    with pytest.raises(RestoreError) as caught:
        prepare(hostile)
    assert caught.value.errors and re.match(r"line \d+ ", caught.value.errors[0])
    assert "grant must name an album" in caught.value.errors[0]


async def test_backup_xml_over_the_size_limit_is_refused_before_it_is_parsed(app, base):
    """The 2 GB case: the declared size is checked first, and the bytes as they stream
    (a header can lie), against the limit (512 MB by default; 1 kB here)."""
    with pytest.raises(RestoreError, match="at most 1000 are read"):
        prepare(base, max_document_bytes=1000)
    with zipfile.ZipFile(base) as zf:
        assert zf.getinfo("backup.xml").file_size > 1000

