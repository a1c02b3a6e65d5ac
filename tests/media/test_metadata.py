import io
import json
import random
import struct

import pillow_heif
import pytest
from PIL import Image, ImageFile, JpegImagePlugin, PngImagePlugin, TiffImagePlugin
from PIL.TiffImagePlugin import IFDRational

from media.errors import CorruptMedia, MediaTooLarge, UnsupportedMedia
from media.metadata import MAX_TEXT, read_image_metadata
from tests.media.conftest import jpeg_bytes, png_chunk, png_declaring

pytestmark = pytest.mark.usefixtures("image_worker")


def dms(degrees, minutes, seconds):
    return degrees + minutes / 60 + seconds / 3600


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


# ------------------------------------------------------------------ every real file


def test_every_camera_sample_yields_plain_metadata(camera_sample):
    metadata = read_image_metadata(camera_sample)
    data = metadata.to_dict()
    assert_plain_json(data)
    json.dumps(data, allow_nan=False)
    assert data["camera"]["width"] > 0 and data["camera"]["height"] > 0
    for text in (data["title"], data["caption"], *data["keywords"]):
        assert text is None or (text == text.strip() and "\x00" not in text)


@pytest.fixture
def no_decoding(monkeypatch):
    """Record every attempt to decode pixels."""
    calls = []
    classes = [
        Image.Image,
        ImageFile.ImageFile,
        JpegImagePlugin.JpegImageFile,
        PngImagePlugin.PngImageFile,
        TiffImagePlugin.TiffImageFile,
        pillow_heif.HeifImageFile,
    ]
    for cls in classes:
        if "load" in cls.__dict__:
            monkeypatch.setattr(cls, "load", lambda self, *a, **k: calls.append(self.format))
    return calls


def test_reading_metadata_never_decodes_pixels(camera_sample, no_decoding):
    read_image_metadata(camera_sample)
    assert no_decoding == []


# ------------------------------------------------------------------ camera


CAMERAS = [
    (
        "jpg/Canon_40D.jpg",
        {
            "make": "Canon",
            "model": "Canon EOS 40D",
            "date_taken": "2008-05-30T15:56:01",
            "exposure_time": "1/160",
            "f_number": 7.1,
            "iso": 100,
            "focal_length": 135.0,
            "software": "GIMP 2.4.5",
            "width": 100,
            "height": 68,
        },
    ),
    (
        "jpg/Nikon_D70.jpg",
        {
            "make": "NIKON CORPORATION",
            "model": "NIKON D70",
            "date_taken": "2008-03-15T09:52:01",
            "exposure_time": "1/200",
            "f_number": 9.0,
            "iso": 200,
            "focal_length": 100.0,
            "flash": "Did not fire",
        },
    ),
    (
        "heic/IMG_5195.HEIC",
        {
            "make": "Apple",
            "model": "iPhone 11 Pro Max",
            "date_taken": "2021-04-11T15:47:53-05:00",
            "lens": "iPhone 11 Pro Max back triple camera 4.25mm f/1.8",
            "exposure_time": "1/391",
            "f_number": 1.8,
            "iso": 32,
            "focal_length": 4.25,
            "software": "14.4.2",
            "width": 2566,
            "height": 3313,
        },
    ),
    (
        "jpg/exif-org/kodak-dc210.jpg",  # DateTimeOriginal only
        {
            "make": "Eastman Kodak Company",
            "model": "DC210 Zoom (V05.00)",
            "date_taken": "2000-10-26T16:46:51",
            "exposure_time": "1/30",
            "flash": "Fired",
        },
    ),
    (
        "jpg/exif-org/sony-d700.jpg",  # NUL-terminated strings
        {"make": "SONY", "model": "DSC-D700", "date_taken": "1998-12-01T14:22:36", "iso": 200},
    ),
    ("jpg/WWL_(Polaroid)_ION230.jpg", {"make": "WWL", "model": "ION230"}),  # junk after the NUL
    ("jpg/Canon_40D_photoshop_import.jpg", {"make": None, "date_taken": "2008-07-31T10:05:49"}),
    ("jpg/Samsung_Digimax_i50_MP3.jpg", {"exposure_time": "1/6", "iso": 150}),
    ("jpg/exif-org/fujifilm-dx10.jpg", {"exposure_time": None, "f_number": 4.2, "flash": "Fired"}),
    ("jpg/exif-org/olympus-d320l.jpg", {"make": None, "model": None, "date_taken": None}),
]


@pytest.mark.parametrize(("name", "expected"), CAMERAS, ids=[c[0] for c in CAMERAS])
def test_camera_fields_match_what_the_file_carries(samples, name, expected):
    metadata = read_image_metadata(samples / name)
    camera = metadata.to_dict()["camera"]
    for key, value in expected.items():
        if key == "flash":
            assert camera["flash"].startswith(value)
        else:
            assert camera[key] == value, key
    date_taken = OFFSET_FROM_XMP.get(name, expected.get("date_taken", metadata.date_taken))
    assert metadata.date_taken == date_taken


