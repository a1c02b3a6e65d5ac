"""Issue 18, item 12: members rate media 1-5 stars (one vote per member, even ten at once),
the average sorts and filters; people are a field of their own, edited like tags and searched
by `person=`."""

from __future__ import annotations

import asyncio
import json

from gallery.library import albums
from gallery.library.media import add_media_file
from gallery.people.roles import create_role
from gallery.people.users import create_user

PASSWORD = "Quiet-Harbour-Pelican-57"


def body(response) -> dict:
    return json.loads(response.body)


async def test_votes_average_sort_filter_and_people(app, make_gallery, make_jpeg):
    g = await make_gallery("alpha")
    other = await make_gallery("beta")
    ctx, p = g["ctx"], g["prefix"]
    root = await albums.root_album(ctx)
    one = await add_media_file(ctx, root, make_jpeg(40, 30), "one.jpg")
    two = await add_media_file(ctx, root, make_jpeg(40, 30), "two.jpg")
    # two carries its file's own rating (as processing stores xmp:Rating): it seeds the average.
    await ctx.db.media.update_one({"_id": two["_id"]}, {"$set": {"rating": 2, "rating_avg": 2.0}})
    lookers = await create_role(ctx, "Lookers", ["view"], [root["_id"]])
    await create_user(ctx, "mia", "mia@example.org", PASSWORD, role_ids=[lookers["_id"]])
    admin, mia, visitor = app.browser(), app.browser(), app.browser()
    assert (await admin.login(p, "admin", g["password"])).code == 302
    assert (await mia.login(p, "mia", PASSWORD)).code == 302
    url = f"{p}/api/v1/media/{one['_id']}/rating"

    # Anonymous visitors may read the average but not vote.
    assert (await visitor.api("PUT", url, {"stars": 5})).code == 401
    assert body(await visitor.get(url))["rating"] == {"average": None, "count": 0, "file": None, "mine": None}
    for bad in (0, 6, "5", 4.5, 10**30, True, None, [5]):
        answer = await mia.api("PUT", url, {"stars": bad})
        assert answer.code == 400 and "stars" in body(answer)["error"]["fields"], (bad, answer.body)

    # Ten parallel votes of one member count once; the last value stands.
    answers = await asyncio.gather(*(mia.api("PUT", url, {"stars": 1 + i % 5}) for i in range(10)))
    assert all(a.code == 200 for a in answers), [a.body for a in answers]
    assert await ctx.db.ratings.count_documents({"media_id": one["_id"]}) == 1
    mine = (await ctx.db.ratings.find_one({"media_id": one["_id"]}))["stars"]
    stored = await ctx.db.media.find_one({"_id": one["_id"]})
    assert (stored["rating_count"], stored["rating_sum"], stored["rating_avg"]) == (1, mine, mine)
    assert body(await mia.api("PUT", url, {"stars": 5}))["rating"] == {
        "average": 5.0, "count": 1, "file": None, "mine": 5}
    assert body(await admin.api("POST", url, {"stars": 4}))["rating"]["average"] == 4.5
    assert body(await mia.get(url))["rating"]["mine"] == 5
    media = body(await visitor.get(f"{p}/api/v1/media/{one['_id']}"))["media"]
    assert media["rating"]["average"] == 4.5 and media["rating"]["count"] == 2
    assert body(await admin.api("DELETE", url))["rating"] == {
        "average": 5.0, "count": 1, "file": None, "mine": None}

    # Another gallery's media id, and an id that does not exist: 404.
    beta = app.browser()
    assert (await beta.login(other["prefix"], "admin", other["password"])).code == 302
    assert (await beta.api("PUT", f"{other['prefix']}/api/v1/media/{one['_id']}/rating",
                           {"stars": 3})).code == 404
    assert (await mia.api("PUT", f"{p}/api/v1/media/{'0' * 24}/rating", {"stars": 3})).code == 404

    # Sort by rating (the album page's option and the API), filter by the least rating.
    page = await visitor.get(f"{p}/api/v1/albums/{root['_id']}/media?sort=rating&dir=-1")
    assert [m["id"] for m in body(page)["items"]][:2] == [one["_id"], two["_id"]], page.body
    found = body(await visitor.get(f"{p}/api/v1/search?min_rating=3"))
    assert [m["id"] for m in found["items"]] == [one["_id"]]
    assert (await visitor.get(f"{p}/api/v1/search?min_rating=9")).code == 400

    # People: edited like tags by editors, searched by person (any case), never as tags.
    edit = await admin.api("PATCH", f"{p}/api/v1/media/{two['_id']}",
                           {"people": ["Ann Lee", " ann  lee ", "Bob <b>"]})
    assert edit.code == 200 and body(edit)["media"]["people"] == ["Ann Lee", "Bob <b>"]
    assert body(edit)["media"]["tags"] == []
    assert (await mia.api("PATCH", f"{p}/api/v1/media/{two['_id']}", {"people": ["X"]})).code == 403
    assert (await admin.api("PATCH", f"{p}/api/v1/media/{two['_id']}", {"people": "x" * 101})).code == 400
    found = body(await visitor.get(f"{p}/api/v1/search?person=ANN%20LEE"))
    assert [m["id"] for m in found["items"]] == [two["_id"]]
    page = (await visitor.get(f"{p}/media/{two['_id']}")).body.decode()
    assert "Bob &lt;b&gt;" in page and "Bob <b>" not in page and "person=Ann+Lee" in page
    assert 'class="rating-stars"' in (await mia.get(f"{p}/media/{one['_id']}")).body.decode()
