"""GET /upload (the upload page) and GET /api/v1/album-picker: sign-in, permission, tenants, escaping."""

from __future__ import annotations

import json
import re

from gallery.library.albums import create_album
from gallery.people.roles import create_role
from gallery.people.users import create_user
from tests.client import text


async def signed_in(app, make_gallery, slug="alpha"):
    gallery = await make_gallery(slug)
    browser = app.browser()
    response = await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    assert response.code == 302
    root = await gallery["ctx"].db.albums.find_one({"parent_id": None})
    return gallery, browser, root


async def test_the_upload_page_asks_anonymous_visitors_to_sign_in(app, make_gallery):
    gallery = await make_gallery("alpha")
    response = await app.browser().get(f"{gallery['prefix']}/upload")
    assert response.code == 302
    assert "/g/alpha/login?next=" in response.headers["Location"]


async def test_the_upload_page_offers_the_albums_the_admin_may_upload_to(
    app, make_gallery, viewer_of
):
    gallery, browser, root = await signed_in(app, make_gallery)
    viewer = await viewer_of(gallery["ctx"])
    trips = await create_album(gallery["ctx"], viewer, root["_id"], {"title": "Trips"})
    await create_album(gallery["ctx"], viewer, trips["_id"], {"title": "Lisbon"})
    response = await browser.get(f"{gallery['prefix']}/upload?album={trips['_id']}")
    page = text(response)
    assert response.code == 200
    assert 'id="drop-zone"' in page and "upload.js" in page and "edit.css" in page
    options = re.findall(r'<option value="(\w+)"\s*(selected)?>([^<]*)</option>', page)
    labels = [label for _, _, label in options]
    assert labels == ["Alpha Gallery", "Alpha Gallery / Trips", "Alpha Gallery / Trips / Lisbon"]
    assert [v for v, sel, _ in options if sel] == [trips["_id"]]
    assert 'name="_xsrf"' in page


async def test_another_tenants_album_id_is_not_found(app, make_gallery):
    _, browser, _ = await signed_in(app, make_gallery, "alpha")
    other = await make_gallery("beta")
    beta_root = await other["ctx"].db.albums.find_one({"parent_id": None})
    response = await browser.get(f"/g/alpha/upload?album={beta_root['_id']}")
    assert response.code == 404
    assert beta_root["_id"] not in text(response)
    malformed = await browser.get("/g/alpha/upload?album=../../etc")
    assert malformed.code == 404


async def test_a_user_without_upload_permission_is_refused(app, make_gallery, viewer_of):
    gallery, _, root = await signed_in(app, make_gallery)
    ctx = gallery["ctx"]
    admin = await viewer_of(ctx)
    shared = await create_album(ctx, admin, root["_id"], {"title": "Shared"})
    drop = await create_album(ctx, admin, root["_id"], {"title": "Drop box"})
    viewers = await create_role(ctx, "Viewers", ["view"], [root["_id"]])
    await create_user(
        ctx, "vera", "vera@alpha.test", "Velvet-Orchid-Lamp-31", role_ids=[viewers["_id"]]
    )
    vera = app.browser()
    assert (await vera.login(gallery["prefix"], "vera", "Velvet-Orchid-Lamp-31")).code == 302
    assert (await vera.get(f"{gallery['prefix']}/upload")).code == 403
    refused = await vera.get(f"{gallery['prefix']}/upload?album={shared['_id']}")
    assert refused.code == 403 and "may not add" in text(refused)
    picker = await vera.api("GET", f"{gallery['prefix']}/api/v1/album-picker")
    assert json.loads(picker.body) == {"albums": []}

    # A role that may add media to one album: the page offers that album and nothing else.
    droppers = await create_role(ctx, "Droppers", ["view", "add_media"], [drop["_id"]])
    await ctx.db.users.update_one(
        {"username": "vera"}, {"$set": {"role_ids": [viewers["_id"], droppers["_id"]]}}
    )
    page = await vera.get(f"{gallery['prefix']}/upload")
    assert page.code == 200
    assert re.findall(r'<option value="(\w+)"', text(page)) == [drop["_id"]]
    picker = json.loads((await vera.api("GET", f"{gallery['prefix']}/api/v1/album-picker")).body)
    assert [a["label"] for a in picker["albums"]] == ["Alpha Gallery / Drop box"]


async def test_album_titles_are_escaped_in_the_picker(app, make_gallery, viewer_of):
    gallery, browser, root = await signed_in(app, make_gallery)
    hostile = '<img src=x onerror=alert(1)>"</option><script>alert(2)</script>'
    album = await create_album(
        gallery["ctx"], await viewer_of(gallery["ctx"]), root["_id"], {"title": hostile}
    )
    page = text(await browser.get(f"{gallery['prefix']}/upload?album={album['_id']}"))
    assert "<script>alert(2)" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;&lt;/option&gt;&lt;script&gt;" in page
    picker = await browser.api("GET", f"{gallery['prefix']}/api/v1/album-picker")
    labels = [a["label"] for a in json.loads(picker.body)["albums"]]
    assert f"Alpha Gallery / {hostile}" in labels


async def test_the_picker_refuses_permissions_it_does_not_offer(app, make_gallery):
    gallery, browser, _ = await signed_in(app, make_gallery)
    response = await browser.api(
        "GET", f"{gallery['prefix']}/api/v1/album-picker?permission=administer_gallery"
    )
    assert response.code == 400
    anonymous = await app.browser().get(f"{gallery['prefix']}/api/v1/album-picker")
    assert anonymous.code == 401


async def test_picker_paths_name_only_albums_the_user_may_see(app, make_gallery, viewer_of):
    gallery, _, root = await signed_in(app, make_gallery)
    ctx, p = gallery["ctx"], gallery["prefix"]
    admin = await viewer_of(ctx)
    secret = await create_album(ctx, admin, root["_id"], {"title": "Secret Garden", "private": True})
    inner = await create_album(ctx, admin, secret["_id"], {"title": "Inner"})
    deeper = await create_album(ctx, admin, inner["_id"], {"title": "Deeper"})
    inner_only = await create_role(ctx, "Inner crew", ["view", "add_media"], [inner["_id"]])
    await create_user(ctx, "ines", "ines@alpha.test", "Velvet-Orchid-Lamp-31",
                      role_ids=[inner_only["_id"]])
    ines = app.browser()
    assert (await ines.login(p, "ines", "Velvet-Orchid-Lamp-31")).code == 302
    picker = await ines.api("GET", f"{p}/api/v1/album-picker")
    assert json.loads(picker.body)["albums"] == [
        {"id": inner["_id"], "title": "Inner", "label": "Inner", "depth": 0},
        {"id": deeper["_id"], "title": "Deeper", "label": "Inner / Deeper", "depth": 1},
    ]
    page = await ines.get(f"{p}/upload?album={deeper['_id']}")
    assert page.code == 200
    for hidden in ("Secret Garden", "Alpha Gallery /"):
        assert hidden not in text(picker) and hidden not in text(page)

    # The administrator sees every album of the path.
    labels = [a["label"] for a in json.loads(
        (await (await signed_in_again(app, gallery)).api("GET", f"{p}/api/v1/album-picker")).body
    )["albums"]]
    assert "Alpha Gallery / Secret Garden / Inner / Deeper" in labels


async def signed_in_again(app, gallery):
    browser = app.browser()
    await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    return browser
