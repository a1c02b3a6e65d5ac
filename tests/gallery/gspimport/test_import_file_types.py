"""A GSP media folder's files are typed like uploads (issue 18 item 10): a NEF (a TIFF to
libmagic) is taken as the camera RAW its name says, an Office file that is a ZIP bomb or a
"RAW" that is HTML is refused with the reason, and nothing refused stays in staging.
Files: tests/media/filetype_samples.py; the media folder is the real DirectorySource."""

from __future__ import annotations

import pytest

from gallery.gspimport.importer import _copy_one
from gallery.gspimport.media_files import DirectorySource
from media.sniff import UnsupportedMedia
from tests.media.filetype_samples import make_dng, make_office

ALLOWED = ("jpg", "nef", "dng", "docx")


def test_gsp_media_are_typed_by_content_with_the_name_agreeing(tmp_path):
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "DSC_0001.NEF").write_bytes(make_dng())
    (folder / "bomb.docx").write_bytes(make_office("docx", padding=4_000_000))
    (folder / "notes.docx").write_bytes(make_office("docx"))
    (folder / "IMG_2.nef").write_bytes(b"<!DOCTYPE html><html><script>alert(1)</script></html>")
    source = DirectorySource(folder)
    stage = tmp_path / "stage"

    def copy(name):
        return _copy_one(source, source.find([name]), stage / name, 1 << 30, ALLOWED)

    _size, _sha, raw = copy("DSC_0001.NEF")
    assert (raw.mime, raw.kind, raw.extension) == ("image/x-nikon-nef", "image", "nef")
    assert copy("notes.docx")[2].extension == "docx"
    with pytest.raises(UnsupportedMedia, match="ZIP bomb"):
        copy("bomb.docx")
    with pytest.raises(UnsupportedMedia, match="named .nef but its content is text/html"):
        copy("IMG_2.nef")
    assert sorted(p.name for p in stage.iterdir()) == ["DSC_0001.NEF", "notes.docx"]
