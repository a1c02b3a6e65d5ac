"""The authorizing media file handler: ranges, validators, caching, privacy, attachments."""

import pytest

from gallery.library import albums
from gallery.library.media import add_media_file
from gallery.settings import update_settings
from media.sniff import Sniffed

JPEG = Sniffed(mime="image/jpeg", kind="image", extension="jpg", description="JPEG")


async def _photo(ctx, admin, album, make_jpeg, name="p.jpg", optimized=False):
    """A ready media object with a thumbnail (and optionally an optimized copy)."""
    media = await add_media_file(ctx, album, make_jpeg(300, 200), name, sniffed=JPEG)
    folder = ctx.storage.derivatives / media["_id"]
    folder.mkdir()
    (folder / "thumbnail.jpg").write_bytes(make_jpeg(30, 20).read_bytes())
    derivatives = {
        "thumbnail": {"path": f"derivatives/{media['_id']}/thumbnail.jpg", "mime": "image/jpeg"}
    }
    if optimized:
        (folder / "optimized.jpg").write_bytes(b"OPTIMIZED" * 10)
        derivatives["optimized"] = {
            "path": f"derivatives/{media['_id']}/optimized.jpg",
            "mime": "image/jpeg",
        }
    await ctx.db.media.update_one(
        {"_id": media["_id"]}, {"$set": {"derivatives": derivatives, "state": "ready"}}
    )
    return media


async def _gallery(make_gallery, viewer_of, slug="alpha"):
    g = await make_gallery(slug)
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    public = await albums.create_album(ctx, admin, root["_id"], {"title": "Public"})
    private = await albums.create_album(
        ctx, admin, root["_id"], {"title": "Private", "private": True}
    )
    return g, ctx, admin, public, private


