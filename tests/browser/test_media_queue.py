"""The admin's media queue page in Chromium: the gallery's jobs in words with state, progress
and error, followed live through the jobs API; Retry a failed job, Cancel a waiting one,
filter by state; another gallery's jobs never listed. 1366 px then 390 px in one context."""

from __future__ import annotations

import re

import pytest

from gallery.intake.ingest import job_queue

pytestmark = pytest.mark.browser
PASSWORD = "Correct-Horse-Battery-9"
HOSTILE = "<img src=x onerror=alert(1)> could not read holiday.zip"


async def test_media_queue_page(app, make_gallery, browser_page, shot):
    await make_gallery("alpha")
    await make_gallery("beta")
    queue = job_queue(app.services)
    failed = await queue.enqueue("alpha", "zip.import", {})
    await queue.fail(await queue.claim_job(failed, "w"), "w", HOSTILE, retry=False)
    running = await queue.enqueue("alpha", "media.transcode", {})
    await queue.claim_job(running, "w")
    waiting = await queue.enqueue("alpha", "gallery.backup", {})
    await queue.enqueue("beta", "gsp.import", {})

    base = f"{app.base}/g/alpha"
    context = await browser_page.new_context(viewport={"width": 1366, "height": 800})
    page = await context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", "admin")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(re.compile(r".*/$"))
    await page.goto(f"{base}/admin/users")
    await page.click(".admin-nav a:has-text('Media queue')")
    await page.wait_for_selector("h1:has-text('Media queue')")
    rows = page.locator("tr[data-job]")
    assert await rows.count() == 3  # beta's import is not here
    assert "Importing from Gallery Server Pro" not in await page.locator("table.queue").inner_text()
    row = page.locator(f"tr[data-job='{failed}']")
    assert await row.locator(".queue-kind").text_content() == "Importing a ZIP file"
    assert await row.locator(".queue-error").text_content() == HOSTILE

    # Live: progress written by a worker shows up without a reload.
    await queue.progress(running, "w", 0.4, "2 of 5 seconds converted")
    live = page.locator(f"tr[data-job='{running}']")
    await live.locator(".job-status:has-text('2 of 5 seconds converted')").wait_for(timeout=5000)
    assert await live.locator("progress").evaluate("p => p.value") == 40
    await shot(page, "media-queue-desktop")

    await row.locator("[data-retry]").click()
    await page.locator(f"tr[data-job='{failed}'][data-state=queued]").wait_for(timeout=5000)
    assert (await queue.get("alpha", failed))["state"] == "queued"
    await page.locator(f"tr[data-job='{waiting}'] [data-cancel]").click()
    await page.locator(f"tr[data-job='{waiting}'][data-state=cancelled]").wait_for(timeout=5000)

    await page.click(".queue-filter a:has-text('Cancelled')")
    await page.wait_for_selector(".queue-filter a[aria-current=page]:has-text('Cancelled')")
    assert await page.locator("tr[data-job]").count() == 1
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.click(".queue-filter a:has-text('All')")
    await page.wait_for_selector(f"tr[data-job='{waiting}']")
    await shot(page, "media-queue-phone")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not dialogs
    await context.close()
