"""The OpenAPI document and the API's behaviour cannot drift apart: schemathesis runs every
check it has (`--checks all`) over every operation of /api/v1/openapi.json against the
live service, signed in as the gallery's administrator, with a bounded number of examples.
Path ids are the gallery's real root album, an uploaded media object and the administrator
(openapi/schemathesis.toml), so requests reach the handlers' logic, not only their 404s."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.client import text
from tests.handlers.test_uploads import jpeg_bytes, signed_in, upload
from tests.waiting import until

ST = Path(sys.executable).with_name("st")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXAMPLES = 3
SEED = 20261201


@pytest.fixture
def config(make_config):
    # A job worker: the uploaded photo gets processed, so the album's event stream (which
    # stays open while anything in the album is pending) ends at once instead of each of
    # schemathesis' requests to it waiting out its 10 s timeout (100 of the test's 120 s).
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


# ~2,300 requests, ~40 s of CPU (service and schemathesis): about that long on an idle
# machine, longer with the 2 cores shared by other processes.
@pytest.mark.timeout(300)
async def test_the_api_behaves_as_its_openapi_document_says(app, make_gallery, tmp_path):
    gallery, browser, root = await signed_in(app, make_gallery)
    uploaded = await upload(browser, gallery, root["_id"], jpeg_bytes(), "harbour.jpg")
    assert uploaded.code == 201, text(uploaded)
    media_id = json.loads(uploaded.body)["_id"]

    async def processed():
        media = await gallery["ctx"].db.media.find_one({"_id": media_id})
        return media["state"] != "pending"

    await until(processed, 60)
    admin = await gallery["ctx"].db.users.find_one({"username": gallery["username"]})
    ids = {
        "ST_ALBUM": root["_id"],
        "ST_MEDIA": json.loads(uploaded.body)["_id"],
        "ST_USER": admin["_id"],
    }
    prefix = gallery["prefix"]
    cookies = browser._cookie_header(f"{prefix}/api/v1/")
    process = await asyncio.create_subprocess_exec(
        str(ST),
        "--config-file",
        str(HERE / "openapi" / "schemathesis.toml"),
        "run",
        f"{app.base}{prefix}/api/v1/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--no-shrink",
        "--request-timeout",
        "10",
        "-H",
        f"Cookie: {cookies}",
        "-H",
        f"X-XSRFToken: {browser.xsrf(prefix + '/')}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        # Run from tmp_path: schemathesis keeps its replay data in ./.schemathesis/.
        env={
            **os.environ,
            **ids,
            "SCHEMATHESIS_HOOKS": "tests.handlers.openapi.hooks",
            "PYTHONPATH": str(ROOT),
        },
        cwd=tmp_path,
    )
    output, _ = await process.communicate()
    print(output.decode(errors="replace")[-20000:])
    assert process.returncode == 0, output.decode(errors="replace")[-6000:]


async def test_trace_and_other_unsupported_methods_get_405_with_allow(app, make_gallery):
    gallery = await make_gallery("alpha")
    browser = app.browser()
    for path, allowed in (
        (f"{gallery['prefix']}/api/v1/albums", "GET, POST"),
        (f"{gallery['prefix']}/api/v1/media/recent", "GET"),
        (f"{gallery['prefix']}/login", "GET, POST"),
        ("/_host/login", "GET, POST"),
        ("/_health", "GET"),
    ):
        for method in ("TRACE", "CONNECT", "PROPFIND", "PUT"):
            response = await browser.request(method, path, body=b"" if method == "PUT" else None)
            assert response.code == 405, (method, path, response.code)
            assert response.headers["Allow"] == allowed, (method, path)
