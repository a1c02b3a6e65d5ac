"""Import from Gallery Server Pro in a real browser (issue 15): upload a GSP 4.5 backup ZIP and
its media folder ZIP through the page's resumable uploads, choose the gallery in the preview,
confirm, follow the job to its report. Driven at phone width; each step is also looked at (and
shot) at desktop width, so one import serves both."""

from __future__ import annotations

import asyncio
import re

import pytest

from gallery.gspimport.jobs import KIND
from tests.gsp_fixtures import write_backup

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def wait_job(app, tenant, timeout=240):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        job = await app.services.host_db.jobs.find_one({"tenant": tenant, "kind": KIND})
        if job and job["state"] in ("done", "failed", "cancelled"):
            return job
        assert loop.time() < deadline, job
        await asyncio.sleep(0.2)


async def look(page, shot, step: str) -> None:
    """At desktop and phone width: nothing wider than the window; a full-page screenshot each."""
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], (
            f"{step}: the page is {width}px wide at {viewport['width']}px"
        )
        await page.evaluate(
            "window.scrollTo(0, 0)"
        )  # the sticky header stays at the top of the shot
        await shot(page, f"gsp-import-{step}-{name}")
    await page.set_viewport_size(PHONE)  # the flow itself runs at phone width


async def test_import_a_gsp_backup_from_the_admin_page(
    app, make_gallery, browser_page, shot, tmp_path
):
    made = write_backup(tmp_path / "gsp", "4.5.0", zipped=True, media_zip=True, video=False)
    gallery = await make_gallery("fam")
    base = f"{app.base}/g/fam"
    context = await browser_page.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", "admin")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(re.compile(r".*/$"))
    await page.goto(f"{base}/admin/backup")
    await page.click("nav.admin-nav a:has-text('Import from GSP')")
    await page.wait_for_selector("h1:has-text('Import from Gallery Server Pro')")
    await look(page, shot, "empty")

    # The connection drops during the first piece of the backup: the page asks the server where
    # the upload stands (HEAD) and goes on from there.
    dropped = []

    async def drop_first_patch(route):
        if route.request.method == "PATCH" and not dropped:
            dropped.append(route.request.url)
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route(re.compile(r".*/admin/import-gsp/uploads/[0-9a-f]{32}$"), drop_first_patch)
    await page.set_input_files("input[name=backup]", str(made.zip))
    await page.set_input_files("input[name=media]", str(made.media_zips[2]))
    await page.click("[data-start-upload]")
    await page.wait_for_url(re.compile(r".*backup=[0-9a-f]{32}&media=[0-9a-f]{32}"), timeout=60000)
    assert len(dropped) == 1
    # The backup holds two galleries (and a template, not offered): choose the family one.
    assert await page.locator(".gsp-galleries input[type=radio]").count() == 2
    await page.check(".gsp-galleries label:has-text('Family photos') input")
    await page.click("[data-choose-gallery]")
    await page.wait_for_selector("[data-counts]")
    counts = await page.locator("[data-counts]").text_content()
    assert re.search(r"11\s+albums", counts) and re.search(r"1\s+missing", counts)
    assert "4.x" in await page.locator("[data-generation]").text_content()
    await look(page, shot, "preview")

    await page.check("input[name=confirm]")
    await page.click("[data-confirm-import]")
    job = await wait_job(app, "fam")
    assert job["state"] == "done", job
    # The job row followed the job; the page reloaded with the report when it ended.
    await page.locator("tr[data-job][data-state=done]").first.wait_for(timeout=30000)
    await page.wait_for_selector("[data-report]")
    assert await page.locator("[data-not-empty]").count() == 1  # the gallery is no longer empty
    table = await page.locator("[data-report] table").text_content()
    assert "media" in table and "albums" in table
    await page.locator("[data-report] summary").first.click()
    await look(page, shot, "report")
    async with page.expect_download() as download:
        await page.click("[data-report-download]")
    assert (await download.value).suggested_filename.startswith("gsp-import-fam-")
    album = await gallery["ctx"].db.albums.find_one({"title": "Holidays — Été 2009 🌞"})
    assert album is not None
    await context.close()
