"""Per-request caches (session and user, roles, media objects) never outlive a change.

Every write through a tenant's `ctx.db` moves the tenant's generation, and a cached value
read before that write is not used again: the request after a change sees the change.
"""

from gallery.library import albums
from gallery.library.media import add_media_file
from gallery.people import roles
from gallery.people.sessions import end_user_sessions
from gallery.people.users import create_user
from gallery.settings import update_settings
from media.sniff import Sniffed

JPEG = Sniffed(mime="image/jpeg", kind="image", extension="jpg", description="JPEG")
PASSWORD = "Another-Horse-Battery-7"


async def _thumbnailed(ctx, album, make_jpeg):
    media = await add_media_file(ctx, album, make_jpeg(120, 80), "p.jpg", sniffed=JPEG)
    folder = ctx.storage.derivatives / media["_id"]
    folder.mkdir()
    (folder / "thumbnail.jpg").write_bytes(make_jpeg(30, 20).read_bytes())
    await ctx.db.media.update_one({"_id": media["_id"]}, {"$set": {
        "state": "ready",
        "derivatives": {"thumbnail": {"path": f"derivatives/{media['_id']}/thumbnail.jpg",
                                      "mime": "image/jpeg"}},
    }})
    return media


async def _setup(make_gallery, viewer_of, make_jpeg):
    g = await make_gallery("cachy")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Holidays"})
    media = await _thumbnailed(ctx, album, make_jpeg)
    return g, ctx, album, media


async def test_a_private_album_hides_a_thumbnail_seen_a_moment_ago(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, album, media = await _setup(make_gallery, viewer_of, make_jpeg)
    visitor = app.browser()
    url = f"{g['prefix']}/media/{media['_id']}/thumbnail"
    for _ in range(3):  # the media object is now cached
        assert (await visitor.get(url)).code == 200
    await albums.set_private(ctx, album, True)
    assert (await visitor.get(url)).code == 404
    await albums.set_private(ctx, await albums.get_album(ctx, album["_id"]), False)
    assert (await visitor.get(url)).code == 200


async def test_a_deleted_media_object_is_gone_on_the_next_request(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, _, media = await _setup(make_gallery, viewer_of, make_jpeg)
    visitor = app.browser()
    url = f"{g['prefix']}/media/{media['_id']}/thumbnail"
    assert (await visitor.get(url)).code == 200
    await ctx.db.media.delete_one({"_id": media["_id"]})
    assert (await visitor.get(url)).code == 404


async def test_a_role_losing_view_is_seen_on_the_next_request(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, album, media = await _setup(make_gallery, viewer_of, make_jpeg)
    await albums.set_private(ctx, album, True)
    role = await ctx.db.roles.find_one({"builtin": "authenticated"})
    await create_user(ctx, "reader", "reader@example.test", PASSWORD, role_ids=[role["_id"]])
    reader = app.browser()
    await reader.login(g["prefix"], "reader", PASSWORD)
    url = f"{g['prefix']}/media/{media['_id']}/thumbnail"
    for _ in range(3):  # session, user and roles are now cached
        assert (await reader.get(url)).code == 200
    await roles.update_role(ctx, role["_id"], permissions=[])
    assert (await reader.get(url)).code == 404
    await roles.update_role(ctx, role["_id"], permissions=["view"])
    assert (await reader.get(url)).code == 200


async def test_revoked_sessions_and_disabled_users_stop_at_once(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, _, _ = await _setup(make_gallery, viewer_of, make_jpeg)
    role = await ctx.db.roles.find_one({"builtin": "authenticated"})
    user = await create_user(ctx, "walker", "walker@example.test", PASSWORD, role_ids=[role["_id"]])
    walker = app.browser()
    await walker.login(g["prefix"], "walker", PASSWORD)
    assert (await walker.get(f"{g['prefix']}/account")).code == 200
    assert (await walker.get(f"{g['prefix']}/account")).code == 200
    await end_user_sessions(ctx, user["_id"])
    assert (await walker.get(f"{g['prefix']}/account")).code == 302  # to the login page

    await walker.login(g["prefix"], "walker", PASSWORD)
    assert (await walker.get(f"{g['prefix']}/account")).code == 200
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": {"status": "disabled"}})
    assert (await walker.get(f"{g['prefix']}/account")).code == 302


async def test_turning_off_anonymous_browsing_applies_to_the_next_request(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, _, media = await _setup(make_gallery, viewer_of, make_jpeg)
    visitor = app.browser()
    url = f"{g['prefix']}/media/{media['_id']}/thumbnail"
    assert (await visitor.get(url)).code == 200
    await update_settings(ctx, {"allow_anonymous_browsing": False})
    assert (await visitor.get(url)).code in (401, 404)


async def test_a_value_read_across_a_write_is_not_kept(make_gallery):
    g = await make_gallery("racer")
    ctx = g["ctx"]
    generation = ctx.generation
    before = await ctx.db.albums.find_one({"parent_id": {"$eq": None}})
    await ctx.db.albums.update_one({"_id": before["_id"]}, {"$set": {"title": "Changed"}})
    ctx.remember(("album", before["_id"]), before, generation)
    assert ctx.cached(("album", before["_id"])) is None
    generation = ctx.generation
    ctx.remember(("album", before["_id"]), before, generation)
    assert ctx.cached(("album", before["_id"])) is before
    # Every way of reaching a collection counts its writes.
    for collection in (ctx.db["albums"], ctx.db.get_collection("albums")):
        generation = ctx.generation
        ctx.remember(("album", before["_id"]), before, generation)
        await collection.update_one({"_id": before["_id"]}, {"$set": {"title": "Again"}})
        assert ctx.cached(("album", before["_id"])) is None
    ctx.remember(("album", before["_id"]), before, ctx.generation)
    # A write through another context of the same tenant counts too.
    other = await app_context(g)
    await other.db.albums.update_one({"_id": before["_id"]}, {"$set": {"title": "Again"}})
    assert ctx.cached(("album", before["_id"])) is None


async def app_context(g):
    from tenants.context import TenantContext

    ctx = g["ctx"]
    return TenantContext(slug=ctx.slug, record=ctx.record, db=ctx.db._db, storage=ctx.storage,
                         cookie_key=ctx.cookie_key)
