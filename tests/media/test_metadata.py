import io
import json

import pillow_heif
import pytest
from PIL import Image, ImageFile, JpegImagePlugin, PngImagePlugin, TiffImagePlugin
from PIL.TiffImagePlugin import IFDRational

from media.errors import CorruptMedia, MediaTooLarge, UnsupportedMedia
from media.metadata import read_image_metadata
from tests.media.conftest import (
    assert_plain_json,
    jpeg_with_exif,
    png_chunk,
    png_declaring,
)

pytestmark = pytest.mark.usefixtures("image_worker")


def dms(degrees, minutes, seconds):
    return degrees + minutes / 60 + seconds / 3600


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
    metadata = read_image_metadata(jpeg_with_exif(tmp_path, _gps_exif(gps)))
    assert metadata.gps is None
    assert metadata.camera.make == "Test"


def test_altitude_below_sea_level_is_negative(tmp_path):
    gps = {1: "S", 2: (r(33), r(51), r(0)), 3: "E", 4: (r(151), r(12), r(30))}
    gps.update({5: b"\x01", 6: r(105, 10)})
    result = read_image_metadata(jpeg_with_exif(tmp_path, _gps_exif(gps))).gps
    assert (result.latitude, result.longitude, result.altitude) == (-33.85, 151.2083333, -10.5)


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
    camera = read_image_metadata(jpeg_with_exif(tmp_path, exif)).camera
    assert (camera.artist, camera.copyright) == ("Ann Artist", "(c) Ann")
    assert (camera.white_balance, camera.exposure_program, camera.metering_mode) == ("Manual", "Aperture priority", None)
    assert (camera.exposure_bias, camera.focal_length_35mm) == (-0.7, 56)


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
