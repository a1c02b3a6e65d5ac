"""A share link shows exactly what it names and nothing else (issue 17, item 5).

Every GET route the gallery has (taken from handlers.ROUTE_MODULES_TENANT, so a route added
later is swept too) is asked, with every album and media id of the gallery and the variants
its pattern names, by a visitor holding one link: an album without its sub-albums, the same
album with them, one media object. Nothing that link does not open may show in any answer
(titles, file names, tags, ZIP entry names carry markers), and no file of it is served at
any size or Range. Anonymous browsing is off, so the link is the only way in.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import re
import zipfile

import pytest

import handlers
from gallery.settings import update_settings
from tests.client import text
from tests.handlers.share_setup import build, make_link, open_link

FILE_ROUTE = re.compile(r"/media/[0-9a-f]{24}/(thumbnail|optimized|web|original)$")
ID_GROUPS = (r"([^/]+)", r"([0-9a-fA-F]{24})", r"([0-9a-f]{24})", r"(\w+)")
QUERY = "?q=quokka&ids={media}&sub=1&size=original"


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def _gets(handler) -> bool:
    import tornado.web

    return handler.get is not tornado.web.RequestHandler.get


def _fill(pattern: str, ids: list[str]) -> list[str]:
    """Concrete paths for a route pattern: id groups take every id, alternatives each value."""
    parts = re.split(r"(\([^()]*\))", pattern)
    choices = []
    for part in parts:
        if part in ID_GROUPS:
            choices.append(ids)
        elif part.startswith("(") and "|" in part:
            choices.append(part[1:-1].split("|"))
        elif part.startswith("(["):
            choices.append(["Xq3v9GdPn2TfLmWcRb7KsYhJ4ZaE1uNo"])  # a token: made up
        else:
            choices.append([part.replace("\\.", ".").replace("/?", "")])
    paths = {"".join(combo) for combo in itertools.product(*choices)}
    return sorted(p for p in paths if re.fullmatch(pattern, p))


def every_get_path(ids: list[str], media_ids: list[str]) -> list[str]:
    out = []
    for module in handlers.ROUTE_MODULES_TENANT:
        for route in module.ROUTES:
            pattern, handler = route[0], route[1]
            if not _gets(handler) or pattern.startswith(("/s/", "/_")):
                continue
            for path in _fill(pattern, ids):
                out.append(path)
                if "(" not in pattern or path.startswith("/download/"):
                    # Searches, listings and ZIPs read their query: ask with the markers' word.
                    out.append(path + QUERY.format(media=",".join(media_ids)))
    return out


async def sweep(visitor, prefix: str, paths: list[str], forbidden: tuple[str, ...], closed: set[str]):
    """Ask every path; no marker of `forbidden` in any answer, no file of `closed` served."""
    leaks = []

    async def ask(path):
        response = await visitor.get(prefix + path, headers={"Range": "bytes=0-"} if "/media/" in path else None)
        body = (response.body or b"").lower()
        for marker in forbidden:
            if marker.encode() in body:
                leaks.append(f"{path} ({response.code}) shows {marker}")
        found = FILE_ROUTE.search(path.split("?")[0])
        if found and path.split("/")[2] in closed and response.code in (200, 206):
            leaks.append(f"{path} served {len(response.body)} bytes")
        return response.code

    codes = []
    for start in range(0, len(paths), 8):
        codes += await asyncio.gather(*(ask(p) for p in paths[start : start + 8]))
    assert not leaks, "\n".join(leaks[:40])
    assert len(codes) == len(paths)


async def test_a_share_link_opens_exactly_what_it_names_on_every_route(app, make_gallery, viewer_of, make_jpeg):
    s = await build(app, make_gallery, viewer_of, make_jpeg)
    g, ctx, made, media = s["g"], s["ctx"], s["albums"], s["media"]
    prefix = g["prefix"]
    await update_settings(ctx, {"allow_anonymous_browsing": False})
    ids = [a["_id"] for a in made.values()] + list(media.values())
    paths = every_get_path(ids, list(media.values()))
    assert any(p.startswith("/albums/") for p in paths) and any("/thumbnail" in p for p in paths)
    assert any(p.startswith("/download/album/") for p in paths)
    everything = {"zetaparent", "zetasibling", "zetachild"}

    # An album alone: its media, not its sub-album, parent or sibling.
    alone = await make_link(s["admin"], prefix, "album", made["shared"]["_id"])
    visitor = await open_link(app, alone["url"], prefix)
    page = await visitor.get(f"{prefix}/albums/{made['shared']['_id']}")
    assert page.code == 200 and "Harbour Walk" in text(page) and "Pelican photo" in text(page)
    home = await visitor.get(f"{prefix}/")
    assert home.code == 200 and "Harbour Walk" in text(home), text(home)[:500]
    thumb = await visitor.get(f"{prefix}/media/{media['pelican']}/thumbnail")
    assert thumb.code == 200 and thumb.body[:2] == b"\xff\xd8"
    part = await visitor.get(f"{prefix}/media/{media['pelican']}/optimized", headers={"Range": "bytes=0-99"})
    assert part.code == 206 and len(part.body) == 100
    assert (await visitor.get(f"{prefix}/media/{media['pelican']}/original")).code in (401, 404)
    zipped = await visitor.get(f"{prefix}/download/album/{made['shared']['_id']}?sub=1")
    assert zipped.code == 200, text(zipped)
    names = zipfile.ZipFile(io.BytesIO(zipped.body)).namelist()
    assert any("pelican" in n for n in names) and not any("zetachild" in n for n in names), names
    # Without the originals switch a ZIP "of originals" holds the web-size copies.
    zipped = await visitor.get(f"{prefix}/download/album/{made['shared']['_id']}?size=original")
    packed = zipfile.ZipFile(io.BytesIO(zipped.body))
    pelican = packed.read(next(n for n in packed.namelist() if "pelican" in n))
    doc = await ctx.db.media.find_one({"_id": media["pelican"]})
    assert pelican == ctx.storage.resolve(doc["derivatives"]["optimized"]["path"]).read_bytes()
    found = await visitor.get(f"{prefix}/api/v1/search?q=quokka")
    assert found.code == 200 and "pelican" in text(found).lower()
    # A link gives views, never changes: every write is refused, and nothing changed.
    shared_id = made["shared"]["_id"]
    for method, path, body in (
        ("PATCH", f"/api/v1/albums/{shared_id}", {"title": "Renamed"}),
        ("DELETE", f"/api/v1/media/{media['pelican']}", None),
        ("POST", f"/api/v1/albums/{shared_id}", {"title": "New"}),
        ("POST", "/api/v1/albums", {"parent_id": shared_id, "title": "New"}),
        ("POST", f"/api/v1/media/{media['pelican']}/rotate", {"direction": "left"}),
        ("POST", "/shares", {"kind": "album", "target_id": shared_id}),
    ):
        refused = await visitor.api(method, prefix + path, json_body=body)
        assert refused.code in (401, 403, 405), (method, path, refused.code, text(refused))
    assert (await ctx.db.albums.find_one({"_id": shared_id}))["title"] == "Harbour Walk"
    assert await ctx.db.media.find_one({"_id": media["pelican"]}) is not None
    closed = {media[k] for k in everything}
    await sweep(visitor, prefix, paths, tuple(everything), closed)

    # The same album with its sub-albums: the child too, never the parent or the sibling.
    tree = await make_link(s["admin"], prefix, "album", made["shared"]["_id"], subalbums=True)
    visitor = await open_link(app, tree["url"], prefix)
    child = await visitor.get(f"{prefix}/albums/{made['child']['_id']}")
    assert child.code == 200 and "Zetachild Album" in text(child)
    await sweep(visitor, prefix, paths, ("zetaparent", "zetasibling"),
                {media["zetaparent"], media["zetasibling"]})

    # One media object: not its album, not its neighbour in the album.
    single = await make_link(s["admin"], prefix, "media", media["pelican"])
    visitor = await open_link(app, single["url"], prefix)
    shown = await visitor.get(f"{prefix}/media/{media['pelican']}")
    assert shown.code == 200 and "Pelican photo" in text(shown)
    assert 'rel="next"' not in text(shown) and 'rel="prev"' not in text(shown)
    assert (await visitor.get(f"{prefix}/albums/{made['shared']['_id']}")).code == 404
    await sweep(visitor, prefix, paths, (*everything, "harbour", "lighthouse"),
                closed | {media["lighthouse"]})
