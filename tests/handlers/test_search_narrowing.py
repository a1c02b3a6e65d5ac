"""Issue 17, item 14: search finds albums by title and summary (only albums the viewer may
see), and narrows media by kind and date taken — on the page and in the API, with clear
errors for bad filters."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from gallery.library import albums
from gallery.library.media import add_media_file
from gallery.library.privacy import apply_private
from tests.client import text


async def _gallery(app, make_gallery, viewer_of, make_jpeg, tmp_path):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    lake = await albums.create_album(ctx, admin, root["_id"], {"title": "Lake days"})
    await ctx.db.albums.update_one({"_id": lake["_id"]}, {"$set": {"summary": "Summer by the water"}})
    hidden = await albums.create_album(ctx, admin, root["_id"], {"title": "Secret lake cabin"})
    await apply_private(ctx, hidden, True)
    await albums.create_album(ctx, admin, root["_id"], {"title": "Mountains"})
    (tmp_path / "lake-notes.pdf").write_bytes(b"%PDF-1.4 lake notes")
    made = {
        "old": await add_media_file(ctx, lake, make_jpeg(40, 30), "lake-2019.jpg"),
        "new": await add_media_file(ctx, lake, make_jpeg(40, 30), "lake-2024.jpg"),
        "doc": await add_media_file(ctx, lake, tmp_path / "lake-notes.pdf", "lake-notes.pdf"),
        "secret": await add_media_file(ctx, hidden, make_jpeg(40, 30), "lake-secret.jpg"),
    }
    dates = {"old": datetime(2019, 7, 1, 12, tzinfo=UTC), "new": datetime(2024, 5, 31, 23, tzinfo=UTC),
             "doc": datetime(2024, 6, 1, 8, tzinfo=UTC), "secret": datetime(2024, 5, 2, tzinfo=UTC)}
    for key, doc in made.items():
        await ctx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
            "state": "ready", "date_taken": dates[key],
            "kind": "document" if key == "doc" else "image"}})
    return g, {k: v["_id"] for k, v in made.items()}, lake, hidden


async def test_search_finds_visible_albums_and_narrows_media(
    app, make_gallery, viewer_of, make_jpeg, tmp_path
):
    g, ids, lake, hidden = await _gallery(app, make_gallery, viewer_of, make_jpeg, tmp_path)
    visitor = app.browser()
    page = text(await visitor.get(f"{g['prefix']}/search?q=lake"))
    # The album card above the media, found by its title; the private album is not named.
    assert f'data-album-id="{lake["_id"]}"' in page and "Lake days" in page
    assert "Secret lake cabin" not in page and hidden["_id"] not in page
    assert page.index('aria-label="Albums"') < page.index('aria-label="Results"')
    by_summary = text(await visitor.get(f"{g['prefix']}/search?q=water+summer"))
    assert f'data-album-id="{lake["_id"]}"' in by_summary

    api = json.loads((await visitor.get(f"{g['prefix']}/api/v1/search?q=lake")).body)
    assert [a["id"] if "id" in a else a["_id"] for a in api["albums"]] == [lake["_id"]]
    assert {m["id"] for m in api["items"]} == {ids["old"], ids["new"], ids["doc"]}

    async def found(query: str) -> set[str]:
        answer = await visitor.get(f"{g['prefix']}/api/v1/search?{query}")
        assert answer.code == 200, answer.body
        return {m["id"] for m in json.loads(answer.body)["items"]}

    assert await found("q=lake&kind=document") == {ids["doc"]}
    assert await found("q=lake&kind=photo") == {ids["old"], ids["new"]}
    assert await found("q=lake&kind=video") == set()
    # Both days of the range are included, whole.
    assert await found("q=lake&from=2024-05-31&to=2024-06-01") == {ids["new"], ids["doc"]}
    assert await found("q=lake&to=2020-01-01") == {ids["old"]}
    # Filters alone search everything the viewer may see (never the private album's media).
    assert await found("kind=photo&from=2024-01-01") == {ids["new"]}

    narrowed = text(await visitor.get(f"{g['prefix']}/search?q=lake&kind=document"))
    assert '<option value="document" selected>' in narrowed and "lake-notes" in narrowed


async def test_bad_filters_are_clear_errors(app, make_gallery):
    g = await make_gallery("alpha")
    visitor = app.browser()
    for query, field in (("kind=spreadsheet", "kind"), ("from=2024-13-01", "from"),
                         ("from=yesterday", "from"), ("from=2024-06-02&to=2024-06-01", "to"),
                         ("to=2024-06-31", "to"), ("from=２０２４-０１-０１", "from")):
        answer = await visitor.get(f"{g['prefix']}/api/v1/search?q=x&{query}")
        assert answer.code == 400, (query, answer.body)
        assert field in json.loads(answer.body)["error"]["fields"], answer.body
        page = await visitor.get(f"{g['prefix']}/search?q=x&{query}")
        assert page.code == 200 and re.search(r'class="alert error" role="alert">[^<]+<', text(page))


async def test_paging_keeps_the_filters(app, make_gallery, viewer_of, make_jpeg):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    root = await albums.root_album(ctx)
    for i in range(13):
        doc = await add_media_file(ctx, root, make_jpeg(20, 20), f"beach-{i}.jpg")
        await ctx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
            "state": "ready", "kind": "image", "date_taken": datetime(2023, 1, 1 + i, tzinfo=UTC)}})
    from gallery.settings import update_settings

    await update_settings(ctx, {"page_size": 10})
    visitor = app.browser()
    page = text(await visitor.get(f"{g['prefix']}/search?q=beach&kind=photo&from=2023-01-02"))
    more = re.search(r'rel="next" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "kind=photo" in more and "from=2023-01-02" in more
    rest = text(await visitor.get(more))
    assert rest.count('class="media-tile"') == 2  # 12 from Jan 2nd, 10 on the first page
