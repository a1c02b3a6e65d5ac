"""JSON API for finding media: search, tags (cloud and suggestions), recently added."""

from __future__ import annotations

from gallery.errors import Invalid
from gallery.library import search
from gallery.library.album_search import search_albums
from gallery.library.search_filters import KINDS, parse_filters
from handlers.api_base import CURSOR_QUERY, ApiHandler, enum_query, int_query, operation


class SearchApi(ApiHandler):
    async def get(self) -> None:
        viewer = await self.viewer()
        q = self.get_query_argument("q", "") or ""
        if len(q) > 500:
            raise Invalid("The search is too long.", field_errors={"q": "at most 500 characters"})
        default = min(int(self.settings_values.get("page_size", 60)), 200)
        limit = self.int_argument("limit", default, 1, 200)
        cursor = self.get_query_argument("cursor", None) or None
        if cursor and len(cursor) > 2000:
            raise Invalid("The cursor is not valid.", field_errors={"cursor": "is not valid"})
        filters = parse_filters(self.get_query_argument("kind", None),
                                self.get_query_argument("from", None),
                                self.get_query_argument("to", None),
                                    self.get_query_argument("min_rating", None),
                                    self.get_query_argument("person", None))
        found = await search.search_media(self.tenant, viewer, q, limit=limit, cursor=cursor,
                                          filters=filters)
        albums = []
        if q and not cursor:
            albums = [self.album_json(a, viewer)
                      for a in await search_albums(self.tenant, viewer, q)]
        self.write_json(
            {
                "q": q,
                "words": found["words"],
                "items": [self.media_json(m, viewer) for m in found["items"]],
                # first page only: albums whose title or summary hold every word of q
                "albums": albums,
                "next_cursor": found["next_cursor"],
                # first page only (null after): how many match, counted up to COUNT_CAP + 1
                "total": found["total"],
                "total_capped": found["total_capped"],
            }
        )


class TagsApi(ApiHandler):
    async def get(self) -> None:
        viewer = await self.viewer()
        prefix = self.get_query_argument("prefix", None)
        if prefix is not None:
            # One bound for the parameter; suggestions stop at 100 (gallery.library.search).
            limit = self.int_argument("limit", 10, 1, 5000)
            if len(prefix) > 100:
                raise Invalid("The prefix is too long.", field_errors={"prefix": "too long"})
            tags = await search.suggest_tags(self.tenant, viewer, prefix, limit=limit)
            self.write_json({"tags": tags})
            return
        limit = self.int_argument("limit", 100, 1, 5000)
        self.write_json({"tags": await search.tag_cloud(self.tenant, viewer, limit=limit)})


class RecentApi(ApiHandler):
    async def get(self) -> None:
        viewer = await self.viewer()
        limit = self.int_argument("limit", 30, 1, 200)
        items = await search.recent_media(self.tenant, viewer, limit=limit)
        self.write_json({"items": [self.media_json(m, viewer) for m in items]})


ROUTES = [
    (r"/api/v1/search", SearchApi),
    (r"/api/v1/tags", TagsApi),
    (r"/api/v1/media/recent", RecentApi),
]

DAY_PATTERN = "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"

OPENAPI = {
    "/api/v1/search": {
        "get": operation(
            "Media the viewer may see whose title, caption, tags, file name or metadata hold "
            "every word of q (plain text; prefixes match), narrowed by kind and date taken "
            "(from/to, YYYY-MM-DD, both days included), least rating (min_rating) and person, newest first; on the first page also "
            "the albums whose title or summary hold every word",
            query=(
                {"name": "q", "schema": {"type": "string", "maxLength": 500}},
                # Empty values mean "no filter" (the search form sends its unused fields).
                enum_query("kind", ["", *KINDS]),
                {"name": "from", "schema": {"type": "string", "pattern": DAY_PATTERN}},
                {"name": "to", "schema": {"type": "string", "pattern": DAY_PATTERN}},
                # The least shown rating (stars) and one name of the people field.
                enum_query("min_rating", ["", "1", "2", "3", "4", "5"]),
                {"name": "person", "schema": {"type": "string", "maxLength": 100}},
                int_query("limit", 1, 200),
                CURSOR_QUERY,
            ),
            tag="search",
        )
    },
    "/api/v1/tags": {
        "get": operation(
            "The tag cloud ([{tag, count}]), or with prefix the matching tags ([str]), "
            "of media the viewer may see",
            query=(
                {"name": "prefix", "schema": {"type": "string", "maxLength": 100}},
                int_query("limit", 1, 5000),
            ),
            tag="search",
        )
    },
    "/api/v1/media/recent": {
        "get": operation(
            "The newest media the viewer may see", query=(int_query("limit", 1, 200),), tag="search"
        )
    },
}
