"""IPTC-IIM and XMP blocks read into IptcInfo and XmpInfo: from an image Pillow opened
(media/metadata.py), or from the bytes a RAW file's first TIFF directory holds (media/raw.py).
Titles, captions, keywords, places, credits, dates and the rating people wrote in their
photo managers; every value capped and cleaned (media/metadata_values.py)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from PIL import Image, IptcImagePlugin

from media.metadata_values import MAX_ITEMS
from media.metadata_values import clean_text as _text
from media.metadata_values import finite_number as _number
from media.metadata_values import iso_date as _iso_date
from media.metadata_values import safely as _safely

MAX_XMP_BYTES = 1 << 20
MAX_IPTC_BYTES = 1 << 20

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


# ---------------------------------------------------------------- IPTC


def iptc_from_image(im: Image.Image) -> IptcInfo:
    """The IPTC-IIM block Pillow finds in a JPEG (Photoshop resource) or TIFF (tag 33723)."""
    return _iptc_from_datasets(_safely(IptcImagePlugin.getiptcinfo, im) or {})


def iptc_from_block(block: bytes) -> IptcInfo:
    """An IPTC-IIM block as it sits in a RAW file's first TIFF directory (tag 33723), read
    by Pillow's own IIM reader, as `getiptcinfo` does for the TIFF it opened itself."""
    def datasets() -> dict:
        reader = IptcImagePlugin.IptcImageFile.__new__(IptcImagePlugin.IptcImageFile)
        reader.info, reader.fp = {}, io.BytesIO(block[:MAX_IPTC_BYTES])
        try:
            reader._open()
        except (IndexError, KeyError):
            pass  # a block without image data ends this way (getiptcinfo says so too)
        return {k: v for k, v in reader.info.items() if isinstance(k, tuple)}

    return _iptc_from_datasets(_safely(datasets) or {})


def _iptc_from_datasets(raw: dict) -> IptcInfo:
    iptc = IptcInfo()

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


def xmp_from_image(im: Image.Image) -> XmpInfo:
    """The XMP packet Pillow found in the image it opened."""
    raw = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp") or b""
    if not raw and hasattr(im, "tag_v2"):  # TIFF keeps XMP in tag 700
        raw = im.tag_v2.get(700) or b""
    if len(raw) > MAX_XMP_BYTES:
        return XmpInfo()
    return _xmp_from_properties(_xmp_properties(_safely(im.getxmp) or {}))


def xmp_from_packet(packet: bytes) -> XmpInfo:
    """An XMP packet found elsewhere (a RAW file's tag 700), parsed by Pillow's reader
    (defusedxml) as it parses the packets of the images it opens."""
    if not isinstance(packet, bytes) or len(packet) > MAX_XMP_BYTES:
        return XmpInfo()
    holder = Image.new("1", (1, 1))
    holder.info["xmp"] = packet
    return _xmp_from_properties(_xmp_properties(_safely(holder.getxmp) or {}))


def _xmp_from_properties(props: dict) -> XmpInfo:
    info = XmpInfo()
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
