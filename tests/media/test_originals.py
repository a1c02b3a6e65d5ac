"""media/originals.py: re-encoding a JPEG original keeps every metadata segment and the
pixels' orientation; the optimized copy kept in an original's place carries the original's
EXIF and XMP turned upright (JPEG byte for byte, WebP written with them); what cannot be
rewritten safely is kept (CMYK, multi-picture, animated, transparent) or refused (cut off)."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import pytest
from PIL import Image

from media.errors import CorruptMedia
from media.images import DerivativeSpec, image_dimensions, make_image_derivatives
from media.metadata import read_image_metadata
from media.originals import Kept, keep_optimized, reencode_jpeg, upright_exif
from media.pool import init_worker
from tests.testdata import shared_data

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6" '
       b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">'
       b'Harbour</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta>')


@pytest.fixture(autouse=True)
def worker_limits():
    init_worker(89_478_485)  # as in the pool: bombs are errors, cut files never decode


def _metadata(path) -> dict:
    found = read_image_metadata(path).to_dict()
    found.pop("format", None)
    return found


def _turned(path, size=(800, 600), fmt="JPEG", **extra):
    """A noisy photo whose EXIF and XMP say "turn 90° clockwise"."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Atrium"
    exif[0x0110] = "Test Camera"
    image.save(path, fmt, quality=95, exif=exif, xmp=XMP, **extra)
    return path


def test_every_camera_jpeg_is_rewritten_with_the_same_metadata_or_kept(tmp_path):
    rewritten = 0
    for src in sorted(shared_data("camera-samples", "jpg").rglob("*.jpg")):
        out = tmp_path / "out.jpg"
        try:
            new = reencode_jpeg(src, out, 60)
        except Kept as exc:
            assert "not smaller" in str(exc), src.name
            continue
        rewritten += 1
        assert new.size == out.stat().st_size < src.stat().st_size, src.name
        assert _metadata(out) == _metadata(src), src.name
        with Image.open(src) as before, Image.open(out) as after:
            assert after.size == before.size and after.mode == before.mode
            assert after.getexif() == before.getexif()
            assert after.info.get("icc_profile") == before.info.get("icc_profile")
            # Every metadata segment byte for byte (a JFIF APP0 may be added; Adobe's APP14
            # described the old encoding, a multi-picture index the pictures not kept).
            def carried(im):
                return [(m, d) for m, d in im.applist
                        if m not in ("APP0", "APP14") and not d.startswith(b"MPF\0")]

            assert carried(after) == carried(before), src.name
    assert rewritten >= 20


def test_a_turned_photo_keeps_its_orientation_when_rewritten(tmp_path):
    src = _turned(tmp_path / "turned.jpg")
    reencode_jpeg(src, tmp_path / "out.jpg", 50)
    assert image_dimensions(tmp_path / "out.jpg") == (600, 800)
    with Image.open(tmp_path / "out.jpg") as im:
        assert im.getexif()[0x0112] == 6 and b'tiff:Orientation="6"' in im.info["xmp"]


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_the_kept_copy_carries_the_originals_metadata_upright(tmp_path, fmt):
    src = _turned(tmp_path / "turned.jpg", size=(1600, 1200))
    made = make_image_derivatives(src, tmp_path, DerivativeSpec(200, fmt), DerivativeSpec(400, fmt))
    new = keep_optimized(src, made.optimized_path, tmp_path / f"kept.{fmt}", 85)
    kept = tmp_path / f"kept.{fmt}"
    assert (new.width, new.height) == (300, 400) == image_dimensions(kept)  # shown as the copy is
    with Image.open(kept) as im:
        assert im.format == fmt.upper()
        exif = im.getexif()
        assert exif[0x0112] == 1 and exif[0x010F] == "Atrium" and exif[0x0110] == "Test Camera"
        assert b'tiff:Orientation="1"' in im.info["xmp"] and "icc_profile" not in im.info
    assert read_image_metadata(kept).title == "Harbour"
    if fmt == "jpeg":  # the copy's image data byte for byte
        copy = Path(made.optimized_path).read_bytes()
        assert kept.read_bytes().endswith(copy[copy.index(b"\xff\xdb"):])