async def test_ranges_etags_and_304s(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, admin, public, _ = await _gallery(make_gallery, viewer_of)
    media = await _photo(ctx, admin, public, make_jpeg)
    data = ctx.storage.resolve(media["original"]["path"]).read_bytes()
    browser = app.browser()
    url = f"{g['prefix']}/media/{media['_id']}/original"
    full = await browser.get(url)
    assert full.code == 200 and full.body == data
    assert full.headers["Accept-Ranges"] == "bytes" and full.headers["Content-Type"] == "image/jpeg"
    assert full.headers["X-Content-Type-Options"] == "nosniff"
    assert full.headers["Cache-Control"].startswith("public")

    part = await browser.get(url, headers={"Range": "bytes=10-29"})
    assert part.code == 206 and part.body == data[10:30]
    assert part.headers["Content-Range"] == f"bytes 10-29/{len(data)}"
    tail = await browser.get(url, headers={"Range": "bytes=-5"})
    assert tail.code == 206 and tail.body == data[-5:]
    bad = await browser.get(url, headers={"Range": f"bytes={len(data) + 10}-"})
    assert bad.code == 416 and bad.headers["Content-Range"] == f"bytes */{len(data)}"

    etag = full.headers["Etag"]
    assert (await browser.get(url, headers={"If-None-Match": etag})).code == 304
    assert (
        await browser.get(url, headers={"If-Modified-Since": full.headers["Last-Modified"]})
    ).code == 304
    assert (await browser.get(url, headers={"If-None-Match": '"other"'})).code == 200
    head = await browser.request("HEAD", url)
    assert head.code == 200 and int(head.headers["Content-Length"]) == len(data) and not head.body


async def test_private_items_are_hidden_from_visitors_and_not_cached_publicly(
    app, make_gallery, viewer_of, make_jpeg
):
    g, ctx, admin, _, private = await _gallery(make_gallery, viewer_of)
    media = await _photo(ctx, admin, private, make_jpeg)
    url = f"{g['prefix']}/media/{media['_id']}/thumbnail"
    assert (await app.browser().get(url)).code == 404
    browser = app.browser()
    await browser.login(g["prefix"], "admin", g["password"])
    response = await browser.get(url)
    assert response.code == 200 and response.headers["Cache-Control"].startswith("private")


async def test_anonymous_visitors_get_no_original_when_the_setting_forbids_it(
    app, make_gallery, viewer_of, make_jpeg
):
    g, ctx, admin, public, _ = await _gallery(make_gallery, viewer_of)
    media = await _photo(ctx, admin, public, make_jpeg, optimized=True)
    visitor = app.browser()
    base = f"{g['prefix']}/media/{media['_id']}"
    assert (await visitor.get(f"{base}/optimized")).body == b"OPTIMIZED" * 10
    assert (await visitor.get(f"{base}/original")).code == 401
    await update_settings(ctx, {"allow_anonymous_original": True})
    ctx.settings_cache = None
    allowed = await visitor.get(f"{base}/original")
    assert allowed.code == 200 and allowed.body.startswith(b"\xff\xd8")


async def test_a_missing_optimized_copy_falls_back_to_the_original(
    app, make_gallery, viewer_of, make_jpeg
):
    g, ctx, admin, public, _ = await _gallery(make_gallery, viewer_of)
    media = await _photo(ctx, admin, public, make_jpeg)
    response = await app.browser().get(f"{g['prefix']}/media/{media['_id']}/optimized")
    assert (
        response.code == 200
        and response.body == ctx.storage.resolve(media["original"]["path"]).read_bytes()
    )


async def test_another_tenants_media_id_answers_404(app, make_gallery, viewer_of, make_jpeg):
    _g, ctx, admin, public, _ = await _gallery(make_gallery, viewer_of)
    media = await _photo(ctx, admin, public, make_jpeg)
    other = await make_gallery("beta")
    browser = app.browser()
    await browser.login(other["prefix"], "admin", other["password"])
    for variant in ("thumbnail", "optimized", "original"):
        assert (await browser.get(f"{other['prefix']}/media/{media['_id']}/{variant}")).code == 404
    assert (await browser.get(f"{other['prefix']}/media/../../etc/original")).code == 404


@pytest.mark.parametrize(
    "name", ['evil"; filename="x.exe', "line\r\nSet-Cookie: a=b.jpg", "Fête à Zürich 東京.jpg"]
)
async def test_download_names_are_safe(app, make_gallery, viewer_of, make_jpeg, name):
    g, ctx, admin, public, _ = await _gallery(make_gallery, viewer_of)
    media = await _photo(ctx, admin, public, make_jpeg)
    await ctx.db.media.update_one({"_id": media["_id"]}, {"$set": {"file_name": name}})
    response = await app.browser().get(f"{g['prefix']}/media/{media['_id']}/original?download=1")
    assert response.code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "\r" not in disposition and "\n" not in disposition
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and '"' not in fallback and ";" not in fallback
    assert "filename*=UTF-8''" in disposition
    assert "Set-Cookie" not in response.headers or "a=b" not in response.headers.get(
        "Set-Cookie", ""
    )
    if "東京" in name:
        assert "%E6%9D%B1%E4%BA%AC" in disposition


@pytest.mark.parametrize(
    "mime,body",
    [
        (
            "image/svg+xml",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        ),
        ("text/html", b"<html><script>alert(1)</script></html>"),
        ("application/xml", b"<?xml version='1.0'?><x/>"),
    ],
)
async def test_types_that_can_run_script_are_only_attachments(
    app, make_gallery, viewer_of, tmp_path, mime, body
):
    g, ctx, _admin, public, _ = await _gallery(make_gallery, viewer_of)
    path = tmp_path / "f.bin"
    path.write_bytes(body)
    media = await add_media_file(
        ctx,
        public,
        path,
        "page.svg",
        sniffed=Sniffed(mime=mime, kind="document", extension="", description=""),
    )
    # Processed (a document's original is then what visitors see): while pending, an
    # original needs view_original (tests/handlers/test_original_access.py).
    await ctx.db.media.update_one({"_id": media["_id"]}, {"$set": {"state": "ready"}})
    response = await app.browser().get(f"{g['prefix']}/media/{media['_id']}/original")
    assert response.code == 200 and response.body == body
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


async def test_a_pending_item_has_no_thumbnail_yet(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, _admin, public, _ = await _gallery(make_gallery, viewer_of)
    media = await add_media_file(ctx, public, make_jpeg(), "p.jpg")
    assert (await app.browser().get(f"{g['prefix']}/media/{media['_id']}/thumbnail")).code == 404
