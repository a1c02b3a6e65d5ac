import io
import os
import random
import struct
import time
import warnings

import pytest
from PIL import Image, ImageCms, JpegImagePlugin

from media import images
from media.errors import CorruptMedia, MediaError, MediaTooLarge, UnsupportedMedia
from media.images import (
    DerivativeSpec,
    ImageDerivatives,
    image_dimensions,
    make_image_derivatives,
)
from media.pool import make_process_pool
from tests.media.conftest import jpeg_bytes, png_declaring, quadrants

pytestmark = pytest.mark.usefixtures("image_worker")

THUMB = DerivativeSpec(320, "jpeg", 85)
OPTIMIZED = DerivativeSpec(1920, "jpeg", 85)
# Seeded: libmagic reads some random byte strings as PGP keys or DOS programs.
NOISE = random.Random(1).randbytes(20_000)
RED, BLUE, GREEN, WHITE = (255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 255, 255)


def near(actual, expected, tolerance=12):
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def corners(im: Image.Image) -> tuple:
    """Colours at the centres of the four quadrants: TL, TR, BL, BR."""
    im = im.convert("RGB")
    w, h = im.size
    return tuple(im.getpixel((x, y)) for y in (h // 4, 3 * h // 4) for x in (w // 4, 3 * w // 4))


def exif_with(**tags) -> Image.Exif:
    exif = Image.Exif()
    for name, value in tags.items():
        exif[getattr(Image.ExifTags.Base, name)] = value
    return exif


def assert_clean(path):
    """A derivative carries no metadata of the original."""
    with Image.open(path) as im:
        assert not im.getexif(), f"{path} has EXIF"
        assert "icc_profile" not in im.info or not im.info["icc_profile"]
        assert "xmp" not in im.info and "comment" not in im.info
        im.load()


def leftovers(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".")]


# ------------------------------------------------------------------ real files


def test_every_camera_sample_gets_clean_derivatives(camera_sample, out_dir):
    result = make_image_derivatives(camera_sample, out_dir, THUMB, OPTIMIZED)
    assert max(result.thumbnail_width, result.thumbnail_height) <= THUMB.max_side
    assert result.thumbnail_path == str(out_dir / "thumbnail.jpg")
    with Image.open(result.thumbnail_path) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (result.thumbnail_width, result.thumbnail_height)
    assert_clean(result.thumbnail_path)
    if camera_sample.suffix.lower() in {".heic", ".heif", ".tif", ".tiff"}:
        assert result.optimized_path == str(out_dir / "optimized.jpg")
    if result.optimized_path:
        assert_clean(result.optimized_path)
        with Image.open(result.optimized_path) as opt:
            assert opt.size == (result.optimized_width, result.optimized_height)
    assert (result.width, result.height) == image_dimensions(camera_sample)
    assert leftovers(out_dir) == []


def test_heic_from_an_iphone_is_made_browser_ready(samples, out_dir):
    result = make_image_derivatives(samples / "heic" / "IMG_5195.HEIC", out_dir, THUMB, OPTIMIZED)
    assert (result.width, result.height) == (2566, 3313)
    assert (result.optimized_width, result.optimized_height) == (1487, 1920)
    assert (result.thumbnail_width, result.thumbnail_height) == (248, 320)


def test_display_p3_is_converted_to_srgb(samples, write_image, out_dir):
    # The iPhone sample's Display P3 profile, embedded into a flat orange picture.
    with Image.open(samples / "heic" / "IMG_5195.HEIC") as heic:
        p3 = heic.info["icc_profile"]
    source = write_image("p3.png", Image.new("RGB", (64, 64), (230, 120, 40)), icc_profile=p3)
    result = make_image_derivatives(source, out_dir, THUMB, OPTIMIZED, always_optimize=True)
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), (230, 120, 40)),
        ImageCms.ImageCmsProfile(io.BytesIO(p3)),
        ImageCms.createProfile("sRGB"),
        renderingIntent=ImageCms.Intent.PERCEPTUAL,
    ).getpixel((0, 0))
    assert not near(expected, (230, 120, 40), 5), "P3 and sRGB should differ for this colour"
    with Image.open(result.optimized_path) as opt:
        assert near(opt.getpixel((32, 32)), expected, 3)
    assert_clean(result.optimized_path)


