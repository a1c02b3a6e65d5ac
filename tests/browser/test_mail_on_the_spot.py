"""Issue 17, items 18 and 19: a message that carries a link says on the spot whether it went
out (with the link to copy when it did not), and the host console works at phone width.

The SMTP server is real (aiosmtpd); "down" points the service at a port where nothing
listens, so delivery fails as it does when a mail server is unreachable.
"""

import json
import re
import socket

import pytest

from tenants.host_admins import create_admin
from tests.browser.editing import sign_in
from tests.mail_server import mail_config

pytestmark = pytest.mark.browser
SIZES = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}
PASSWORD = "Granite-Meadow-Falcon-77"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # released again: nothing listens there


@pytest.fixture
def config(make_config, mail_sink, request):
    smtp = mail_sink.port if getattr(request, "param", "up") == "up" else _closed_port()
    return mail_config(make_config, mail_sink, **{"smtp.port": smtp})


async def _host_console(page, app) -> None:
    await page.goto(f"{app.base}/_host/login")
    await page.fill("input[name=username]", "provider")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(re.compile(r".*/_host/$"))


async def _create_tenant(page, app, slug: str) -> None:
    await page.goto(f"{app.base}/_host/tenants/new")
    await page.fill("input[name=slug]", slug)
    await page.fill("input[name=title]", slug.title())
    await page.fill("input[name=admin_email]", f"owner@{slug}.example")
    await page.click("button:has-text('Create tenant')")
    await page.wait_for_selector("input[data-copy]")


@pytest.mark.parametrize("config", ["down"], indirect=True)
async def test_host_console_says_when_the_installer_mail_fails_and_fits_a_phone(
    app, browser_page, shot
):
    await create_admin(app.services.host_db, "provider", PASSWORD)
    for name, viewport in SIZES.items():
        context = await browser_page.new_context(viewport=viewport)
        await context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        await _host_console(page, app)
        slug = f"studio-{name}"
        await _create_tenant(page, app, slug)
        # The address is the tenant's page, not the form: a reload does not post again.
        assert page.url.endswith(f"/_host/tenants/{slug}")
        status = page.locator(".mail-status")
        await status.locator("text=could not be sent").wait_for(timeout=30_000)
        assert f"owner@{slug}.example" in await status.text_content()
        assert "Copy the link above" in await status.text_content()
        link = await page.input_value("input[data-copy]")
        await page.click("button[aria-label='Copy Installer link']")
        await page.wait_for_selector("button:text-is('Copied')")
        assert await page.evaluate("navigator.clipboard.readText()") == link
        await shot(page, f"host-installer-mail-failed-{name}")

        # Reloading shows the tenant page (the one-time link is not shown again).
        await page.reload()
        assert await page.locator("input[data-copy]").count() == 0

        # Deleting with the wrong name says what to type, in words.
        await page.fill("input[name=confirm]", "studio")
        await page.click("button:has-text('Delete tenant')")
        message = await page.eval_on_selector("input[name=confirm]", "e => e.validationMessage")
        assert message == f"Type {slug} exactly to delete this tenant."
        assert await app.services.registry.host_db.tenants.find_one({"_id": slug})

        await page.goto(f"{app.base}/_host/")
        assert await page.locator("a:has-text('New tenant')").count() == 1
        brand = await page.eval_on_selector(
            ".brand-name", "e => [e.textContent.trim(), e.scrollWidth <= e.clientWidth]")
        assert brand[1], brand  # "Atrium" whole, never "A…"
        wide = await page.evaluate("document.documentElement.scrollWidth > innerWidth")
        assert not wide  # nothing scrolls off sideways
        if name == "phone":
            # Each tenant is a card whose values carry their column's name.
            label = await page.eval_on_selector(
                "td[data-label='Status']", "e => getComputedStyle(e, '::before').content")
            assert label == '"Status"'
        await shot(page, f"host-console-{name}")
        await context.close()


async def test_host_console_says_when_the_installer_mail_was_sent(app, browser_page, mail_sink):
    await create_admin(app.services.host_db, "provider", PASSWORD)
    context = await browser_page.new_context(viewport=SIZES["phone"])
    page = await context.new_page()
    await _host_console(page, app)
    await _create_tenant(page, app, "studio-sent")
    await page.locator(".mail-status.ok").wait_for(timeout=30_000)
    assert "sent to owner@studio-sent.example" in await page.text_content(".mail-status")
    message = await mail_sink.wait_for("owner@studio-sent.example")
    assert "Set up your gallery" in message["Subject"]
    await context.close()


@pytest.mark.parametrize("config", ["down"], indirect=True)
async def test_an_account_created_while_mail_fails_says_so_with_the_address_to_give(
    app, make_gallery, browser_page, shot
):
    gallery = await make_gallery("alpha")
    for name, viewport in SIZES.items():
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        await sign_in(page, app, gallery)
        await page.goto(f"{app.base}{gallery['prefix']}/admin/users")
        await page.fill("input[name=username]", f"rita-{name}")
        await page.fill("input[name=email]", f"rita-{name}@example.org")
        await page.fill("input[name=password]", "Violet-Tuba-Lantern-42")
        await page.click("button:has-text('Create user')")
        await page.wait_for_selector(".alert.ok:has-text('The account was created')")
        # The page looks again until the first delivery attempt is over, then says what happened.
        failed = page.locator(".mail-status.error")
        await failed.wait_for(timeout=30_000)
        said = await failed.text_content()
        assert f"welcome e-mail to rita-{name}@example.org could not be sent" in said
        address = await page.input_value(".mail-status input[data-copy]")
        assert address.endswith(f"{gallery['prefix']}/login")
        await shot(page, f"account-created-mail-failed-{name}")
        await context.close()


@pytest.mark.parametrize("config", ["down"], indirect=True)
async def test_installer_mail_state_is_for_host_admins_and_names_its_own_tenant_only(app):
    """The state of an installer mail answers only a host admin, and only under the tenant
    the message belongs to; it never carries the link."""
    await create_admin(app.services.host_db, "provider", PASSWORD)
    browser = app.browser()
    await browser.get("/_host/login")
    assert (await browser.post_form(
        "/_host/login", {"username": "provider", "password": PASSWORD})).code == 302
    for slug in ("gamma", "delta"):
        created = await browser.post_form("/_host/tenants/new", {
            "slug": slug, "title": slug, "hostnames": "", "admin_email": f"a@{slug}.example",
            "quota_mb": "0"})
        assert created.code == 200
    job = await app.services.host_db.jobs.find_one({"tenant": "gamma", "kind": "email.installer"})
    path = f"/_host/tenants/gamma/installer-mail/{job['_id']}"
    answer = await browser.get(path)
    assert answer.code == 200 and json.loads(answer.body)["state"] in ("sending", "retrying")
    assert "token" not in answer.body.decode()
    assert (await browser.get(f"/_host/tenants/delta/installer-mail/{job['_id']}")).code == 404
    anonymous = await app.browser().get(path)
    assert anonymous.code == 302 and anonymous.headers["Location"] == "/_host/login"
