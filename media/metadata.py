"""EXIF, GPS, IPTC and XMP of an image, read without decoding its pixels.

Damaged metadata never raises: every field is read on its own and left None when it
cannot be. Only a file that cannot be opened as an image raises (CorruptMedia etc.).
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass

from PIL import ExifTags, Image

from media.dates import best_taken
from media.images import image_orientation, open_image, quiet_pillow, read_exif
from media.metadata_blocks import IptcInfo, XmpInfo
from media.metadata_blocks import iptc_from_image as _read_iptc
from media.metadata_blocks import xmp_from_image as _read_xmp
from media.metadata_values import MAX_ITEMS, MAX_TEXT  # noqa: F401  (callers read MAX_TEXT here)
from media.metadata_values import clean_text as _text
from media.metadata_values import exif_date as _exif_date
from media.metadata_values import exposure_text as _exposure_text
from media.metadata_values import finite_number as _number
from media.metadata_values import flash_text as _flash_text
from media.metadata_values import safely as _safely

# What cameras write into ImageDescription when nobody wrote anything.
_CAMERA_JUNK = re.compile(
    r"^(?:[\w .,&-]*digital (?:still )?camera|sony dsc|dcim|exif_jpeg_picture|default|"
    r"image|picture|photo|untitled|created with gimp|lead technologies.*)$",
    re.IGNORECASE,
)

_T = ExifTags.Base
_IFD = ExifTags.IFD
_G = ExifTags.GPS
# EXIF codes shown as words (the camera's settings); other codes are left out.
_EXIF_WORDS = {
    "white_balance": (_T.WhiteBalance, {0: "Auto", 1: "Manual"}),
    "exposure_program": (_T.ExposureProgram, {1: "Manual", 2: "Program", 3: "Aperture priority",
                                              4: "Shutter priority", 5: "Creative", 6: "Action",
                                              7: "Portrait", 8: "Landscape"}),
    "metering_mode": (_T.MeteringMode, {1: "Average", 2: "Centre-weighted", 3: "Spot",
                                        4: "Multi-spot", 5: "Pattern", 6: "Partial"}),
}



@dataclass
class CameraInfo:
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    exposure_time: str | None = None  # as photographers write it: "1/160", "2.5"
    exposure_time_seconds: float | None = None
    f_number: float | None = None
    iso: int | None = None
    focal_length: float | None = None  # mm
    flash: str | None = None
    date_taken: str | None = None  # ISO 8601, with the offset when the file has one
    orientation: int | None = None
    software: str | None = None
    artist: str | None = None
    copyright: str | None = None
    white_balance: str | None = None  # words, as _EXIF_WORDS gives them
    exposure_program: str | None = None
    metering_mode: str | None = None
    exposure_bias: float | None = None  # EV
    focal_length_35mm: int | None = None  # mm
    width: int | None = None  # upright, in pixels
    height: int | None = None


@dataclass
class GpsInfo:
    latitude: float
    longitude: float
    altitude: float | None = None  # metres, negative below sea level
    map_url: str = ""


@dataclass
class ImageMetadata:
    format: str | None
    camera: CameraInfo
    gps: GpsInfo | None
    iptc: IptcInfo
    xmp: XmpInfo
    exif_description: str | None = None  # ImageDescription, camera boilerplate removed

    @property
    def title(self) -> str | None:
        return self.xmp.title or self.iptc.headline or self.iptc.object_name

    @property
    def caption(self) -> str | None:
        return self.xmp.description or self.iptc.caption or self.exif_description

    @property
    def keywords(self) -> list[str]:
        seen: set[str] = set()
        out = []
        for word in [*self.xmp.subject, *self.iptc.keywords]:
            if word.casefold() not in seen:
                seen.add(word.casefold())
                out.append(word)
        return out[:MAX_ITEMS]

    @property
    def date_taken(self) -> str | None:
        """Local time as taken, ISO 8601, with the offset when any source gives one."""
        return best_taken([self.camera.date_taken, self.xmp.date_created, self.iptc.date_created])

    def to_dict(self) -> dict:
        """JSON-ready: only str, int, float, bool, None, lists and dicts."""
        data = asdict(self)
        data.update(
            title=self.title,
            caption=self.caption,
            keywords=self.keywords,
            date_taken=self.date_taken,
        )
        return data


# ---------------------------------------------------------------- EXIF


def _read_camera(exif: Image.Exif, metadata: ImageMetadata) -> None:
    camera = metadata.camera
    sub = _safely(exif.get_ifd, _IFD.Exif) or {}

    def get(tag):
        return _safely(lambda: sub.get(tag, exif.get(tag)))

    camera.make = _text(get(_T.Make), nul_ends=True)
    camera.model = _text(get(_T.Model), nul_ends=True)
    camera.lens = _text(get(_T.LensModel), nul_ends=True)
    camera.software = _text(get(_T.Software), nul_ends=True)
    camera.artist = _text(get(_T.Artist), nul_ends=True)
    camera.copyright = _text(get(_T.Copyright), nul_ends=True)
    for name, (tag, words) in _EXIF_WORDS.items():
        code = get(tag)
        setattr(camera, name, words.get(code) if isinstance(code, int) else None)
    bias = _number(get(_T.ExposureBiasValue))
    if bias is not None and abs(bias) <= 20:
        camera.exposure_bias = round(bias, 2)
    focal_35 = get(_T.FocalLengthIn35mmFilm)
    if isinstance(focal_35, int) and 0 < focal_35 < 100_000:
        camera.focal_length_35mm = focal_35

    seconds = _number(get(_T.ExposureTime))
    if seconds is not None and 0 < seconds < 100_000:
        camera.exposure_time_seconds = seconds
        camera.exposure_time = _exposure_text(seconds)
    # Checked after rounding: a damaged 0.004 would otherwise show as "f/0.0".
    f_number = _number(get(_T.FNumber))
    if f_number is not None and 0 < round(f_number, 2) < 1000:
        camera.f_number = round(f_number, 2)
    iso = _number(get(_T.ISOSpeedRatings))
    if iso is not None and 0 < iso < 10_000_000:
        camera.iso = int(iso)
    focal = _number(get(_T.FocalLength))
    if focal is not None and 0 < round(focal, 2) < 100_000:
        camera.focal_length = round(focal, 2)
    flash = get(_T.Flash)
    if isinstance(flash, int) and 0 <= flash <= 0xFFFF:
        camera.flash = _flash_text(flash)

    # The first date that reads; its offset may come from another pair with the same
    # wall-clock time (cameras that write OffsetTime but not OffsetTimeOriginal).
    camera.date_taken = best_taken(
        _exif_date(get(date_tag), get(offset_tag))
        for date_tag, offset_tag in (
            (_T.DateTimeOriginal, _T.OffsetTimeOriginal),
            (_T.DateTimeDigitized, _T.OffsetTimeDigitized),
            (_T.DateTime, _T.OffsetTime),
        )
    )

    description = _text(get(_T.ImageDescription), nul_ends=True)
    junk = {(camera.make or "").casefold(), (camera.model or "").casefold()}
    if description and not _CAMERA_JUNK.match(description) and description.casefold() not in junk:
        metadata.exif_description = description


def _dms(value) -> float | None:
    if not isinstance(value, tuple | list) or not 1 <= len(value) <= 3:
        return None
    parts = [_number(v) for v in value]
    if any(p is None for p in parts):
        return None
    return sum(p / 60**i for i, p in enumerate(parts))


def _ref(value) -> str:
    return (_text(value, nul_ends=True) or "").upper()[:1]


def _read_gps(exif: Image.Exif) -> GpsInfo | None:
    gps = _safely(exif.get_ifd, _IFD.GPSInfo)
    if not gps:
        return None
    latitude = _dms(gps.get(_G.GPSLatitude))
    longitude = _dms(gps.get(_G.GPSLongitude))
    lat_ref, lon_ref = _ref(gps.get(_G.GPSLatitudeRef)), _ref(gps.get(_G.GPSLongitudeRef))
    if latitude is None or longitude is None or lat_ref not in "NS" or lon_ref not in "EW":
        return None
    if not lat_ref or not lon_ref:
        return None
    latitude = round(-latitude if lat_ref == "S" else latitude, 7)
    longitude = round(-longitude if lon_ref == "W" else longitude, 7)
    if abs(latitude) > 90 or abs(longitude) > 180 or (latitude == 0 and longitude == 0):
        return None  # out of range, or the 0/0 that receivers write without a fix
    altitude = _number(gps.get(_G.GPSAltitude))
    if altitude is not None and abs(altitude) < 100_000:
        ref = gps.get(_G.GPSAltitudeRef)
        below = ref in (1, b"\x01") or (isinstance(ref, bytes) and ref[:1] == b"\x01")
        altitude = round(-altitude if below else altitude, 2)
    else:
        altitude = None
    return GpsInfo(
        latitude=latitude,
        longitude=longitude,
        altitude=altitude,
        map_url=(
            f"https://www.openstreetmap.org/?mlat={latitude:.6f}&mlon={longitude:.6f}"
            f"#map=15/{latitude:.6f}/{longitude:.6f}"
        ),
    )


# ---------------------------------------------------------------- entry point


def read_image_metadata(path: str | os.PathLike) -> ImageMetadata:
    """Camera, GPS, IPTC and XMP of the image at path; fields that cannot be read are None."""
    with open_image(path) as im:
        metadata = ImageMetadata(
            format=im.format, camera=CameraInfo(), gps=None, iptc=IptcInfo(), xmp=XmpInfo()
        )
        orientation = image_orientation(im)
        width, height = im.size
        if orientation >= 5:
            width, height = height, width
        metadata.camera.width, metadata.camera.height = width, height
        with quiet_pillow():
            exif = read_exif(im)
            _safely(_read_camera, exif, metadata)
            _safely(_read_orientation, im, exif, metadata)
            metadata.gps = _safely(_read_gps, exif)
            metadata.iptc = _safely(_read_iptc, im) or IptcInfo()
            metadata.xmp = _safely(_read_xmp, im) or XmpInfo()
    return metadata


def _read_orientation(im: Image.Image, exif: Image.Exif, metadata: ImageMetadata) -> None:
    value = exif.get(_T.Orientation)
    if im.format == "HEIF":  # pillow-heif moves it out of EXIF once libheif applied it
        value = im.info.get("original_orientation") or value
    if isinstance(value, int) and 1 <= value <= 8:
        metadata.camera.orientation = value
