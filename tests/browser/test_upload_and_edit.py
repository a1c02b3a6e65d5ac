"""Editing in a real browser: a caption in place, drag-and-drop ordering, bulk actions,
tags, cover, rotate, move, a ZIP upload, and what an editor's role allows — against the
real service with a job worker."""

from __future__ import annotations

import zipfile

import pytest

from tests.browser.editing import (
    DESKTOP,
    PHONE,
    edit_ready,
    seed_album,
    sign_in,
    tile_ids,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def test_edit_a_caption_reorder_by_drag_and_drop_and_bulk_delete(
    app, make_gallery, browser_page, shot, make_jpeg
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    album_id, ids = await seed_album(app, gallery, make_jpeg)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = await browser_page.new_context(
            viewport=viewport, color_scheme="dark" if name == "phone" else "light"
        )
        page = await context.new_page()
        await sign_in(page, app, gallery)
        album_url = f"{app.base}{gallery['prefix']}/albums/{album_id}"
        await page.goto(album_url)
        await edit_ready(page)
        await page.wait_for_selector("#album-toolbar button:has-text('Select')")
        await shot(page, f"edit-album-{name}")
        if name == "phone":
            await page.click("#album-toolbar button:has-text('Select')")
            # Click one end, shift-click the other: the whole range is selected.
            await page.click("#media-grid .media-tile:first-child a")
            await page.click("#media-grid .media-tile:last-child a", modifiers=["Shift"])
            assert await page.text_content(".selection-count") == "3 selected"
            await shot(page, f"edit-selecting-{name}")
            await page.goto(f"{app.base}{gallery['prefix']}/media/{ids[0]}")
            await edit_ready(page)
            await page.wait_for_selector(".edit-actions")
            await shot(page, f"edit-media-{name}")
            await context.close()
            continue

        # Drag the first photo after the third: the order is saved and kept after reload.
        before = await tile_ids(page)
        assert before == ids
        target = page.locator(f'.media-tile[data-media-id="{ids[2]}"]')
        box = await target.bounding_box()
        await page.drag_and_drop(
            f'.media-tile[data-media-id="{ids[0]}"]',
            f'.media-tile[data-media-id="{ids[2]}"]',
            target_position={"x": box["width"] - 4, "y": box["height"] / 2},
        )
        expected = [ids[1], ids[2], ids[0], ids[3]]
        assert await tile_ids(page) == expected
        await page.wait_for_function(
            "() => /^\\d+$/.test(document.getElementById('media-grid').dataset.orderSaved || '')"
        )
        await page.reload()
        await edit_ready(page)
        assert await tile_ids(page) == expected

        # The keyboard does the same: alt+arrow moves the focused tile.
        await page.focus(f'.media-tile[data-media-id="{ids[3]}"] a')
        await page.keyboard.press("Alt+ArrowLeft")
        expected = [ids[1], ids[2], ids[3], ids[0]]
        assert await tile_ids(page) == expected
        await page.wait_for_function(
            "() => /^\\d+$/.test(document.getElementById('media-grid').dataset.orderSaved || '')"
        )
        await page.reload()
        await edit_ready(page)
        assert await tile_ids(page) == expected

        # Tiles that infinite scroll adds get the same behaviour (the atrium:tiles-added contract).
        wired = await page.evaluate(
            """() => {
                const li = document.querySelector('#media-grid .media-tile').cloneNode(true);
                li.removeAttribute('draggable');
                document.getElementById('media-grid').appendChild(li);
                document.dispatchEvent(new CustomEvent('atrium:tiles-added', {detail: {tiles: [li]}}));
                const wired = li.draggable && li.querySelector('a').draggable === false;
                li.remove();
                return wired;
            }"""
        )
        assert wired

        # Select one and delete it, after confirming.
        await page.click("#album-toolbar button:has-text('Select')")
        await page.click(f'.media-tile[data-media-id="{ids[1]}"] a')
        assert await page.text_content(".selection-count") == "1 selected"
        await shot(page, f"edit-selecting-{name}")
        await page.click(".selection-bar button:has-text('Delete')")
        await page.wait_for_selector("dialog[open]")
        await shot(page, f"edit-confirm-delete-{name}")
        await page.click("dialog button:has-text('Delete')")
        await page.wait_for_selector(f'.media-tile[data-media-id="{ids[1]}"]', state="detached")
        assert await ctx.db.media.find_one({"_id": ids[1]}) is None
        await page.reload()
        await edit_ready(page)
        assert await tile_ids(page) == [ids[2], ids[3], ids[0]]

        # Select all, tag them, and download the selection as a ZIP.
        await page.click("#album-toolbar button:has-text('Select')")
        await page.click(".selection-bar button[aria-label='All']")
        assert await page.text_content(".selection-count") == "3 selected"
        await page.click(".selection-bar button[aria-label='Tag…']")
        await page.fill("dialog input[name=value]", "sea, <i>mist</i>")
        await page.click("dialog button:has-text('Save')")
        await page.wait_for_selector(".toast:has-text('3 items tagged')")
        for mid in (ids[0], ids[2], ids[3]):
            tags = (await ctx.db.media.find_one({"_id": mid}))["tags"]
            assert "sea" in tags and "<i>mist</i>" in tags
        async with page.expect_download() as download_info:
            await page.click(".selection-bar button[aria-label='Download']")
        download = await download_info.value
        archive = await download.path()
        with zipfile.ZipFile(archive) as z:
            assert len([n for n in z.namelist() if not n.endswith("/")]) == 3
        await page.keyboard.press("Escape")
        assert await page.is_hidden(".selection-bar")

        # Edit a caption in place on the media page: Enter saves, it is kept after reload.
        await page.goto(f"{app.base}{gallery['prefix']}/media/{ids[2]}")
        await edit_ready(page)
        await page.click(".media-caption")
        await page.fill(".media-caption textarea", "Fog over the <river> & hills")
        await page.keyboard.press("Enter")
        await page.wait_for_selector(".toast:has-text('Caption saved')")
        assert (await ctx.db.media.find_one({"_id": ids[2]}))[
            "caption"
        ] == "Fog over the <river> & hills"
        # Escape cancels an edit.
        await page.click(".media-title")
        await page.fill(".media-title input", "Not this")
        await page.keyboard.press("Escape")
        assert await page.text_content(".media-title") != "Not this"
        await page.reload()
        await edit_ready(page)
        assert (await page.text_content(".media-caption")).strip() == "Fog over the <river> & hills"
        await shot(page, f"edit-media-{name}")
        await context.close()


async def test_tags_with_suggestions_cover_rotate_move_and_a_zip_upload(
    app, make_gallery, browser_page, shot, make_jpeg, tmp_path
):
    import json

    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    album_id, ids = await seed_album(app, gallery, make_jpeg, count=2)
    api = app.browser()
    await api.login(gallery["prefix"], gallery["username"], gallery["password"])
    tagged = await api.api(
        "PATCH", f"{gallery['prefix']}/api/v1/media/{ids[0]}", json_body={"tags": ["harbour"]}
    )
    assert tagged.code == 200
    root = await ctx.db.albums.find_one({"parent_id": None})
    made = await api.api(
        "POST",
        f"{gallery['prefix']}/api/v1/albums",
        json_body={"parent_id": root["_id"], "title": "Harbour"},
    )
    harbour_id = json.loads(made.body)["album"]["id"]

    context = await browser_page.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await sign_in(page, app, gallery)
    await edit_ready(page)

    # Child albums are reordered the same way (here with the keyboard) and it is kept.
    order = "ts => ts.map(t => t.dataset.albumId)"
    assert await page.eval_on_selector_all("#child-albums .album-tile", order) == [
        album_id,
        harbour_id,
    ]
    await page.focus(f'.album-tile[data-album-id="{album_id}"] a')
    await page.keyboard.press("Alt+ArrowRight")
    await page.wait_for_function(
        "() => /^\\d+$/.test(document.getElementById('child-albums').dataset.orderSaved || '')"
    )
    await page.reload()
    await edit_ready(page)
    assert await page.eval_on_selector_all("#child-albums .album-tile", order) == [
        harbour_id,
        album_id,
    ]

    # A caption hidden by the metadata setting is still edited from what is stored.
    from gallery.settings import defaults, update_settings

    fields = [f for f in defaults()["metadata_fields"] if f != "caption"]
    await ctx.db.media.update_one({"_id": ids[0]}, {"$set": {"caption": "Stored caption"}})
    await update_settings(ctx, {"metadata_fields": fields})
    await page.goto(f"{app.base}{gallery['prefix']}/media/{ids[0]}")
    await edit_ready(page)
    assert (await page.text_content(".media-caption")).strip() == ""
    await page.click(".media-caption")
    assert await page.input_value(".media-caption textarea") == "Stored caption"
    await page.keyboard.press("Escape")
    await page.click(".media-title")
    await page.keyboard.press("Enter")  # unchanged: nothing is written
    assert (await ctx.db.media.find_one({"_id": ids[0]}))["caption"] == "Stored caption"
    await update_settings(ctx, {"metadata_fields": defaults()["metadata_fields"]})

    await page.goto(f"{app.base}{gallery['prefix']}/media/{ids[1]}")
    await edit_ready(page)

    # Tags: suggestions come from the gallery's tags; a hostile tag stays text.
    await page.fill(".media-tags .tag-adder input", "har")
    await page.wait_for_selector('#tag-suggestions option[value="harbour"]', state="attached")
    await page.fill(".media-tags .tag-adder input", "harbour")
    await page.keyboard.press("Enter")
    await page.wait_for_selector('.media-tags li[data-tag="harbour"]')
    await page.fill(".media-tags .tag-adder input", "<b>bold</b>")
    await page.keyboard.press("Enter")
    await page.wait_for_selector('.media-tags li[data-tag="<b>bold</b>"]')
    assert await page.query_selector(".media-tags b") is None
    assert (await ctx.db.media.find_one({"_id": ids[1]}))["tags"] == ["harbour", "<b>bold</b>"]
    await page.click('.media-tags li[data-tag="<b>bold</b>"] .tag-remove')
    await page.wait_for_selector('.media-tags li[data-tag="<b>bold</b>"]', state="detached")
    assert (await ctx.db.media.find_one({"_id": ids[1]}))["tags"] == ["harbour"]

    # Cover and rotation.
    await page.click(".edit-actions button[aria-label='Set as album cover']")
    await page.wait_for_selector(".toast:has-text('cover')")
    assert (await ctx.db.albums.find_one({"_id": album_id}))["cover_id"] == ids[1]
    await page.click(".edit-actions button[aria-label='Rotate right']")
    await page.wait_for_selector(".toast:text-is('Rotated')", timeout=60_000)
    rotated = await ctx.db.media.find_one({"_id": ids[1]})
    assert rotated["state"] == "ready" and rotated["transform"]["rotate"] == 90
    await page.wait_for_function(
        "() => { const i = document.querySelector('.media-image'); return i.complete && i.naturalHeight > i.naturalWidth; }"
    )

    # Move with the album picker: the page reloads in the new album.
    await page.click(".edit-actions button[aria-label='Move or copy…']")
    await page.wait_for_selector("dialog[open] .album-choice")
    assert await page.is_disabled(f"dialog .album-choice input[value='{album_id}']")
    await page.check(f"dialog .album-choice input[value='{harbour_id}']")
    await shot(page, "edit-move-dialog-desktop")
    await page.click("dialog button:has-text('Move here')")
    await page.wait_for_selector(".toast:has-text('Moved')")
    assert await page.get_attribute("#media", "data-album-id") == harbour_id
    assert (await ctx.db.media.find_one({"_id": ids[1]}))["album_id"] == harbour_id

    # A ZIP with a folder is unpacked into an album; refused entries are listed.
    archive = tmp_path / "trip.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(make_jpeg(300, 200, name="a.jpg"), "Day 1/a.jpg")
        z.write(make_jpeg(300, 200, name="b.jpg", color=(0, 0, 200)), "Day 1/b.jpg")
        z.writestr("../escape.jpg", make_jpeg(50, 50, name="c.jpg").read_bytes())
    await page.goto(f"{app.base}{gallery['prefix']}/upload?album={album_id}")
    await page.set_input_files("#pick-files", str(archive))
    item = ".upload-item:has(.upload-name:text-is('trip.zip'))"
    await page.wait_for_selector(f"{item}[data-state=ready]", timeout=90_000)
    assert "2 of 2 processed" in await page.text_content(f"{item} .upload-status")
    assert "escape.jpg" in await page.text_content(f"{item} .upload-details")
    day = await ctx.db.albums.find_one({"parent_id": album_id, "title": "Day 1"})
    assert len(await ctx.db.media.find({"album_id": day["_id"]}).to_list()) == 2
    await page.click(f"{item} details summary")
    await shot(page, "upload-zip-desktop")

    # A large archive is imported by the zip.import job (202): the page follows the job
    # until its result, then the thumbnails. `background=1` takes that path with a small one.
    archive2 = tmp_path / "later.zip"
    with zipfile.ZipFile(archive2, "w") as z:
        z.write(make_jpeg(300, 200, name="d.jpg"), "Day 2/d.jpg")
        z.write(make_jpeg(300, 200, name="e.jpg", color=(0, 120, 0)), "Day 2/e.jpg")
    await page.add_init_script(
        "window.ATRIUM_UPLOAD = Object.assign(window.ATRIUM_UPLOAD || {},"
        " {zipQuery: '?zip=1&background=1'});"
    )
    await page.goto(f"{app.base}{gallery['prefix']}/upload?album={album_id}")
    await page.set_input_files("#pick-files", str(archive2))
    item2 = ".upload-item:has(.upload-name:text-is('later.zip'))"
    await page.wait_for_selector(f"{item2}[data-state=ready]", timeout=90_000)
    assert "2 of 2 processed" in await page.text_content(f"{item2} .upload-status")
    jobs = await app.services.host_db.jobs.find(
        {"tenant": gallery["slug"], "kind": "zip.import"}
    ).to_list()
    # Every import is a job: trip.zip's ran in its request, later.zip's in the background.
    assert sorted((j["payload"]["file_name"], j["state"]) for j in jobs) == [
        ("later.zip", "done"), ("trip.zip", "done")
    ]
    day2 = await ctx.db.albums.find_one({"parent_id": album_id, "title": "Day 2"})
    assert len(await ctx.db.media.find({"album_id": day2["_id"]}).to_list()) == 2
    await context.close()


async def test_an_editor_is_offered_only_what_their_role_allows(
    app, make_gallery, browser_page, make_jpeg
):
    from gallery.people.roles import create_role
    from gallery.people.users import create_user

    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    album_id, ids = await seed_album(app, gallery, make_jpeg, count=2)
    role = await create_role(ctx, "Captioners", ["view", "add_media", "edit_media"], [album_id])
    await create_user(
        ctx, "cara", "cara@alpha.test", "Copper-Kettle-Moon-58", role_ids=[role["_id"]]
    )
    context = await browser_page.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await sign_in(page, app, {**gallery, "username": "cara", "password": "Copper-Kettle-Moon-58"})
    await page.goto(f"{app.base}{gallery['prefix']}/albums/{album_id}")
    await edit_ready(page)
    await page.wait_for_selector("#album[data-perms-loaded]", state="attached")
    assert await page.is_visible("#album-toolbar a:has-text('Upload')")
    assert await page.is_hidden("#album-toolbar button:has-text('New album')")
    assert await page.is_hidden("#album-toolbar button:has-text('Edit album')")
    assert await page.eval_on_selector_all(
        "#media-grid .media-tile", "ts => ts.every(t => !t.draggable)"
    )
    await page.focus(f'.media-tile[data-media-id="{ids[0]}"] a')
    await page.keyboard.press("Alt+ArrowRight")
    assert await tile_ids(page) == ids
    await page.click("#album-toolbar button:has-text('Select')")
    assert await page.is_visible(".selection-bar button[aria-label='Tag…']")
    assert await page.is_hidden(".selection-bar button[aria-label='Delete…']")
    # On the media page: caption and tags yes; cover (edit_album) and delete no.
    await page.goto(f"{app.base}{gallery['prefix']}/media/{ids[0]}")
    await edit_ready(page)
    assert await page.is_visible(".edit-actions button[aria-label='Rotate left']")
    assert await page.query_selector(".edit-actions button[aria-label='Delete']") is None
    assert (
        await page.query_selector(".edit-actions button[aria-label='Set as album cover']") is None
    )
    await page.click(".media-caption")
    await page.fill(".media-caption textarea", "By Cara")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".toast:has-text('Caption saved')")
    assert (await ctx.db.media.find_one({"_id": ids[0]}))["caption"] == "By Cara"
    await context.close()


async def test_album_title_summary_and_privacy_are_edited_in_place(
    app, make_gallery, browser_page, shot, make_jpeg
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    album_id, _ = await seed_album(app, gallery, make_jpeg, count=1)
    context = await browser_page.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await sign_in(page, app, gallery)
    await page.goto(f"{app.base}{gallery['prefix']}/albums/{album_id}")
    await edit_ready(page)
    await page.wait_for_selector("#album[data-perms-loaded]", state="attached")
    await page.click("#album-toolbar button:has-text('Edit album')")
    await page.fill(".edit-dialog input[name=title]", "Harbour at dusk")
    hostile = "<img src=x onerror=alert(1)> Boats & nets"
    await page.fill(".edit-dialog textarea[name=summary]", hostile)
    await shot(page, "edit-album-details-desktop")
    await page.click(".edit-dialog button:has-text('Save')")
    await page.wait_for_selector(".toast:has-text('Album saved')")
    # Shown at once, as text, without a reload; kept on the server.
    assert await page.text_content(".album-heading h1") == "Harbour at dusk"
    assert await page.text_content(".album-heading .summary") == hostile
    assert await page.query_selector(".album-heading img") is None
    saved = await ctx.db.albums.find_one({"_id": album_id})
    assert (saved["title"], saved["summary"]) == ("Harbour at dusk", hostile)
    await page.reload()
    assert await page.text_content(".album-heading h1") == "Harbour at dusk"

    # Privacy: the page reloads with the badge, and a visitor no longer sees the album.
    await edit_ready(page)
    await page.wait_for_selector("#album[data-perms-loaded]", state="attached")
    await page.click("#album-toolbar button:has-text('Edit album')")
    await page.check(".edit-dialog input[name=private]")
    await page.click(".edit-dialog button:has-text('Save')")
    await page.wait_for_selector(".album-meta .private-badge")
    assert (await ctx.db.albums.find_one({"_id": album_id}))["private"] is True
    visitor = app.browser()
    assert (await visitor.get(f"{gallery['prefix']}/albums/{album_id}")).code == 404
    await context.close()
