"""IPTC and XMP blocks, and what is done to every text a file carries: decoded, cleaned,
capped, impossible dates dropped, hostile packets ignored, damaged EXIF never raising.
(Camera, GPS and PNG fields: tests/media/test_metadata.py.)"""

import json
import random
import struct

import pytest
from PIL import Image

from media.metadata import MAX_TEXT, read_image_metadata
from tests.media.conftest import assert_plain_json, jpeg_bytes, jpeg_with_exif

pytestmark = pytest.mark.usefixtures("image_worker")


# ------------------------------------------------------------------ IPTC and XMP


def test_iptc_and_xmp_of_photoshop_file(samples):
    metadata = read_image_metadata(samples / "jpg/xmp/BlueSquare.jpg")
    words = ["XMP", "Blue Square", "test file", "Photoshop", ".jpg"]
    assert metadata.xmp.title == "Blue Square Test File - .jpg"
    assert metadata.iptc.object_name == "Blue Square Test File - .jpg"
    assert metadata.xmp.subject == words and metadata.iptc.keywords == words
    assert metadata.keywords == words
    assert metadata.title == "Blue Square Test File - .jpg"
    assert metadata.caption == (
        "XMPFiles BlueSquare test file, created in Photoshop CS2, saved as .psd, .jpg, and .tif."
    )


def test_single_keyword_and_creator(samples):
    metadata = read_image_metadata(samples / "jpg/xmp/no_exif.jpg")
    assert metadata.iptc.keywords == ["tag"] and metadata.xmp.subject == ["tag"]
    assert metadata.iptc.by_line == "CREDIT" and metadata.xmp.creator == "CREDIT"
    assert metadata.iptc.caption == "Der Goalie bin ig"
    assert (metadata.title, metadata.caption) == ("Der Goalie bin ig", "Der Goalie bin ig")


def test_xmp_photoshop_fields_and_long_caption(samples):
    metadata = read_image_metadata(samples / "jpg/long_description.jpg")
    assert metadata.caption.startswith("Operation Mountain Viper put the soldiers")
    assert metadata.caption.endswith("(Released)")
    assert metadata.xmp.title == "030904-A-2140D-006"
    assert metadata.xmp.creator == "SSG KYLE DAVIS"
    assert metadata.xmp.headline == "Enduring Freedom"
    assert (metadata.xmp.city, metadata.xmp.country) == ("KANDAHAR ARMY AIRFIELD", "Afghanistan")
    assert metadata.xmp.date_created == "2003-08-31"


def test_xmp_rating(samples):
    assert read_image_metadata(samples / "jpg/gps/DSCN0010.jpg").xmp.rating == 0


@pytest.mark.parametrize(
    "name",
    [
        "jpg/exif-org/olympus-c960.jpg",  # "OLYMPUS DIGITAL CAMERA"
        "jpg/Konica_Minolta_DiMAGE_Z3.jpg",  # "KONICA MINOLTA DIGITAL CAMERA"
        "jpg/exif-org/sanyo-vpcg250.jpg",  # "SANYO DIGITAL CAMERA"
        "jpg/Samsung_Digimax_i50_MP3.jpg",  # the model name again
        "jpg/WWL_(Polaroid)_ION230.jpg",  # the make again
        "jpg/Nikon_COOLPIX_P1.jpg",  # spaces
        "jpg/exif-org/sony-d700.jpg",  # NULs
    ],
)
def test_camera_boilerplate_is_not_a_caption(samples, name):
    assert read_image_metadata(samples / name).caption is None


def _with_app13(jpeg: bytes, iptc: bytes) -> bytes:
    """Insert a Photoshop APP13 segment holding an IPTC-NAA (0x0404) resource."""
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc))
    resource += iptc + (b"\x00" if len(iptc) % 2 else b"")
    payload = b"Photoshop 3.0\x00" + resource
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def _iptc(*datasets: tuple[int, bytes]) -> bytes:
    return b"".join(b"\x1c\x02" + bytes([n]) + struct.pack(">H", len(v)) + v for n, v in datasets)


def test_iptc_text_is_decoded_and_cleaned(write_bytes):
    data = _iptc(
        (5, b"Title"),
        (105, "Über den Wolken".encode()),
        (120, b"Caf\xe9 \x00au\x07 lait"),  # latin-1, with a NUL and a bell
        (25, b"sky"),
        (25, b"Wolke"),
        (25, b"SKY"),
        (80, b"A. Photographer"),
        (90, b"Bern"),
        (101, b"Switzerland"),
        (116, b"(c) 2024"),
        (110, b"Agency"),
        (115, b"Archive"),
        (55, b"20240102"),
        (60, b"101112+0100"),
    )
    path = write_bytes("iptc.jpg", _with_app13(jpeg_bytes(Image.new("RGB", (8, 8))), data))
    metadata = read_image_metadata(path)
    iptc = metadata.iptc
    assert (iptc.object_name, iptc.headline) == ("Title", "Über den Wolken")
    assert iptc.caption == "Café au lait"
    assert iptc.keywords == ["sky", "Wolke", "SKY"]
    assert metadata.keywords == ["sky", "Wolke"]
    assert (iptc.by_line, iptc.city, iptc.country) == ("A. Photographer", "Bern", "Switzerland")
    assert (iptc.copyright, iptc.credit, iptc.source) == ("(c) 2024", "Agency", "Archive")
    assert metadata.title == "Über den Wolken"
    assert metadata.date_taken == "2024-01-02T10:11:12+01:00"


