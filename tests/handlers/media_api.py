"""Upload a file through the API and wait for its processing to settle (shared by tests)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

from tests.client import text


async def upload_file(b, prefix: str, album_id: str, data: bytes, name: str) -> str:
    """POST the bytes as one upload; returns the new media id."""
    response = await b.api(
        "POST",
        f"{prefix}/api/v1/albums/{album_id}/upload",
        body=data,
        headers={"X-File-Name": quote(name)},
    )
    assert response.code == 201, text(response)
    return json.loads(response.body)["_id"]


async def settled(b, prefix: str, media_id: str, timeout: float = 90) -> dict:
    """The media object as the API shows it once it is ready or failed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        shown = json.loads((await b.get(f"{prefix}/api/v1/media/{media_id}")).body)["media"]
        if shown["state"] in ("ready", "failed"):
            return shown
        await asyncio.sleep(0.05)
    raise AssertionError(f"media {media_id} still {shown['state']}")


async def processed(ctx, media_id: str, timeout: float = 90) -> dict:
    """The stored media document once its processing is no longer pending."""
    async with asyncio.timeout(timeout):
        while True:
            media = await ctx.db.media.find_one({"_id": media_id})
            if media["state"] != "pending":
                return media
            await asyncio.sleep(0.05)
