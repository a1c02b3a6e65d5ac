"""External media: embed code reduced to one allowlisted <iframe> and stored as a media object.

The submitted HTML is parsed with lxml, and a *new* iframe is built from the first one found,
copying only allowlisted attributes. Nothing else of the input (scripts, event handlers,
other elements, text) can reach the output. The src must be https on an allowed host.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

from gallery.errors import Invalid
from gallery.i18n import Message
from gallery.library.media import media_document, next_position

DEFAULT_EMBED_HOSTS = ["www.youtube.com", "www.youtube-nocookie.com", "player.vimeo.com"]
MAX_EMBED_CHARS = 10_000

_SIZE = re.compile(r"^\d{1,5}%?$")
_ALLOW = re.compile(r"^[a-zA-Z0-9\-; *'().:/]{0,500}$")
_FRAMEBORDER = re.compile(r"^[01]$")


def _check_src(src: str, hosts) -> str:
    src = (src or "").strip()
    if any(ord(c) < 0x21 for c in src):
        raise Invalid("The embed's address contains spaces or control characters.")
    try:
        parts = urlsplit(src)
        port = parts.port
    except ValueError:
        raise Invalid("The embed's address is not a valid URL.") from None
    if parts.scheme.lower() != "https":
        raise Invalid("The embed's address must start with https://.")
    host = (parts.hostname or "").lower()
    allowed = {h.strip().lower() for h in hosts if h.strip()}
    if parts.username or parts.password or port not in (None, 443) or host not in allowed:
        raise Invalid(
            f"Embeds from {host or 'this address'} are not allowed; allowed hosts: "
            f"{', '.join(sorted(allowed)) or 'none'}."
        )
    return src


def sanitize_embed(html: str, hosts=DEFAULT_EMBED_HOSTS) -> str:
    """Return a clean `<iframe>` from embed code, or raise Invalid saying why not."""
    if not isinstance(html, str) or not html.strip():
        raise Invalid("The embed code is empty.")
    if len(html) > MAX_EMBED_CHARS:
        raise Invalid(Message("The embed code is longer than %(count)s characters.", count=MAX_EMBED_CHARS))
    try:
        fragments = lxml.html.fragments_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        raise Invalid("The embed code is not valid HTML.") from None
    iframes = []
    for fragment in fragments:
        if isinstance(fragment, str):
            continue
        iframes.extend(el for el in fragment.iter() if el.tag == "iframe")
    if not iframes:
        raise Invalid("The embed code must contain an <iframe>.")
    if len(iframes) > 1:
        raise Invalid("The embed code may contain only one <iframe>.")
    source = iframes[0]
    clean = lxml.html.Element("iframe")
    clean.set("src", _check_src(source.get("src"), hosts))
    for name in ("width", "height"):
        value = (source.get(name) or "").strip()
        if value and _SIZE.match(value):
            clean.set(name, value)
    allow = (source.get("allow") or "").strip()
    if allow and _ALLOW.match(allow) and "javascript" not in allow.lower():
        clean.set("allow", allow)
    title = " ".join((source.get("title") or "").split())[:200]
    if title:
        clean.set("title", title)
    frameborder = (source.get("frameborder") or "").strip()
    if _FRAMEBORDER.match(frameborder):
        clean.set("frameborder", frameborder)
    if source.get("allowfullscreen") is not None:
        clean.set("allowfullscreen", "")
    clean.set("loading", "lazy")
    clean.set("referrerpolicy", "strict-origin-when-cross-origin")
    return lxml.html.tostring(clean, encoding="unicode")


async def add_external_media(
    ctx, user, album: dict, embed_html: str, *, title: str = "", caption: str = ""
) -> dict:
    """Store already-sanitized embed HTML as a ready media object of kind `external`."""
    src = lxml.html.fragment_fromstring(embed_html).get("src", "")
    doc = media_document(
        album,
        kind="external",
        mime="text/html",
        extension="",
        file_name="",
        original_path=None,
        owner_id=user["_id"] if user else None,
        title=(title or "").strip()[:500] or (urlsplit(src).hostname or "External media"),
        caption=(caption or "")[:10_000],
        position=await next_position(ctx, album["_id"]),
        state="ready",
    )
    doc["embed_html"] = embed_html
    await ctx.db.media.insert_one(doc)
    return doc