XMP_PACKET = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:xmp="http://ns.adobe.com/xap/1.0/">
 <dc:title><rdf:Alt>
  <rdf:li xml:lang="de">Berge</rdf:li><rdf:li xml:lang="x-default">Mountains</rdf:li>
 </rdf:Alt></dc:title>
 <dc:description><rdf:Alt><rdf:li xml:lang="en">At dawn</rdf:li></rdf:Alt></dc:description>
 <dc:subject><rdf:Bag><rdf:li>alps</rdf:li><rdf:li>snow</rdf:li></rdf:Bag></dc:subject>
 <dc:creator><rdf:Seq><rdf:li>Ann</rdf:li><rdf:li>Bob</rdf:li></rdf:Seq></dc:creator>
 <xmp:Rating>4</xmp:Rating>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>"""


def test_xmp_language_alternatives_bags_and_sequences(write_image):
    path = write_image("xmp.jpg", Image.new("RGB", (8, 8)), xmp=XMP_PACKET.encode())
    xmp = read_image_metadata(path).xmp
    assert (xmp.title, xmp.description) == ("Mountains", "At dawn")
    assert (xmp.subject, xmp.creator, xmp.rating) == (["alps", "snow"], "Ann, Bob", 4)


@pytest.mark.parametrize(
    "packet",
    [
        b"<not xml",
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>&lol2;</x:xmpmeta>"
        ),
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</x:xmpmeta>",
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='r'>text</rdf:RDF></x:xmpmeta>",
    ],
    ids=["broken", "entities", "deep", "odd-shape"],
)
def test_hostile_xmp_is_ignored(write_image, packet):
    exif = Image.Exif()
    exif[Image.ExifTags.Base.Make] = "Test"
    path = write_image("xmp.jpg", Image.new("RGB", (8, 8)), xmp=packet, exif=exif)
    metadata = read_image_metadata(path)
    assert metadata.xmp.title is None and metadata.camera.make == "Test"


def test_strings_are_cleaned_and_capped(tmp_path):
    exif = Image.Exif()
    exif[Image.ExifTags.Base.Make] = "Can\x01on\x1b "
    exif[Image.ExifTags.Base.ImageDescription] = "x" * 60_000
    metadata = read_image_metadata(jpeg_with_exif(tmp_path, exif))
    assert metadata.camera.make == "Canon"
    assert metadata.caption == "x" * MAX_TEXT


def test_impossible_dates_are_dropped(tmp_path):
    exif = Image.Exif()
    exif[Image.ExifTags.Base.DateTime] = "0000:00:00 00:00:00"
    exif[Image.ExifTags.IFD.Exif] = {Image.ExifTags.Base.DateTimeOriginal: "2021:02:30 10:00:00"}
    assert read_image_metadata(jpeg_with_exif(tmp_path, exif)).date_taken is None


def test_damaged_exif_never_raises(samples, write_bytes):
    # Flip bytes inside a real EXIF block, many times over.
    with Image.open(samples / "jpg/gps/DSCN0010.jpg") as im:
        exif = im.info["exif"]
    base = jpeg_bytes(Image.new("RGB", (8, 8)))
    rng = random.Random(7)
    for i in range(150):
        damaged = bytearray(exif)
        for _ in range(rng.randint(1, 40)):
            damaged[rng.randrange(6, len(damaged))] = rng.randrange(256)
        segment = b"\xff\xe1" + struct.pack(">H", len(damaged) + 2) + bytes(damaged)
        path = write_bytes(f"fuzz{i}.jpg", base[:2] + segment + base[2:])
        metadata = read_image_metadata(path)
        json.dumps(metadata.to_dict(), allow_nan=False)
        assert_sane(metadata)


def assert_sane(metadata) -> None:
    """What damaged metadata may still yield: plain values in their ranges, never raw bytes."""
    assert_plain_json(metadata.to_dict())

    def texts(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from texts(v)
        elif isinstance(value, list):
            for v in value:
                yield from texts(v)

    for text in texts(metadata.to_dict()):
        assert len(text) <= MAX_TEXT and text == text.strip(), repr(text[:80])
        assert not any(ord(c) < 32 and c not in "\n\t" for c in text), repr(text[:80])
    camera = metadata.camera
    assert camera.orientation is None or 1 <= camera.orientation <= 8
    for number in (camera.width, camera.height, camera.iso):
        assert number is None or (isinstance(number, int) and number > 0), number
    for number in (camera.f_number, camera.focal_length, camera.exposure_time_seconds):
        assert number is None or (isinstance(number, float) and 0 < number < 1e6), number
    if metadata.gps is not None:
        assert -90 <= metadata.gps.latitude <= 90 and -180 <= metadata.gps.longitude <= 180
    assert metadata.xmp.rating is None or -1 <= metadata.xmp.rating <= 5


def test_place_credit_and_source_are_read_from_iptc_and_xmp(write_bytes, write_image):
    data = _iptc((92, b"Old Town"), (95, b"Bavaria"), (90, b"Munich"))
    iptc = read_image_metadata(write_bytes("iptc.jpg", _with_app13(jpeg_bytes(Image.new("RGB", (8, 8))), data))).iptc
    assert (iptc.sublocation, iptc.state, iptc.city) == ("Old Town", "Bavaria", "Munich")
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
        ' xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/" photoshop:Credit="AP"'
        ' photoshop:Source="Wire" photoshop:State="Bavaria" Iptc4xmpCore:Location="Old Town"/>'
        "</rdf:RDF></x:xmpmeta>"
    )
    xmp = read_image_metadata(write_image("xmp.jpg", Image.new("RGB", (8, 8)), xmp=packet.encode())).xmp
    assert (xmp.credit, xmp.source, xmp.state, xmp.location) == ("AP", "Wire", "Bavaria", "Old Town")
