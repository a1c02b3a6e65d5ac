"""Fixtures for the image tests: the real camera samples and small crafted files."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from media.pool import init_worker
from tests.testdata import shared_data

SAMPLE_SUFFIXES = {".jpg", ".jpeg", ".tif", ".tiff", ".heic", ".heif"}
DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's default limit


def sample_files() -> list[Path]:
    files = sorted(
        p for p in shared_data("camera-samples").rglob("*")
        if p.is_file() and p.suffix.lower() in SAMPLE_SUFFIXES
    )
    if not files:
        pytest.fail(f"no camera samples in {shared_data('camera-samples')}", pytrace=False)
    return files


def pytest_generate_tests(metafunc):
    """Tests that take `camera_sample` run once per file in the samples folder."""
    if "camera_sample" in metafunc.fixturenames:
        root = shared_data("camera-samples")
        params = [pytest.param(p, id=str(p.relative_to(root))) for p in sample_files()]
        metafunc.parametrize("camera_sample", params)


@pytest.fixture
def samples() -> Path:
    return shared_data("camera-samples")


@pytest.fixture
def image_worker(monkeypatch):
    """This process set up like a pool worker; the pixel limit is restored afterwards."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    init_worker(DEFAULT_MAX_PIXELS)


@pytest.fixture
def out_dir(tmp_path) -> Path:
    path = tmp_path / "derivatives"
    path.mkdir()
    return path


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height RGB pixels (one empty IDAT)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


def quadrants(width: int = 400, height: int = 200) -> Image.Image:
    """Red top-left, blue top-right, green bottom-left, white bottom-right."""
    im = Image.new("RGB", (width, height), "white")
    im.paste((255, 0, 0), (0, 0, width // 2, height // 2))
    im.paste((0, 0, 255), (width // 2, 0, width, height // 2))
    im.paste((0, 255, 0), (0, height // 2, width // 2, height))
    return im


@pytest.fixture
def write_image(tmp_path):
    """write_image(name, image, **save_params) -> Path of the saved file."""

    def write(name: str, im: Image.Image, **params) -> Path:
        path = tmp_path / name
        im.save(path, **params)
        return path

    return write


@pytest.fixture
def write_bytes(tmp_path):
    def write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


def jpeg_bytes(im: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", **params)
    return buf.getvalue()


def jpeg_with_exif(tmp_path, exif: Image.Exif, name="exif.jpg"):
    path = tmp_path / name
    Image.new("RGB", (16, 16), "grey").save(path, "JPEG", exif=exif)
    return path


def assert_plain_json(value):
    if isinstance(value, dict):
        assert all(isinstance(k, str) for k in value)
        for v in value.values():
            assert_plain_json(v)
    elif isinstance(value, list):
        for v in value:
            assert_plain_json(v)
    else:
        assert value is None or isinstance(value, str | int | float | bool), repr(value)
