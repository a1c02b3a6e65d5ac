"""Camera RAW, Photoshop, Office/OpenDocument, WMV/FLV and download-only files: typed by
content with the name agreeing, decoded or checked without trusting them (issue 18 item 10).
The files are real and small, made by tests/media/filetype_samples.py (which says how)."""

from __future__ import annotations

import zipfile

import pytest
from PIL import Image

from media.errors import CorruptMedia, MediaTooLarge, UnsupportedMedia
from media.images import DerivativeSpec, make_image_derivatives
from media.office import check_package
from media.raw import make_raw_preview, read_raw_metadata
from media.sniff import DEFAULT_ALLOWED_EXTENSIONS, accept, is_inline_safe, refine, sniff
from tests.media.filetype_samples import (
    iptc_block,
    jpeg_bytes,
    make_dng,
    make_office,
    make_psd,
    write_video,
)

EVERYTHING = ("dng", "nef", "arw", "psd", "wmv", "flv", "docx", "xlsx", "pptx", "odt", "ods", "odp")
LIMITS = {"max_entries": 1000, "max_total": 1 << 30, "max_ratio": 100}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("filetypes")
    made = {
        "raw.dng": make_dng(),
        "preview.dng": make_dng(preview=jpeg_bytes((64, 48), (200, 40, 40))),
        "picture.psd": make_psd(),
        "page.html": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        "drawing.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "bomb.docx": make_office("docx", padding=4_000_000),
        "unknown.bin": bytes(range(256)) * 8,
    }
    for ext in ("docx", "xlsx", "pptx", "odt", "ods", "odp"):
        made[f"office.{ext}"] = make_office(ext)
    for name, data in made.items():
        (root / name).write_bytes(data)
    write_video(root / "clip.wmv")
    write_video(root / "clip.flv")
    return root


