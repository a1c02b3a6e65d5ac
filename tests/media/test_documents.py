"""media.documents (PDF first page, text preview) and media.icons."""

from __future__ import annotations

import os
import time

import pytest
from PIL import Image

from media import icons
from media.documents import read_text_preview, render_pdf_first_page
from media.errors import ToolFailed, ToolTimedOut
from media.icons import KIND_COLOURS, kind_of, make_icon
from tests.media.av_samples import AVSamples, is_jpeg, no_files_like


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> AVSamples:
    return AVSamples(tmp_path_factory.mktemp("documents"))


# --------------------------------------------------------------------------- PDF


async def test_pdf_first_page_is_rendered_to_a_jpeg_at_the_given_dpi(samples, tmp_path):
    page = await render_pdf_first_page(samples["page.pdf"], tmp_path / "p.jpg", dpi=100)
    # The page is 4 × 3 inches.
    assert (page.width, page.height) == (400, 300)
    assert page.source == "pdf_page" and is_jpeg(page.path)
    with Image.open(page.path) as im:
        r, g, b = im.convert("RGB").getpixel((200, 20))
        assert r > 200 and g < 60 and b < 60  # the red title bar, right way up
    assert no_files_like(tmp_path / "p.jpg") == [tmp_path / "p.jpg"]


async def test_a_pdf_page_is_capped_at_the_max_dimension(samples, tmp_path):
    page = await render_pdf_first_page(
        samples["page.pdf"], tmp_path / "p.jpg", dpi=300, max_dimension=240
    )
    assert (page.width, page.height) == (240, 180)


async def test_a_damaged_pdf_raises_tool_failed_and_leaves_nothing(tmp_path):
    fake = tmp_path / "report.pdf"
    fake.write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
    with pytest.raises(ToolFailed):
        await render_pdf_first_page(fake, tmp_path / "p.jpg")
    assert no_files_like(tmp_path / "p.jpg") == []


async def test_a_pdf_that_never_arrives_times_out(tmp_path):
    fifo = tmp_path / "never.pdf"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ToolTimedOut):
        await render_pdf_first_page(fifo, tmp_path / "p.jpg", timeout=0.3)
    assert time.monotonic() - started < 5
    assert no_files_like(tmp_path / "p.jpg") == []


# --------------------------------------------------------------------------- text


def test_text_preview_decodes_utf8(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Grüße aus Köln\nzweite Zeile\n", encoding="utf-8")
    assert read_text_preview(path, 1000) == "Grüße aus Köln\nzweite Zeile\n"


def test_text_preview_stops_at_max_bytes_without_a_broken_character(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("aé".encode() * 10)  # "a" is 1 byte, "é" 2
    # 4 bytes hold "aéa"; 5 bytes hold "aéa" and half an "é", which is dropped
    assert read_text_preview(path, 4) == "aéa"
    assert read_text_preview(path, 5) == "aéa"
    assert read_text_preview(path, 6) == "aéaé"


def test_text_preview_replaces_invalid_bytes_and_nuls(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"ok \xff\xfe bad\x00end")
    assert read_text_preview(path, 100) == "ok \ufffd\ufffd bad\ufffdend"


def test_text_preview_drops_the_bom_and_normalises_line_ends(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfone\r\ntwo\rthree\n")
    assert read_text_preview(path, 100) == "one\ntwo\nthree\n"


def test_text_preview_of_an_empty_file_is_empty(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"")
    assert read_text_preview(path, 100) == ""


# --------------------------------------------------------------------------- icons


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("pdf", ("pdf", "PDF")),
        (".MP3", ("audio", "MP3")),
        ("notes.txt", ("text", "TXT")),
        ("video", ("video", "VIDEO")),
        ("xyz", ("file", "XYZ")),
        ("", ("file", "FILE")),
    ],
)
def test_kind_of_maps_extensions_and_kinds(given, expected):
    assert kind_of(given) == expected


@pytest.mark.parametrize("kind", ["pdf", "mp3", "txt", "zip", "docx", "xlsx", "video", "png"])
def test_icon_is_a_png_with_the_kinds_colour_band(tmp_path, kind):
    out = make_icon(kind, tmp_path / f"{kind}.png", 128)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (128, 128) and im.mode == "RGBA"
        assert im.getpixel((0, 0))[3] == 0  # transparent around the card
        colours = {c for _, c in im.convert("RGB").getcolors(128 * 128)}
    band = Image.new("RGB", (1, 1), KIND_COLOURS[kind_of(kind)[0]]).getpixel((0, 0))
    assert band in colours
    assert no_files_like(out) == [out]


def test_icon_as_jpeg_is_opaque_and_any_size(tmp_path):
    out = make_icon("pdf", tmp_path / "pdf.jpg", (200, 160))
    assert is_jpeg(out)
    with Image.open(out) as im:
        assert im.size == (200, 160) and im.mode == "RGB"


def test_icon_without_dejavu_uses_pillows_font(tmp_path, monkeypatch):
    monkeypatch.setattr(icons, "FONT_DIR", tmp_path / "no-fonts")
    icons._font.cache_clear()
    try:
        out = make_icon("mp3", tmp_path / "mp3.png", 96)
    finally:
        icons._font.cache_clear()
    with Image.open(out) as im:
        assert im.size == (96, 96)
