"""EXIF orientation, decided per format: every decoder's output ends up upright exactly once.

One asymmetric image (four coloured quadrants) is saved with each of the 8 orientations
in every format a camera or phone writes; the derivatives must show what
ImageOps.exif_transpose shows for the same pixels, and the sizes must be the upright ones.
TIFF is the trap: Pillow's TIFF reader already turns the pixels upright itself.
"""

import io

import pytest
from PIL import Image, ImageOps

from media.images import DerivativeSpec, image_dimensions, make_image_derivatives
from media.metadata import read_image_metadata
from tests.media.conftest import quadrants

pytestmark = pytest.mark.usefixtures("image_worker")

THUMB = DerivativeSpec(320, "jpeg", 95)
OPTIMIZED = DerivativeSpec(1920, "jpeg", 95)
SOURCE = (400, 200)  # stored landscape, so 5-8 must come out portrait
FORMATS = {
    "jpg": {"format": "JPEG", "quality": 95},
    "tif": {"format": "TIFF"},
    "png": {"format": "PNG"},
    "webp": {"format": "WEBP", "quality": 95},
    "heic": {"format": "HEIF", "quality": 95},
    "avif": {"format": "AVIF", "quality": 95},
}


def _save(path, fmt: str, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    params = dict(FORMATS[fmt])
    # pillow-heif reads the orientation from EXIF bytes (not an Exif object) and writes it
    # as the container's irot/imir, as phones do.
    params["exif"] = exif.tobytes()
    quadrants(*SOURCE).save(path, **params)


def _expected(orientation: int) -> Image.Image:
    exif = Image.Exif()
    exif[0x0112] = orientation
    im = quadrants(*SOURCE)
    im.info["exif"] = exif.tobytes()
    return ImageOps.exif_transpose(im)


def _samples(im: Image.Image) -> list[tuple]:
    """Colours at the centres of a 4x4 grid: enough to tell all 8 orientations apart."""
    im = im.convert("RGB")
    w, h = im.size
    return [im.getpixel((w * (2 * i + 1) // 8, h * (2 * j + 1) // 8)) for j in range(4) for i in range(4)]


def _close(a, b, tolerance=24) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_orientation_of_every_format_is_upright_once(fmt, orientation, tmp_path):
    source = tmp_path / f"o{orientation}.{fmt}"
    _save(source, fmt, orientation)
    out = tmp_path / "out"
    out.mkdir()
    expected = _expected(orientation)
    upright = expected.size  # (400, 200) for 1-4, (200, 400) for 5-8

    result = make_image_derivatives(source, out, THUMB, OPTIMIZED)

    assert (result.width, result.height) == upright
    assert image_dimensions(source) == upright
    metadata = read_image_metadata(source)
    assert (metadata.camera.width, metadata.camera.height) == upright
    assert (metadata.camera.orientation or 1) == orientation  # AVIF drops a tag of 1
    made = [result.thumbnail_path] + ([result.optimized_path] if result.optimized_path else [])
    for path in made:
        with Image.open(path) as im:
            im.load()
            assert (im.width > im.height) == (upright[0] > upright[1]), path
            got = _samples(im)
        want = _samples(expected)
        mismatched = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if not _close(g, w)]
        assert not mismatched, f"{fmt} orientation {orientation}: {path} differs at {mismatched}"


def test_the_tiff_reader_is_the_one_that_turns_pixels(tmp_path):
    """The premise of DECODER_ORIENTS: if Pillow stops transposing TIFFs, this says so."""
    buf = io.BytesIO()
    _save(buf, "tif", 6)
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        assert im.size == (200, 400)
        im.load()
        assert im.size == (200, 400)
