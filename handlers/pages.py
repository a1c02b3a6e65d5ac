"""The gallery's pages: an album (the home page is the root album), search and tags.

Every page asks gallery.people.permissions through a Viewer: an album the viewer may not see is
a 404, exactly like one that does not exist, and nothing on a page (breadcrumb, child
album cards, counts, search results, tags) comes from an album the viewer cannot see.
The media page lives in handlers/pages_media.py.
"""

from __future__ import annotations

import asyncio
import re

from gallery import i18n
from gallery.errors import Invalid
from gallery.library import listing, search
from gallery.library.album_search import search_albums
from gallery.library.albums import viewable_album
from gallery.library.people import people_cloud
from gallery.library.search_filters import KIND_LABELS, SearchFilters, parse_filters
from gallery.library.shares import may_share
from gallery.media_folder import read_only
from gallery.people.permissions import Viewer, can, viewer_for, visible_media_query
from handlers.base import TenantHandler
from handlers.page_format import SORT_LABELS, duration, media_label, tile_html, tile_size
from handlers.upload_page import upload_limits

SEARCH_PAGE = 200  # the search API's largest page
# (tenant database, page cache key, generation) -> the album page view being built.
_BUILDING: dict[tuple, asyncio.Future] = {}
EDIT_PERMISSIONS = ("edit_album", "add_album", "add_media", "edit_media", "delete_media")


