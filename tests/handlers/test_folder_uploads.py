"""A dropped folder's files carry their folder (`?folder=` on a plain upload, `folder` in
tus metadata): they land in albums of those names below the target album, made once
however many files arrive at the same time."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

from gallery.library.albums import create_album
from gallery.people.roles import create_role
from gallery.people.users import create_user
from tests.client import text
from tests.handlers.test_tus import Tus, metadata
from tests.handlers.test_uploads import jpeg_bytes, signed_in, tmp_files, upload


async def _children(ctx, parent_id) -> list[dict]:
    return await ctx.db.albums.find({"parent_id": parent_id}).sort("title", 1).to_list()


async def test_files_of_a_folder_land_in_albums_made_once(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    ctx = gallery["ctx"]
    files = [("Holidays/Beach", f"b{i}.jpg") for i in range(4)] + [("Holidays", "cover.jpg")]
    # All at once, as the upload page sends them: "Holidays" and "Beach" are made once.
    responses = await asyncio.gather(*(
        upload(browser, gallery, root["_id"], jpeg_bytes((i * 40, 10, 10)), name,
               f"?folder={quote(folder)}")
        for i, (folder, name) in enumerate(files)
    ))
    assert [r.code for r in responses] == [201] * 5, [text(r) for r in responses]
    holidays = await _children(ctx, root["_id"])
    assert [a["title"] for a in holidays] == ["Holidays"]
    beach = await _children(ctx, holidays[0]["_id"])
    assert [a["title"] for a in beach] == ["Beach"]
    by_album = {json.loads(r.body)["album_id"] for r in responses}
    assert by_album == {holidays[0]["_id"], beach[0]["_id"]}
    assert await ctx.db.media.count_documents({"album_id": beach[0]["_id"]}) == 4

    # The same folder dropped again fills the same albums (spacing as titles store it).
    again = await upload(browser, gallery, root["_id"], jpeg_bytes((1, 2, 3)), "b9.jpg",
                         f"?folder={quote(' Holidays / Beach  ')}")
    assert again.code == 201 and json.loads(again.body)["album_id"] == beach[0]["_id"]
    assert len(await _children(ctx, root["_id"])) == 1
    # A folder name with doubled spaces is one album, titled as albums are.
    for i in range(2):
        spaced = await upload(browser, gallery, root["_id"], jpeg_bytes((i, 9, 9)), f"w{i}.jpg",
                              f"?folder={quote('Long  Walk')}")
        assert spaced.code == 201
    assert [a["title"] for a in await _children(ctx, root["_id"])] == ["Holidays", "Long Walk"]


async def test_hostile_folder_paths_are_refused_before_anything_is_stored(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    ctx = gallery["ctx"]
    for folder, words in [
        ("../../etc", "may not go up"),
        ("a/../../b", "may not go up"),
        ("a\tb", "control characters"),  # Tornado itself drops NUL and the like from queries
        ("/".join(["deep"] * 40), "nested at most"),
    ]:
        response = await upload(browser, gallery, root["_id"], jpeg_bytes(), "x.jpg",
                                f"?folder={quote(folder)}")
        assert response.code == 400, folder
        assert words in text(response)
    assert await _children(ctx, root["_id"]) == []
    assert await ctx.db.media.count_documents({}) == 0
    assert tmp_files(gallery) == []
    # Leading, doubled and trailing slashes and "." are nothing more than the names.
    fine = await upload(browser, gallery, root["_id"], jpeg_bytes(), "x.jpg",
                        f"?folder={quote('/./Trips//Lisbon/')}")
    assert fine.code == 201
    trips = await _children(ctx, root["_id"])
    assert [a["title"] for a in trips] == ["Trips"]
    assert [a["title"] for a in await _children(ctx, trips[0]["_id"])] == ["Lisbon"]


async def test_a_folder_needs_add_album_where_it_would_be_made(app, make_gallery, viewer_of):
    gallery, _, root = await signed_in(app, make_gallery)
    ctx = gallery["ctx"]
    drop = await create_album(ctx, await viewer_of(ctx), root["_id"], {"title": "Drop box"})
    droppers = await create_role(ctx, "Droppers", ["view", "add_media"], [drop["_id"]])
    await create_user(ctx, "dora", "dora@alpha.test", "Velvet-Orchid-Lamp-31",
                      role_ids=[droppers["_id"]])
    dora = app.browser()
    assert (await dora.login(gallery["prefix"], "dora", "Velvet-Orchid-Lamp-31")).code == 302
    refused = await upload(dora, gallery, drop["_id"], jpeg_bytes(), "x.jpg", "?folder=Mine")
    assert refused.code == 403
    assert await _children(ctx, drop["_id"]) == [] and tmp_files(gallery) == []
    tus = Tus(dora, gallery["prefix"])
    refused = await tus.call("POST", headers={
        "Upload-Length": "10",
        "Upload-Metadata": metadata(filename="x.jpg", album_id=drop["_id"], folder="Mine"),
    })
    assert refused.code == 403
    # Without a folder, the same user's file goes into the drop box itself.
    plain = await upload(dora, gallery, drop["_id"], jpeg_bytes(), "x.jpg")
    assert plain.code == 201 and json.loads(plain.body)["album_id"] == drop["_id"]


async def test_a_resumable_upload_keeps_its_folder_until_it_completes(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    ctx = gallery["ctx"]
    data = jpeg_bytes((200, 30, 30))
    tus = Tus(browser, gallery["prefix"])
    created = await tus.call("POST", headers={
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata(filename="red.jpg", album_id=root["_id"], folder="Scans/1999"),
    })
    assert created.code == 201, text(created)
    upload_id = created.headers["Location"].rsplit("/", 1)[-1]
    assert await _children(ctx, root["_id"]) == []  # nothing made before the file is whole
    half = len(data) // 2
    assert (await tus.patch(upload_id, 0, data[:half])).code == 204
    assert (await tus.patch(upload_id, half, data[half:])).code == 204
    scans = await _children(ctx, root["_id"])
    assert [a["title"] for a in scans] == ["Scans"]
    year = await _children(ctx, scans[0]["_id"])
    assert [a["title"] for a in year] == ["1999"]
    assert await ctx.db.media.count_documents({"album_id": year[0]["_id"]}) == 1

    for folder, words in [("a/../b", "may not go up"), ("a\x00b", "control characters")]:
        bad = await tus.call("POST", headers={
            "Upload-Length": "10",
            "Upload-Metadata": metadata(filename="x.jpg", album_id=root["_id"], folder=folder),
        })
        assert bad.code == 400 and words in text(bad)