def test_a_profile_that_does_not_fit_the_pixels_is_ignored(write_image, out_dir):
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    source = write_image("lab.jpg", Image.new("RGB", (40, 30), (10, 200, 30)), icc_profile=lab)
    result = make_image_derivatives(source, out_dir, THUMB, OPTIMIZED, always_optimize=True)
    with Image.open(result.optimized_path) as opt:
        assert near(opt.getpixel((20, 15)), (10, 200, 30))
    assert_clean(result.optimized_path)


# ------------------------------------------------------------------ when to optimize


def test_small_browser_image_serves_as_its_own_web_copy(write_image, out_dir):
    source = write_image("small.jpg", quadrants(800, 600), quality=90)
    result = make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)
    assert result.optimized_path is None
    assert (result.optimized_width, result.optimized_height) == (None, None)
    assert (result.thumbnail_width, result.thumbnail_height) == (320, 240)
    assert sorted(os.listdir(out_dir)) == ["thumbnail.jpg"]
    assert result.to_dict()["optimized_path"] is None


def spy_on_jpeg_decodes(monkeypatch) -> list:
    """[((min_width, min_height), decoded (width, height))] of every JPEG pixel decode,
    whether through libjpeg-turbo (media.integrity) or Pillow's draft."""
    import simplejpeg

    decodes = []
    real_decode = simplejpeg.decode_jpeg

    def decode(data, **kwargs):
        pixels = real_decode(data, **kwargs)
        decodes.append(((kwargs["min_width"], kwargs["min_height"]), pixels.shape[1::-1]))
        return pixels

    real_draft = JpegImagePlugin.JpegImageFile.draft

    def draft(self, mode, size):
        result = real_draft(self, mode, size)
        decodes.append((size, self.size))
        return result

    monkeypatch.setattr(simplejpeg, "decode_jpeg", decode)
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    return decodes


def test_large_jpeg_is_decoded_at_dct_scale_once(write_image, out_dir, monkeypatch):
    source = write_image("large.jpg", quadrants(4000, 2000), quality=90)
    decodes = spy_on_jpeg_decodes(monkeypatch)
    spec = DerivativeSpec(900, "jpeg", 85)
    result = make_image_derivatives(source, out_dir, THUMB, spec)
    assert decodes == [((1000, 500), (1000, 500))]  # 1/4 scale: the last not below 900x450
    assert (result.optimized_width, result.optimized_height) == (900, 450)
    assert (result.thumbnail_width, result.thumbnail_height) == (320, 160)
    with Image.open(result.optimized_path) as opt:
        assert [near(c, e) for c, e in zip(corners(opt), (RED, BLUE, GREEN, WHITE))] == [True] * 4


def test_jpeg_decodes_at_a_power_of_two_scale_not_the_closest_m_8(
    write_image, out_dir, monkeypatch
):
    # 4000 -> 1400: libjpeg-turbo's 3/8 scale (1500 px) is closer, but it has no SIMD path
    # and decodes slower than 1/2; the resize from 2000 px does the rest.
    source = write_image("large.jpg", quadrants(4000, 2000), quality=90)
    decodes = spy_on_jpeg_decodes(monkeypatch)
    result = make_image_derivatives(source, out_dir, THUMB, DerivativeSpec(1400, "jpeg", 85))
    assert decodes == [((2000, 1000), (2000, 1000))]
    assert (result.optimized_width, result.optimized_height) == (1400, 700)


def test_exif_orientation_6_turns_the_derivatives_upright(write_image, out_dir, monkeypatch):
    # Stored 4000x2000 sideways; orientation 6 means "turn 90 degrees clockwise to view".
    source = write_image("side.jpg", quadrants(4000, 2000), exif=exif_with(Orientation=6))
    decodes = spy_on_jpeg_decodes(monkeypatch)
    result = make_image_derivatives(source, out_dir, THUMB, DerivativeSpec(1000, "jpeg", 85))
    # The decoder sees the stored pixels: the draft target is 1000 wide, not 500.
    assert [target for target, _decoded in decodes] == [(1000, 500)]
    assert (result.width, result.height) == (2000, 4000)
    assert (result.optimized_width, result.optimized_height) == (500, 1000)
    assert (result.thumbnail_width, result.thumbnail_height) == (160, 320)
    assert image_dimensions(source) == (2000, 4000)
    # Turned clockwise: bottom-left (green) goes to top-left, top-left (red) to top-right.
    for path in (result.optimized_path, result.thumbnail_path):
        with Image.open(path) as im:
            got = corners(im)
        assert [near(c, e) for c, e in zip(got, (GREEN, RED, WHITE, BLUE))] == [True] * 4
        assert_clean(path)


