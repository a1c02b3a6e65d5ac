"""Header options and custom CSS (issue 18, item 9; GSP's GalleryTitleUrl, ShowLogin,
ShowSearch): the title link, Sign in and Search shown or not, and the gallery's CSS served
as its own size-limited stylesheet, never written into a page."""

from __future__ import annotations

import re

import pytest

from gallery import settings as gallery_settings
from gallery.errors import Invalid
from gallery.settings import update_settings
from tests.client import text

HOSTILE_CSS = "</style><script>alert(1)</script>\n.topbar { background: rgb(1, 2, 3); }"


def _header(page: str) -> str:
    return page.split('<header class="topbar">', 1)[1].split("</header>", 1)[0]


async def test_defaults_then_each_option(app, make_gallery):
    g = await make_gallery("alpha")
    p, ctx = g["prefix"], g["ctx"]
    visitor = app.browser()
    header = _header(text(await visitor.get(p + "/")))
    assert f'class="brand" href="{p}/"' in header
    assert f'href="{p}/search"' in header and f'href="{p}/login"' in header
    assert "custom.css" not in text(await visitor.get(p + "/"))
    assert (await visitor.get(p + "/custom.css")).code == 404

    await update_settings(ctx, {
        "gallery_title_url": "https://example.org/home?a=1&b=2",
        "show_login": False,
        "show_search": False,
    })
    page = text(await visitor.get(p + "/"))
    header = _header(page)
    assert 'class="brand" href="https://example.org/home?a=1&amp;b=2"' in header
    assert "/search" not in header and "/login" not in header
    # Hidden from the header, the pages themselves still answer.
    assert (await visitor.get(p + "/login")).code == 200

    admin = app.browser()
    assert (await admin.login(p, "admin", g["password"])).code == 302
    assert "Sign out" in _header(text(await admin.get(p + "/")))


async def test_custom_css_is_a_separate_stylesheet_and_never_inline(app, make_gallery):
    g = await make_gallery("alpha")
    p, ctx = g["prefix"], g["ctx"]
    await update_settings(ctx, {"custom_css": HOSTILE_CSS})
    visitor = app.browser()
    for path in ("/", "/login", "/search"):
        page = text(await visitor.get(p + path))
        links = re.findall(rf'<link rel="stylesheet" href="({p}/custom\.css\?v=[0-9a-f]{{16}})">', page)
        assert len(links) == 1, path
        assert "alert(1)" not in page and "rgb(1, 2, 3)" not in page, path
    css = await visitor.get(links[0])
    assert css.code == 200 and text(css) == HOSTILE_CSS.strip()
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in css.headers["Content-Security-Policy"]
    assert "immutable" in css.headers["Cache-Control"]
    stale = await visitor.get(p + "/custom.css?v=0000000000000000")
    assert stale.code == 200 and stale.headers["Cache-Control"] == "no-cache"

    # With anonymous browsing off, the sign-in page still gets the gallery's look.
    await update_settings(ctx, {"allow_anonymous_browsing": False})
    login = text(await app.browser().get(p + "/login"))
    assert links[0] in login and (await app.browser().get(links[0])).code == 200

    # A change gives a new link, so a cached old stylesheet is never used.
    await update_settings(ctx, {"custom_css": ".topbar { background: #000; }"})
    page = text(await visitor.get(p + "/login"))
    assert links[0] not in page and f"{p}/custom.css?v=" in page
    # The other gallery has none.
    beta = await make_gallery("beta", "Beta")
    assert "custom.css" not in text(await visitor.get(beta["prefix"] + "/"))
    assert (await visitor.get(beta["prefix"] + "/custom.css")).code == 404


@pytest.mark.parametrize(
    "values",
    [
        {"custom_css": "a{}" * 11_000},  # over 32 KB
        {"gallery_title_url": "javascript:alert(1)"},
        {"gallery_title_url": "JavaScript:alert(1)"},
        {"gallery_title_url": "data:text/html,<script>alert(1)</script>"},
        {"gallery_title_url": "//evil.example/"},
        {"gallery_title_url": "/\\evil.example/"},
        {"gallery_title_url": "https://exa mple.org/"},
        {"gallery_title_url": "https:///path"},
        {"gallery_title_url": "java\tscript:alert(1)"},
    ],
)
async def test_refused_values(make_gallery, values):
    g = await make_gallery("alpha")
    with pytest.raises(Invalid) as refused:
        await update_settings(g["ctx"], values)
    assert set(refused.value.field_errors) == set(values)
    assert (await gallery_settings.get_settings(g["ctx"]))["gallery_title_url"] == ""


async def test_the_settings_page_edits_custom_css_in_a_textarea(app, make_gallery):
    g = await make_gallery("alpha")
    admin = app.browser()
    assert (await admin.login(g["prefix"], "admin", g["password"])).code == 302
    await update_settings(g["ctx"], {"custom_css": "</textarea><b>x</b>"})
    page = text(await admin.get(g["prefix"] + "/admin/settings"))
    assert '<textarea name="custom_css"' in page
    assert "&lt;/textarea&gt;&lt;b&gt;x&lt;/b&gt;</textarea>" in page
    for key in ("gallery_title_url", "show_login", "show_search"):
        assert f'name="{key}"' in page
