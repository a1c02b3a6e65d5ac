"""A gallery for the share link tests (tests/handlers/test_shares*.py, test_feeds.py):
real albums, real processed JPEGs, a member who may share and one who may only look.

    root
    └── Zetaparent Album (private)          zetaparent.jpg
        ├── Harbour Walk (private)          pelican.jpg, lighthouse.jpg   ← what links name
        │   └── Zetachild Album (private)   zetachild.jpg
        └── Zetasibling Album (private)     zetasibling.jpg

Every title, file name and tag of what a link must not open carries a marker
("zetaparent", "zetasibling", "zetachild"), so a leak shows in any body, a ZIP's entry names
included. Searches use the word "quokka", which every item carries as a tag.
"""

from __future__ import annotations

import json

from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing
from gallery.people.roles import create_role
from gallery.people.users import create_user
from tests.client import text
from tests.handlers.media_api import processed

PASSWORD = "Quiet-Harbour-Pelican-57"
SHARE_PASSWORD = "tide-pool-4471"


async def build(
    app, make_gallery, viewer_of, make_jpeg, slug: str = "alpha", process=None, people: bool = True
) -> dict:
    """`process`: the media to run through processing (all by default); tests that need no
    file leave the others pending, which is cheaper. `people=False`: no members and no
    signed-in administrator (each costs a password hash)."""
    g = await make_gallery(slug)
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    made = {"root": root}
    made["parent"] = await albums.create_album(
        ctx, admin, root["_id"], {"title": "Zetaparent Album", "private": True}
    )
    made["shared"] = await albums.create_album(ctx, admin, made["parent"]["_id"], {"title": "Harbour Walk"})
    made["child"] = await albums.create_album(ctx, admin, made["shared"]["_id"], {"title": "Zetachild Album"})
    made["sibling"] = await albums.create_album(
        ctx, admin, made["parent"]["_id"], {"title": "Zetasibling Album"}
    )
    queue = app.services.jobs.queue if process is None or process else None
    media = {}
    for key, album, size in (
        ("pelican", "shared", (2200, 1600)),  # large: an optimized copy apart from the original
        ("lighthouse", "shared", (700, 500)),
        ("zetachild", "child", (700, 500)),
        ("zetaparent", "parent", (700, 500)),
        ("zetasibling", "sibling", (700, 500)),
    ):
        path = make_jpeg(*size, name=f"{key}.jpg")
        doc = await add_media_file(
            ctx, made[album], path, path.name, title=f"{key.capitalize()} photo",
            tags=[f"{key}tag", "quokka"],
        )
        if process is None or key in process:
            await enqueue_processing(ctx, queue, doc["_id"])
        media[key] = doc["_id"]
    for key, media_id in media.items():
        if process is None or key in process:
            assert (await processed(ctx, media_id))["state"] == "ready"
    if process is None or "pelican" in process:
        fresh = await ctx.db.media.find_one({"_id": media["pelican"]})
        assert fresh["derivatives"].get("optimized")
    if not people:
        return {"g": g, "ctx": ctx, "albums": made, "media": media}
    editors = await create_role(ctx, "Editors", ["view", "view_original", "edit_album"], [made["shared"]["_id"]])
    lookers = await create_role(ctx, "Lookers", ["view"], [made["shared"]["_id"]])
    await create_user(ctx, "eddie", "eddie@example.org", PASSWORD, role_ids=[editors["_id"]])
    await create_user(ctx, "lola", "lola@example.org", PASSWORD, role_ids=[lookers["_id"]])
    admin_browser = app.browser()
    assert (await admin_browser.login(g["prefix"], "admin", g["password"])).code == 302
    return {"g": g, "ctx": ctx, "albums": made, "media": media, "admin": admin_browser}


async def make_link(browser, prefix: str, kind: str, target_id: str, **options) -> dict:
    """POST /shares as the dialog does; the JSON answer (url, feed_url, id)."""
    if browser.xsrf(prefix + "/") is None:
        await browser.get(prefix + "/login")
    response = await browser.request(
        "POST", f"{prefix}/shares",
        json_body={"kind": kind, "target_id": target_id, **options},
        headers={"X-XSRFToken": browser.xsrf(prefix + "/"), "Accept": "application/json"},
    )
    assert response.code == 201, text(response)
    return json.loads(response.body)


def token_of(url: str) -> str:
    return url.rsplit("/s/", 1)[1]


async def open_link(app, url: str, prefix: str):
    """A fresh browser that opened the link (no password); returns it."""
    visitor = app.browser()
    path = url.split("://", 1)[1].split("/", 1)[1]
    opened = await visitor.get("/" + path)
    assert opened.code == 302, text(opened)
    assert opened.headers["Location"].startswith(prefix + "/"), opened.headers["Location"]
    return visitor
