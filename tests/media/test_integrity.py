"""Incomplete image data fails the image instead of becoming invented pixels: a cut-off
HEIC (libheif paints the rest green), a JPEG whose scan data stops at an early end marker
(libjpeg paints a grey band). Good files, harmless warnings and hostile headers are not
mistaken for either."""

import io
import os
import random
import struct

import pytest
from PIL import Image

from media.errors import CorruptMedia, MediaError
from media.images import DerivativeSpec, make_image_derivatives
from media.integrity import check_isobmff_complete
from tests.testdata import shared_data

pytestmark = pytest.mark.usefixtures("image_worker")

THUMB = DerivativeSpec(320, "jpeg", 85)
OPTIMIZED = DerivativeSpec(1920, "jpeg", 85)


def noisy(mode: str = "RGB", size=(800, 600)) -> Image.Image:
    return Image.effect_noise(size, 60).convert(mode)


def jpeg(im: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, **params)
    return buf.getvalue()


def cut_with_end_marker(data: bytes, keep: float = 0.6) -> bytes:
    """The first part of the scan data, then a proper end-of-image marker."""
    return data[: int(len(data) * keep)] + b"\xff\xd9"


@pytest.mark.parametrize(
    ("mode", "params"),
    [("RGB", {}), ("RGB", {"progressive": True}), ("L", {}), ("CMYK", {})],
    ids=["baseline", "progressive", "grey", "cmyk"],
)
def test_a_jpeg_whose_data_ends_early_is_incomplete(mode, params, tmp_path):
    source = tmp_path / "cut.jpg"
    source.write_bytes(cut_with_end_marker(jpeg(noisy(mode), **params)))
    out = tmp_path / "out"
    out.mkdir()
    with Image.open(source) as im:
        im.load()  # the premise: Pillow alone decodes it without a word
    with pytest.raises(CorruptMedia, match=r"damaged or incomplete.*premature end"):
        make_image_derivatives(source, out, THUMB, OPTIMIZED)
    assert os.listdir(out) == []


def test_large_jpegs_cut_short_are_caught_at_dct_scale(tmp_path):
    source = tmp_path / "big.jpg"
    source.write_bytes(cut_with_end_marker(jpeg(noisy(size=(4000, 3000))), keep=0.97))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CorruptMedia, match="premature end"):
        make_image_derivatives(source, out, THUMB, DerivativeSpec(900, "jpeg", 85))


def test_harmless_jpeg_warnings_still_give_an_image(tmp_path):
    data = jpeg(noisy())
    # Two stray bytes before the end marker: libjpeg warns, the image is whole.
    source = tmp_path / "stray.jpg"
    source.write_bytes(data[:-2] + b"\x00\x00" + data[-2:])
    out = tmp_path / "out"
    out.mkdir()
    result = make_image_derivatives(source, out, THUMB, OPTIMIZED)
    assert (result.width, result.height) == (800, 600)


def test_grey_and_rgb_jpegs_decode_to_the_same_pixels_as_pillow(tmp_path):
    for mode in ("RGB", "L"):
        im = noisy(mode, (640, 480))
        source = tmp_path / f"{mode}.jpg"
        source.write_bytes(jpeg(im))
        out = tmp_path / f"out-{mode}"
        out.mkdir()
        result = make_image_derivatives(source, out, THUMB, OPTIMIZED, always_optimize=True)
        with Image.open(result.optimized_path) as made, Image.open(source) as original:
            made, original = made.convert("RGB"), original.convert("RGB")
            diff = max(abs(a - b) for a, b in zip(made.tobytes(), original.tobytes()))
        assert diff < 40, mode  # a re-encode at quality 85, not another picture


@pytest.fixture
def heic() -> bytes:
    return shared_data("camera-samples", "heic", "IMG_5195.HEIC").read_bytes()