def test_user_rotation_and_flip_apply_after_exif_orientation(write_image, out_dir):
    source = write_image("quad.png", quadrants(400, 200))
    result = make_image_derivatives(source, out_dir, THUMB, OPTIMIZED, rotate=90, flip="horizontal")
    assert result.optimized_path is not None, "a rotation always needs its own web copy"
    assert (result.width, result.height) == (400, 200)
    assert (result.optimized_width, result.optimized_height) == (200, 400)
    with Image.open(result.optimized_path) as opt:
        # rotate 90 clockwise: green red / white blue; then mirror: red green / blue white
        assert [near(c, e) for c, e in zip(corners(opt), (RED, GREEN, BLUE, WHITE))] == [True] * 4


def test_rotation_must_be_a_right_angle(write_image, out_dir):
    source = write_image("quad.png", quadrants(40, 20))
    with pytest.raises(ValueError):
        make_image_derivatives(source, out_dir, THUMB, OPTIMIZED, rotate=45)
    with pytest.raises(ValueError):
        make_image_derivatives(source, out_dir, THUMB, OPTIMIZED, flip="diagonal")


def test_metadata_of_the_original_is_not_copied(write_image, out_dir):
    exif = exif_with(Make="Canon", Model="EOS", Orientation=1)
    source = write_image(
        "meta.jpg",
        quadrants(2400, 1200),
        exif=exif,
        comment=b"secret",
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>",
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    result = make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)
    assert_clean(result.thumbnail_path)
    assert_clean(result.optimized_path)


# ------------------------------------------------------------------ modes


def test_cmyk_jpeg_becomes_rgb(write_image, out_dir):
    source = write_image("cmyk.jpg", Image.new("CMYK", (300, 200), (0, 255, 255, 0)))
    result = make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)
    assert result.optimized_path, "CMYK JPEGs always get an RGB web copy"
    for path in (result.optimized_path, result.thumbnail_path):
        with Image.open(path) as im:
            assert im.mode == "RGB"
            assert near(im.getpixel((10, 10)), RED, 20)


def test_png_alpha_is_flattened_on_white_for_jpeg_and_kept_for_webp(write_image, tmp_path):
    im = Image.new("RGBA", (400, 200), (0, 0, 255, 255))
    im.paste((0, 0, 0, 0), (200, 0, 400, 200))
    source = write_image("alpha.png", im)

    jpeg_dir = tmp_path / "jpeg"
    jpeg_dir.mkdir()
    result = make_image_derivatives(source, jpeg_dir, THUMB, OPTIMIZED)
    with Image.open(result.thumbnail_path) as thumb:
        assert thumb.mode == "RGB"
        assert near(thumb.getpixel((40, 80)), BLUE) and near(thumb.getpixel((280, 80)), WHITE)

    webp_dir = tmp_path / "webp"
    webp_dir.mkdir()
    webp = DerivativeSpec(320, "webp", 80)
    result = make_image_derivatives(source, webp_dir, webp, webp, always_optimize=True)
    assert result.thumbnail_path.endswith("thumbnail.webp")
    assert result.optimized_path.endswith("optimized.webp")
    with Image.open(result.thumbnail_path) as thumb:
        assert thumb.format == "WEBP" and thumb.mode == "RGBA"
        assert thumb.getpixel((280, 80))[3] == 0 and thumb.getpixel((40, 80))[3] == 255


def test_16_bit_grey_png_keeps_its_tones(write_image, out_dir):
    row = struct.pack("<128H", *[32768] * 128) + struct.pack("<128H", *[65535] * 128)
    im = Image.frombytes("I;16", (256, 64), row * 64)
    assert im.getpixel((0, 0)) == 32768
    source = write_image("grey16.png", im)
    result = make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)
    with Image.open(result.thumbnail_path) as thumb:
        assert near(thumb.convert("RGB").getpixel((32, 32)), (128, 128, 128), 4)
        assert near(thumb.convert("RGB").getpixel((220, 32)), (255, 255, 255), 4)


