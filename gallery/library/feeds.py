"""The Atom feed (RFC 4287) of an album: its newest media, built with lxml (every value
escaped by the serializer, never by hand). Who may read it is the handler's business
(handlers/feeds.py); this only writes the document."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 30


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # stored in UTC; a zone may be dropped
        value = value.replace(tzinfo=UTC)
    return value


def _stamp(value: datetime | None) -> str:
    return _utc(value or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", {k: v for k, v in attrs.items() if v})
    if text is not None:
        element.text = text
    return element


# What XML 1.0 refuses (most control characters, U+FFFE/U+FFFF) and a title may hold.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)[:1000]


async def newest_media(ctx, album_id: str, limit: int = FEED_SIZE) -> list[dict]:
    """The album's newest processed media (the album's own, not its sub-albums')."""
    return (
        await ctx.db.media.find({"album_id": album_id, "state": "ready"})
        .sort("date_added", -1)
        .limit(limit)
        .to_list()
    )


def album_feed(
    *, feed_id: str, title: str, author: str, self_url: str, page_url: str, items: list[dict],
    entry_id, entry_url, image_url=None, updated: datetime | None = None,
) -> bytes:
    """The feed document. `entry_id(media)`, `entry_url(media)` and `image_url(media)` (or
    None: no pictures, e.g. a share link's feed, whose readers carry no cookie) give the
    absolute addresses."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _add(feed, "id", feed_id)
    _add(feed, "title", _clean(title) or "Album")
    newest = max((_utc(m["date_added"]) for m in items if m.get("date_added")), default=None)
    _add(feed, "updated", _stamp(newest or updated))
    _add(_add(feed, "author"), "name", _clean(author) or "Atrium")
    _add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(feed, "link", rel="alternate", type="text/html", href=page_url)
    _add(feed, "generator", "Atrium")
    for media in items:
        entry = _add(feed, "entry")
        label = media.get("title") or media.get("file_name") or "Untitled"
        _add(entry, "id", entry_id(media))
        _add(entry, "title", _clean(label))
        _add(entry, "updated", _stamp(media.get("updated") or media.get("date_added")))
        _add(entry, "published", _stamp(media.get("date_added")))
        _add(entry, "link", rel="alternate", type="text/html", href=entry_url(media))
        caption = _clean(str(media.get("caption") or ""))
        if image_url is not None and (media.get("derivatives") or {}).get("thumbnail"):
            # Type html: the reader escapes nothing itself; the markup is built by lxml.
            html = etree.Element("p")
            link = etree.SubElement(html, "a", href=entry_url(media))
            etree.SubElement(link, "img", src=image_url(media), alt=_clean(label))
            if caption:
                etree.SubElement(html, "br").tail = caption
            _add(entry, "content", etree.tostring(html, encoding="unicode"), type="html")
        elif caption:
            _add(entry, "summary", caption)
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8")
