"""The gallery's three download switches (issue 18, item 5; GSP's EnableMediaObjectDownload,
EnableAlbumZipDownload, EnableGalleryObjectZipDownload): each off is honoured by its routes
(403 for everyone, admins included, GET and HEAD) and by the pages and the API, which stop
offering it, while the other two keep working."""

from __future__ import annotations

import json

from gallery.library.media import add_media_file
from gallery.settings import update_settings
from media.sniff import Sniffed
from tests.client import text
from tests.handlers.test_downloads import _tree

SWITCHES = ("allow_file_download", "allow_album_zip", "allow_selection_zip")


def _urls(g, tree, made):
    p = g["prefix"]
    ids = ",".join(made[k]["_id"] for k in ("a", "c"))
    return {
        "allow_file_download": f"{p}/media/{made['a']['_id']}/optimized?download=1",
        "allow_album_zip": f"{p}/download/album/{tree['trips']['_id']}?sub=1&size=original",
        "allow_selection_zip": f"{p}/download/media?ids={ids}",
    }


async def _offers(admin, g, tree, made) -> dict[str, bool]:
    """What the album page, the media page and the API offer, per switch."""
    p = g["prefix"]
    album = text(await admin.get(f"{p}/albums/{tree['trips']['_id']}"))
    page = text(await admin.get(f"{p}/media/{made['a']['_id']}"))
    api = json.loads(text(await admin.get(f"{p}/api/v1/media/{made['a']['_id']}")))["media"]
    assert ("?download=1" in page) == (api["urls"]["download"] is not None)
    return {
        "allow_file_download": "download=1" in page and api["urls"]["download"] is not None,
        "allow_album_zip": "/download/album/" in album,
        "allow_selection_zip": "data-no-selection-zip" not in album,
    }


async def test_each_switch_off_closes_its_routes_and_links_and_only_those(
    app, make_gallery, make_jpeg
):
    g, ctx, tree, made = await _tree(app, make_gallery, make_jpeg)
    admin = app.browser()
    assert (await admin.login(g["prefix"], "admin", g["password"])).code == 302
    visitor = app.browser()
    urls = _urls(g, tree, made)

    assert await _offers(admin, g, tree, made) == dict.fromkeys(SWITCHES, True)
    for url in urls.values():
        assert (await admin.get(url)).code == 200, url

    for off in SWITCHES:
        await update_settings(ctx, {key: key != off for key in SWITCHES})
        offers = await _offers(admin, g, tree, made)
        assert offers == {key: key != off for key in SWITCHES}, off
        for key, url in urls.items():
            for who in (admin, visitor):
                response = await who.get(url)
                if key == off:
                    assert response.code == 403, (off, url)
                    assert b"turned off" in response.body
                    assert b"PK\x03\x04" not in response.body
                else:
                    assert response.code == 200, (off, url)
        if off == "allow_file_download":
            head = await admin.request("HEAD", urls[off])
            assert head.code == 403
            assert (await admin.get(urls[off].replace("optimized", "original"))).code == 403
            # Viewing is not downloading: the original still shows inline.
            inline = await admin.get(urls[off].replace("optimized", "original").split("?")[0])
            assert inline.code == 200 and inline.headers["Content-Disposition"].startswith("inline")
        if off == "allow_album_zip":
            # sub=0 and the optimized size are the same download.
            for query in ("sub=0&size=optimized", "sub=true", "size=original"):
                url = f"{g['prefix']}/download/album/{tree['root']['_id']}?{query}"
                assert (await admin.get(url)).code == 403, query


async def test_a_type_browsers_cannot_show_is_a_download_and_refused_when_off(
    app, make_gallery, make_jpeg, tmp_path
):
    g, ctx, tree, _made = await _tree(app, make_gallery, make_jpeg)
    path = tmp_path / "f.svg"
    path.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    svg = await add_media_file(
        ctx, tree["trips"], path, "page.svg",
        sniffed=Sniffed(mime="image/svg+xml", kind="document", extension="", description=""),
    )
    await ctx.db.media.update_one({"_id": svg["_id"]}, {"$set": {"state": "ready"}})
    url = f"{g['prefix']}/media/{svg['_id']}/original"
    served = await app.browser().get(url)
    assert served.code == 200 and served.headers["Content-Disposition"].startswith("attachment")

    await update_settings(ctx, {"allow_file_download": False})
    for method in ("GET", "HEAD"):
        refused = await app.browser().request(method, url)
        assert refused.code == 403 and b"<svg" not in refused.body, method