# EXIF without OffsetTimeOriginal, XMP exif:DateTimeOriginal with the same wall-clock time
# and an offset: the photo's date keeps its local time and gains the offset.
OFFSET_FROM_XMP = {"jpg/Nikon_D70.jpg": "2008-03-15T09:52:01-04:00"}


def test_exposure_is_also_given_in_seconds(samples):
    camera = read_image_metadata(samples / "jpg" / "Canon_40D.jpg").camera
    assert camera.exposure_time_seconds == pytest.approx(1 / 160)
    assert camera.orientation == 1


# ------------------------------------------------------------------ GPS

GPS = [
    ("jpg/gps/DSCN0010.jpg", dms(43, 28, 2.814), dms(11, 53, 6.456), None),
    ("jpg/gps/DSCN0012.jpg", dms(43, 28, 1.764), dms(11, 53, 7.422), None),
    ("jpg/gps/DSCN0025.jpg", dms(43, 28, 6.114), dms(11, 52, 53.886), None),
    ("jpg/gps/DSCN0040.jpg", dms(43, 27, 57.642), dms(11, 52, 44.802), None),
    ("jpg/gps/DSCN0042.jpg", dms(43, 27, 52.038), dms(11, 52, 53.322), None),
    ("jpg/Kodak_CX7530.jpg", -dms(0, 22.278, 0), dms(36, 3.385, 0), None),  # south
    ("heic/IMG_5195.HEIC", dms(39, 3, 4.84), -dms(94, 17, 19.58), 260.56),  # west
]


@pytest.mark.parametrize(
    ("name", "latitude", "longitude", "altitude"), GPS, ids=[g[0] for g in GPS]
)
def test_gps_position_matches_what_the_file_carries(samples, name, latitude, longitude, altitude):
    gps = read_image_metadata(samples / name).gps
    assert gps.latitude == pytest.approx(latitude, abs=1e-6)
    assert gps.longitude == pytest.approx(longitude, abs=1e-6)
    assert gps.altitude == altitude
    assert gps.map_url == (
        f"https://www.openstreetmap.org/?mlat={gps.latitude:.6f}&mlon={gps.longitude:.6f}"
        f"#map=15/{gps.latitude:.6f}/{gps.longitude:.6f}"
    )


def test_gps_dates_of_the_nikon_series(samples):
    assert read_image_metadata(samples / "jpg/gps/DSCN0010.jpg").date_taken == "2008-10-22T16:28:39"
    assert read_image_metadata(samples / "jpg/gps/DSCN0042.jpg").date_taken == "2008-10-22T17:00:07"


def test_gps_block_without_a_position_is_no_position(samples):
    # Canon_40D.jpg has a GPS IFD holding only GPSVersionID.
    assert read_image_metadata(samples / "jpg/Canon_40D.jpg").gps is None
    assert read_image_metadata(samples / "jpg/Nikon_D70.jpg").gps is None


def _jpeg_with_exif(tmp_path, exif: Image.Exif, name="exif.jpg"):
    path = tmp_path / name
    Image.new("RGB", (16, 16), "grey").save(path, "JPEG", exif=exif)
    return path


def _gps_exif(gps: dict) -> Image.Exif:
    exif = Image.Exif()
    exif[Image.ExifTags.Base.Make] = "Test"
    exif[Image.ExifTags.Base.GPSInfo] = gps
    return exif


def r(numerator, denominator=1):
    return IFDRational(numerator, denominator)


@pytest.mark.parametrize(
    "gps",
    [
        {1: "N", 2: (r(43, 0), r(1), r(1)), 3: "E", 4: (r(11), r(53), r(6))},  # 0 denominator
        {2: (r(43), r(1), r(1)), 4: (r(11), r(53), r(6))},  # no N/S, E/W
        {1: "X", 2: (r(43), r(1), r(1)), 3: "E", 4: (r(11), r(53), r(6))},  # bad ref
        {1: "N", 2: (r(95), r(0), r(0)), 3: "E", 4: (r(11), r(53), r(6))},  # out of range
        {1: "N", 2: (r(0), r(0), r(0)), 3: "E", 4: (r(0), r(0), r(0))},  # no fix
        {1: "N", 3: "E", 4: (r(11), r(53), r(6))},  # no latitude
    ],
)
def test_malformed_gps_is_skipped(tmp_path, gps):
    metadata = read_image_metadata(_jpeg_with_exif(tmp_path, _gps_exif(gps)))
    assert metadata.gps is None
    assert metadata.camera.make == "Test"


