"""A provider and a tenant admin go through the foundation pages in a real browser."""

import re

import pytest

from tenants.host_admins import setup_token

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


async def test_provider_creates_a_tenant_and_its_admin_installs_it(app, browser_page, shot):
    token = await setup_token(app.services.host_db)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        if name == "desktop":
            await page.goto(f"{app.base}/_host/setup?token={token}")
            await page.fill("input[name=username]", "provider")
            await page.fill("input[name=password]", "Granite-Meadow-Falcon-77")
            await page.fill("input[name=password2]", "Granite-Meadow-Falcon-77")
            await page.click("button:has-text('Create admin')")
        else:
            await page.goto(f"{app.base}/_host/login")
            await shot(page, f"host-login-{name}")
            await page.fill("input[name=username]", "provider")
            await page.fill("input[name=password]", "Granite-Meadow-Falcon-77")
            await page.click("button:has-text('Sign in')")
        await page.wait_for_url(re.compile(r".*/_host/$"))
        slug = f"studio-{name}"
        await page.goto(f"{app.base}/_host/tenants/new")
        await shot(page, f"host-new-tenant-{name}")
        await page.fill("input[name=slug]", slug)
        await page.fill("input[name=title]", f"Studio {name.title()}")
        await page.fill("input[name=admin_email]", f"owner@{slug}.example")
        await page.click("button:has-text('Create tenant')")
        link = await page.input_value("input[data-copy]")
        assert f"/g/{slug}/install?token=" in link
        await shot(page, f"host-tenant-created-{name}")

        await page.goto(link)
        assert await page.text_content("h1") == "Set up your gallery"
        await page.fill("input[name=title]", f"Studio {name.title()} Photos")
        await page.fill("input[name=username]", "owner")
        await page.fill("input[name=email]", f"owner@{slug}.example")
        await page.fill("input[name=password]", "Quiet-Lantern-Harbour-42")
        await page.fill("input[name=password2]", "Quiet-Lantern-Harbour-42")
        await shot(page, f"installer-{name}")
        await page.click("button:has-text('Create my gallery')")
        await page.wait_for_url(re.compile(rf".*/g/{slug}/$"))
        assert f"Studio {name.title()} Photos" in await page.text_content("h1")
        assert await page.is_visible("text=Sign out")
        # At phone width the header drops the account name to keep Sign out on screen.
        assert await page.is_visible("a.who") == (name != "phone")
        await shot(page, f"gallery-home-{name}")

        await page.goto(f"{app.base}/g/{slug}/admin/settings")
        await page.fill("input[name=page_size]", "5")
        await page.click("button:has-text('Save settings')")
        assert "at least 10" in await page.text_content(".setting.has-error")
        await shot(page, f"settings-error-{name}")

        await page.goto(f"{app.base}/_host/")
        assert slug in await page.text_content("table")
        await shot(page, f"host-console-{name}")
        await context.close()
