"""The gallery pages over HTTP: album, home, media, search and tags pages — what each viewer
may see (never a private album's title or count), escaping of hostile text, bad paging and
sorting parameters, and ids of another tenant."""

import json
import re

from gallery.library import albums
from gallery.library.media import add_media_file, update_media
from gallery.processing.process import process_one
from gallery.settings import update_settings

XSS = '<script>alert("x")</script>"\'><img src=x onerror=alert(1)>'


async def _process(app, ctx, media):
    update = await process_one(ctx, app.services, media)
    await ctx.db.media.update_one({"_id": media["_id"]}, {"$set": update})
    return await ctx.db.media.find_one({"_id": media["_id"]})


async def _fill(app, ctx, album, make_jpeg, n, *, process=True, prefix="photo"):
    out = []
    for i in range(n):
        path = make_jpeg(60 + i, 40, name=f"{prefix}-{album['_id'][-4:]}-{i}.jpg")
        media = await add_media_file(
            ctx, album, path, f"{prefix}-{i:03d}.jpg", title=f"{prefix} {i:03d}"
        )
        out.append(await _process(app, ctx, media) if process else media)
    return out


async def _gallery(app, make_gallery, viewer_of, slug="alpha"):
    g = await make_gallery(slug)
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    public = await albums.create_album(ctx, admin, root["_id"], {"title": "Holidays"})
    secret = await albums.create_album(ctx, admin, root["_id"], {"title": "Secret Garden"})
    await albums.set_private(ctx, secret, True)
    secret = await albums.get_album(ctx, secret["_id"])
    inner = await albums.create_album(ctx, admin, secret["_id"], {"title": "Hidden Lake"})
    return g, ctx, admin, root, public, secret, inner


def _body(response) -> str:
    return response.body.decode()


