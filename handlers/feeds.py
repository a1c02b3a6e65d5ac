"""An album's Atom feed and a media object's embed page.

GET /albums/<id>/feed.atom[?share=<token>]
    The album's newest media, for what anyone may see: the feed is read by feed readers and
    passed around, so a signed-in visitor's cookies widen nothing. With a share link's
    token (a link without a password: the token is all a feed reader can carry) it shows
    what the link opens, and its entries lead through the link.
GET /embed/<media id>
    A small page that shows one media object for an <iframe> on another site. It is the
    one route any site may frame (frame-ancestors *); every other page keeps
    X-Frame-Options SAMEORIGIN. Permissions and watermarks are those of the media routes
    its picture comes from.

Absolute addresses come from the trusted origin (gallery.urls.mail_urls), never the Host
header.
"""

from __future__ import annotations

from urllib.parse import quote

from gallery.errors import Forbidden
from gallery.library import feeds, shares
from gallery.library.albums import viewable_album
from gallery.library.media import viewable_media
from gallery.people.permissions import Viewer, viewer_for
from handlers.base import TenantHandler

ID = r"([0-9a-fA-F]{24})"
FEED_MAX_AGE = 300


class AlbumFeedHandler(TenantHandler):
    async def get(self, album_id: str) -> None:
        ctx, settings = self.tenant, self.settings_values
        token = self.get_query_argument("share", None)
        grants = ()
        if token is not None:
            share = await shares.share_for_token(ctx, token)
            shares.require_active(share)
            if share.get("password_hash"):
                raise Forbidden("A shared link with a password has no feed.")
            grants = (shares.grant_of(share),)
        viewer = Viewer(
            None,
            allow_anonymous=bool(settings.get("allow_anonymous_browsing", True)),
            allow_anonymous_original=bool(settings.get("allow_anonymous_original", False)),
            shares=grants,
        )
        album = await viewable_album(ctx, viewer, album_id)
        items = await feeds.newest_media(ctx, album["_id"])
        urls = self.mail_urls
        is_root = not album.get("parent_id")
        page = "/" if is_root else f"/albums/{album['_id']}"
        if token is None:
            def entry_url(m):
                return urls.absolute(f"/media/{m['_id']}")

            def image_url(m):
                return urls.absolute(f"/media/{m['_id']}/thumbnail")

            page_url = urls.absolute(page)
            self_url = urls.absolute(f"/albums/{album['_id']}/feed.atom")
            self.set_header("Cache-Control", f"public, max-age={FEED_MAX_AGE}")
        else:
            # Entries lead through the link, which opens the visitor's browser to them.
            through = urls.absolute(f"/s/{token}")

            def entry_url(m):
                return f"{through}?next={quote(urls('/media/' + m['_id']), safe='')}"

            image_url = None
            page_url = f"{through}?next={quote(urls(page), safe='')}"
            self_url = urls.absolute(f"/albums/{album['_id']}/feed.atom", share=token)
            self.set_header("Cache-Control", "private, no-store")
            self.set_header("X-Robots-Tag", "noindex")
        body = feeds.album_feed(
            feed_id=urls.absolute(f"/albums/{album['_id']}"),
            title=self.gallery_title if is_root else (album.get("title") or "Album"),
            author=self.gallery_title or "Atrium",
            self_url=self_url,
            page_url=page_url,
            items=items,
            entry_id=lambda m: urls.absolute(f"/media/{m['_id']}"),
            entry_url=entry_url,
            image_url=image_url,
            updated=album.get("updated") or album.get("created"),
        )
        self.set_header("Content-Type", "application/atom+xml; charset=utf-8")
        self.finish(body)


class EmbedHandler(TenantHandler):
    """GET /embed/<media id>"""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        # Only this route may be framed, by any site; it runs no script of its own.
        self.clear_header("X-Frame-Options")
        self.set_header(
            "Content-Security-Policy",
            "frame-ancestors *; default-src 'none'; img-src 'self'; style-src 'self'",
        )

    async def get(self, media_id: str) -> None:
        ctx = self.tenant
        viewer = await viewer_for(ctx, self.user, self.settings_values, self.share_grants)
        media = await viewable_media(ctx, viewer, media_id)
        derivatives = media.get("derivatives") or {}
        picture = None
        if media.get("kind") == "image" and derivatives.get("thumbnail"):
            # The web-size copy, or the original where it is the viewing copy (the route
            # decides, with its permissions and watermarks).
            picture = self.urls(f"/media/{media['_id']}/optimized")
        elif derivatives.get("thumbnail"):
            picture = self.urls(f"/media/{media['_id']}/thumbnail")
        self.set_header("Cache-Control", "private, max-age=60")
        self.render(
            "embed.html",
            media=media,
            label=media.get("title") or media.get("file_name") or "Untitled",
            picture=picture,
            page_url=self.mail_urls.absolute(f"/media/{media['_id']}"),
        )


def embed_snippet(urls, media: dict, label: str) -> str:
    """The <iframe> a visitor copies from the media page (handlers/pages_media.py)."""
    from html import escape

    src = urls.absolute(f"/embed/{media['_id']}")
    return (
        f'<iframe src="{escape(src)}" title="{escape(label)}" width="640" height="480" '
        f'style="border:0;max-width:100%" loading="lazy" allowfullscreen></iframe>'
    )


ROUTES = [
    (rf"/albums/{ID}/feed\.atom", AlbumFeedHandler),
    (rf"/embed/{ID}", EmbedHandler),
]