def test_palette_gif_with_transparency(write_image, out_dir):
    im = Image.new("P", (100, 50), 0)
    im.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    im.paste(1, (50, 0, 100, 50))
    source = write_image("pal.gif", im, transparency=1)
    result = make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)
    with Image.open(result.thumbnail_path) as thumb:
        assert near(thumb.getpixel((10, 10)), RED) and near(thumb.getpixel((90, 10)), WHITE)


# ------------------------------------------------------------------ files on disk


def test_new_format_replaces_old_derivatives(write_image, out_dir):
    source = write_image("big.jpg", quadrants(2400, 1200))
    webp = DerivativeSpec(320, "webp", 80)
    make_image_derivatives(source, out_dir, webp, DerivativeSpec(1920, "webp", 80))
    assert sorted(os.listdir(out_dir)) == ["optimized.webp", "thumbnail.webp"]
    (out_dir / "poster.jpg").write_bytes(b"not ours")
    make_image_derivatives(source, out_dir, THUMB, DerivativeSpec(3000, "jpeg", 85))
    assert sorted(os.listdir(out_dir)) == ["poster.jpg", "thumbnail.jpg"]


def test_a_failed_encode_leaves_nothing_half_written(write_image, out_dir, monkeypatch):
    source = write_image("big.jpg", quadrants(2400, 1200))
    make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)
    before = {name: (out_dir / name).read_bytes() for name in os.listdir(out_dir)}
    real_write = images._write_temp

    def fail_on_thumbnail(im, spec, folder, stem):
        if stem == "thumbnail":
            raise ValueError("encoder exploded")
        return real_write(im, spec, folder, stem)

    monkeypatch.setattr(images, "_write_temp", fail_on_thumbnail)
    with pytest.raises(CorruptMedia, match="encoder exploded"):
        make_image_derivatives(source, out_dir, THUMB, OPTIMIZED, rotate=180)
    assert {name: (out_dir / name).read_bytes() for name in os.listdir(out_dir)} == before
    assert leftovers(out_dir) == []


def test_every_derivative_is_on_disk_before_it_is_renamed_into_place(
    write_image, out_dir, monkeypatch
):
    # A crash between the rename and the kernel's writeback would leave an empty file
    # where the record says a derivative is: each file is fsynced before its rename.
    source = write_image("big.jpg", quadrants(2400, 1200))
    synced, renamed = [], []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        real_fsync(fd)
        synced.append(os.fstat(fd).st_ino)

    def replace(src, dst):
        renamed.append((os.stat(src).st_ino, set(synced)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    make_image_derivatives(source, out_dir, THUMB, OPTIMIZED, always_optimize=True)
    assert len(renamed) == 2
    assert all(inode in synced_before for inode, synced_before in renamed)


def test_result_is_plain_data():
    result = ImageDerivatives(1, 2, "t.jpg", 1, 2, None, None, None)
    assert result.to_dict() == {
        "width": 1,
        "height": 2,
        "thumbnail_path": "t.jpg",
        "thumbnail_width": 1,
        "thumbnail_height": 2,
        "optimized_path": None,
        "optimized_width": None,
        "optimized_height": None,
    }


def test_derivative_spec_is_validated():
    with pytest.raises(ValueError):
        DerivativeSpec(320, "png", 80)
    with pytest.raises(ValueError):
        DerivativeSpec(0, "jpeg", 80)
    with pytest.raises(ValueError):
        DerivativeSpec(320, "jpeg", 101)


# ------------------------------------------------------------------ bad input


def test_truncated_jpeg_is_corrupt(write_bytes, out_dir):
    data = jpeg_bytes(quadrants(800, 600), quality=90)
    source = write_bytes("cut.jpg", data[: len(data) // 2])
    with pytest.raises(CorruptMedia, match="damaged or incomplete"):
        make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)
    assert os.listdir(out_dir) == []


def test_empty_file_is_corrupt(write_bytes, out_dir):
    with pytest.raises(CorruptMedia, match="empty"):
        make_image_derivatives(write_bytes("empty.jpg", b""), out_dir, THUMB, OPTIMIZED)
    with pytest.raises(CorruptMedia, match="empty"):
        image_dimensions(write_bytes("empty2.jpg", b""))


def test_random_bytes_named_jpg_are_not_an_image(write_bytes, out_dir):
    source = write_bytes("noise.jpg", NOISE)
    with pytest.raises(UnsupportedMedia, match="application/octet-stream"):
        make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)


def test_html_named_jpg_is_not_an_image(write_bytes, out_dir):
    source = write_bytes(
        "cat.jpg", b"<!DOCTYPE html><html><body><script>x()</script></body></html>"
    )
    with pytest.raises(UnsupportedMedia, match=r"text/html \(HTML document"):
        make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)


def test_jpeg_header_followed_by_garbage_is_corrupt(write_bytes, out_dir):
    data = jpeg_bytes(quadrants(80, 60))
    source = write_bytes("bad.jpg", data[:20] + os.urandom(2000))
    with pytest.raises(CorruptMedia):
        make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)


