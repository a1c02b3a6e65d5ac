"""A visitor goes through the account pages in a real browser, with real mail: register,
confirm the address from the e-mail, sign in, see the profile and sessions, sign out the
other sessions, forget the password and set a new one from the mailed link."""

from __future__ import annotations

import re

import pytest

from gallery.settings import update_settings
from tests.mail_server import link_in, mail_config

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "Violet-Tuba-Lantern-42"
NEW_PASSWORD = "Amber-Kettle-Harbour-77"


@pytest.fixture
def config(make_config, mail_sink):
    return mail_config(make_config, mail_sink)


async def _sign_in(page, base: str, login: str, password: str) -> None:
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", password)
    await page.click("button:has-text('Sign in')")


@pytest.mark.parametrize("name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
async def test_register_verify_sign_in_sessions_and_reset_in_a_browser(
    app, make_gallery, browser_page, shot, mail_sink, name, viewport
):
    gallery = await make_gallery("alpha", "Alpha Photos")
    await update_settings(
        gallery["ctx"], {"allow_registration": True, "require_email_verification": True}
    )
    base = f"{app.base}{gallery['prefix']}"
    user, address = f"zoe-{name}", f"zoe-{name}@example.org"
    context = await browser_page.new_context(viewport=viewport)
    page = await context.new_page()

    await page.goto(f"{base}/login")
    await shot(page, f"account-login-{name}")
    await page.click("text=Create an account")
    await page.fill("input[name=username]", user)
    await page.fill("input[name=email]", address)
    await page.fill("input[name=password]", "short")
    await page.fill("input[name=password2]", "short")
    # The browser's own check stops a too-short password; the server's does too.
    await page.eval_on_selector("form.form", "f => f.noValidate = true")
    await page.click("button:has-text('Create account')")
    assert "at least" in (await page.text_content(".field-error")).lower()
    await shot(page, f"account-register-error-{name}")
    await page.fill("input[name=password]", PASSWORD)
    await page.fill("input[name=password2]", PASSWORD)
    await page.click("button:has-text('Create account')")
    assert "We sent you an e-mail" in await page.text_content("main")
    await shot(page, f"account-registered-{name}")

    # Not confirmed yet: signing in is refused with the reason.
    await _sign_in(page, base, user, PASSWORD)
    assert "confirm your e-mail" in await page.text_content(".alert.error")

    verify = await mail_sink.wait_for(address, "Confirm your e-mail")
    await page.goto(app.base + link_in(verify, "/verify"))
    assert "Your address is confirmed" in await page.text_content("main")
    await shot(page, f"account-verified-{name}")

    await _sign_in(page, base, user, PASSWORD)
    await page.wait_for_url(re.compile(rf".*{gallery['prefix']}/$"))
    await page.goto(f"{base}/account")
    await page.wait_for_selector("h1:has-text('Your account')")
    assert address in await page.input_value("input[name=email]")

    # A second browser signs in too: two sessions are listed, this one marked.
    other = await browser_page.new_context(viewport=viewport)
    other_page = await other.new_page()
    await _sign_in(other_page, base, user, PASSWORD)
    await page.reload()
    rows = page.locator(".sessions-list .session")
    assert await rows.count() == 2
    assert await page.locator(".session.current").count() == 1
    await shot(page, f"account-profile-{name}")
    await page.click("button:has-text('Sign out everywhere else')")
    assert "1 other session signed out" in await page.text_content(".alert.ok")
    assert await page.locator(".sessions-list .session").count() == 1
    await other_page.goto(f"{base}/account")
    assert "/login" in other_page.url
    await other.close()

    # Forgot password: the mailed link sets a new one, once.
    await page.click("button:has-text('Sign out')")
    await page.goto(f"{base}/forgot")
    await shot(page, f"account-forgot-{name}")
    await page.fill("input[name=login]", address)
    await page.click("button:has-text('Send the link')")
    assert "If an account matches" in await page.text_content(".alert.ok")
    reset = await mail_sink.wait_for(address, "Reset your password")
    link = app.base + link_in(reset, "/reset")
    await page.goto(link)
    await page.fill("input[name=password]", NEW_PASSWORD)
    await page.fill("input[name=password2]", NEW_PASSWORD + "x")
    await page.click("button:has-text('Set password')")
    assert "differ" in await page.text_content(".alert.error")
    await shot(page, f"account-reset-error-{name}")
    await page.fill("input[name=password]", NEW_PASSWORD)
    await page.fill("input[name=password2]", NEW_PASSWORD)
    await page.click("button:has-text('Set password')")
    assert "Password changed" in await page.text_content("h1")
    await page.goto(link)
    assert "already been used" in await page.text_content("main")

    await _sign_in(page, base, user, PASSWORD)
    assert "Wrong user name or password" in await page.text_content(".alert.error")
    await _sign_in(page, base, user, NEW_PASSWORD)
    await page.wait_for_url(re.compile(rf".*{gallery['prefix']}/$"))
    await mail_sink.wait_for(address, "password at")  # "Your password at … was changed"
    await context.close()


async def test_account_pages_in_the_dark_theme(app, make_gallery, browser_page, shot):
    gallery = await make_gallery("alpha", "Alpha Photos")
    base = f"{app.base}{gallery['prefix']}"
    context = await browser_page.new_context(viewport=PHONE, color_scheme="dark")
    page = await context.new_page()
    await _sign_in(page, base, "admin", gallery["password"])
    await page.wait_for_url(re.compile(rf".*{gallery['prefix']}/$"))
    await page.evaluate("document.documentElement.dataset.theme = 'dark'")
    await page.goto(f"{base}/account")
    await page.evaluate("document.documentElement.dataset.theme = 'dark'")
    # Keyboard: Tab reaches the first field, and focus is visible.
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.tagName")
    assert focused in ("A", "INPUT", "BUTTON")
    await shot(page, "account-profile-dark-phone")
    await context.close()