class GalleryPage(TenantHandler):
    """A page a visitor browses: the anonymous gate, the viewer, and what tiles need."""

    _viewer: Viewer | None = None

    async def prepare(self) -> None:
        await super().prepare()
        if (
            not self.settings_values["allow_anonymous_browsing"]
            and self.user is None
            and not self.share_grants  # a share link opens what it names all the same
        ):
            self.require_user()
        self.is_gallery_admin = (await self.viewer()).is_admin

    async def viewer(self) -> Viewer:
        if self._viewer is None:
            self._viewer = await viewer_for(
                self.tenant, self.user, self.settings_values, self.share_grants
            )
        return self._viewer

    def get_template_namespace(self) -> dict:
        ns = super().get_template_namespace()
        settings = getattr(self, "settings_values", {})
        ns.update(
            tile_size=tile_size,
            tile_html=tile_html,
            media_label=media_label,
            format_duration=duration,
            count_label=count_label,
            page_window=page_window,
            sort_query={},
            # Layout values a page view may leave out (handlers/home.py, the virtual root).
            can_share=False,
            upload=None,  # the album page's drop layer (templates/partials/album_drop.html)
            may_original=False,
            feed_url=None,
            embed_code=None,
            gallery_config={
                "mediaBase": self.urls("/media/") if self.urls else "/media/",
                "slideshowInterval": int(settings.get("slideshow_interval", 4)),
                "slideshowLoop": bool(settings.get("slideshow_loop", True)),
                "slideshowTransition": settings.get("slideshow_transition", "fade"),
            },
        )
        return ns

    def choice_argument(self, name: str, allowed, default):
        raw = self.get_query_argument(name, None)
        if raw in (None, ""):
            return default
        if raw not in allowed:
            raise Invalid(
                f"“{raw[:40]}” is not a valid {name}; use one of: {', '.join(map(str, allowed))}.",
                field_errors={name: "is not valid"},
            )
        return raw

    def page_argument(self) -> int:
        raw = self.get_query_argument("page", None)
        if raw in (None, ""):
            return 1
        if not re.fullmatch(r"[0-9]{1,30}", raw) or int(raw) < 1:
            raise Invalid(
                "The page number must be a whole number from 1 up.",
                field_errors={"page": "must be a whole number from 1 up"},
            )
        return int(raw)

    # -- the page cache -----------------------------------------------------------------
    # A page's body (everything inside <main>) is kept in the tenant's page cache
    # (ctx.page_entry), keyed by what decides its content: the page and its query, the
    # routing prefix, the gallery title, the viewer's visibility class (anonymous, or
    # the exact set of roles) and the language. It is used only while nothing was written to the tenant's
    # database since it was built (and for at most a few seconds, the bound for other
    # processes' writes), so an upload, an edit, a deletion, a privacy or a role change
    # shows on the next request. The layout around it (the visitor's name, the XSRF token
    # of the sign-out form) is rendered per request and never cached.

    _page_key = None
    _page_generation = 0
    _flight: asyncio.Future | None = None
    _flight_key = None

    async def page_from_cache(self, *key) -> dict | None:
        """The cached view under `key` (+ this viewer's class); None: build it, then
        `keep_page` it, and call `end_flight(None)` in a finally."""
        viewer = await self.viewer()
        # The body's words are in the visitor's language: one cached body per language.
        self._page_key = (*key, visibility_class(viewer), self.urls.prefix, self.gallery_title, self.locale.code)
        self._page_generation = self.tenant.generation
        view, fresh = self.tenant.page_entry(self._page_key)
        if view is not None and fresh:
            return view
        # One request (re)builds a page; concurrent requests of the same class that arrive
        # with no write since it started don't build it again (all 20 benchmark clients
        # doing so every 5 s made p99 hundreds of ms). If the page only aged (nothing was
        # written here; the age bounds other processes' writes) they get the aged body for
        # the few ms of the rebuild; otherwise they wait for the build. If it ends without
        # a result, they build their own.
        flight_key = (self.tenant.db.name, self._page_key, self._page_generation)
        flight = _BUILDING.get(flight_key)
        if flight is not None:
            if view is not None:
                return view
            view = await asyncio.shield(flight)
            if view is not None:
                return view
        else:
            self._flight = _BUILDING[flight_key] = asyncio.get_running_loop().create_future()
            self._flight_key = flight_key
        return None

    def keep_page(self, view: dict) -> None:
        if self._page_key is not None:
            self.tenant.remember_page(self._page_key, view, self._page_generation)
            self.end_flight(view)

    def end_flight(self, view: dict | None) -> None:
        """Hand the built view (None: nothing to share) to the visitors waiting for it."""
        flight, self._flight = self._flight, None
        if flight is not None:
            if _BUILDING.get(self._flight_key) is flight:
                del _BUILDING[self._flight_key]
            if not flight.done():
                flight.set_result(view)

    async def breadcrumb(self, album: dict) -> list[dict]:
        """Home, then the album's ancestors the viewer may see (the root is home).

        Home is the gallery (the root album, or for a member who may not see it the albums
        they may open), so it always leads; an ancestor the viewer may not see is never
        named. Visibility flows down the tree, so the visible ancestors start at the
        viewer's highest visible album."""
        ids = list(album.get("ancestors") or [])
        if not ids:
            return []
        viewer = await self.viewer()
        found = await self.tenant.db.albums.find({"_id": {"$in": ids[1:]}}).to_list()
        by_id = {a["_id"]: a for a in found}
        crumbs = [{"title": self.gallery_title or self._("Home"), "url": self.urls("/")}]
        for aid in ids[1:]:
            a = by_id.get(aid)
            if a is not None and can(viewer, "view", a):
                crumbs.append(
                    {"title": a.get("title") or self._("Untitled"), "url": self.urls(f"/albums/{aid}")}
                )
        return crumbs