def test_what_cannot_be_rewritten_safely_is_kept_or_refused(tmp_path):
    cmyk = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (300, 200), (10, 200, 30, 0)).save(cmyk, "JPEG", quality=95)
    with pytest.raises(Kept, match="CMYK"):
        reencode_jpeg(cmyk, tmp_path / "out.jpg", 50)

    mpo = tmp_path / "stereo.jpg"
    frames = [Image.frombytes("RGB", (300, 200), os.urandom(300 * 200 * 3)) for _ in range(2)]
    frames[0].save(mpo, "MPO", save_all=True, append_images=frames[1:], quality=95)
    with pytest.raises(Kept, match="MPO"):
        reencode_jpeg(mpo, tmp_path / "out.jpg", 50)

    png = tmp_path / "flat.png"
    Image.new("RGB", (300, 200)).save(png)
    with pytest.raises(Kept):
        reencode_jpeg(png, tmp_path / "out.jpg", 50)

    whole = shared_data("camera-samples", "jpg", "exif-org", "nikon-e950.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptMedia):
        reencode_jpeg(cut, tmp_path / "out.jpg", 50)
    assert not (tmp_path / "out.jpg").exists()  # nothing written for any of them

    gif = tmp_path / "moving.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    made = make_image_derivatives(gif, tmp_path, DerivativeSpec(100), DerivativeSpec(400), always_optimize=True)
    with pytest.raises(Kept, match="animated"):
        keep_optimized(gif, made.optimized_path, tmp_path / "kept.jpg", 85)
    clear = tmp_path / "clear.png"
    Image.new("RGBA", (900, 600), (0, 0, 0, 0)).save(clear)
    made = make_image_derivatives(clear, tmp_path, DerivativeSpec(100), DerivativeSpec(400))
    with pytest.raises(Kept, match="transparent"):
        keep_optimized(clear, made.optimized_path, tmp_path / "kept.jpg", 85)


def test_a_quality_that_would_not_shrink_the_file_keeps_it(tmp_path):
    light = tmp_path / "light.jpg"
    Image.frombytes("RGB", (300, 200), os.urandom(300 * 200 * 3)).save(light, "JPEG", quality=30)
    with pytest.raises(Kept, match="not smaller"):
        reencode_jpeg(light, tmp_path / "out.jpg", 95)


def _tiff(entries: list[tuple[int, int, int, bytes]], order=b"II") -> bytes:
    fmt = "<" if order == b"II" else ">"
    out = order + struct.pack(fmt + "HI", 42, 8) + struct.pack(fmt + "H", len(entries))
    for tag, kind, count, value in entries:
        out += struct.pack(fmt + "HHI", tag, kind, count) + value.ljust(4, b"\0")
    return out + b"\0\0\0\0"


def test_upright_exif_patches_only_what_it_can_read():
    for order, fmt in ((b"II", "<"), (b"MM", ">")):
        turned = _tiff([(0x010F, 2, 4, b"abc\0"), (0x0112, 3, 1, struct.pack(fmt + "H", 8))], order)
        fixed = upright_exif(turned)
        assert len(fixed) == len(turned) and fixed != turned
        exif = Image.Exif()
        exif.load(b"Exif\0\0" + fixed)
        assert exif[0x0112] == 1 and exif[0x010F] == "abc"
    plain = _tiff([(0x010F, 2, 4, b"abc\0")])
    assert upright_exif(plain) == plain  # nothing to turn
    for hostile in (b"", b"XX*\0\x08\0\0\0", b"II*\0\xff\xff\xff\x7f", _tiff([(0x0112, 4, 1, b"\x06")]),
                    _tiff([(0x0112, 3, 2, b"\x06\0\x06\0")]), b"II*\0\x08\0\0\0\xff\xff"):
        assert upright_exif(hostile) is None  # dropped rather than shown turned twice


def test_rewritten_files_are_complete_jpegs(tmp_path):
    src = _turned(tmp_path / "turned.jpg", size=(640, 480))
    reencode_jpeg(src, tmp_path / "out.jpg", 70)
    data = (tmp_path / "out.jpg").read_bytes()
    assert data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")
    with Image.open(io.BytesIO(data)) as im:
        im.load()  # decodes in full: nothing cut off
