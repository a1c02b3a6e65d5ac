"""media.resample (SIMD Lanczos-3) and the quality of the derivatives made with it."""

import io
import math

import pytest
import simplejpeg
from PIL import Image, ImageChops, ImageOps, ImageStat

from media import resample
from media.images import DerivativeSpec, make_image_derivatives
from media.pixels import fit
from tests.media.conftest import sample_files

pytestmark = pytest.mark.usefixtures("image_worker")


def psnr(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    squares = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).sum2
    mse = sum(squares) / (3 * a.width * a.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def photo_like(size=(1200, 800)) -> Image.Image:
    """Smooth shapes plus fine texture: something a filter can get right or wrong."""
    bands = [
        Image.blend(
            Image.linear_gradient("L").rotate(angle).resize(size),
            Image.effect_noise((size[0] // 8, size[1] // 8), 60).resize(
                size, Image.Resampling.BICUBIC
            ),
            0.5,
        )
        for angle in (0, 120, 240)
    ]
    return Image.merge("RGB", bands)


# ------------------------------------------------------------------ resize itself


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "CMYK", "LA", "F"])
@pytest.mark.parametrize("size", [(90, 60), (1, 1), (700, 500)])
def test_every_mode_comes_back_in_its_mode_at_the_asked_size(mode, size):
    source = photo_like((300, 200)).convert("RGBA" if "A" in mode else "RGB").convert(mode)
    out = resample.resize(source, size)
    assert (out.mode, out.size) == (mode, size)


def test_same_size_is_the_image_itself_and_a_zero_size_is_refused():
    im = photo_like((30, 20))
    assert resample.resize(im, (30, 20)) is im
    with pytest.raises(ValueError):
        resample.resize(im, (0, 20))


@pytest.mark.parametrize("target", [(100, 100), (10, 10)], ids=["filter only", "box first"])
def test_transparent_pixels_do_not_bleed_their_colour_into_visible_ones(target):
    # Hostile: the invisible half is pure red. Filtering without premultiplied alpha
    # (in the convolution, and in the box reduce() of large reductions) turns the
    # visible blue edge purple.
    im = Image.new("RGBA", (300, 300), (255, 0, 0, 0))
    im.paste((0, 0, 255, 255), (155, 0, 300, 300))  # not on a reduce() block edge
    out = resample.resize(im, target)
    for x in range(out.width):
        r, _g, b, a = out.getpixel((x, out.height // 2))
        if a > 8:
            assert r <= 8 and b >= 240, (x, out.getpixel((x, out.height // 2)))


def test_a_large_reduction_matches_the_full_filter():
    # 6x and more goes through a box reduce() first (as Pillow's reducing_gap does).
    im = photo_like((2400, 1600))
    exact = im.resize((200, 133), Image.Resampling.LANCZOS)
    assert psnr(exact, resample.resize(im, (200, 133))) > 40


def test_shrinking_is_lanczos_not_something_softer():
    im = photo_like()
    size = (480, 320)
    lanczos = im.resize(size, Image.Resampling.LANCZOS)
    ours = psnr(lanczos, resample.resize(im, size))
    bilinear = psnr(lanczos, im.resize(size, Image.Resampling.BILINEAR))
    assert ours > 45 and ours > bilinear + 5, (ours, bilinear)


# ------------------------------------------------------------------ derivative quality


def _big_jpeg_samples():
    """The camera JPEGs large enough to be scaled at decode and resized (20+ of them)."""
    out = []
    for path in sample_files():
        if path.suffix.lower() in (".jpg", ".jpeg"):
            with Image.open(path) as im:
                if max(im.size) >= 600:
                    out.append(path)
    return out


def _reference(path, side: int) -> Image.Image:
    """Full decode, upright, Pillow's Lanczos: what the derivatives are measured against."""
    with Image.open(path) as im:
        upright = ImageOps.exif_transpose(im).convert("RGB")
    return upright.resize(fit(upright.size, side), Image.Resampling.LANCZOS)


def _before(path, side: int, quality: int) -> Image.Image:
    """The pipeline as it was: the closest libjpeg-turbo scale not below the target,
    Pillow's antialiased bicubic, then upright; encoded as the derivative is."""
    with Image.open(path) as im:
        target = fit(im.size, side)
        exif = im.getexif().tobytes()
    pixels = simplejpeg.decode_jpeg(
        path.read_bytes(), colorspace="RGB", min_width=target[0], min_height=target[1]
    )
    small = Image.fromarray(pixels).resize(target, Image.Resampling.BICUBIC, reducing_gap=3.0)
    small.info["exif"] = exif
    small = ImageOps.exif_transpose(small)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_camera_samples_come_out_closer_to_lanczos_than_before(tmp_path):
    # Quality 100, so the encoder's own loss does not hide the resampling's.
    side, quality = 400, 100
    worse, gains = [], []
    for path in _big_jpeg_samples():
        out_dir = tmp_path / path.stem
        out_dir.mkdir()
        result = make_image_derivatives(
            path,
            out_dir,
            DerivativeSpec(160),
            DerivativeSpec(side, "jpeg", quality),
            always_optimize=True,
        )
        reference = _reference(path, side)
        with Image.open(result.optimized_path) as now:
            now_db = psnr(reference, now)
        before_db = psnr(reference, _before(path, side, quality))
        gains.append(now_db - before_db)
        if now_db < before_db:
            worse.append(f"{path.name}: {now_db:.2f} dB now, {before_db:.2f} dB before")
    assert len(gains) >= 20, "the camera samples are missing"
    assert not worse
    # Measured: +0 (same scale, no resize) to +8 dB, +3.2 dB on average.
    assert sum(gains) / len(gains) > 1, gains
