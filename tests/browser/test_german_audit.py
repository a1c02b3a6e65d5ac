"""No English left on German pages (issue 18 item 15): every admin page and the main visitor
pages rendered in Chromium for a German browser, their shown text (innerText, after the
scripts ran) read word by word. A word counts as English when the English catalogue uses it
and no German translation does ("Waiting" is English, "Album" is both). Proper names,
data the gallery holds (titles, file names, tags typed in), units and the product's name
are not words of the catalogue's English only, or are listed in DATA. At 1366 and 390 px
(a phone shows some words of its own: menus, stacked tables' labels)."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from gallery import i18n
from tests.browser.editing import seed_album

pytestmark = pytest.mark.browser
WIDTHS = [("desktop", {"width": 1366, "height": 900}), ("phone", {"width": 390, "height": 844})]
_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{3,}")
#: Words on the pages that are data or names, not the interface's English.
DATA = {"Walks", "walk", "jpg", "Alpha", "Gallery", "Atrium", "admin", "alpha", "test",
        "Chrome", "Linux", "English", "HeadlessChrome", "JPEG", "image", "jpeg", "Server", "Pro", "Piwigo"}


def _english_only_words() -> set[str]:
    def words(text) -> set[str]:
        parts = text if isinstance(text, (tuple, list)) else [text]
        return {w for p in parts if p for w in _WORD.findall(re.sub(r"%\([a-z0-9_]+\)[sd]", " ", p))}

    with (i18n.LOCALE_DIR / "de" / "LC_MESSAGES" / "atrium.po").open("rb") as f:
        catalog = read_po(f)
    english, german = set(), set()
    for message in catalog:
        if message.id:
            english |= words(message.id)
            german |= words(message.string)
    return {w for w in english - german if w.lower() not in {g.lower() for g in german}} - DATA


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


@pytest.mark.parametrize("name,viewport", WIDTHS)
async def test_german_pages_show_no_english(app, make_gallery, make_jpeg, browser_page, name, viewport):
    g = await make_gallery()
    album_id, ids = await seed_album(app, g, make_jpeg, count=2)
    user = await g["ctx"].db.users.find_one({"username": g["username"]})
    english = _english_only_words()
    context = await browser_page.new_context(viewport=viewport, locale="de-DE")
    page = await context.new_page()
    base = f"{app.base}{g['prefix']}"
    anonymous = ["/login", "/register", "/forgot", "/no/such/page"]
    found = {}

    async def read(path):
        await page.goto(base + path)
        await page.wait_for_load_state("networkidle")
        assert await page.get_attribute("html", "lang") == "de", path
        # What the page shows, less code (`Authorization: Bearer <key>`), which stays as it is.
        shown = await page.evaluate("""() => {
            let text = document.body.innerText;
            for (const code of document.querySelectorAll("code, pre")) text = text.split(code.innerText).join(" ");
            return text;
        }""")
        words = sorted({w for w in _WORD.findall(shown) if w in english})
        if words:
            found[path] = words

    for path in anonymous:
        await read(path)
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", g["username"])
    await page.fill("input[name=password]", g["password"])
    await page.click("form button[type=submit]:has-text('Anmelden')")
    await page.wait_for_url(re.compile(r".*/$"))
    member = [
        "/", f"/albums/{album_id}", f"/media/{ids[0]}", "/search?q=walk", "/tags", "/timeline", "/trash",
        "/shares", f"/upload?album={album_id}", "/account", "/admin/settings", "/admin/users",
        f"/admin/users/{user['_id']}", "/admin/roles", "/admin/events", "/admin/email", "/admin/backup",
        "/admin/sync", "/admin/queue", "/admin/import-gsp",
    ]
    for path in member:
        await read(path)
    await context.close()
    assert not found, found
