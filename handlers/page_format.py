"""How the gallery pages show a media object: tile sizes and the metadata panel's rows.

Plain values only; the templates escape them. The panel's fields and their order come
from the tenant setting `metadata_fields`; a field without a value is left out.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from tornado.escape import xhtml_escape as escape

from gallery import metadata_fields
from media.dates import taken_of

SORT_LABELS = {
    "position": "Custom order",
    "title": "Title",
    "date_taken": "Date taken",
    "date_added": "Date added",
    "file_name": "File name",
    "camera": "Camera",
    "lens": "Lens",
    "iso": "ISO speed",
    "focal_length": "Focal length",
    "file_size": "File size",
    "rating": "Rating",
}

# The panel's usual headings (an admin may rename them: the `metadata_labels` setting).
FIELD_LABELS = {f.key: f.label for f in metadata_fields.FIELDS}


def tile_size(media: dict) -> tuple[int, int]:
    """Width and height of the thumbnail (what the <img> reserves before it loads)."""
    thumb = (media.get("derivatives") or {}).get("thumbnail") or {}
    w, h = thumb.get("width"), thumb.get("height")
    if not (w and h):
        w, h = media.get("width"), media.get("height")
    if not (isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0):
        return 320, 320
    # Keep panoramas and slivers reasonable in a justified row.
    ratio = max(0.4, min(w / h, 3.0))
    return (320, round(320 / ratio)) if ratio >= 1 else (round(320 * ratio), 320)


def media_label(media: dict) -> str:
    """Alt text and tooltip: the title, else the file name."""
    return (media.get("title") or "").strip() or media.get("file_name") or "Untitled"


def file_size(n) -> str:
    if not isinstance(n, (int, float)) or n < 0:
        return ""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def duration(seconds) -> str:
    if not isinstance(seconds, (int, float)) or seconds <= 0:
        return ""
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _number(value, fmt: str) -> str:
    return fmt.format(value) if isinstance(value, (int, float)) else ""


def _date(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d %b %Y, %H:%M")
    return str(value or "")


def map_url(lat: float, lon: float) -> str:
    query = urlencode({"mlat": f"{lat:.6f}", "mlon": f"{lon:.6f}"})
    return f"https://www.openstreetmap.org/?{query}#map=15/{lat:.5f}/{lon:.5f}"


def metadata_rows(
    media: dict, fields: list[str], search_url, labels: dict | None = None, editable=()
) -> list[dict]:
    """[{"key", "label", "text", "href"?, "tags"?, "editable"?}] in the order of `fields`.

    `search_url(tag)` gives the link of a tag (the search page); `labels` the admin's
    headings; fields in `editable` are listed even without a value, for an editor to fill.
    An editor's correction (`meta_edits`) is shown instead of the file's value.
    """
    meta = media.get("metadata") or {}
    camera = meta.get("camera") or {}
    labels = labels if isinstance(labels, dict) else {}
    rows: list[dict] = []
    for key in fields:
        label = labels.get(key) or FIELD_LABELS.get(key, key.replace("_", " ").title())
        row = {"key": key, "label": label}
        text = ""
        field = metadata_fields.BY_KEY.get(key)
        edit = metadata_fields.shown_text(field, media) if field and field.editable else None
        if edit is not None:
            text = edit
            # What the file says, for the editor's "use the file's value".
            row["edited"] = " ".join(metadata_fields.extracted_text(field, meta).split()) if field.paths else ""
        elif key == "title":
            text = media.get("title") or ""
        elif key == "caption":
            text = media.get("caption") or ""
        elif key == "file_name":
            text = media.get("file_name") or ""
        elif key == "date_taken":
            # The local time the photo was taken, with its offset when the file has one
            # (date_taken itself is the UTC instant the album sorts by).
            taken = taken_of(media)
            text = taken.display() if taken else ""
        elif key == "date_added":
            text = _date(media.get("date_added"))
        elif key == "exposure":
            parts = []
            if camera.get("exposure_time"):
                parts.append(f"{camera['exposure_time']} s")
            if isinstance(camera.get("f_number"), (int, float)):
                parts.append(f"f/{camera['f_number']:g}")
            text = " · ".join(parts)
        elif key == "iso":
            text = _number(camera.get("iso"), "{:d}") if isinstance(camera.get("iso"), int) else ""
        elif key == "focal_length":
            text = _number(camera.get("focal_length"), "{:g} mm")
        elif key == "dimensions":
            w, h = media.get("width"), media.get("height")
            # width/height are the upright original's; a quarter turn of the user's shows
            # the picture the other way round.
            if int((media.get("transform") or {}).get("rotate", 0)) % 180 == 90:
                w, h = h, w
            text = f"{w} × {h}" if w and h else ""
        elif key == "file_size":
            text = file_size((media.get("original") or {}).get("size"))
        elif key == "gps":
            gps = meta.get("gps") or {}
            lat, lon = gps.get("latitude"), gps.get("longitude")
            if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
                text = f"{lat:.5f}, {lon:.5f}"
                row["href"] = map_url(lat, lon)
        elif key == "tags":
            tags = list(media.get("tags") or [])
            if tags:
                row["tags"] = [(t, search_url(t)) for t in tags]
                text = ", ".join(tags)
        elif field and field.paths:
            text = metadata_fields.extracted_text(field, meta)
        text = " ".join(str(text).split()) if key != "caption" else str(text).strip()
        if key in editable and field and field.editable:
            row["editable"] = True
        if text or row.get("editable"):
            row["text"] = text
            rows.append(row)
    return rows


def probe_rows(media: dict) -> list[dict]:
    """Duration, container and codecs of video and audio, from the stored probe."""
    if media.get("kind") not in ("video", "audio"):
        return []
    probe = media.get("probe") or {}
    rows = []

    def add(key: str, label: str, text) -> None:
        if text:
            rows.append({"key": key, "label": label, "text": str(text)})

    add("duration", "Duration", duration(media.get("duration") or probe.get("duration")))
    add("container", "Format", probe.get("container_brand") or probe.get("container"))
    if isinstance(probe.get("video_codec"), str):
        rate = probe.get("frame_rate")
        fps = f", {rate:g} fps" if isinstance(rate, (int, float)) and rate > 0 else ""
        add("video_codec", "Video", probe["video_codec"] + fps)
    if isinstance(probe.get("audio_codec"), str):
        extra = []
        if isinstance(probe.get("audio_channels"), int):
            extra.append(
                {1: "mono", 2: "stereo"}.get(
                    probe["audio_channels"], f"{probe['audio_channels']} ch"
                )
            )
        if isinstance(probe.get("sample_rate"), (int, float)) and probe["sample_rate"] > 0:
            extra.append(f"{probe['sample_rate'] / 1000:g} kHz")
        add("audio_codec", "Audio", ", ".join([probe["audio_codec"], *extra]))
    if isinstance(probe.get("bit_rate"), (int, float)) and probe["bit_rate"] > 0:
        add("bit_rate", "Bit rate", f"{probe['bit_rate'] / 1000:.0f} kbit/s")
    return rows


def doc_type(media: dict) -> str:
    """A document's type as people name it: its extension in capitals ("PDF", "DOCX"), or ""
    for a file without one (its icon says it is a file, in no language)."""
    name = media.get("file_name") or ""
    ext = (media.get("extension") or (name.rsplit(".", 1)[1] if "." in name else "")).lstrip(".")
    return ext[:5].upper()


def _english(message: str) -> str:
    return message


def tile_html(media: dict, urls, sort_query: dict, _=_english) -> str:
    """One grid tile's markup (templates/partials/media_tile.html places it raw); `_`
    translates its few words (the page's `_`; English without it).

    Built here rather than in a template because an album page has dozens of tiles and the
    template spent most of its time escaping the same label four times per tile: every
    value is escaped once, here. Its size is reserved before the thumbnail loads.
    """
    mid = escape(str(media["_id"]))
    w, h = tile_size(media)
    kind = escape(str(media.get("kind") or "other"))
    label = escape(media_label(media))
    href = escape(urls(f"/media/{media['_id']}", **sort_query))
    caption = media.get("caption")
    caption_attr = f' data-caption="{escape(str(caption)[:500])}"' if caption else ""
    failed = media.get("state") == "failed"
    if (media.get("derivatives") or {}).get("thumbnail") or failed:
        # A failed item's thumbnail route answers with a placeholder picture.
        thumb = escape(urls(f"/media/{media['_id']}/thumbnail"))
        alt = escape(_("%(title)s (could not be processed)") % {"title": media_label(media)}) if failed else label
        picture = (
            f'<img src="{thumb}" width="{w}" height="{h}" loading="lazy" decoding="async"'
            f' alt="{alt}">'
        )
    else:
        picture = (
            f'<span class="tile-pending" role="img" aria-label="{escape(_("%(title)s (still processing)") % {"title": media_label(media)})}"></span>'
        )
    badge = ""
    if media.get("kind") in ("video", "audio"):
        text = "▶" if media.get("kind") == "video" else "♪"
        if media.get("duration"):
            text += " " + duration(media.get("duration"))
        badge = f'<span class="tile-badge" aria-hidden="true">{escape(text)}</span>'
    elif media.get("kind") not in (None, "image") and doc_type(media):
        # Documents say what they are (PDF, DOCX...): their first page or icon alone does not.
        badge = f'<span class="tile-badge doc" aria-hidden="true">{escape(doc_type(media))}</span>'
    preview = ""
    if media.get("kind") not in (None, "image", "video", "audio"):
        thumb_info = (media.get("derivatives") or {}).get("thumbnail") or {}
        if (media.get("derivatives") or {}).get("optimized") and not thumb_info.get("icon"):
            preview = ' data-preview="1"'  # a first-page picture the lightbox can show
    return (
        f'<li class="media-tile" data-media-id="{mid}" data-kind="{kind}"'
        f' data-state="{escape(str(media.get("state") or ""))}"{caption_attr}{preview}'
        f' style="--w:{w};--h:{h}">\n'
        f'  <a href="{href}" title="{label}">\n'
        f"    {picture}\n"
        + (f"    {badge}\n" if badge else "")
        + f'    <span class="tile-caption" aria-hidden="true">{label}</span>\n'
        "  </a>\n</li>\n"
    )
