"""EXIF, GPS, IPTC and XMP of an image, read without decoding its pixels.

Damaged metadata never raises: every field is read on its own and left None when it
cannot be. Only a file that cannot be opened as an image raises (CorruptMedia etc.).
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field

from PIL import ExifTags, Image, IptcImagePlugin

from media.dates import best_taken
from media.images import image_orientation, open_image, quiet_pillow, read_exif
from media.metadata_values import MAX_ITEMS, MAX_TEXT  # noqa: F401  (callers read MAX_TEXT here)
from media.metadata_values import clean_text as _text
from media.metadata_values import exif_date as _exif_date
from media.metadata_values import exposure_text as _exposure_text
from media.metadata_values import finite_number as _number
from media.metadata_values import flash_text as _flash_text
from media.metadata_values import iso_date as _iso_date
from media.metadata_values import safely as _safely

MAX_XMP_BYTES = 1 << 20

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

# IPTC IIM record 2 datasets.
_IPTC = {
    "object_name": (2, 5),
    "headline": (2, 105),
    "caption": (2, 120),
    "by_line": (2, 80),
    "city": (2, 90),
    "country": (2, 101),
    "copyright": (2, 116),
    "credit": (2, 110),
    "source": (2, 115),
    "state": (2, 95),
    "sublocation": (2, 92),
}
_IPTC_KEYWORDS = (2, 25)
_IPTC_DATE = (2, 55)
_IPTC_TIME = (2, 60)


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
class IptcInfo:
    object_name: str | None = None
    headline: str | None = None
    caption: str | None = None
    keywords: list[str] = field(default_factory=list)
    by_line: str | None = None
    city: str | None = None
    country: str | None = None
    copyright: str | None = None
    credit: str | None = None
    source: str | None = None
    state: str | None = None
    sublocation: str | None = None
    date_created: str | None = None


@dataclass
class XmpInfo:
    title: str | None = None
    description: str | None = None
    subject: list[str] = field(default_factory=list)
    rating: int | None = None
    creator: str | None = None
    rights: str | None = None
    headline: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    location: str | None = None  # Iptc4xmpCore:Location, the place within the city
    credit: str | None = None
    source: str | None = None
    date_created: str | None = None


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


# ---------------------------------------------------------------- IPTC


def _read_iptc(im: Image.Image) -> IptcInfo:
    iptc = IptcInfo()
    raw = _safely(IptcImagePlugin.getiptcinfo, im) or {}

    def first(key):
        value = raw.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        return _text(value)

    for name, key in _IPTC.items():
        setattr(iptc, name, first(key))
    keywords = raw.get(_IPTC_KEYWORDS)
    if not isinstance(keywords, list):
        keywords = [keywords] if keywords is not None else []
    iptc.keywords = [k for k in (_text(v) for v in keywords[:MAX_ITEMS]) if k]
    date = first(_IPTC_DATE)
    if date and re.fullmatch(r"\d{8}", date):
        iso = f"{date[:4]}-{date[4:6]}-{date[6:]}"
        time = first(_IPTC_TIME)
        if time and (m := re.fullmatch(r"(\d{2})(\d{2})(\d{2})([+-]\d{2})(\d{2})?", time)):
            iso += f"T{m[1]}:{m[2]}:{m[3]}{m[4]}:{m[5] or '00'}"
        iptc.date_created = _iso_date(iso)
    return iptc


# ---------------------------------------------------------------- XMP


def _xmp_properties(xmp: dict) -> dict:
    """Merge every rdf:Description of the packet into one dict (namespaces dropped)."""
    root = xmp.get("xmpmeta", xmp) if isinstance(xmp, dict) else None
    rdf = root.get("RDF") if isinstance(root, dict) else None
    descriptions = rdf.get("Description") if isinstance(rdf, dict) else None
    if isinstance(descriptions, dict):
        descriptions = [descriptions]
    merged: dict = {}
    for item in descriptions if isinstance(descriptions, list) else []:
        if isinstance(item, dict):
            for key, value in item.items():
                merged.setdefault(key, value)
    return merged


def _xmp_items(value) -> list:
    """The members of an rdf:Alt / Bag / Seq (or a single value)."""
    if isinstance(value, dict):
        for container in ("Alt", "Bag", "Seq"):
            if container in value:
                return _xmp_items(value[container])
        if "li" in value:
            items = value["li"]
            return items if isinstance(items, list) else [items]
    return [value]


def _xmp_text(value) -> str | None:
    """A language alternative's x-default text (else the first), or a plain value."""
    items = _xmp_items(value)
    texts = []
    for item in items:
        if isinstance(item, dict):
            text = _text(item.get("text"))
            if text and item.get("lang") == "x-default":
                return text
        else:
            text = _text(item)
        if text:
            texts.append(text)
    return texts[0] if texts else None


def _xmp_list(value) -> list[str]:
    out = []
    for item in _xmp_items(value)[:MAX_ITEMS]:
        text = _xmp_text(item)
        if text:
            out.append(text)
    return out


def _read_xmp(im: Image.Image) -> XmpInfo:
    info = XmpInfo()
    raw = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp") or b""
    if not raw and hasattr(im, "tag_v2"):  # TIFF keeps XMP in tag 700
        raw = im.tag_v2.get(700) or b""
    if len(raw) > MAX_XMP_BYTES:
        return info
    props = _xmp_properties(_safely(im.getxmp) or {})
    info.title = _xmp_text(props.get("title"))
    info.description = _xmp_text(props.get("description"))
    info.subject = _xmp_list(props.get("subject"))
    creators = _xmp_list(props.get("creator"))
    info.creator = _text(", ".join(creators)) if creators else None
    info.rights = _xmp_text(props.get("rights"))
    info.headline = _xmp_text(props.get("Headline"))
    for name, prop in (("city", "City"), ("state", "State"), ("country", "Country"),
                       ("location", "Location"), ("credit", "Credit"), ("source", "Source")):
        setattr(info, name, _xmp_text(props.get(prop)))
    for key in ("DateTimeOriginal", "DateCreated", "CreateDate"):
        info.date_created = _iso_date(_xmp_text(props.get(key)))
        if info.date_created:
            break
    rating = _number(_number_from_text(_xmp_text(props.get("Rating"))))
    if rating is not None and -1 <= rating <= 5:
        info.rating = int(rating)
    return info


def _number_from_text(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


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