class AlbumPage(GalleryPage):
    """GET /albums/<id>[?sort=&dir=&page=] — its body from the page cache (see GalleryPage)."""

    async def get(self, album_id: str) -> None:
        if await self.serve_cached_album(album_id):
            return
        try:
            album = await viewable_album(self.tenant, await self.viewer(), album_id)
            await self.render_album(album)
        finally:
            self.end_flight(None)

    async def serve_cached_album(self, which: str) -> bool:
        """Answer from the page cache if this view is there; else remember where to keep it."""
        view = await self.page_from_cache(
            "album-page",
            which,
            self.choice_argument("sort", tuple(SORT_LABELS), None),
            self.choice_argument("dir", ("1", "-1"), None),
            self.page_argument(),
            int(self.settings_values.get("page_size", 60)),
        )
        if view is None:
            return False
        self.render("album.html", **view)
        return True

    async def render_album(self, album: dict, *, is_root: bool = False) -> None:
        view = await self.album_view(album, is_root=is_root)
        self.keep_page(view)
        self.render("album.html", **view)

    async def album_view(self, album: dict, *, is_root: bool) -> dict:
        """What album.html needs: a few layout values and the rendered body."""
        ctx, viewer = self.tenant, await self.viewer()
        default_sort = album.get("sort_field") or "position"
        default_dir = "-1" if album.get("sort_direction") == -1 else "1"
        sort = self.choice_argument("sort", tuple(SORT_LABELS), default_sort)
        direction = self.choice_argument("dir", ("1", "-1"), default_dir)
        page = self.page_argument()
        size = int(self.settings_values.get("page_size", 60))
        offset = (page - 1) * size
        if offset > listing.MAX_OFFSET:
            # Far past any album's end: an empty page, without asking for it.
            result = await listing.list_album_media(
                ctx, album, limit=1, sort=sort, direction=direction
            )
            result = {**result, "items": [], "next_cursor": None}
        else:
            result = await listing.list_album_media(
                ctx, album, offset=offset, limit=size, sort=sort, direction=direction
            )
        total = result["total"]
        pages = max(1, -(-total // size))
        cards = await listing.child_album_cards(ctx, viewer, album) if page == 1 else []
        overridden = (sort, direction) != (default_sort, default_dir)
        sort_query = {"sort": sort, "dir": direction} if overridden else {}
        base = "/" if is_root else f"/albums/{album['_id']}"
        next_api = None
        if result["next_cursor"]:
            next_api = self.urls(
                f"/api/v1/albums/{album['_id']}/media",
                cursor=result["next_cursor"],
                limit=size,
                **sort_query,
            )
        can_edit = any(can(viewer, p, album) for p in EDIT_PERMISSIONS)
        title = self.gallery_title if is_root else (album.get("title") or self._("Untitled album"))
        body = self.render_string(
            "partials/album_body.html",
            album=album,
            is_root=is_root,
            title=title,
            crumbs=await self.breadcrumb(album),
            cards=cards,
            tiles=[tile_html(m, self.urls, sort_query, self._) for m in result["items"]],
            total=total,
            page=page,
            pages=pages,
            size=size,
            sort=sort,
            direction=direction,
            sort_labels=SORT_LABELS,
            sort_query=sort_query,
            page_url=lambda **q: self.urls(base, **{**sort_query, **q}),
            base_url=self.urls(base),
            next_api=next_api,
            can_edit=can_edit,
            may_original=can(viewer, "view_original", album),
            out_of_range=page > 1 and not result["items"],
            signed_in=not viewer.anonymous,
        )
        return {
            "album_id": album["_id"],
            "title": title,
            "is_root": is_root,
            "can_edit": can_edit,
            "page_url": self.urls(base, **sort_query),
            "body": body,
            # The Share dialog (handlers/shares.py) and the Atom feed of what anyone may see.
            "can_share": may_share(viewer, album),
            # Files dropped anywhere on the page go into this album (templates/partials/album_drop.html).
            "upload": upload_limits(self.settings_values)
            if can(viewer, "add_media", album) and not read_only(ctx)
            else None,
            "may_original": can(viewer, "view_original", album),
            "feed_url": self.urls(f"/albums/{album['_id']}/feed.atom")
            if can(Viewer(None, allow_anonymous=viewer.allow_anonymous), "view", album)
            else None,
        }


def visibility_class(viewer: Viewer) -> tuple:
    """What decides what a viewer sees: two viewers of one class see the same album page.

    Anonymous visitors are one class (with the tenant's anonymous settings); a signed-in
    user is the exact, sorted set of their roles (the admin flag follows from them, and is
    in the key anyway so a change of meaning can never merge two classes).
    """
    # Share links widen what a viewer sees: their grants are part of the class.
    if viewer.anonymous:
        return ("anonymous", viewer.allow_anonymous, viewer.allow_anonymous_original, viewer.shares)
    roles = tuple(sorted(str(r.get("_id")) for r in viewer.roles))
    return ("roles", roles, viewer.is_admin, viewer.shares)


class SearchPage(GalleryPage):
    """GET /search?q=[&kind=&from=&to=&cursor=] — matching albums and media (narrowed by kind
    and date taken), the tag cloud, and recent items for an empty box."""

    async def get(self) -> None:
        ctx, viewer = self.tenant, await self.viewer()
        q = (self.get_query_argument("q", "") or "").strip()[:200]
        cursor = self.get_query_argument("cursor", None) or None
        if cursor and len(cursor) > 2000:
            raise Invalid("The cursor is not valid.", field_errors={"cursor": "is not valid"})
        try:
            filters = parse_filters(self.get_query_argument("kind", None),
                                    self.get_query_argument("from", None),
                                    self.get_query_argument("to", None),
                                    self.get_query_argument("min_rating", None),
                                    self.get_query_argument("person", None))
            problem = None
        except Invalid as exc:  # said beside the form, not as an error page
            filters, problem = SearchFilters(), exc.message
        size = min(int(self.settings_values.get("page_size", 60)), SEARCH_PAGE)
        results, next_cursor, recent, total, album_cards = [], None, [], None, []
        searching = bool(q or filters)
        if searching:
            found = await search.search_media(ctx, viewer, q, limit=size, cursor=cursor,
                                              filters=filters)
            results, next_cursor = found["items"], found["next_cursor"]
            if found["total"] is not None:
                number = i18n.formats(self.locale.code).number
                total = (self._("More than %(count)s results") % {"count": number(search.COUNT_CAP)}
                         if found["total_capped"] else
                         self._("%(count)s result", "%(count)s results", found["total"]) % {"count": number(found["total"])})
            if q and not cursor and not filters:
                album_cards = await listing.album_cards(
                    ctx, viewer, await search_albums(ctx, viewer, q))
        else:
            recent = await search.recent_media(ctx, viewer, limit=30)
        cloud = await search.tag_cloud(ctx, viewer, limit=40)
        people = await people_cloud(ctx, visible_media_query(viewer), limit=40)
        params = {"q": q or None, **filters.params()}
        self.render(
            "search.html",
            q=q,
            filters=filters,
            kinds=KIND_LABELS,
            problem=problem,
            searching=searching,
            album_cards=album_cards,
            results=results,
            recent=recent,
            cloud=cloud_sizes(cloud),
            people=cloud_sizes([{"tag": p["name"], "count": p["count"]} for p in people]),
            more_url=self.urls("/search", **params, cursor=next_cursor) if next_cursor else None,
            next_api=self.urls("/api/v1/search", **params, cursor=next_cursor, limit=size)
            if next_cursor
            else None,
            first_url=self.urls("/search", **params),
            continued=bool(cursor),
            total=total,
        )


class TagsPage(GalleryPage):
    """GET /tags — every tag the viewer can see items of, sized by use."""

    async def get(self) -> None:
        cloud = await search.tag_cloud(self.tenant, await self.viewer(), limit=500)
        self.render("tags.html", cloud=cloud_sizes(cloud))


def count_label(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def page_window(page: int, pages: int) -> list[int | None]:
    """Page numbers to link: the first, the last, two either side of `page`; None is a gap."""
    wanted = {1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)}
    out: list[int | None] = []
    for n in sorted(wanted):
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


def cloud_sizes(cloud: list[dict]) -> list[dict]:
    """Each tag with a size step 1..5 (by its count between the least and most used), A→Z."""
    if not cloud:
        return []
    low, high = min(t["count"] for t in cloud), max(t["count"] for t in cloud)
    out = [
        {**t, "step": 1 + round(4 * (t["count"] - low) / (high - low)) if high > low else 3}
        for t in cloud
    ]
    return sorted(out, key=lambda t: t["tag"].casefold())


ID = r"([0-9a-fA-F]{24})"
ROUTES = [
    (rf"/albums/{ID}", AlbumPage),
    (r"/search", SearchPage),
    (r"/tags", TagsPage),
]