@pytest.mark.parametrize(
    "name, as_name, mime, kind, extension",
    [
        ("raw.dng", "IMG_1.DNG", "image/x-adobe-dng", "image", "dng"),
        ("raw.dng", "DSC_1.nef", "image/x-nikon-nef", "image", "nef"),  # a TIFF: the name says
        ("raw.dng", "DSC_1.arw", "image/x-sony-arw", "image", "arw"),
        ("picture.psd", "art.psd", "image/vnd.adobe.photoshop", "image", "psd"),
        ("clip.wmv", "clip.wmv", "video/x-ms-asf", "video", "wmv"),
        ("clip.flv", "clip.flv", "video/x-flv", "video", "flv"),
        ("office.docx", "a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document", "docx"),
        ("office.xlsx", "a.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "document", "xlsx"),
        ("office.pptx", "a.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "document", "pptx"),
        ("office.odt", "a.odt", "application/vnd.oasis.opendocument.text", "document", "odt"),
        ("office.ods", "a.ods", "application/vnd.oasis.opendocument.spreadsheet", "document", "ods"),
        ("office.odp", "a.odp", "application/vnd.oasis.opendocument.presentation", "document", "odp"),
    ],
)
def test_new_types_are_known_by_content_and_accepted_once_allowed(files, name, as_name, mime, kind, extension):
    found = refine(sniff(files / name), as_name)
    assert (found.mime, found.kind, found.extension) == (mime, kind, extension)
    with pytest.raises(UnsupportedMedia):  # not among the defaults: the admin allows them
        accept(sniff(files / name), as_name, DEFAULT_ALLOWED_EXTENSIONS)
    assert accept(sniff(files / name), as_name, EVERYTHING).extension == extension
    assert not is_inline_safe(found.mime)  # no browser shows them: originals are downloads


@pytest.mark.parametrize(
    "name, as_name",
    [("page.html", "IMG_0001.CR2"), ("drawing.svg", "photo.nef"), ("page.html", "scan.dng"),
     ("page.html", "report.docx"), ("unknown.bin", "report.odt"), ("page.html", "art.psd"),
     ("unknown.bin", "clip.wmv"), ("raw.dng", "clip.flv")],
)
def test_a_file_whose_content_is_not_what_its_new_ending_says_is_refused(files, name, as_name):
    with pytest.raises(UnsupportedMedia, match=r"named \.\w+ but its content is") as caught:
        accept(sniff(files / name), as_name, (*EVERYTHING, "html", "svg", "cr2"))
    assert sniff(files / name).mime in caught.value.reason


def test_a_raw_gives_its_embedded_preview_or_a_decode_and_its_exif(files, tmp_path):
    made = make_raw_preview(files / "preview.dng", tmp_path / "p.jpg", 1920)
    assert made.source == "embedded_preview" and (made.width, made.height) == (64, 48)
    with Image.open(made.path) as im:
        assert im.format == "JPEG" and im.getpixel((32, 24))[0] > 150  # the red preview
    decoded = make_raw_preview(files / "raw.dng", tmp_path / "d.jpg", 1920)
    assert decoded.source == "raw_decode" and (decoded.width, decoded.height) == (64, 48)
    metadata = read_raw_metadata(files / "raw.dng")
    camera = metadata.camera
    assert (camera.make, camera.model, camera.iso, camera.exposure_time) == ("Atrium", "Test DNG", 400, "1/250")
    assert camera.date_taken == "2021-06-05T14:30:00" and (camera.width, camera.height) == (64, 48)


RAW_XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmp:Rating="4"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour at dusk</rdf:li></rdf:Alt>'
    '</dc:title><dc:subject><rdf:Bag><rdf:li>Ferry</rdf:li><rdf:li>Dämmerung</rdf:li></rdf:Bag></dc:subject>'
    '</rdf:Description></rdf:RDF></x:xmpmeta>'
).encode()


def test_a_raws_xmp_packet_and_iptc_block_are_read_as_an_images_are(tmp_path):
    """Lightroom, darktable and Photo Mechanic write XMP (tag 700) and IPTC (tag 33723, typed
    LONG) into a DNG's or NEF's first directory: title, keywords, place, rating."""
    path = tmp_path / "tagged.dng"
    path.write_bytes(make_dng(xmp=RAW_XMP, iptc=iptc_block([(25, "Hafen"), (90, "Kiel"), (116, "© Ana")])))
    metadata = read_raw_metadata(path)
    assert metadata.xmp.rating == 4 and metadata.title == "Harbour at dusk"
    assert metadata.keywords == ["Ferry", "Dämmerung", "Hafen"]
    assert (metadata.iptc.city, metadata.iptc.copyright) == ("Kiel", "© Ana")
    assert metadata.camera.make == "Atrium"  # the EXIF beside them still read


@pytest.mark.parametrize("packet", [
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
     b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>'),  # entity expansion: defusedxml refuses
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF',  # cut off
    b"<" * 2_000_000,  # over the 1 MB a packet may have
])
def test_a_raws_hostile_xmp_or_iptc_costs_only_those_fields(tmp_path, packet):
    path = tmp_path / "hostile.dng"
    path.write_bytes(make_dng(xmp=packet, iptc=b"\x1c\x02\x19\xff\xff" + b"x" * 40))  # length past the end
    metadata = read_raw_metadata(path)
    assert metadata.xmp.rating is None and metadata.title is None and metadata.keywords == []
    assert metadata.camera.model == "Test DNG" and metadata.camera.iso == 400


def test_a_raw_that_libraw_cannot_read_is_a_clear_error(files, tmp_path):
    bad = tmp_path / "cut.dng"
    bad.write_bytes(make_dng()[-600:])  # the directories without the header
    with pytest.raises(CorruptMedia, match="camera RAW"):
        make_raw_preview(bad, tmp_path / "x.jpg", 1920)
    assert not (tmp_path / "x.jpg").exists() and not (tmp_path / "x.jpg.part").exists()


def test_a_psd_gives_its_composite_and_a_truncated_one_fails_without_leftovers(files, tmp_path):
    specs = DerivativeSpec(320, "jpeg", 80), DerivativeSpec(1920, "jpeg", 85)
    made = make_image_derivatives(files / "picture.psd", tmp_path, *specs)
    assert (made.width, made.height) == (40, 30) and made.optimized_path  # not a browser format
    cut = tmp_path / "cut.psd"
    cut.write_bytes(make_psd()[:-1500])
    out = tmp_path / "cut"
    out.mkdir()
    with pytest.raises(CorruptMedia, match="damaged or incomplete"):
        make_image_derivatives(cut, out, *specs)
    assert list(out.iterdir()) == []


def test_office_packages_are_checked_for_bombs_and_parts_without_unpacking(files, tmp_path):
    for ext in ("docx", "xlsx", "pptx", "odt", "ods", "odp"):
        check_package(files / f"office.{ext}", ext, **LIMITS)
    with pytest.raises(MediaTooLarge, match="ZIP bomb"):
        check_package(files / "bomb.docx", "docx", **LIMITS)
    with pytest.raises(MediaTooLarge, match="unpacks to"):
        check_package(files / "bomb.docx", "docx", **{**LIMITS, "max_total": 1 << 20})
    with pytest.raises(CorruptMedia, match="parts are missing"):
        check_package(files / "office.docx", "xlsx", **LIMITS)  # a Word package named .xlsx
    with pytest.raises(CorruptMedia, match="mimetype is wrong"):
        check_package(files / "office.odt", "ods", **LIMITS)
    with pytest.raises(CorruptMedia, match="not a readable ZIP"):
        check_package(files / "page.html", "docx", **LIMITS)
    # Fifield's overlapping bomb: every entry's data is the same compressed kernel.
    overlap = tmp_path / "overlap.docx"
    data = bytearray((files / "office.docx").read_bytes())
    overlap.write_bytes(data)
    with zipfile.ZipFile(overlap) as zf:
        infos = zf.infolist()
    cd_at = data.index(b"PK\x01\x02")
    for at in range(cd_at, len(data) - 46):  # point the last entry's header at the first's
        if data[at:at + 4] == b"PK\x01\x02" and data[at + 46:at + 46 + len(infos[-1].filename)] == infos[-1].filename.encode():
            data[at + 42:at + 46] = infos[0].header_offset.to_bytes(4, "little")
    overlap.write_bytes(data)
    with pytest.raises(MediaTooLarge, match="overlap"):
        check_package(overlap, "docx", **LIMITS)


def test_download_only_endings_take_unknown_content_but_never_a_known_type(files):
    stl = accept(sniff(files / "unknown.bin"), "part.STL", DEFAULT_ALLOWED_EXTENSIONS, ["stl"])
    assert (stl.mime, stl.kind, stl.extension) == ("application/octet-stream", "other", "stl")
    assert not is_inline_safe(stl.mime)
    with pytest.raises(UnsupportedMedia):  # not listed
        accept(sniff(files / "unknown.bin"), "part.gpx", DEFAULT_ALLOWED_EXTENSIONS, ["stl"])
    with pytest.raises(UnsupportedMedia, match="text/html"):  # HTML named .stl stays out
        accept(sniff(files / "page.html"), "part.stl", DEFAULT_ALLOWED_EXTENSIONS, ["stl"])
    with pytest.raises(UnsupportedMedia):  # a known ending is never download-only
        accept(sniff(files / "page.html"), "page.html", DEFAULT_ALLOWED_EXTENSIONS, ["html"])
