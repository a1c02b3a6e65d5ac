"""The timeline: everything the viewer may see by date taken, grouped by month, with a
scrubber to jump (page `GET /timeline[?month=YYYY-MM]`, API `GET /api/v1/timeline` and
`GET /api/v1/timeline/months`). gallery.library.timeline does the reading."""

from __future__ import annotations

import functools
import time

from gallery import i18n
from gallery.errors import Invalid
from gallery.library.timeline import (
    TILE_FIELDS,
    month_of,
    months_counted,
    months_soon,
    parse_month,
    timeline_months,
    timeline_page,
)
from handlers.api_base import CURSOR_QUERY, ApiHandler, int_query, operation
from handlers.api_cache import cached_json
from handlers.pages import GalleryPage, visibility_class
from tenants.upgrade import ReadOnly

UPGRADING = "The timeline comes back once this gallery's upgrade to the new release has finished."


def require_keys(handler) -> None:
    """The timeline reads `taken_key`, which migration step 0003 gives older media: while a
    gallery is served read-only after a failed upgrade, some may lack it (docs/migrations.md)."""
    if getattr(handler, "read_only_notice", None):
        raise ReadOnly(UPGRADING, retry_after=60)

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")


def month_label(month: str | None) -> str:
    if not month:
        return "No date"
    return f"{MONTH_NAMES[int(month[5:]) - 1]} {month[:4]}"


def scrubber(months: list[dict]) -> list[dict]:
    """Years newest first, each with its months: [{"year", "count", "months": [...]}]."""
    years: dict[str, dict] = {}
    for m in months:
        year = m["month"][:4] if m["month"] else "No date"
        entry = years.setdefault(year, {"year": year, "count": 0, "months": []})
        entry["count"] += m["count"]
        entry["months"].append({**m, "label": month_label(m["month"])})
    return list(years.values())


@functools.lru_cache(maxsize=8192)
def _month_text(code: str, month: str) -> str:
    return i18n.formats(code).month(month)


@functools.lru_cache(maxsize=8192)
def _month_url(urls, month: str) -> str:
    return urls("/timeline", month=month)


class _ScrubberFormats:
    """The page's `formats`, its month names remembered: the scrubber names every month
    (120 for ten years of photos) on every page, kept ones too, and Babel took ~0.1 ms a
    name (more than half of rendering a page)."""

    def __init__(self, formats, code: str):
        self._formats, self._code = formats, code

    def month(self, value: str) -> str:
        return _month_text(self._code, value)

    def __getattr__(self, name):
        return getattr(self._formats, name)


class _ScrubberUrls:
    """The page's `urls`, the scrubber's month links remembered (TenantUrls is immutable)."""

    def __init__(self, urls):
        self._urls = urls

    def __call__(self, path: str = "/", **query) -> str:
        if path == "/timeline" and len(query) == 1 and isinstance(query.get("month"), str):
            return _month_url(self._urls, query["month"])
        return self._urls(path, **query)

    def __getattr__(self, name):
        return getattr(self._urls, name)


# Rendered scrubbers by (months and counts, language, gallery links, current month): what
# it shows is all in the key, so one never goes stale (new counts are a new key); a few
# hundred of ~15 KB each.
SCRUBBERS_KEPT = 256
# Members' layouts by (gallery, member, class, language, links, title, notice) ->
# (generation, made at, (before the body, after it)): ~5 KB each.
LAYOUTS_KEPT = 1024
_LAYOUTS: dict[tuple, tuple] = {}
# Where a member's kept layout (TimelinePage.members_page) takes the body and each
# request's XSRF form.
_BODY_SLOT = "<!--atrium:timeline-body-->"
_XSRF_SLOT = "<!--atrium:xsrf-form-->"
_SCRUBBERS: dict[tuple, bytes] = {}


def _keep(table: dict, most: int, key, value) -> None:
    """Put `value` in a table of at most `most` entries, the oldest going first."""
    if key not in table and len(table) >= most:
        del table[next(iter(table))]
    table[key] = value


