"""The gallery bench/pages.py measures: a tenant with a big and a small album of ready
image records (thumbnail and original files on disk), dated records enough for the
timeline's --timeline items, and signed-in sessions of the admin and of a member whose
role opens two albums. Built once into a data directory (`--data-dir`) and reused."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from bench.tenants import install_tenant

SLUG = "bench"


def tiny_jpeg(seed: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), ((seed * 37) % 256, (seed * 91) % 256, 120)).save(
        buf, "JPEG", quality=80
    )
    return buf.getvalue()


async def fill_album(ctx, album: dict, count: int) -> list[str]:
    """Insert `count` ready image records (with thumbnail and original files); their ids."""
    from gallery.library.albums import album_dir as album_directory
    from gallery.library.media import media_document
    from media.dates import taken_key

    thumbs = [tiny_jpeg(i) for i in range(16)]
    album_dir = album_directory(ctx, album)
    album_dir.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    batch: list[dict] = []
    for i in range(count):
        name = f"img{i:05d}.jpg"
        data = thumbs[i % len(thumbs)]
        rel_original = str((album_dir / name).relative_to(ctx.storage.path))
        doc = media_document(
            album, file_name=name, kind="image", mime="image/jpeg", extension="jpg",
            original_path=rel_original, size=len(data), title=f"Photo {i}",
            tags=[f"tag{i % 50}"], position=i, state="ready",
        )
        thumb_dir = ctx.storage.derivatives / doc["_id"]
        thumb_dir.mkdir(parents=True, exist_ok=True)
        (thumb_dir / "thumbnail.jpg").write_bytes(data)
        (album_dir / name).write_bytes(data)
        doc.update(width=64, height=48, date_taken=_taken(i), taken_key=taken_key(_taken(i)), derivatives={"thumbnail": {
            "path": f"derivatives/{doc['_id']}/thumbnail.jpg", "width": 64, "height": 48,
            "mime": "image/jpeg", "size": len(data),
        }})
        batch.append(doc)
        ids.append(doc["_id"])
        if len(batch) == 100:
            await _insert(ctx, batch)
            batch = []
    await _insert(ctx, batch)
    return ids


def _taken(i: int):
    """Dates spread over ten years, a few items a day: the timeline's months."""
    from datetime import UTC, datetime, timedelta

    return datetime(2016, 1, 1, tzinfo=UTC) + timedelta(hours=(i * 7919) % (10 * 365 * 24))


async def fill_timeline(ctx, album: dict, count: int, thumb: str) -> None:
    """`count` more dated records for the timeline (issue 17, item 15: 100,000 items), all
    showing one thumbnail file: the timeline's cost is its reads, not the files."""
    from gallery.library.media import media_document
    from media.dates import taken_key

    batch: list[dict] = []
    for i in range(count):
        doc = media_document(
            album, file_name=f"t{i:06d}.jpg", kind="image", mime="image/jpeg", extension="jpg",
            original_path=thumb, size=1, title=f"Moment {i}", position=i, state="ready",
        )
        when = _taken(i + 1_000_000)
        doc.update(width=64, height=48, date_taken=when, taken_key=taken_key(when), derivatives={
            "thumbnail": {"path": thumb, "width": 64, "height": 48, "mime": "image/jpeg", "size": 1}})
        batch.append(doc)
        if len(batch) == 200:
            await _insert(ctx, batch)
            batch = []
    await _insert(ctx, batch)


async def _insert(ctx, docs: list[dict]) -> None:
    # One insert_one per document, a few at a time: nx-27017's insert_many refuses
    # these documents ("JSON path error near '_id'").
    await asyncio.gather(*(ctx.db.media.insert_one(doc) for doc in docs))


async def prepare(data_dir: Path, big: int, small: int, timeline: int = 0) -> dict:
    from tornado.web import create_signed_value

    from gallery.library.albums import create_album, root_album
    from gallery.people.permissions import viewer_for
    from gallery.people.roles import create_role
    from gallery.people.sessions import create_session
    from gallery.people.users import create_user
    from gallery.settings import get_settings
    from handlers.base import SESSION_COOKIE
    from server.config import load_config
    from server.services import build_services

    config = load_config(None, env={}, overrides={"paths.data_dir": str(data_dir)})
    services = await build_services(config, reuse_embedded=False)
    try:
        registry = services.registry
        ctx = await install_tenant(registry, SLUG, "Bench gallery")
        admin = await ctx.db.users.find_one({})
        viewer = await viewer_for(ctx, admin, await get_settings(ctx))
        root = await root_album(ctx)
        albums = {}
        for name, count in (("big", big), ("small", small)):
            album = await create_album(ctx, viewer, root["_id"], {"title": f"{name} album"})
            albums[name] = {"id": album["_id"], "media": await fill_album(ctx, album, count)}
        extra = max(0, timeline - big - small)
        if extra:
            album = await create_album(ctx, viewer, root["_id"], {"title": "timeline album"})
            thumb = f"derivatives/{albums['small']['media'][0]}/thumbnail.jpg"
            await fill_timeline(ctx, album, extra, thumb)
        session = await create_session(ctx, admin, "127.0.0.1", "bench")
        cookie = create_signed_value(ctx.cookie_key, SESSION_COOKIE, session).decode()
        # A member whose role opens two albums (the big and the small: a tenth of the
        # timeline), who pages the timeline album by album.
        role = await create_role(ctx, "Two albums", ["view"], [albums["big"]["id"], albums["small"]["id"]])
        member = await create_user(ctx, "member", "member@bench.test", "Quiet-Lantern-Harbour-42",
                                   role_ids=[role["_id"]])
        member_session = await create_session(ctx, member, "127.0.0.1", "bench")
        member_cookie = create_signed_value(ctx.cookie_key, SESSION_COOKIE, member_session).decode()
        return {"albums": albums, "cookie": f"{SESSION_COOKIE}={cookie}",
                "member_cookie": f"{SESSION_COOKIE}={member_cookie}",
                "timeline_items": big + small + extra,
                "derivatives": str(ctx.storage.derivatives)}
    finally:
        await services.close()