@pytest.mark.parametrize("keep", [0.6, 0.95, 0.999])
def test_a_cut_off_heic_is_incomplete(heic, keep, tmp_path):
    source = tmp_path / "cut.heic"
    source.write_bytes(heic[: int(len(heic) * keep)])
    out = tmp_path / "out"
    out.mkdir()
    with Image.open(source) as im:
        im.load()  # the premise: libheif decodes it, inventing the rest
    with pytest.raises(CorruptMedia, match="incomplete: the file ends after"):
        make_image_derivatives(source, out, THUMB, OPTIMIZED)
    assert os.listdir(out) == []


def test_whole_heif_files_pass(heic, tmp_path):
    source = tmp_path / "whole.heic"
    source.write_bytes(heic)
    check_isobmff_complete(source)
    made = tmp_path / "made.heic"
    noisy(size=(300, 200)).save(made, "HEIF", quality=80)
    check_isobmff_complete(made)
    avif = tmp_path / "made.avif"
    noisy(size=(300, 200)).save(avif, "AVIF", quality=80)
    check_isobmff_complete(avif)
    # A pillow-heif file cut short is caught too (its item data sits in mdat).
    cut = tmp_path / "cut.heic"
    cut.write_bytes(made.read_bytes()[:-100])
    with pytest.raises(CorruptMedia, match="incomplete"):
        check_isobmff_complete(cut)


def _iloc_item(meta_box: bytes) -> int:
    return meta_box.index(b"iloc")


def test_an_item_placed_past_the_end_of_the_file_is_incomplete(heic, tmp_path):
    """The mdat box is whole, but iloc says an item lies beyond the file."""
    data = bytearray(heic)
    at = data.index(b"iloc") - 4
    version = data[at + 8]
    sizes = data[at + 12]
    offset_size = sizes >> 4
    assert version in (0, 1) and offset_size == 4  # what this iPhone file uses
    # First item's first extent offset: after item id, [method], dref, base, extent count.
    base_size = data[at + 13] >> 4
    index_size = (data[at + 13] & 0x0F) if version else 0
    item_at = at + 14 + 2
    field = item_at + 2 + (2 if version else 0) + 2 + base_size + 2 + index_size
    struct.pack_into(">I", data, field, len(data) + 10)
    source = tmp_path / "moved.heic"
    source.write_bytes(bytes(data))
    with pytest.raises(CorruptMedia, match="incomplete"):
        check_isobmff_complete(source)


def test_hostile_heif_headers_only_ever_raise_media_errors(heic, tmp_path):
    meta_end = heic.index(b"mdat") - 4
    rng = random.Random(7)
    source = tmp_path / "fuzz.heic"
    for _ in range(300):
        data = bytearray(heic[:meta_end] + heic[meta_end : meta_end + 64])
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        source.write_bytes(bytes(data))
        try:
            check_isobmff_complete(source)
        except MediaError:
            pass
    # A box claiming 2**64-1 bytes, a box smaller than its header, a huge meta box.
    for blob in (
        struct.pack(">I4sQ", 1, b"mdat", 2**64 - 1),
        struct.pack(">I4s", 4, b"ftyp"),
        struct.pack(">I4s", 0xFFFFFFFF, b"meta") + b"\0" * 64,
    ):
        source.write_bytes(blob)
        with pytest.raises(CorruptMedia):
            check_isobmff_complete(source)


@pytest.mark.timeout(10)
def test_an_item_table_that_never_advances_is_refused_quickly(tmp_path):
    """iloc with every field size 0 and 20,000 items of 65,535 extents each: 1.3 billion
    loop turns that read nothing, unless the number of extents is bounded."""
    items = struct.pack(">IHHH", 1, 0, 0, 0xFFFF) * 20_000  # id, method, dref, extents
    payload = struct.pack(">B3xBBI", 2, 0, 0, 20_000) + items
    iloc = struct.pack(">I4s", 8 + len(payload), b"iloc") + payload
    meta = struct.pack(">I4s", 12 + len(iloc), b"meta") + b"\0" * 4 + iloc
    source = tmp_path / "slow.heic"
    source.write_bytes(struct.pack(">I4s4s", 12, b"ftyp", b"heic") + meta)
    with pytest.raises(CorruptMedia, match="implausibly long"):
        check_isobmff_complete(source)
