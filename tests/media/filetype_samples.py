"""Small real files of the kinds issue 18 item 10 added, made here by their specifications
(no such file ships in any installed package):

- DNG: a little-endian TIFF laid out by the DNG 1.4 specification (IFD0 holds 16-bit RGGB
  CFA data, DNGVersion, ColorMatrix1, AsShotNeutral, an Exif IFD with the date taken and
  ISO), optionally with a JPEG preview referenced by JPEGInterchangeFormat as cameras do;
  LibRaw decodes it.
- PSD: the Adobe Photoshop file format (version 1): header, empty colour mode data, image
  resources and layer sections, then the flattened composite as raw planar RGB.
- DOCX/XLSX/PPTX/ODT/ODS/ODP: ZIP packages written with zipfile, their identifying entry
  first ([Content_Types].xml; ODF's uncompressed "mimetype"), as libmagic and Office expect.
- WMV and FLV: written by ffmpeg (see write_video).
"""

from __future__ import annotations

import io
import struct
import subprocess
import zipfile
from pathlib import Path

from PIL import Image

BYTE, ASCII, SHORT, LONG, RATIONAL, SRATIONAL = 1, 2, 3, 4, 5, 10


def _ifd(entries: list[tuple[int, int, int, bytes]], offset: int) -> bytes:
    """One TIFF directory written at `offset`, values that do not fit after it; next = 0."""
    entries = sorted(entries)
    size = 2 + len(entries) * 12 + 4
    head, extra = struct.pack("<H", len(entries)), b""
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            head += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            head += struct.pack("<HHII", tag, kind, count, offset + size + len(extra))
            extra += value + b"\0" * (len(value) % 2)
    return head + struct.pack("<I", 0) + extra


def iptc_block(fields: list[tuple[int, str]]) -> bytes:
    """An IPTC-IIM block of record-2 datasets (dataset number, UTF-8 text), with the
    coded character set (1:90) saying UTF-8."""
    out = b"\x1c\x01\x5a\x00\x03\x1b\x25\x47"
    for dataset, text in fields:
        data = text.encode()
        out += b"\x1c\x02" + bytes([dataset]) + struct.pack(">H", len(data)) + data
    return out


def _ascii(text: str) -> tuple[int, int, bytes]:
    data = text.encode() + b"\0"
    return ASCII, len(data), data


