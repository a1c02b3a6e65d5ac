"""Issue 18, item 12: members rate media 1-5 stars (one vote per member, even ten at once),
the average sorts and filters; people are a field of their own, edited like tags and searched
by `person=`."""

from __future__ import annotations

import asyncio
import json

import pytest

from gallery.library import albums, trash
from gallery.library.media import add_media_file
from gallery.people.roles import create_role
from gallery.people.users import create_user
from gallery.settings import update_settings

PASSWORD = "Quiet-Harbour-Pelican-57"


@pytest.fixture
def config(make_config):
    """A job worker: the XMP test processes its file."""
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def body(response) -> dict:
    return json.loads(response.body)


async def test_votes_average_sort_filter_and_people(app, make_gallery, make_jpeg, viewer_of):
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
    # Different members voting at once: every vote counts, the average is theirs (the file's
    # own 2 is not one of them).
    voters = [admin, mia]
    for name in ("ned", "ola", "pip"):
        await create_user(ctx, name, f"{name}@example.org", PASSWORD, role_ids=[lookers["_id"]])
        voters.append(app.browser())
        assert (await voters[-1].login(p, name, PASSWORD)).code == 302
    two_url = f"{p}/api/v1/media/{two['_id']}/rating"
    answers = await asyncio.gather(*(v.api("PUT", two_url, {"stars": s}) for v, s in zip(voters, (5, 4, 3, 5, 4))))
    assert [a.code for a in answers] == [200] * 5
    stored = await ctx.db.media.find_one({"_id": two["_id"]})
    assert (stored["rating_count"], stored["rating_sum"], stored["rating_avg"]) == (5, 21, 4.2)
    answers = await asyncio.gather(*(v.api("DELETE", two_url) for v in voters))
    assert [a.code for a in answers] == [200] * 5
    # Every vote withdrawn: the file's own rating shows again.
    assert body(await visitor.get(two_url))["rating"] == {"average": 2.0, "count": 0, "file": 2, "mine": None}
    # A copy starts without the members' votes (they stay with the original).
    copied = await admin.api("POST", f"{p}/api/v1/media/{one['_id']}/copy", {"album_id": root["_id"]})
    assert copied.code == 201 and body(copied)["media"]["rating"]["count"] == 0
    assert body(copied)["media"]["rating"]["average"] is None
    # Deleted for good: its votes go with it.
    copy_id = body(copied)["media"]["id"]
    assert (await mia.api("PUT", f"{p}/api/v1/media/{copy_id}/rating", {"stars": 3})).code == 200
    await update_settings(ctx, {"trash_days": 0})
    assert body(await admin.api("DELETE", f"{p}/api/v1/media/{copy_id}"))["trashed"] is False
    assert await ctx.db.ratings.count_documents({"media_id": copy_id}) == 0
    # An album deleted for good takes its media's votes too.
    doomed = await albums.create_album(ctx, await viewer_of(ctx), root["_id"], {"title": "Doomed"})
    inside = await add_media_file(ctx, doomed, make_jpeg(40, 30), "inside.jpg")
    assert (await mia.api("PUT", f"{p}/api/v1/media/{inside['_id']}/rating", {"stars": 2})).code == 200
    assert (await admin.api("DELETE", f"{p}/api/v1/albums/{doomed['_id']}")).code == 200
    assert await ctx.db.ratings.count_documents({"media_id": inside["_id"]}) == 0
    await update_settings(ctx, {"trash_days": 30})
    # Into the trash: the votes wait for a restore; emptying the trash takes them.
    copied = await admin.api("POST", f"{p}/api/v1/media/{one['_id']}/copy", {"album_id": root["_id"]})
    copy_id = body(copied)["media"]["id"]
    assert (await mia.api("PUT", f"{p}/api/v1/media/{copy_id}/rating", {"stars": 3})).code == 200
    assert body(await admin.api("DELETE", f"{p}/api/v1/media/{copy_id}"))["trashed"] is True
    assert await ctx.db.ratings.count_documents({"media_id": copy_id}) == 1
    assert await trash.empty(ctx, await viewer_of(ctx)) == 1
    assert await ctx.db.ratings.count_documents({"media_id": copy_id}) == 0

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
    # Only spaces and control characters: no filter (like the empty box), never an error.
    assert body(await visitor.get(f"{p}/api/v1/search?person=%20%01%20"))["items"] == []
    assert (await visitor.get(f"{p}/api/v1/search?person={'x' * 101}")).code == 400
    page = (await visitor.get(f"{p}/media/{two['_id']}")).body.decode()
    assert "Bob &lt;b&gt;" in page and "Bob <b>" not in page and "person=Ann+Lee" in page
    assert 'class="rating-stars"' in (await mia.get(f"{p}/media/{one['_id']}")).body.decode()


async def test_the_files_own_xmp_rating_seeds_the_stars_until_members_vote(app, make_gallery, tmp_path):
    from PIL import Image

    from gallery.library.media import enqueue_processing
    from tests.handlers.media_api import processed
    from tests.media.test_metadata_text import XMP_PACKET  # xmp:Rating 4

    g = await make_gallery("alpha")
    ctx = g["ctx"]
    path = tmp_path / "rated.jpg"
    Image.new("RGB", (16, 12), (90, 140, 200)).save(path, xmp=XMP_PACKET.encode())
    doc = await add_media_file(ctx, await albums.root_album(ctx), path, "rated.jpg")
    await enqueue_processing(ctx, app.services.jobs.queue, doc["_id"])
    media = await processed(ctx, doc["_id"])
    assert (media["state"], media["rating"], media["rating_avg"]) == ("ready", 4, 4.0)
    admin = app.browser()
    assert (await admin.login(g["prefix"], "admin", g["password"])).code == 302
    url = f"{g['prefix']}/api/v1/media/{doc['_id']}/rating"
    assert body(await admin.get(url))["rating"] == {"average": 4.0, "count": 0, "file": 4, "mine": None}
    page = (await admin.get(f"{g['prefix']}/media/{doc['_id']}")).body.decode()
    assert "4 of 5 · the file&#x27;s own rating" in page or "4 of 5 · the file's own rating" in page
    # A member's vote is the average now; the file's rating is not counted as a vote.
    assert body(await admin.api("PUT", url, {"stars": 1}))["rating"] == {
        "average": 1.0, "count": 1, "file": 4, "mine": 1}
