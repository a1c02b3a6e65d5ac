"""A data directory made by release 37975f0 (tests/fixtures/old-release/, built by
tests/fixtures/build_old_gallery.py with that release's code) runs under this release:
the real service starts on a copy of it, the gallery is migrated on its first request,
and pages, API, permissions, search and media bytes are as the old release left them."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

import pytest

from gallery import schema
from tests.client import text
from tests.service_process import ServiceProcess

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
EXPECTED = json.loads((FIXTURES / "old_release.json").read_text())


@pytest.fixture
async def old_service(make_config, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "old-release", data)
    config = make_config(**{
        "paths.data_dir": str(data), "database.uri": "", "database.prefix": "atrium_",
        "security.host_secret": (data / "host-secret").read_text().strip(),
    })
    service = ServiceProcess(config)
    await service.start()
    yield service, data
    await service.stop()


async def test_an_old_release_gallery_upgrades_in_place_and_keeps_everything(old_service):
    service, data = old_service
    media, albums = EXPECTED["media"], EXPECTED["albums"]
    visitor = service.browser()

    home = await visitor.get("/g/old/")
    assert home.code == 200, text(home)
    page = text(home)
    assert "Old Release Gallery (renamed)" in page and "Travel" in page
    assert "Family" not in page  # private album: not for visitors

    travel = text(await visitor.get(f"/g/old/albums/{albums['Travel']}"))
    assert "Harbour at dusk" in travel and "Paris" in travel
    assert (await visitor.get(f"/g/old/albums/{albums['Family']}")).code == 404

    found = text(await visitor.get("/g/old/search?q=harbour"))
    assert "Harbour at dusk" in found and "Picnic" not in found

    # The migrated document: `taken` from the old metadata text, shown by the API.
    harbour = json.loads((await visitor.get(f"/g/old/api/v1/media/{media['harbour.jpg']['_id']}")).body)
    harbour = harbour.get("media", harbour)
    assert harbour["taken"] == {"local": "2019-07-14T18:30:00", "offset": "+02:00"}
    assert harbour["title"] == "Harbour at dusk"

    # Bytes as stored by the old release.
    for name in ("harbour.jpg", "tower.jpg", "diagram.png"):
        m = media[name]
        thumb = await visitor.get(f"/g/old/media/{m['_id']}/thumbnail")
        assert thumb.code == 200 and thumb.body == (data / "tenants/old" / m["thumbnail"]).read_bytes()
        # (A visitor may view these originals: the old release's built-in roles say so.)
        original = await visitor.get(f"/g/old/media/{m['_id']}/original")
        assert original.code == 200 and original.body == (data / "tenants/old" / m["original"]).read_bytes()
    picnic_file = await visitor.get(f"/g/old/media/{media['picnic.jpg']['_id']}/thumbnail")
    assert picnic_file.code in (403, 404)  # inside the private album
    editor = service.browser()
    assert (await editor.login("/g/old", "editor", EXPECTED["password"])).code in (200, 302)
    original = await editor.get(f"/g/old/media/{media['tower.jpg']['_id']}/original")
    assert original.code == 200
    assert original.body == (data / "tenants/old" / media["tower.jpg"]["original"]).read_bytes()
    assert (await editor.get(f"/g/old/albums/{albums['Family']}")).code == 404

    friend = service.browser()
    assert (await friend.login("/g/old", "friend", EXPECTED["password"])).code in (200, 302)
    family = await friend.get(f"/g/old/albums/{albums['Family']}")
    assert family.code == 200 and "Picnic" in text(family)
    picnic = json.loads((await friend.get(f"/g/old/api/v1/media/{media['picnic.jpg']['_id']}")).body)
    assert picnic.get("media", picnic)["taken"] == {"local": "2020-08-02T13:45:00", "offset": None}

    admin = service.browser()
    assert (await admin.login("/g/old", "admin", EXPECTED["password"])).code in (200, 302)
    roles = text(await admin.get("/g/old/admin/roles"))
    assert "Editors" in roles and "Family" in roles
    assert any(f"migrated to schema version {schema.SCHEMA_VERSION}" in line for line in service.lines)

    # `tenant show` (attached to the service's database) reports it current.
    show = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--data-dir", str(data), "tenant", "show", "old", "--json",
        cwd=ROOT, env=service.env(None), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await show.communicate()
    assert show.returncode == 0, err
    assert json.loads(out)["schema"] == {"version": schema.SCHEMA_VERSION, "latest": schema.SCHEMA_VERSION,
                                         "behind": False, "state": "current"}