def jpeg_bytes(size=(64, 48), colour=(30, 120, 220)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def make_dng(width=64, height=48, *, preview: bytes | None = None, make="Atrium",
             model="Test DNG", taken="2021:06:05 14:30:00", iso=400,
             xmp: bytes | None = None, iptc: bytes | None = None) -> bytes:
    """A DNG of a gradient. With `preview` (JPEG bytes), laid out as cameras' DNGs are: IFD0
    is the JPEG preview (NewSubFileType 1) and a SubIFD holds the raw data. `xmp` goes into
    IFD0's XMLPacket (700) and `iptc` (an IIM block) into IPTC-NAA (33723), typed LONG as
    Photoshop and Lightroom write it."""
    pixels = b"".join(
        struct.pack("<H", (x * 900 + y * 500) % 60000 + 1000)
        for y in range(height) for x in range(width)
    )
    blobs = pixels + (preview or b"")
    first_at = 8 + len(blobs) + (len(blobs) % 2)
    identity = b"".join(
        struct.pack("<ii", 10000 if i % 4 == 0 else 0, 10000) for i in range(9)
    )
    common = [
        (271, *_ascii(make)),
        (272, *_ascii(model)),
        (274, SHORT, 1, struct.pack("<H", 1)),
        (306, *_ascii(taken)),
        (50706, BYTE, 4, bytes([1, 4, 0, 0])),
        (50708, *_ascii(f"{make} {model}")),
        (50721, SRATIONAL, 9, identity),
        (50728, RATIONAL, 3, struct.pack("<II", 1, 1) * 3),
        (50778, SHORT, 1, struct.pack("<H", 21)),
    ]
    if xmp is not None:
        common.append((700, BYTE, len(xmp), xmp))
    if iptc is not None:
        block = iptc.ljust(-(-len(iptc) // 4) * 4, b"\0")
        common.append((33723, LONG, len(block) // 4, block))
    raw = [
        (254, LONG, 1, struct.pack("<I", 0)),
        (256, LONG, 1, struct.pack("<I", width)),
        (257, LONG, 1, struct.pack("<I", height)),
        (258, SHORT, 1, struct.pack("<H", 16)),
        (259, SHORT, 1, struct.pack("<H", 1)),
        (262, SHORT, 1, struct.pack("<H", 32803)),  # CFA
        (273, LONG, 1, struct.pack("<I", 8)),
        (277, SHORT, 1, struct.pack("<H", 1)),
        (278, LONG, 1, struct.pack("<I", height)),
        (279, LONG, 1, struct.pack("<I", len(pixels))),
        (284, SHORT, 1, struct.pack("<H", 1)),
        (33421, SHORT, 2, struct.pack("<HH", 2, 2)),
        (33422, BYTE, 4, bytes([0, 1, 1, 2])),  # RGGB
        (50717, LONG, 1, struct.pack("<I", 65535)),
    ]

    def first(exif_at: int, sub_at: int) -> list:
        link = [(34665, LONG, 1, struct.pack("<I", exif_at))]
        if not preview:
            return raw + common + link
        with Image.open(io.BytesIO(preview)) as im:
            w, h = im.size
        return common + link + [
            (254, LONG, 1, struct.pack("<I", 1)),  # a reduced-resolution copy
            (256, LONG, 1, struct.pack("<I", w)),
            (257, LONG, 1, struct.pack("<I", h)),
            (258, SHORT, 3, struct.pack("<HHH", 8, 8, 8)),
            (259, SHORT, 1, struct.pack("<H", 7)),  # JPEG
            (262, SHORT, 1, struct.pack("<H", 6)),  # YCbCr
            (273, LONG, 1, struct.pack("<I", 8 + len(pixels))),
            (277, SHORT, 1, struct.pack("<H", 3)),
            (278, LONG, 1, struct.pack("<I", h)),
            (279, LONG, 1, struct.pack("<I", len(preview))),
            (330, LONG, 1, struct.pack("<I", sub_at)),
        ]

    def even(n: int) -> int:
        return n + n % 2

    first_size = even(len(_ifd(first(0, 0), first_at)))
    exif_at = first_at + first_size
    exif = _ifd([(33434, RATIONAL, 1, struct.pack("<II", 1, 250)),
                 (34855, SHORT, 1, struct.pack("<H", iso)),
                 (36867, *_ascii(taken))], exif_at)
    sub_at = exif_at + even(len(exif))
    data = b"II*\0" + struct.pack("<I", first_at) + blobs + b"\0" * (len(blobs) % 2)
    data += _ifd(first(exif_at, sub_at), first_at).ljust(first_size, b"\0")
    data += exif.ljust(even(len(exif)), b"\0")
    return data + (_ifd(raw, sub_at) if preview else b"")


def make_psd(width=40, height=30) -> bytes:
    """A 3-channel 8-bit RGB Photoshop file whose composite is a colour gradient."""
    header = b"8BPS" + struct.pack(">H", 1) + b"\0" * 6
    header += struct.pack(">HIIHH", 3, height, width, 8, 3)  # channels, h, w, depth, RGB
    sections = struct.pack(">III", 0, 0, 0)  # colour mode data, image resources, layers
    planes = b"".join(
        bytes((x * 6 + c * 80 + y * 3) % 256 for y in range(height) for x in range(width))
        for c in range(3)
    )
    return header + sections + struct.pack(">H", 0) + planes  # compression 0: raw


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)
_WORD = (
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    "<w:p><w:r><w:t>Hello from Atrium</w:t></w:r></w:p></w:body></w:document>"
)
_OOXML_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
_ODF_TYPE = {"odt": "text", "ods": "spreadsheet", "odp": "presentation"}
_ODF_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)
_ODF_TEXT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:text><text:p>Hello from Atrium</text:p></office:text></office:body>"
    "</office:document-content>"
)


def make_office(extension: str, *, padding: int = 0) -> bytes:
    """A minimal package of the kind (a DOCX and an ODT LibreOffice opens: one paragraph);
    `padding` bytes of zeros in one part (a ZIP bomb when large: zeros deflate ~1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        if extension in _OOXML_PART:
            zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
            zf.writestr("_rels/.rels", _RELS)
            body = _WORD if extension == "docx" else "<workbook/>"
            zf.writestr(_OOXML_PART[extension], body + "\0" * padding)
        else:
            mimetype = f"application/vnd.oasis.opendocument.{_ODF_TYPE[extension]}"
            zf.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
            zf.writestr("META-INF/manifest.xml", _ODF_MANIFEST.format(mimetype=mimetype))
            zf.writestr("content.xml", _ODF_TEXT + "\0" * padding)
    return out.getvalue()


def write_video(path: Path) -> Path:
    """One second of a test picture and a tone in WMV (WMV2 + WMA) or FLV (FLV1 + MP3)."""
    codecs = {".wmv": ["-c:v", "wmv2", "-c:a", "wmav2"], ".flv": ["-c:v", "flv", "-c:a", "libmp3lame", "-ar", "44100"]}
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=10",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", *codecs[path.suffix], str(path)],
        check=True, timeout=60,
    )
    return path
