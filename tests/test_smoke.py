from tests.client import text


async def test_gallery_home_shows_title_after_login(app, make_gallery):
    gallery = await make_gallery()
    browser = app.browser()
    response = await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    assert response.code == 302, text(response)
    home = await browser.get(gallery["prefix"] + "/")
    assert home.code == 200
    assert "Alpha Gallery" in text(home)
    assert "Sign out" in text(home)
