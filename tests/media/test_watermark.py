"""media/watermark.py on real images and the installed DejaVu fonts: where stamps go,
that they stay inside the picture, opacity, and hostile settings and files."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from media import watermark
from media.watermark import WatermarkError, WatermarkSpec, apply_watermark, render_watermarked


def _changed_box(before: Image.Image, after: Image.Image):
    return ImageChops.difference(before, after).getbbox()


@pytest.mark.parametrize("position", [p for p in watermark.POSITIONS if p != "tiled"])
def test_each_position_stamps_its_ninth(position):
    base = Image.new("RGB", (900, 600), (40, 90, 160))
    after = apply_watermark(base.copy(), WatermarkSpec(text="Atrium", position=position,
                                                       opacity=100, text_size=10))
    left, top, right, bottom = _changed_box(base, after)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    vertical, _, horizontal = position.partition("-") if "-" in position else (position, "", position)
    expect_x = {"left": 0, "right": 2}.get(horizontal, 1)
    expect_y = {"top": 0, "bottom": 2}.get(vertical, 1)
    assert (int(cx // 300), int(cy // 200)) == (expect_x, expect_y)


def test_tiled_covers_the_picture_and_long_text_stays_inside():
    base = Image.new("RGB", (1200, 800), (200, 200, 200))
    tiled = apply_watermark(base.copy(), WatermarkSpec(text="©", position="tiled", opacity=100))
    for x0, y0 in ((0, 0), (600, 0), (0, 400), (600, 400)):  # every quarter has stamps
        assert _changed_box(base.crop((x0, y0, x0 + 600, y0 + 400)),
                            tiled.crop((x0, y0, x0 + 600, y0 + 400)))
    wide = apply_watermark(base.copy(), WatermarkSpec(text="A very long watermark text " * 3,
                                                      text_size=40, margin=2, opacity=100))
    left, _, right, _ = _changed_box(base, wide)
    assert left >= 20 and right <= 1200 - 20  # shrunk to fit between the margins


def test_opacity_zero_leaves_the_pixels_alone():
    base = Image.new("RGB", (400, 300), (10, 200, 30))
    assert _changed_box(base, apply_watermark(base.copy(), WatermarkSpec(text="x", opacity=0))) is None


def test_hostile_settings_and_files(tmp_path):
    base = Image.new("RGB", (400, 300))
    with pytest.raises(WatermarkError):
        apply_watermark(base, WatermarkSpec(text="x", color="javascript:"))
    with pytest.raises(WatermarkError):
        apply_watermark(base, WatermarkSpec(text="x", font="../../etc/passwd"))
    with pytest.raises(WatermarkError):
        apply_watermark(base, WatermarkSpec(text="x", position="off-canvas"))
    jpeg = tmp_path / "stamp.png"
    Image.new("RGB", (50, 50)).save(jpeg, "JPEG")  # a JPEG named .png
    with pytest.raises(WatermarkError):
        apply_watermark(base, WatermarkSpec(image_path=str(jpeg)))
    huge = tmp_path / "huge.png"
    Image.new("RGBA", (3000, 10)).save(huge)
    with pytest.raises(WatermarkError):
        apply_watermark(base, WatermarkSpec(image_path=str(huge)))
    src = tmp_path / "src.jpg"
    base.save(src)
    with pytest.raises(WatermarkError):  # nothing to stamp: never a silent clean copy
        render_watermarked(str(src), str(tmp_path / "out.jpg"), WatermarkSpec(), max_side=None)


def test_render_fits_and_writes_atomically(tmp_path):
    src = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 3000), (90, 120, 30)).save(src, quality=90)
    out = tmp_path / "wm.jpg"
    made = render_watermarked(str(src), str(out), WatermarkSpec(text="Atrium"), max_side=1920,
                              upright=True)
    assert (made["width"], made["height"]) == (1920, 1440)
    with Image.open(out) as written:
        assert written.size == (1920, 1440)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
