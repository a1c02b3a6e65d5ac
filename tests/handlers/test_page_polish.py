"""Issue 17's rough edges over HTTP: the sort menu offers no direction for custom order,
no Download on albums a ZIP would hold nothing of."""

from gallery.library import albums
from tests.handlers.test_pages import _body, _fill, _gallery


async def test_sort_menu_has_no_direction_for_custom_order(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, _admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    await _fill(app, ctx, public, make_jpeg, 2, process=False)
    b = app.browser()
    custom = _body(await b.get(f"{g['prefix']}/albums/{public['_id']}"))
    assert 'id="sort-field"' in custom and 'id="sort-dir"' not in custom
    assert ">Ascending<" not in custom
    by_title = _body(await b.get(f"{g['prefix']}/albums/{public['_id']}?sort=title&dir=-1"))
    assert 'id="sort-dir"' in by_title and '<option value="-1" selected>Descending' in by_title


async def test_no_download_where_a_zip_would_be_empty(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    # Holidays: no items of its own, two empty sub-albums (one with an empty one below).
    first = await albums.create_album(ctx, admin, public["_id"], {"title": "Empty one"})
    await albums.create_album(ctx, admin, public["_id"], {"title": "Empty two"})
    await albums.create_album(ctx, admin, first["_id"], {"title": "Empty deeper"})
    b = app.browser()
    page = _body(await b.get(f"{g['prefix']}/albums/{public['_id']}"))
    assert "Empty one" in page and "/download/album/" not in page and "⤓" not in page
    # One item two levels down: now a ZIP with sub-albums holds something.
    deeper = await ctx.db.albums.find_one({"title": "Empty deeper"})
    await _fill(app, ctx, deeper, make_jpeg, 1, process=False)
    page = _body(await b.get(f"{g['prefix']}/albums/{public['_id']}"))
    assert f"/download/album/{public['_id']}?size=optimized&amp;sub=1" in page
    assert f"/download/album/{public['_id']}?size=optimized\"" not in page  # none of its own


async def test_a_suspended_gallery_page_links_nowhere_that_is_503(app, make_gallery):
    import re

    await make_gallery("alpha")
    await app.services.registry.set_status("alpha", "suspended")
    for host, path in ((None, "/g/alpha/"), (None, "/g/alpha/login"), ("alpha.atrium.test", "/")):
        b = app.browser(host=host) if host else app.browser()
        page = await b.get(path)
        html = _body(page)
        assert page.code == 503 and "not available" in html
        assert "Sign in" not in html and "Back to the gallery" not in html
        targets = [t for t in re.findall(r'(?:href|action)="([^"]+)"', html) if t[0] != "#"]
        assert targets  # the page's stylesheet at least
        for target in targets:
            followed = await b.get(target.replace("&amp;", "&"))
            assert followed.code != 503, (path, target)