async def test_album_page_shows_cards_grid_and_breadcrumb(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    sub = await albums.create_album(ctx, admin, public["_id"], {"title": "Beaches"})
    await _fill(app, ctx, sub, make_jpeg, 2, prefix="sand")
    items = await _fill(app, ctx, public, make_jpeg, 3)
    b = app.browser()
    page = await b.get(f"{g['prefix']}/albums/{public['_id']}")
    html = _body(page)
    assert page.code == 200
    assert f'id="album" data-album-id="{public["_id"]}" data-can-edit="0"' in html
    assert 'id="album-toolbar"' in html and 'id="child-albums"' in html
    assert re.search(r'<li class="album-tile" data-album-id="' + sub["_id"], html)
    assert "Beaches" in html and "2 items" in html
    for m in items:
        assert f'data-media-id="{m["_id"]}" data-kind="image"' in html
    # thumbnails reserve their size and load lazily, with alt text from the title
    thumb = items[0]["derivatives"]["thumbnail"]
    assert re.search(
        rf'<img src="[^"]*/media/{items[0]["_id"]}/thumbnail" width="\d+" height="\d+" '
        r'loading="lazy" decoding="async" alt="photo 000">',
        html,
    ), thumb
    assert '<nav class="breadcrumb"' in html and "Alpha Gallery" in html
    assert f"/download/album/{public['_id']}?size=optimized" in html
    assert f"/download/album/{public['_id']}?size=optimized&amp;sub=1" in html
    assert "size=original" not in html  # visitors may not download originals here
    # the admin sees the edit hooks
    admin_b = app.browser()
    await admin_b.login(g["prefix"], "admin", g["password"])
    html = _body(await admin_b.get(f"{g['prefix']}/albums/{public['_id']}"))
    assert 'data-can-edit="1"' in html and "js/edit.js" in html


async def test_anonymous_never_sees_a_private_album_anywhere(
    app, make_gallery, viewer_of, make_jpeg
):
    g, ctx, admin, _root, public, secret, inner = await _gallery(app, make_gallery, viewer_of)
    hidden = await _fill(app, ctx, secret, make_jpeg, 2, prefix="secret")
    await update_media(
        ctx, admin, hidden[0]["_id"], {"tags": ["moonlight"], "caption": "Secret Garden"}
    )
    await _fill(app, ctx, public, make_jpeg, 1, prefix="open")
    anon = app.browser()
    pages = [
        f"{g['prefix']}/",
        f"{g['prefix']}/albums/{public['_id']}",
        f"{g['prefix']}/tags",
        f"{g['prefix']}/search",
        f"{g['prefix']}/search?q=secret",
        f"{g['prefix']}/search?q=moonlight",
    ]
    for url in pages:
        response = await anon.get(url)
        html = _body(response)
        assert response.code == 200, url
        words = ["Secret Garden", "Hidden Lake", "secret-0", secret["_id"], hidden[0]["_id"]]
        if "moonlight" not in url:  # the search box shows what was typed
            words.append("moonlight")
        for word in words:
            assert word not in html, (url, word)
    for url in (
        f"/albums/{secret['_id']}",
        f"/albums/{inner['_id']}",
        f"/media/{hidden[0]['_id']}",
    ):
        response = await anon.get(g["prefix"] + url)
        assert response.code == 404, url
        assert "Secret" not in _body(response) and "Hidden" not in _body(response)
    # the root's card count is what the visitor may see: one public album
    home = _body(await anon.get(f"{g['prefix']}/"))
    assert home.count('class="album-tile"') == 1
    # the admin sees it all
    admin_b = app.browser()
    await admin_b.login(g["prefix"], "admin", g["password"])
    home = _body(await admin_b.get(f"{g['prefix']}/"))
    assert "Secret Garden" in home
    inner_page = _body(await admin_b.get(f"{g['prefix']}/albums/{inner['_id']}"))
    assert "Secret Garden" in inner_page  # in its breadcrumb


async def test_a_gallery_without_anonymous_browsing_sends_visitors_to_login(
    app, make_gallery, viewer_of, make_jpeg
):
    g, ctx, _admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    items = await _fill(app, ctx, public, make_jpeg, 1)
    await update_settings(ctx, {"allow_anonymous_browsing": False})
    anon = app.browser()
    for url in ("/", f"/albums/{public['_id']}", f"/media/{items[0]['_id']}", "/search", "/tags"):
        response = await anon.get(g["prefix"] + url)
        assert response.code == 302 and "/login" in response.headers["Location"], url


async def test_hostile_text_is_escaped_everywhere(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    await albums.update_album(ctx, admin, public["_id"], {"title": XSS, "summary": XSS}, {})
    child = await albums.create_album(ctx, admin, public["_id"], {"title": XSS})
    (item,) = await _fill(app, ctx, child, make_jpeg, 1)
    await ctx.db.media.update_one({"_id": item["_id"]}, {"$set": {"file_name": XSS + ".jpg"}})
    await update_media(
        ctx, admin, item["_id"], {"title": "", "caption": XSS, "tags": [XSS, "</script><b>"]}
    )
    b = app.browser()
    for url in (
        "/",
        f"/albums/{public['_id']}",
        f"/albums/{child['_id']}",
        f"/media/{item['_id']}",
        "/search?q=" + "%3Cscript%3E",
        "/search",
        "/tags",
    ):
        html = _body(await b.get(g["prefix"] + url))
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html and "</script><b>" not in html, url
        assert 'onerror=alert(1)>"' not in html, url
    media_html = _body(await b.get(f"{g['prefix']}/media/{item['_id']}"))
    # file name as alt text and tooltip, escaped inside the attribute
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in media_html
    album_html = _body(await b.get(f"{g['prefix']}/albums/{child['_id']}"))
    assert 'title="&lt;script&gt;alert(&quot;x&quot;)' in album_html


async def test_bad_paging_and_sorting_get_a_clear_answer(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, _admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    await update_settings(ctx, {"page_size": 10})
    items = await _fill(app, ctx, public, make_jpeg, 12, process=False)
    b = app.browser()
    url = f"{g['prefix']}/albums/{public['_id']}"
    first = _body(await b.get(url))
    assert first.count('class="media-tile"') == 10 and 'rel="next"' in first
    second = _body(await b.get(url + "?page=2"))
    assert second.count('class="media-tile"') == 2 and 'rel="prev"' in second
    assert items[11]["_id"] in second and items[0]["_id"] not in second
    for query in (
        "page=0",
        "page=-1",
        "page=abc",
        "page=1.5",
        "sort=colour",
        "dir=2",
        "sort=$where",
    ):
        response = await b.get(f"{url}?{query}")
        assert response.code == 400, query
        assert "error-code" in _body(response), query
    for query in ("page=3", "page=99999999999999999999"):
        response = await b.get(f"{url}?{query}")
        html = _body(response)
        assert response.code == 200 and "There is no page" in html, query
        assert "Back to the first page" in html and 'class="media-tile"' not in html
    by_title = _body(await b.get(f"{url}?sort=title&dir=-1"))
    ids = re.findall(r'class="media-tile" data-media-id="([0-9a-f]{24})"', by_title)
    assert ids[0] == items[-1]["_id"] and "sort=title" in by_title
    assert 'value="title" selected' in by_title and 'value="-1" selected' in by_title


async def test_media_page_neighbours_metadata_and_original(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    a, b_, c = await _fill(app, ctx, public, make_jpeg, 3)
    await update_media(ctx, admin, b_["_id"], {"caption": "Waves at dusk", "tags": ["sea", "dusk"]})
    await ctx.db.media.update_one(
        {"_id": b_["_id"]},
        {
            "$set": {
                "metadata.camera": {
                    "make": "Canon",
                    "model": "Canon EOS 40D",
                    "iso": 100,
                    "f_number": 8.0,
                    "exposure_time": "1/160",
                    "focal_length": 35.0,
                },
                "metadata.gps": {"latitude": 48.8584, "longitude": 2.2945},
            }
        },
    )
    browser = app.browser()
    html = _body(await browser.get(f"{g['prefix']}/media/{b_['_id']}"))
    assert f'<article id="media" class="media-layout" data-media-id="{b_["_id"]}"' in html
    assert f'/media/{a["_id"]}" rel="prev"' in html and f'/media/{c["_id"]}" rel="next"' in html
    assert '<h1 class="media-title">photo 001</h1>' in html
    assert '<div class="media-caption">Waves at dusk</div>' in html
    assert "Canon EOS 40D" in html and "1/160 s · f/8" in html and "35 mm" in html
    assert "openstreetmap.org/?mlat=48.858400&amp;mlon=2.294500" in html
    assert f'href="{g["prefix"]}/search?q=sea"' in html
    # order follows the setting
    await update_settings(ctx, {"metadata_fields": ["iso", "camera"]})
    html = _body(await browser.get(f"{g['prefix']}/media/{b_['_id']}"))
    assert html.index(">ISO<") < html.index(">Camera<") and ">Dimensions<" not in html
    # small test images have no distinct original: anyone who sees them may download
    assert "Download" in html
    first = _body(await browser.get(f"{g['prefix']}/media/{a['_id']}"))
    assert 'rel="prev"' not in first and f'/media/{b_["_id"]}" rel="next"' in first
    # sorting carries over to the neighbours
    desc = _body(await browser.get(f"{g['prefix']}/media/{b_['_id']}?sort=title&dir=-1"))
    assert f'/media/{c["_id"]}?sort=title&amp;dir=-1" rel="prev"' in desc


async def test_original_links_need_view_original(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, _admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    path = make_jpeg(2600, 1800)
    big = await _process(app, ctx, await add_media_file(ctx, public, path, "big.jpg"))
    assert big["derivatives"].get("optimized")
    anon = app.browser()
    html = _body(await anon.get(f"{g['prefix']}/media/{big['_id']}"))
    assert "/optimized" in html and "View original" not in html and "/original" not in html
    await update_settings(ctx, {"allow_anonymous_original": True})
    html = _body(await anon.get(f"{g['prefix']}/media/{big['_id']}"))
    assert "View original" in html and f"/media/{big['_id']}/original?download=1" in html


async def test_another_tenants_ids_are_not_found(app, make_gallery, viewer_of, make_jpeg):
    _g, ctx, _admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    (item,) = await _fill(app, ctx, public, make_jpeg, 1)
    other = await make_gallery("beta", "Beta Gallery")
    b = app.browser()
    await b.login(other["prefix"], "admin", other["password"])
    for url in (f"/albums/{public['_id']}", f"/media/{item['_id']}"):
        response = await b.get(other["prefix"] + url)
        assert response.code == 404, url
        assert "Holidays" not in _body(response) and "photo" not in _body(response)
    assert (await b.get(other["prefix"] + "/albums/not-an-id")).code == 404


async def test_search_and_tags_pages(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    items = await _fill(app, ctx, public, make_jpeg, 3)
    await update_media(ctx, admin, items[0]["_id"], {"tags": ["Sunset", "beach"]})
    await update_media(ctx, admin, items[1]["_id"], {"tags": ["sunset"]})
    b = app.browser()
    empty = _body(await b.get(f"{g['prefix']}/search"))
    assert "Recently added" in empty and all(m["_id"] in empty for m in items)
    found = _body(await b.get(f"{g['prefix']}/search?q=sunset"))
    assert items[0]["_id"] in found and items[1]["_id"] in found and items[2]["_id"] not in found
    assert '<p class="muted result-count">2 results</p>' in found
    for hostile in (".*", "$where", '{"$gt": ""}', "(", "\\"):
        response = await b.get(
            f"{g['prefix']}/search?" + __import__("urllib.parse").parse.urlencode({"q": hostile})
        )
        assert response.code == 200, hostile
        assert "Nothing found" in _body(response), hostile
    tags = _body(await b.get(f"{g['prefix']}/tags"))
    assert f'href="{g["prefix"]}/search?q=beach"' in tags and "2 tags" in tags


async def test_a_user_with_one_inner_album_sees_only_that(app, make_gallery, viewer_of, make_jpeg):
    from gallery.people.roles import create_role
    from gallery.people.users import create_user

    g, ctx, _admin, _root, _public, secret, inner = await _gallery(app, make_gallery, viewer_of)
    (photo,) = await _fill(app, ctx, inner, make_jpeg, 1, prefix="lake")
    role = await create_role(ctx, "Lake friends", ["view"], [inner["_id"]])
    await create_user(
        ctx, "friend", "friend@alpha.test", "Quiet-Lantern-Harbour-42", role_ids=[role["_id"]]
    )
    b = app.browser()
    await b.login(g["prefix"], "friend", "Quiet-Lantern-Harbour-42")
    album = _body(await b.get(f"{g['prefix']}/albums/{inner['_id']}"))
    assert "Hidden Lake" in album and photo["_id"] in album
    # its private parent is out of reach: not in the breadcrumb, not as a page
    assert "Secret Garden" not in album and secret["_id"] not in album
    media = _body(await b.get(f"{g['prefix']}/media/{photo['_id']}"))
    assert "Secret Garden" not in media and "Hidden Lake" in media
    assert (await b.get(f"{g['prefix']}/albums/{secret['_id']}")).code == 404


async def test_media_page_of_a_document_uses_the_viewer_template(
    app, make_gallery, viewer_of, tmp_path
):
    g, ctx, _admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    path = tmp_path / "notes.txt"
    path.write_text("<b>plain notes</b>\n")
    doc = await _process(
        app, ctx, await add_media_file(ctx, public, path, "notes.txt", title="<i>memo</i>")
    )
    assert doc["kind"] != "image"
    b = app.browser()
    response = await b.get(f"{g['prefix']}/media/{doc['_id']}")
    html = _body(response)
    assert response.code == 200 and 'class="media-player"' in html
    assert f'data-kind="{doc["kind"]}">' in html and "&lt;i&gt;memo&lt;/i&gt;" in html
    assert "<i>memo" not in html
    album = _body(await b.get(f"{g['prefix']}/albums/{public['_id']}"))
    assert f'data-media-id="{doc["_id"]}" data-kind="{doc["kind"]}"' in album


async def test_search_results_come_in_pages(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    await update_settings(ctx, {"page_size": 10})
    items = await _fill(app, ctx, public, make_jpeg, 12, process=False)
    for m in items:
        await update_media(ctx, admin, m["_id"], {"tags": ["harbour"]})
    b = app.browser()
    first = _body(await b.get(f"{g['prefix']}/search?q=harbour"))
    shown = re.findall(r'class="media-tile" data-media-id="([0-9a-f]{24})"', first)
    assert len(shown) == 10
    api = re.search(r'data-next="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert api.startswith(f"{g['prefix']}/api/v1/search?") and "cursor=" in api
    more = re.search(r'<a class="button small" rel="next" href="([^"]+)"', first).group(1)
    rest = _body(await b.get(more.replace("&amp;", "&")))
    later = re.findall(r'class="media-tile" data-media-id="([0-9a-f]{24})"', rest)
    assert len(later) == 2 and not set(later) & set(shown)
    # the API the infinite scroll calls gives the same next items
    page = json.loads((await b.get(api)).body)
    assert [m["id"] for m in page["items"]] == later


async def test_media_page_of_a_video_shows_the_probe(app, make_gallery, viewer_of, tmp_path):
    g, ctx, _admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    path = tmp_path / "clip.txt"
    path.write_text("stand-in bytes")
    clip = await add_media_file(ctx, public, path, "clip.txt", title="Harbour <clip>")
    probe = {
        "container": "mov,mp4",
        "container_brand": "isom",
        "video_codec": "h264",
        "audio_codec": "aac",
        "frame_rate": 25.0,
        "audio_channels": 2,
        "sample_rate": 48000,
        "bit_rate": 1_250_000,
        "duration": 83.4,
    }
    await ctx.db.media.update_one(
        {"_id": clip["_id"]}, {"$set": {"kind": "video", "duration": 83.4, "probe": probe}}
    )
    html = _body(await app.browser().get(f"{g['prefix']}/media/{clip['_id']}"))
    assert '<video class="player"' in html and "Harbour &lt;clip&gt;" in html
    for text in ("1:23", "isom", "h264, 25 fps", "aac, stereo, 48 kHz", "1250 kbit/s"):
        assert text in html, text
