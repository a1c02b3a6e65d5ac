import random
import shutil
import subprocess
import zipfile

import pytest
from PIL import Image

from media.errors import UnsupportedMedia
from media.sniff import (
    DEFAULT_ALLOWED_EXTENSIONS,
    KINDS,
    MIME_TYPES,
    Sniffed,
    check_allowed,
    is_inline_safe,
    sniff,
)

pytestmark = pytest.mark.usefixtures("image_worker")

# name, ffmpeg output arguments, libmagic's possible answers, kind, extension
FFMPEG_FILES = [
    ("clip.mp4", ["-c:v", "libx264", "-c:a", "aac"], {"video/mp4"}, "video", "mp4"),
    ("clip.mov", ["-c:v", "libx264", "-c:a", "aac"], {"video/quicktime"}, "video", "mov"),
    ("clip.m4v", ["-c:v", "libx264", "-c:a", "aac"], {"video/x-m4v"}, "video", "m4v"),
    ("clip.mkv", ["-c:v", "libx264", "-c:a", "aac"], {"video/x-matroska"}, "video", "mkv"),
    ("clip.webm", ["-c:v", "libvpx", "-c:a", "libopus"], {"video/webm"}, "video", "webm"),
    ("clip.avi", ["-c:v", "mpeg4", "-c:a", "mp3"], {"video/x-msvideo"}, "video", "avi"),
    ("clip.ogv", ["-c:v", "libtheora", "-an"], {"video/ogg"}, "video", "ogg"),
    ("tone.mp3", ["-vn"], {"audio/mpeg"}, "audio", "mp3"),
    ("tone.m4a", ["-vn", "-c:a", "aac"], {"audio/x-m4a", "audio/mp4"}, "audio", "m4a"),
    (
        "tone.aac",
        ["-vn", "-c:a", "aac", "-f", "adts"],
        {"audio/x-hx-aac-adts", "audio/aac", "audio/x-aac"},
        "audio",
        "aac",
    ),
    ("tone.wav", ["-vn"], {"audio/x-wav", "audio/wav"}, "audio", "wav"),
    ("tone.ogg", ["-vn", "-c:a", "libvorbis"], {"audio/ogg"}, "audio", "ogg"),
    ("tone.opus", ["-vn", "-c:a", "libopus", "-f", "ogg"], {"audio/ogg"}, "audio", "ogg"),
    ("tone.flac", ["-vn"], {"audio/flac", "audio/x-flac"}, "audio", "flac"),
]


@pytest.fixture(scope="module")
def media_files(tmp_path_factory):
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed")
    folder = tmp_path_factory.mktemp("sniff")
    source = [
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=0.3",
        "-f", "lavfi", "-i", "sine=duration=0.3",
        "-shortest", "-pix_fmt", "yuv420p",
    ]  # fmt: skip
    for name, args, *_ in FFMPEG_FILES:
        cmd = ["ffmpeg", "-v", "error", "-y", *source, *args, str(folder / name)]
        subprocess.run(cmd, check=True, timeout=60, capture_output=True)
    return folder


@pytest.mark.parametrize(("name", "args", "mimes", "kind", "extension"), FFMPEG_FILES)
def test_video_and_audio_files_sniff_by_content(media_files, name, args, mimes, kind, extension):
    found = sniff(media_files / name)
    assert found.mime in mimes, found
    assert (found.kind, found.extension) == (kind, extension)
    check_allowed(found, DEFAULT_ALLOWED_EXTENSIONS)


def test_every_camera_sample_sniffs_as_an_allowed_image(camera_sample):
    found = sniff(camera_sample)
    assert found.kind == "image", found
    assert found.extension in {"jpg", "tif", "heic"}
    assert found.mime in MIME_TYPES
    check_allowed(found, DEFAULT_ALLOWED_EXTENSIONS)


def test_heic_and_heif_samples_both_count_as_heic(samples):
    for path in (samples / "heic").iterdir():
        found = sniff(path)
        assert found.mime in {"image/heic", "image/heif"}
        assert found.extension == "heic"


