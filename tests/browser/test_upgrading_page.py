"""The page of a gallery being upgraded, and the banner of a gallery served read-only after
a failed upgrade, in Chromium at 1366 and 390 px (issue 19). The upgrade is held mid-step
by a real `python -m server migrate` process stopped at its failpoint; once that process
is killed, the open pages' own polling takes the upgrade over and opens the gallery."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from gallery.migrations import runner
from tests.browser.editing import PHONE
from tests.gallery.migrations.test_migrations import (
    failing_after,
    migrate_process,
    old_gallery,
    without_taken,
)

WIDE = {"width": 1366, "height": 900}
SIZES = (("1366", WIDE), ("390", PHONE))


async def no_sideways_scroll(page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"the page scrolls sideways by {width}px"


async def test_upgrading_page_follows_the_upgrade_and_opens_the_gallery(app, make_gallery, config,
                                                                        browser_page, shot):
    g = await old_gallery(make_gallery, count=1100)
    app.services.registry.forget("alpha")
    holder = await migrate_process(config, "alpha", failpoint="migration.batch@1")
    line = b""
    while b"failpoint migration.batch reached" not in line:
        line = await asyncio.wait_for(holder.stderr.readline(), 60)
        assert line, "the migration ended before its failpoint"
    claim = g["ctx"].db.meta
    # Renewed as the holder's next batch would: a slow machine must not see its 30 s lease
    # run out (and a page's poll take the upgrade over) before the pages are looked at.
    await claim.update_one({"_id": runner.CLAIM_ID}, {"$set": {"lease_until": time.time() + 600}})

    pages = []
    for name, viewport in SIZES:
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        response = await page.goto(f"{app.base}/g/alpha/")
        assert response.status == 503 and response.headers["retry-after"] == "5"
        await page.wait_for_selector(".upgrade-card")
        assert await page.inner_text("h1") == "Alpha Gallery is being upgraded"
        assert await page.inner_text(".upgrade-step") == "Step 1 of 2"  # 0002, then 0003
        assert "500 of 1,100 documents (45%)" in await page.inner_text(".upgrade-count")
        assert await page.eval_on_selector("progress", "p => [p.max, p.value]") == [1100, 500]
        assert (await page.inner_text("[data-field=estimate]")).startswith("About ")
        assert await page.locator(".topnav a").count() == 0  # no link into the 503
        await no_sideways_scroll(page)
        await shot(page, f"upgrading-{name}")
        pages.append(page)

    # The holder records a batch (written here as it would): the open pages follow it.
    await claim.update_one({"_id": runner.CLAIM_ID}, {"$set": {"done": 800}})
    for page in pages:
        await page.wait_for_function(
            "document.querySelector('[data-field=count]').textContent.startsWith('800 of 1,100 documents (72%)')")
        assert await page.eval_on_selector("progress", "p => p.value") == 800

    # The holder dies: the pages' polls take the claim over, finish, and reload themselves.
    holder.send_signal(signal.SIGKILL)
    await holder.wait()
    for page in pages:
        await page.wait_for_selector(".media-tile", timeout=60_000)
        assert await page.locator(".upgrade-card").count() == 0
    assert await without_taken(g["ctx"]) == 0
    assert await runner.stored_version(g["ctx"].db) == runner.TENANT_STEPS[-1].number
    for page in pages:
        await page.context.close()


async def test_read_only_banner_after_a_failed_upgrade(app, make_gallery, browser_page, shot):
    g = await old_gallery(make_gallery, count=600)
    with pytest.raises(runner.MigrationFailed):
        await runner.migrate(g["ctx"], steps=failing_after(1))
    app.services.registry.forget("alpha")
    for name, viewport in SIZES:
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        response = await page.goto(f"{app.base}/g/alpha/")
        assert response.status == 200
        banner = page.locator(".read-only-notice")
        assert await banner.is_visible() and "read-only for now" in await banner.inner_text()
        await no_sideways_scroll(page)
        await shot(page, f"read-only-banner-{name}")
        await context.close()