def test_altitude_below_sea_level_is_negative(tmp_path):
    gps = {1: "S", 2: (r(33), r(51), r(0)), 3: "E", 4: (r(151), r(12), r(30))}
    gps.update({5: b"\x01", 6: r(105, 10)})
    result = read_image_metadata(_jpeg_with_exif(tmp_path, _gps_exif(gps))).gps
    assert (result.latitude, result.longitude, result.altitude) == (-33.85, 151.2083333, -10.5)


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
    metadata = read_image_metadata(_jpeg_with_exif(tmp_path, exif))
    assert metadata.camera.make == "Canon"
    assert metadata.caption == "x" * MAX_TEXT


def test_impossible_dates_are_dropped(tmp_path):
    exif = Image.Exif()
    exif[Image.ExifTags.Base.DateTime] = "0000:00:00 00:00:00"
    exif[Image.ExifTags.IFD.Exif] = {Image.ExifTags.Base.DateTimeOriginal: "2021:02:30 10:00:00"}
    assert read_image_metadata(_jpeg_with_exif(tmp_path, exif)).date_taken is None


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


# ------------------------------------------------------------------ PNG and bad files


def _png_with_late_exif(exif: Image.Exif) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "blue").save(buf, "PNG")
    png = buf.getvalue()
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + png_chunk(b"eXIf", exif.tobytes()[6:]) + png[iend:]


def test_png_exif_after_the_pixels_is_read_without_decoding(write_bytes, no_decoding):
    exif = Image.Exif()
    exif[Image.ExifTags.Base.Make] = "PNGCam"
    exif[Image.ExifTags.Base.Orientation] = 6
    path = write_bytes("late.png", _png_with_late_exif(exif))
    no_decoding.clear()  # making the file above decoded pixels, reading it must not
    metadata = read_image_metadata(path)
    assert (metadata.camera.make, metadata.camera.orientation) == ("PNGCam", 6)
    assert (metadata.camera.width, metadata.camera.height) == (64, 64)
    assert no_decoding == []


def test_truncated_jpeg_still_gives_its_header_metadata(samples, write_bytes):
    data = (samples / "jpg/gps/DSCN0010.jpg").read_bytes()
    metadata = read_image_metadata(write_bytes("cut.jpg", data[: len(data) // 2]))
    assert metadata.camera.model == "COOLPIX P6000"
    assert metadata.gps is not None


def test_unreadable_files_raise_media_errors(write_bytes):
    with pytest.raises(CorruptMedia, match="empty"):
        read_image_metadata(write_bytes("empty.jpg", b""))
    with pytest.raises(UnsupportedMedia, match="text/html"):
        read_image_metadata(write_bytes("page.jpg", b"<!DOCTYPE html><html><body>hi</body></html>"))
    with pytest.raises(MediaTooLarge):
        read_image_metadata(write_bytes("bomb.png", png_declaring(30000, 30000)))


# ------------------------------------------------------------------ fields of the metadata panel


def test_author_copyright_and_camera_settings_are_read_from_exif(tmp_path):
    exif = Image.Exif()
    exif[Image.ExifTags.Base.Artist] = "Ann Artist\x00junk"
    exif[Image.ExifTags.Base.Copyright] = "(c) Ann"
    sub = exif.get_ifd(Image.ExifTags.IFD.Exif)
    sub[Image.ExifTags.Base.WhiteBalance] = 1
    sub[Image.ExifTags.Base.ExposureProgram] = 3
    sub[Image.ExifTags.Base.MeteringMode] = 99  # no such mode: left out, not shown as a number
    sub[Image.ExifTags.Base.ExposureBiasValue] = r(-7, 10)
    sub[Image.ExifTags.Base.FocalLengthIn35mmFilm] = 56
    camera = read_image_metadata(_jpeg_with_exif(tmp_path, exif)).camera
    assert (camera.artist, camera.copyright) == ("Ann Artist", "(c) Ann")
    assert (camera.white_balance, camera.exposure_program, camera.metering_mode) == ("Manual", "Aperture priority", None)
    assert (camera.exposure_bias, camera.focal_length_35mm) == (-0.7, 56)


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


def test_every_panel_field_shows_the_value_the_file_carries(samples):
    from gallery.metadata_fields import BY_KEY, extracted_text

    meta = read_image_metadata(samples / "jpg/long_description.jpg").to_dict()
    assert extracted_text(BY_KEY["author"], meta) == "SSG KYLE DAVIS"
    assert extracted_text(BY_KEY["headline"], meta) == "Enduring Freedom"
    assert extracted_text(BY_KEY["city"], meta) == "KANDAHAR ARMY AIRFIELD"
    gps = read_image_metadata(samples / "jpg/gps/DSCN0010.jpg").to_dict()
    assert extracted_text(BY_KEY["gps_altitude"], {"gps": {"altitude": -10.5}}) == "-10.5 m"
    assert extracted_text(BY_KEY["orientation"], {"camera": {"orientation": 6}}) == "Turned right"
    assert extracted_text(BY_KEY["camera"], gps) == "NIKON COOLPIX P6000"