def test_png_declaring_30000_square_is_refused_before_decoding(write_bytes, out_dir):
    source = write_bytes("bomb.png", png_declaring(30000, 30000))
    assert source.stat().st_size < 100
    started = time.perf_counter()
    with pytest.raises(MediaTooLarge, match="900 megapixels; the limit is 89 megapixels"):
        make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)
    with pytest.raises(MediaTooLarge):
        image_dimensions(source)
    assert time.perf_counter() - started < 1
    assert os.listdir(out_dir) == []


@pytest.mark.parametrize("warnings_are_errors", [True, False])
def test_the_configured_pixel_limit_holds_between_one_and_two_times_it(
    write_image, out_dir, monkeypatch, warnings_are_errors
):
    # Pillow itself only warns between the limit and twice the limit.
    source = write_image("wide.png", Image.new("RGB", (150, 100)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if warnings_are_errors else "ignore")
        with pytest.raises(MediaTooLarge, match="limit"):
            make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)


def test_no_pillow_error_escapes(write_bytes, out_dir):
    bad_inputs = [
        b"\xff\xd8\xff\xe0" + os.urandom(500),
        b"\x89PNG\r\n\x1a\n" + os.urandom(500),
        b"GIF89a" + os.urandom(500),
        b"II*\x00" + os.urandom(500),
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + os.urandom(500),
        png_declaring(0, 10),
    ]
    for i, data in enumerate(bad_inputs):
        source = write_bytes(f"bad{i}.jpg", data)
        with pytest.raises(MediaError):
            make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)
    assert os.listdir(out_dir) == []


# ------------------------------------------------------------------ the pool


def _pool_settings():
    bomb_filters = [f[0] for f in warnings.filters if f[2] is Image.DecompressionBombWarning]
    return Image.MAX_IMAGE_PIXELS, bomb_filters, "HEIF" in Image.OPEN


def test_pool_workers_enforce_the_limit_and_read_heic(write_image, out_dir):
    small = write_image("ok.jpg", quadrants(100, 100))
    wide = write_image("wide.png", Image.new("RGB", (150, 100)))
    with make_process_pool(1, 12_000) as pool:
        assert pool.submit(_pool_settings).result() == (12_000, ["error"], True)
        result = pool.submit(make_image_derivatives, small, out_dir, THUMB, OPTIMIZED).result()
        assert result.thumbnail_width == 100
        with pytest.raises(MediaTooLarge):
            pool.submit(make_image_derivatives, wide, out_dir, THUMB, OPTIMIZED).result()


def test_damaged_exif_does_not_stop_derivatives(write_bytes, out_dir):
    exif = Image.Exif()
    exif[Image.ExifTags.Base.Orientation] = 6
    exif[Image.ExifTags.Base.Make] = "Fuzz"
    exif[Image.ExifTags.IFD.Exif] = {Image.ExifTags.Base.DateTimeOriginal: "2020:01:01 00:00:00"}
    block = exif.tobytes()
    base = jpeg_bytes(quadrants(200, 100))
    rng = random.Random(11)
    for i in range(40):
        damaged = bytearray(block)
        for _ in range(rng.randint(1, 12)):
            damaged[rng.randrange(6, len(damaged))] = rng.randrange(256)
        segment = b"\xff\xe1" + struct.pack(">H", len(damaged) + 2) + bytes(damaged)
        source = write_bytes(f"fuzz{i}.jpg", base[:2] + segment + base[2:])
        result = make_image_derivatives(source, out_dir, THUMB, OPTIMIZED)
        assert {(result.width, result.height)} <= {(200, 100), (100, 200)}
