"""Accounts that go away take what was theirs: never-verified registrations expire (with
their tokens and sessions), and a deleted user's personal album loses its files too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gallery.library.media import add_media_file
from gallery.people import account_admin, registration
from gallery.people.account_sweep import SWEEP_KIND, run_sweep_job, sweep_unverified
from gallery.settings import get_settings, update_settings
from gallery.urls import TenantUrls
from gallery.usage import current_usage
from jobs.queue import JobContext, JobQueue

PASSWORD = "Violet-Tuba-Lantern-42"
URLS = TenantUrls(prefix="/g/alpha", origin="http://127.0.0.1")


async def _register(ctx, settings, name: str) -> dict:
    form = {
        "username": name,
        "email": f"{name}@example.org",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    return await registration.register(ctx, settings, form, urls=URLS)


async def _age(ctx, user: dict, days: float) -> None:
    await ctx.db.users.update_one(
        {"_id": user["_id"]}, {"$set": {"created": datetime.now(UTC) - timedelta(days=days)}}
    )


async def test_unverified_registrations_expire_with_their_tokens_and_nothing_else_goes(
    app, make_gallery
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    await update_settings(
        ctx,
        {
            "allow_registration": True,
            "require_email_verification": True,
            "unverified_account_days": 3,
        },
    )
    settings = await get_settings(ctx)
    stale = await _register(ctx, settings, "stale")
    fresh = await _register(ctx, settings, "fresh")
    verified = await _register(ctx, settings, "verified")
    await ctx.db.users.update_one(
        {"_id": verified["_id"]}, {"$set": {"pending": [], "email_verified": True}}
    )
    await _age(ctx, stale, 4)
    await _age(ctx, verified, 30)
    assert await ctx.db.tokens.count_documents({"user_id": stale["_id"]}) == 1
    # Registration queued a sweep for when the newest unverified account would expire.
    queue = JobQueue(app.services.host_db)
    sweeps = await queue.jobs.find({"tenant": ctx.slug, "kind": SWEEP_KIND}).to_list()
    assert len(sweeps) == 1 and sweeps[0]["state"] == "queued"
    due = sweeps[0]["run_after"].replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(days=2, hours=23) < due <= timedelta(days=3, minutes=2)

    assert await sweep_unverified(ctx) == 1
    names = {u["username"] for u in await ctx.db.users.find({}).to_list()}
    assert names == {"admin", "fresh", "verified"}
    assert await ctx.db.tokens.count_documents({"user_id": stale["_id"]}) == 0
    assert await ctx.db.tokens.count_documents({"user_id": fresh["_id"]}) == 1
    events = await ctx.db.events.find({"details.target_id": stale["_id"]}).to_list()
    assert any("not confirmed within 3 days" in e["message"] for e in events)

    # The job does the same sweep later and comes back while unverified accounts remain.
    await _age(ctx, fresh, 3.5)
    job = await queue.jobs.find_one({"_id": sweeps[0]["_id"]})
    result = await run_sweep_job(
        JobContext(job=job, tenant=ctx, services=app.services, queue=queue, worker="test")
    )
    assert result == {"removed": 1}
    assert await ctx.db.users.count_documents({"username": "fresh"}) == 0
    assert await ctx.db.users.count_documents({"username": "verified"}) == 1


async def test_a_new_registration_frees_the_name_of_an_expired_one(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    await update_settings(ctx, {"allow_registration": True, "require_email_verification": True})
    settings = await get_settings(ctx)
    old = await _register(ctx, settings, "squatter")
    await _age(ctx, old, 8)  # default: 7 days
    again = await _register(ctx, settings, "squatter")
    assert again["_id"] != old["_id"]
    assert [u["_id"] for u in await ctx.db.users.find({"username": "squatter"}).to_list()] == [
        again["_id"]
    ]


@pytest.mark.parametrize("legacy", [False, True], ids=["own-directory", "legacy-shared-directory"])
async def test_deleting_a_user_removes_their_personal_album_files(
    app, make_gallery, make_jpeg, legacy
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    await update_settings(ctx, {"user_albums": True})
    settings = await get_settings(ctx)
    admin = await ctx.db.users.find_one({"username": "admin"})
    user = await account_admin.admin_create_user(
        ctx,
        settings,
        admin,
        {"username": "dora", "email": "dora@example.org", "password": PASSWORD},
        urls=URLS,
    )
    album = await ctx.db.albums.find_one({"user_album_of": user["_id"]})
    assert album["dirpath"] and album["dirname"] == "dora"
    if legacy:
        # Personal albums made by earlier releases had no directory of their own.
        await ctx.db.albums.update_one(
            {"_id": album["_id"]}, {"$set": {"dirpath": "", "dirname": ""}}
        )
        album = await ctx.db.albums.find_one({"_id": album["_id"]})
    before = await current_usage(ctx)
    media = await add_media_file(ctx, album, make_jpeg(), "beach.jpg", owner_id=user["_id"])
    original = ctx.storage.resolve(media["original"]["path"])
    derivatives = ctx.storage.derivatives / media["_id"]
    derivatives.mkdir(parents=True)
    (derivatives / "thumbnail.jpg").write_bytes(b"x")
    assert original.is_file() and await current_usage(ctx) > before
    # Another user's file elsewhere stays.
    root = await ctx.db.albums.find_one({"parent_id": None})
    keep = await add_media_file(ctx, root, make_jpeg(), "keep.jpg")

    await account_admin.admin_delete_user(ctx, admin, user["_id"])
    assert not original.exists() and not derivatives.exists()
    if not legacy:
        assert not original.parent.exists()  # the album's directory went with it
    assert await ctx.db.media.count_documents({"_id": media["_id"]}) == 0
    assert await ctx.db.albums.count_documents({"_id": album["_id"]}) == 0
    assert await current_usage(ctx) == before + keep["original"]["size"]
    assert ctx.storage.resolve(keep["original"]["path"]).is_file()