class TimelinePage(GalleryPage):
    """Kept in the page cache like album pages (handlers/pages.py), its body rendered: a page
    built costs ~8-12 ms of CPU (60 tiles and the reads), a kept one its layout only, or for a
    visitor who is not signed in nothing. A page built while the months are still being
    counted is kept apart and built again once they are."""

    async def get(self) -> None:
        require_keys(self)
        try:
            month = parse_month(self.get_query_argument("month", None))
        except Invalid:
            month = None  # a bad jump starts at the newest, the scrubber still shows
        size = min(int(self.settings_values.get("page_size", 60)), 200)
        cursor = self.get_query_argument("cursor", None) or None
        counted = months_counted(self.tenant, await self.viewer())
        view = await self.page_from_cache("timeline-page", month and month.isoformat(), cursor, size, counted)
        if view is None:
            try:
                view = await self.timeline_view(month, cursor, size)
            finally:
                self.end_flight(None)
        if self.user is not None:
            self.finish(self.members_page(view))
            return
        # A visitor who is not signed in gets a layout that depends only on what the page's
        # key holds (gallery, language, title, settings: a write drops the entry), and on
        # the gallery's read-only notice: the whole page is kept with the body, and a kept
        # page renders nothing (~0.2 ms of its ~0.6 ms).
        whole = ("whole page", self.read_only_notice)
        page = view.get(whole)
        if page is None:
            page = view[whole] = self.render_string("timeline.html", body=view["body"])
        self.finish(page)

    _xsrf_slot = False

    def members_page(self, view: dict) -> bytes:
        """A signed-in visitor's page: the layout names them, which the page's key does not
        hold (their roles and language, not who they are). The layout around the body is
        the same on every timeline page, so it is kept per member (_LAYOUTS) until a write to
        the gallery (a new name, a role, a setting) or for the cache's age bound, as
        ctx.cached keeps values, and only its XSRF form, new each request, is put in: ~0.2 ms
        of the ~0.95 a kept page cost. Apart from the context's cache, whose 512 entries
        would otherwise fill twice as fast with many members signed in."""
        ctx = self.tenant
        key = (ctx.db.name, self.user["_id"], visibility_class(self._viewer), self.locale.code,
               self.urls.prefix, self.gallery_title, self.read_only_notice)
        generation = ctx.generation
        kept = _LAYOUTS.get(key)
        if kept is not None and kept[0] == generation and time.monotonic() - kept[1] <= ctx.cache_seconds:
            parts = kept[2]
        else:
            self._xsrf_slot = True
            try:
                layout = self.render_string("timeline.html", body=_BODY_SLOT)
            finally:
                self._xsrf_slot = False
            parts = tuple(layout.split(_BODY_SLOT.encode(), 1))
            _keep(_LAYOUTS, LAYOUTS_KEPT, key, (generation, time.monotonic(), parts))
        form = self.xsrf_form_html().encode()
        before, after = (part.replace(_XSRF_SLOT.encode(), form, 1) for part in parts)
        return before + view["body"] + after

    def xsrf_form_html(self) -> str:
        return _XSRF_SLOT if self._xsrf_slot else super().xsrf_form_html()

    def scrubber_html(self, months: list[dict], current: str | None) -> bytes:
        """partials/timeline_scrubber.html, kept (_SCRUBBERS): ~120 months of links, names
        and counts, each escaped, were two thirds of rendering a page nobody asked for yet,
        and pages of one month show the same scrubber."""
        key = (tuple((m["month"], m["count"]) for m in months), self.locale.code, self.urls, current)
        html = _SCRUBBERS.get(key)
        if html is None:
            html = self.render_string("partials/timeline_scrubber.html", years=scrubber(months), current=current)
            _keep(_SCRUBBERS, SCRUBBERS_KEPT, key, html)
        return html

    def get_template_namespace(self) -> dict:
        ns = super().get_template_namespace()
        ns["formats"] = _ScrubberFormats(ns["formats"], self.locale.code)
        if ns.get("urls") is not None:
            ns["urls"] = _ScrubberUrls(ns["urls"])
        return ns

    async def timeline_view(self, month, cursor: str | None, size: int) -> dict:
        ctx, viewer = self.tenant, await self.viewer()
        # The fields of a tile only (60 whole documents were most of a first visit's cost).
        found = await timeline_page(ctx, viewer, limit=size, cursor=cursor, month=month, fields=TILE_FIELDS)
        groups: list[dict] = []
        for item in found["items"]:
            key = month_of(item.get("taken_key"))  # the month of `date_taken` (UTC), as text
            if not groups or groups[-1]["month"] != key:
                groups.append({"month": key, "label": month_label(key), "items": []})
            groups[-1]["items"].append(item)
        cursor = found["next_cursor"]
        # The scrubber once its months are counted (a large gallery's count runs on).
        months = await months_soon(ctx, viewer)
        current = month_of(found["items"][0].get("taken_key")) if found["items"] else None
        # Kept rendered: a kept page renders only its layout (the tiles and the scrubber's
        # 120 months were 2-4 ms of CPU on every request).
        body = self.render_string(
            "partials/timeline_body.html",
            groups=groups,
            scrubber_html=self.scrubber_html(months or [], current) if groups else b"",
            next_api=self.urls("/api/v1/timeline", cursor=cursor, limit=size) if cursor else None,
            more_url=self.urls("/timeline", cursor=cursor) if cursor else None,
        )
        view = {"body": body}
        self.keep_page(view)  # kept under "months counted or not" (see months_counted)
        return view


class TimelineApi(ApiHandler):
    async def get(self) -> None:
        require_keys(self)
        # Kept in the page cache like the album listings (handlers/api_cache.py).
        await cached_json(self, self.build)

    async def build(self) -> dict:
        viewer = await self.viewer()
        limit = self.int_argument("limit", 60, 1, 200)
        month = parse_month(self.get_query_argument("month", None))
        found = await timeline_page(self.tenant, viewer, limit=limit,
                                    cursor=self.get_query_argument("cursor", None) or None, month=month)
        return {"items": [self.media_json(m, viewer) for m in found["items"]],
                "next_cursor": found["next_cursor"]}


class TimelineMonthsApi(ApiHandler):
    async def get(self) -> None:
        require_keys(self)
        months = await timeline_months(self.tenant, await self.viewer())
        self.write_json({"months": months})


ROUTES = [
    (r"/timeline", TimelinePage),
    (r"/api/v1/timeline", TimelineApi),
    (r"/api/v1/timeline/months", TimelineMonthsApi),
]

OPENAPI = {
    "/api/v1/timeline": {
        "get": operation(
            "Media the viewer may see by date taken, newest first (undated last); `month` "
            "(YYYY-MM) starts at the end of that month",
            query=(int_query("limit", 1, 200), CURSOR_QUERY,
                   {"name": "month", "schema": {"type": "string", "pattern": "^([0-9]{4}-[0-9]{2})?$"}}),
            tag="search",
        )
    },
    "/api/v1/timeline/months": {
        "get": operation("How many items the viewer may see each month was taken in, newest "
                         "first (the undated as month null)", tag="search")
    },
}
