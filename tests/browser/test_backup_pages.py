"""Backup and restore in a real browser (issue 14): the admin starts a backup and watches it
to its end, downloads it; the host restores it into a new gallery from the console; the
restored gallery shows the same albums, photos, captions and tags. Desktop and phone width."""

from __future__ import annotations

import re
import zipfile

import pytest

from tenants.host_admins import setup_token
from tests.browser.signing import sign_in
from tests.gallery.archive.test_backup import make_source

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "Correct-Horse-Battery-9"
HOST_PASSWORD = "Granite-Meadow-Falcon-77"


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


@pytest.mark.parametrize("name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
async def test_back_up_download_and_restore_in_a_browser(app, make_gallery, browser_page, shot, name, viewport):
    _ctx, made = await make_source(make_gallery)
    base = f"{app.base}/g/alpha"
    context = await browser_page.new_context(viewport=viewport, accept_downloads=True)
    page = await context.new_page()
    await sign_in(page, base, PASSWORD)
    await page.goto(f"{base}/admin/backup")
    await page.wait_for_selector("h1:has-text('Backup and restore')")
    await shot(page, f"backup-page-{name}")
    await page.click("[data-start-backup]")
    # The row follows the job through the jobs API and the page reloads when it ends.
    row = page.locator("tr[data-job]").first
    await row.locator("a:has-text('Download')").wait_for(timeout=60000)
    status = await row.locator(".backup-status").text_content()
    assert "2 media" in status
    assert await row.locator(".backup-state").text_content() == "Done"  # the state in words
    await shot(page, f"backup-done-{name}")
    async with page.expect_download() as info:
        await row.locator("a:has-text('Download')").click()
    download = await info.value
    assert re.match(r"alpha-\d{8}-\d{6}\.zip", download.suggested_filename)
    with zipfile.ZipFile(await download.path()) as zf:
        assert b"Beach" in zf.read("backup.xml")
        assert made["one"]["original"]["path"] in zf.namelist()

    # The host restores it into a new gallery from the console.
    token = await setup_token(app.services.host_db)
    host = await context.new_page()
    if token:
        await host.goto(f"{app.base}/_host/setup?token={token}")
        await host.fill("input[name=username]", "provider")
        await host.fill("input[name=password]", HOST_PASSWORD)
        await host.fill("input[name=password2]", HOST_PASSWORD)
        await host.click("button:has-text('Create admin')")
    await host.goto(f"{app.base}/_host/backups")
    await host.wait_for_selector("h2:has-text('Restore into a new gallery')")
    await host.fill("input[name=slug]", f"copy-{name}")
    await host.fill("input[name=title]", "Restored")
    await shot(host, f"backup-host-restore-{name}")
    await host.click("button:has-text('Restore')")
    await host.wait_for_url(re.compile(rf".*/_host/tenants/copy-{name}$"))
    assert "active" in await host.text_content("main")

    # The restored gallery: same albums, photos, captions and tags (ids kept, so same links).
    copy = f"{app.base}/g/copy-{name}"
    visitor = await (await browser_page.new_context(viewport=viewport)).new_page()
    await sign_in(visitor, copy, PASSWORD)
    await visitor.goto(f"{copy}/albums/{made['trips']['_id']}")
    main = await visitor.text_content("main")
    assert "Trips" in main and "Coast" in main
    await visitor.goto(f"{copy}/media/{made['one']['_id']}")
    main = await visitor.text_content("main")
    assert "Beach" in main and "At noon" in main and "sea" in main and "sun" in main
    await shot(visitor, f"backup-restored-media-{name}")


@pytest.mark.parametrize("name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
async def test_restore_into_an_empty_gallery_in_a_browser(app, make_gallery, browser_page, shot, name,
                                                         viewport, tmp_path):
    from gallery.archive.export import export_to_file

    ctx, made = await make_source(make_gallery)
    archive = tmp_path / "alpha-backup.zip"
    await export_to_file(ctx, archive)
    await make_gallery("empty", title="Empty")
    context = await browser_page.new_context(viewport=viewport)
    page = await context.new_page()
    # The full gallery refuses, saying why.
    await sign_in(page, f"{app.base}/g/alpha", PASSWORD)
    await page.goto(f"{app.base}/g/alpha/admin/backup")
    assert "not empty" in await page.text_content("#restore")
    base = f"{app.base}/g/empty"
    await sign_in(page, base, PASSWORD)
    await page.goto(f"{base}/admin/backup")
    await page.wait_for_selector("h2:has-text('Restore a backup into this gallery')")
    await page.set_input_files("#restore input[type=file]", str(archive))
    await page.check("#restore input[name=confirm]")
    await page.locator("#restore").scroll_into_view_if_needed()
    await shot(page, f"backup-restore-into-{name}")
    await page.click("button:has-text('Restore into this gallery')")
    await page.wait_for_selector(".restore-result:has-text('Restored:')", timeout=60000)
    assert "2 photos and videos" in await page.text_content(".restore-result")
    await shot(page, f"backup-restore-into-done-{name}")
    await page.click(".restore-result a:has-text('Sign in')")
    await sign_in(page, base, PASSWORD)  # an account of the backup
    await page.goto(f"{base}/media/{made['one']['_id']}")
    assert "At noon" in await page.text_content("main")