@pytest.mark.parametrize(
    ("fmt", "mime", "extension"),
    [
        ("JPEG", "image/jpeg", "jpg"),
        ("PNG", "image/png", "png"),
        ("GIF", "image/gif", "gif"),
        ("WEBP", "image/webp", "webp"),
        ("TIFF", "image/tiff", "tif"),
    ],
)
def test_images_sniff_by_content_whatever_their_name(tmp_path, fmt, mime, extension):
    path = tmp_path / "holiday.txt"
    Image.new("RGB", (8, 8), "red").save(path, fmt)
    assert sniff(path) == Sniffed(mime, "image", extension, sniff(path).description)


def test_pdf_is_a_document(tmp_path):
    path = tmp_path / "doc.jpg"
    Image.new("RGB", (8, 8)).save(path, "PDF")
    found = sniff(path)
    assert (found.mime, found.kind, found.extension) == ("application/pdf", "document", "pdf")
    assert "PDF document" in found.description


TEXT_FILES = [
    ("notes.jpg", b"hello\nworld\n", "text/plain", "document", "txt"),
    (
        "page.jpg",
        (
            b"<!DOCTYPE html><html><head><title>x</title></head>"
            b"<body><script>alert(1)</script></body></html>"
        ),
        "text/html",
        "document",
        "html",
    ),
    (
        "logo.jpg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "image/svg+xml",
        "document",
        "svg",
    ),
    ("data.jpg", b'<?xml version="1.0"?>\n<root><a>1</a></root>\n', "text/xml", "document", "xml"),
]


@pytest.mark.parametrize(("name", "data", "mime", "kind", "extension"), TEXT_FILES)
def test_text_formats_sniff_by_content(write_bytes, name, data, mime, kind, extension):
    found = sniff(write_bytes(name, data))
    assert (found.mime, found.kind, found.extension) == (mime, kind, extension)


def test_zip_random_bytes_and_empty_files(tmp_path, write_bytes):
    archive = tmp_path / "photos.jpg"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", "hi")
    assert (sniff(archive).mime, sniff(archive).extension) == ("application/zip", "zip")

    noise = sniff(write_bytes("noise.jpg", random.Random(1).randbytes(4096)))
    assert (noise.mime, noise.kind, noise.extension) == ("application/octet-stream", "other", "")

    empty = sniff(write_bytes("empty.jpg", b""))
    assert empty.extension == ""
    with pytest.raises(UnsupportedMedia, match="empty"):
        check_allowed(empty, DEFAULT_ALLOWED_EXTENSIONS)


def test_html_named_jpg_is_rejected_with_its_real_type(write_bytes):
    found = sniff(write_bytes("cat.jpg", TEXT_FILES[1][1]))
    with pytest.raises(UnsupportedMedia) as err:
        check_allowed(found, DEFAULT_ALLOWED_EXTENSIONS)
    assert str(err.value).startswith("This file is text/html (HTML document")
    assert str(err.value).endswith("which this gallery does not accept.")


def test_allowed_list_is_per_gallery(write_bytes):
    found = sniff(write_bytes("logo.svg", TEXT_FILES[2][1]))
    with pytest.raises(UnsupportedMedia, match="image/svg"):
        check_allowed(found, DEFAULT_ALLOWED_EXTENSIONS)
    check_allowed(found, [".SVG"])


def test_default_allowed_extensions_all_map_from_some_mime_type():
    known = {extension for _, extension in MIME_TYPES.values()}
    assert set(DEFAULT_ALLOWED_EXTENSIONS) <= known
    assert {kind for kind, _ in MIME_TYPES.values()} <= set(KINDS)


@pytest.mark.parametrize(
    "mime",
    [
        "text/html",
        "text/html; charset=utf-8",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "application/javascript",
        "text/javascript",
        "application/xhtml+xml",
        "application/octet-stream",
        "application/x-unknown",
        "image/x-unknown",
        "",
    ],
)
def test_script_capable_and_unknown_types_are_attachment_only(mime):
    assert not is_inline_safe(mime)


@pytest.mark.parametrize(
    "mime",
    [
        "image/jpeg",
        "image/png",
        "IMAGE/WEBP",
        "video/mp4",
        "audio/mpeg",
        "application/pdf",
        "text/plain",
    ],
)
def test_media_types_may_be_shown_inline(mime):
    assert is_inline_safe(mime)
