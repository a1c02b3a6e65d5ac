"""Share links (issue 17, item 5): who may make one, guessed and foreign tokens, expiry,
withdrawal, passwords guessed in parallel, the Shared links page, watermarks."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from gallery.library.shares import share_for_token
from gallery.people.roles import create_role
from gallery.people.users import create_user
from gallery.settings import update_settings
from tests.client import text
from tests.handlers.share_setup import (
    PASSWORD,
    SHARE_PASSWORD,
    build,
    make_link,
    open_link,
    token_of,
)


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


@pytest.fixture
async def gallery(app, make_gallery, viewer_of, make_jpeg, request):
    # Only the watermark test needs a processed file.
    wanted = {"pelican"} if "watermarked" in request.node.name else set()
    s = await build(app, make_gallery, viewer_of, make_jpeg, process=wanted)
    await update_settings(s["ctx"], {"allow_anonymous_browsing": False})
    return s


async def _signed_in(app, prefix: str, name: str):
    browser = app.browser()
    assert (await browser.login(prefix, name, PASSWORD)).code == 302
    return browser


async def _try_link(browser, prefix: str, **body):
    if browser.xsrf(prefix + "/") is None:
        await browser.get(prefix + "/login")
    return await browser.request(
        "POST", f"{prefix}/shares", json_body=body,
        headers={"X-XSRFToken": browser.xsrf(prefix + "/") or "", "Accept": "application/json"},
    )


async def test_only_members_who_may_edit_the_album_make_links(app, gallery):
    prefix, made, media = gallery["g"]["prefix"], gallery["albums"], gallery["media"]
    shared = made["shared"]["_id"]
    lola = await _signed_in(app, prefix, "lola")  # view only
    refused = await _try_link(lola, prefix, kind="album", target_id=shared)
    assert refused.code == 403, text(refused)
    eddie = await _signed_in(app, prefix, "eddie")  # view, view_original, edit_album
    assert (await _try_link(eddie, prefix, kind="album", target_id=shared, allow_original=True)).code == 201
    assert (await _try_link(eddie, prefix, kind="media", target_id=media["pelican"])).code == 201
    # What they may not see is not there for them, and cannot be shared.
    hidden = await _try_link(eddie, prefix, kind="media", target_id=media["zetasibling"])
    assert hidden.code == 404 and "zetasibling" not in text(hidden).lower()
    assert (await _try_link(eddie, prefix, kind="album", target_id=made["parent"]["_id"])).code == 404
    for bad in ({"kind": "user"}, {"subalbums": "yes"}, {"expires_days": 0.5}, {"expires_days": 99999},
                {"password": "short"}, {"password": ["x"]}):
        answer = await _try_link(eddie, prefix, **{"kind": "album", "target_id": shared, **bad})
        assert answer.code == 400, (bad, text(answer))
    anonymous = app.browser()
    assert (await _try_link(anonymous, prefix, kind="album", target_id=shared)).code == 401
    # Originals only from someone who may see them.
    ctx = gallery["ctx"]
    role = await create_role(ctx, "Editors without originals", ["view", "edit_album"], [shared])
    await create_user(ctx, "nora", "nora@example.org", PASSWORD, role_ids=[role["_id"]])
    nora = await _signed_in(app, prefix, "nora")
    assert (await _try_link(nora, prefix, kind="album", target_id=shared, allow_original=True)).code == 403
    made_link = await _try_link(nora, prefix, kind="album", target_id=shared)
    assert made_link.code == 201
    # The token is stored only as its hash.
    token = token_of(json.loads(made_link.body)["url"])
    stored = await ctx.db.shares.find_one({"_id": json.loads(made_link.body)["id"]})
    assert token not in json.dumps(stored, default=str)
    assert (await share_for_token(ctx, token))["_id"] == stored["_id"]


async def test_guessed_foreign_and_forged_links_open_nothing(app, gallery, make_gallery, viewer_of, make_jpeg):
    prefix, made = gallery["g"]["prefix"], gallery["albums"]
    shared = made["shared"]["_id"]
    visitor = app.browser()
    guessed = await visitor.get(f"{prefix}/s/{'A' * 43}")
    assert guessed.code == 404 and "no shared link" in text(guessed).lower()
    assert (await visitor.get(f"{prefix}/albums/{shared}")).code in (302, 401, 404)
    # Another gallery's token is no token here.
    beta = await make_gallery("beta")
    beta_admin = app.browser()
    assert (await beta_admin.login("/g/beta", "admin", beta["password"])).code == 302
    from gallery.library import albums

    beta_root = await albums.root_album(beta["ctx"])
    link = await make_link(beta_admin, "/g/beta", "album", beta_root["_id"])
    assert (await visitor.get(f"{prefix}/s/{token_of(link['url'])}")).code == 404
    # A share cookie made for alpha, sent to beta, is not beta's: its signature does not hold.
    alpha_link = await make_link(gallery["admin"], prefix, "album", shared)
    holder = await open_link(app, alpha_link["url"], prefix)
    cookie = next(v for (name, _), v in holder.cookies.items() if name == "atrium_shares")
    await update_settings(beta["ctx"], {"allow_anonymous_browsing": False})
    stranger = app.browser()
    stranger.cookies[("atrium_shares", "/g/beta/")] = cookie
    assert (await stranger.get(f"/g/beta/albums/{beta_root['_id']}")).code in (302, 401, 404)
    # A cookie naming a share id without alpha's signature is ignored.
    forged = app.browser()
    forged.cookies[("atrium_shares", f"{prefix}/")] = alpha_link["id"]
    assert (await forged.get(f"{prefix}/albums/{shared}")).code in (302, 401, 404)


async def test_expired_and_withdrawn_links_stop_at_once(app, gallery, viewer_of):
    prefix, ctx, made = gallery["g"]["prefix"], gallery["ctx"], gallery["albums"]
    shared = made["shared"]["_id"]
    eddie = await _signed_in(app, prefix, "eddie")
    soon = await make_link(eddie, prefix, "album", shared, expires_days="1")
    later = await make_link(eddie, prefix, "album", shared)
    visitor = await open_link(app, soon["url"], prefix)
    assert (await visitor.get(f"{prefix}/albums/{shared}")).code == 200
    # Counting a view is no write the page caches see: the album page stays cached.
    generation = ctx.generation
    await open_link(app, soon["url"], prefix)
    assert ctx.generation == generation
    await ctx.db.shares.update_one(
        {"_id": soon["id"]}, {"$set": {"expires": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    assert (await visitor.get(f"{prefix}/albums/{shared}")).code in (302, 401, 404)
    gone = await visitor.get(f"{prefix}/s/{token_of(soon['url'])}")
    assert gone.code == 410 and "expired" in text(gone)

    second = await open_link(app, later["url"], prefix)
    assert (await second.get(f"{prefix}/albums/{shared}")).code == 200
    lola = await _signed_in(app, prefix, "lola")
    await lola.get(f"{prefix}/shares")
    refused = await lola.post_form(f"{prefix}/shares/{later['id']}/revoke", {})
    assert refused.code == 404  # not hers
    listed = await eddie.get(f"{prefix}/shares")
    assert listed.code == 200 and "Harbour Walk" in text(listed) and "Withdraw" in text(listed)
    assert ">2<" in text(listed)  # the expired link was opened twice
    withdrawn = await eddie.post_form(f"{prefix}/shares/{later['id']}/revoke", {})
    assert withdrawn.code == 302
    assert (await second.get(f"{prefix}/albums/{shared}")).code in (302, 401, 404)
    gone = await second.get(f"{prefix}/s/{token_of(later['url'])}")
    assert gone.code == 410 and "withdrawn" in text(gone)
    # A link to what was deleted since says so.
    from gallery.library.albums import delete_album

    gone_link = await make_link(eddie, prefix, "album", made["child"]["_id"])
    await delete_album(ctx, await viewer_of(ctx), made["child"]["_id"])
    deleted = await app.browser().get(f"{prefix}/s/{token_of(gone_link['url'])}")
    assert deleted.code == 410 and "no longer" in text(deleted)
    # The maker sees theirs; an administrator sees everyone's; another member none.
    assert "Withdrawn" in text(await eddie.get(f"{prefix}/shares"))
    everyone = text(await gallery["admin"].get(f"{prefix}/shares"))
    assert "eddie" in everyone and "Expired" in everyone
    assert "Harbour Walk" not in text(await lola.get(f"{prefix}/shares"))
    # Both are in the event log, with who did it.
    made_events = await ctx.db.events.find({"kind": "share_created"}).to_list()
    assert {e["username"] for e in made_events} == {"eddie"} and len(made_events) == 3
    revoked = await ctx.db.events.find_one({"kind": "share_revoked"})
    assert revoked["username"] == "eddie" and revoked["details"]["share_id"] == later["id"]


async def test_password_guesses_in_parallel_cannot_pass_the_lockout(app, gallery):
    prefix, ctx, made = gallery["g"]["prefix"], gallery["ctx"], gallery["albums"]
    shared = made["shared"]["_id"]
    await update_settings(ctx, {"lockout_attempts": 3, "login_ip_attempts": 1000})
    link = await make_link(gallery["admin"], prefix, "album", shared, password=SHARE_PASSWORD)
    path = f"{prefix}/s/{token_of(link['url'])}"
    first = app.browser()
    form = await first.get(path)
    assert form.code == 200 and 'type="password"' in text(form)
    assert "Harbour" not in text(form)  # nothing of what it opens before the password
    assert (await first.get(f"{prefix}/albums/{shared}")).code in (302, 401, 404)
    wrong = await first.post_form(path, {"password": "not-it-at-all"})
    assert wrong.code == 403 and "not the link" in text(wrong)

    async def guess(n: int):
        b = app.browser()
        await b.get(path)
        return await b.post_form(path, {"password": f"guess-{n:04d}"})

    answers = await asyncio.gather(*(guess(n) for n in range(16)))
    codes = [a.code for a in answers]
    assert set(codes) <= {403, 429}, codes
    assert codes.count(403) <= 2, codes  # 3 attempts in all, one made above
    # Locked: the right password is refused too, until the lock ends.
    right = await first.post_form(path, {"password": SHARE_PASSWORD})
    assert right.code == 429 and "locked" in text(right)
    assert (await first.get(f"{prefix}/albums/{shared}")).code in (302, 401, 404)

    # Another link opens with its password; the browser keeps it open.
    other = await make_link(gallery["admin"], prefix, "album", shared, password=SHARE_PASSWORD)
    other_path = f"{prefix}/s/{token_of(other['url'])}"
    opened = await first.post_form(other_path, {"password": SHARE_PASSWORD})
    assert opened.code == 302
    assert (await first.get(f"{prefix}/albums/{shared}")).code == 200
    again = await first.get(other_path)
    assert again.code == 302  # no second password form

    # The address is limited too, whichever link it tries.
    await update_settings(ctx, {"login_ip_attempts": 3})
    third = await make_link(gallery["admin"], prefix, "album", shared, password=SHARE_PASSWORD)
    fresh = app.browser()
    throttled = await fresh.post_form(f"{prefix}/s/{token_of(third['url'])}", {"password": SHARE_PASSWORD})
    assert throttled.code == 429 and "address" in text(throttled)


async def test_a_share_visitor_gets_watermarked_copies(app, gallery):
    prefix, ctx, media = gallery["g"]["prefix"], gallery["ctx"], gallery["media"]
    await update_settings(ctx, {
        "watermark_enabled": True, "watermark_text": "ATRIUM", "watermark_opacity": 100,
        "watermark_thumbnails": True,
    })
    link = await make_link(gallery["admin"], prefix, "media", media["pelican"], allow_original=True)
    visitor = await open_link(app, link["url"], prefix)
    doc = await ctx.db.media.find_one({"_id": media["pelican"]})
    for variant in ("optimized", "original", "thumbnail"):
        served = await visitor.get(f"{prefix}/media/{media['pelican']}/{variant}")
        assert served.code == 200, (variant, served.code)
        stored = doc["original"] if variant == "original" else doc["derivatives"][variant]
        clean = ctx.storage.resolve(stored["path"]).read_bytes()
        assert served.body != clean and served.body[:2] == b"\xff\xd8", variant
    # The link's originals switch lets it download them; the neighbour stays closed.
    assert (await visitor.get(f"{prefix}/media/{media['pelican']}/original?download=1")).code == 200
    assert (await visitor.get(f"{prefix}/media/{media['lighthouse']}/thumbnail")).code in (401, 404)
