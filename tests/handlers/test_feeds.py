"""Atom feeds and embeds (issue 17, item 6), and every address they and share links hand
out built from the trusted origin, whatever Host header the request carried."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import pytest
from lxml import etree

from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing
from tests.client import text
from tests.handlers.media_api import processed
from tests.handlers.share_setup import SHARE_PASSWORD, build, make_link, token_of

PUBLIC = "https://gallery.example.org"
HOSTILE = "203.0.113.7"
A = "{http://www.w3.org/2005/Atom}"

# RFC 4287's structure for what Atrium writes: a feed with id, title, updated, author, links
# and entries, each entry with id, title, updated, published, a link and content or summary.
ATOM_RNG = b"""<grammar xmlns="http://relaxng.org/ns/structure/1.0" ns="http://www.w3.org/2005/Atom"
  datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
  <start><element name="feed"><interleave>
    <element name="id"><data type="anyURI"/></element>
    <element name="title"><text/></element>
    <element name="updated"><ref name="date"/></element>
    <element name="author"><element name="name"><text/></element></element>
    <oneOrMore><ref name="link"/></oneOrMore>
    <element name="generator"><text/></element>
    <zeroOrMore><element name="entry"><interleave>
      <element name="id"><data type="anyURI"/></element>
      <element name="title"><text/></element>
      <element name="updated"><ref name="date"/></element>
      <element name="published"><ref name="date"/></element>
      <ref name="link"/>
      <optional><choice>
        <element name="content"><attribute name="type"><value>html</value></attribute><text/></element>
        <element name="summary"><text/></element>
      </choice></optional>
    </interleave></element></zeroOrMore>
  </interleave></element></start>
  <define name="link"><element name="link">
    <attribute name="rel"/><attribute name="type"/><attribute name="href"><data type="anyURI"/></attribute>
  </element></define>
  <define name="date"><data type="dateTime"><param name="pattern">.*Z</param></data></define>
</grammar>"""


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1, "server.public_url": PUBLIC})


@pytest.fixture
async def gallery(app, make_gallery, viewer_of, make_jpeg):
    s = await build(app, make_gallery, viewer_of, make_jpeg, process={"lighthouse"})
    ctx = s["ctx"]
    root = s["albums"]["root"]
    s["open"] = await albums.create_album(ctx, await viewer_of(ctx), root["_id"], {"title": "Open <Shore> & Co"})
    path = make_jpeg(900, 600, name="gull.jpg")
    doc = await add_media_file(ctx, s["open"], path, path.name, title="Gull <b>photo</b>", caption="Cliffs & sky")
    await enqueue_processing(ctx, app.services.jobs.queue, doc["_id"])
    assert (await processed(ctx, doc["_id"]))["state"] == "ready"
    s["gull"] = doc["_id"]
    return s


def _atom(response) -> etree._Element:
    assert response.code == 200, text(response)
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = etree.fromstring(response.body)
    schema = etree.RelaxNG(etree.fromstring(ATOM_RNG))
    assert schema.validate(root), schema.error_log
    return root


def _addresses(body: bytes) -> list[str]:
    found = re.findall(r"https?://[^\s\"'<>]+", html.unescape(body.decode()))
    return [u for u in found if u != "http://www.w3.org/2005/Atom"]


async def test_an_album_feed_is_atom_of_what_anyone_may_see(app, gallery):
    prefix, made = gallery["g"]["prefix"], gallery["albums"]
    anonymous = app.browser(host=HOSTILE)  # prefix mode reached through a bare address
    feed_path = f"{prefix}/albums/{gallery['open']['_id']}/feed.atom"
    feed = _atom(await anonymous.get(feed_path))
    assert feed.findtext(f"{A}title") == "Open <Shore> & Co"
    entries = feed.findall(f"{A}entry")
    assert [e.findtext(f"{A}title") for e in entries] == ["Gull <b>photo</b>"]
    link = entries[0].find(f"{A}link").get("href")
    assert link == f"{PUBLIC}{prefix}/media/{gallery['gull']}"
    content = entries[0].findtext(f"{A}content")
    assert f'src="{PUBLIC}{prefix}/media/{gallery["gull"]}/thumbnail"' in content and "<b>" not in content
    body = (await anonymous.get(feed_path)).body
    assert all(u.startswith(PUBLIC + "/") for u in _addresses(body)), _addresses(body)
    assert HOSTILE.encode() not in body
    # The album page names its feed; a private album has none, for anyone.
    page = text(await anonymous.get(f"{prefix}/albums/{gallery['open']['_id']}"))
    assert f'<link rel="alternate" type="application/atom+xml" title="Open &lt;Shore&gt; &amp; Co" href="{feed_path}">' in page
    admin = gallery["admin"]
    assert "application/atom+xml" not in text(await admin.get(f"{prefix}/albums/{made['shared']['_id']}"))
    # A private album's feed is not there, even for a signed-in administrator's cookies.
    assert (await anonymous.get(f"{prefix}/albums/{made['shared']['_id']}/feed.atom")).code == 404
    assert (await admin.get(f"{prefix}/albums/{made['shared']['_id']}/feed.atom")).code == 404


async def test_a_share_links_feed_shows_what_it_opens_through_the_link(app, gallery):
    prefix, made = gallery["g"]["prefix"], gallery["albums"]
    hostile_admin = app.browser(host=HOSTILE)
    hostile_admin.cookies = dict(gallery["admin"].cookies)
    link = await make_link(hostile_admin, prefix, "album", made["shared"]["_id"])
    assert link["url"].startswith(f"{PUBLIC}{prefix}/s/"), link
    assert link["feed_url"].startswith(f"{PUBLIC}{prefix}/albums/{made['shared']['_id']}/feed.atom?share="), link
    token = token_of(link["url"])
    reader = app.browser()  # a feed reader: no cookie at all
    feed_path = link["feed_url"][len(PUBLIC):]
    feed = _atom(await reader.get(feed_path))
    titles = [e.findtext(f"{A}title") for e in feed.findall(f"{A}entry")]
    assert titles == ["Lighthouse photo"]  # the processed one; nothing of the child album
    href = feed.find(f"{A}entry/{A}link").get("href")
    assert href.startswith(f"{PUBLIC}{prefix}/s/{token}?next=")
    assert feed.find(f"{A}entry/{A}content") is None  # no pictures a reader could not load
    # Following an entry opens the link, then the item.
    opened = await reader.get(href[len(PUBLIC):])
    assert opened.code == 302 and unquote(href.split("next=")[1]) == opened.headers["Location"]
    assert (await reader.get(opened.headers["Location"])).code == 200
    # Only inside this gallery.
    away = await app.browser().get(f"{prefix}/s/{token}?next=//evil.example/x")
    assert away.headers["Location"] == f"{prefix}/albums/{made['shared']['_id']}"
    # The token opens only what it names.
    for other in ("parent", "sibling", "child"):
        assert (await reader.get(f"{prefix}/albums/{made[other]['_id']}/feed.atom?share={token}")).code == 404
    assert (await reader.get(f"{prefix}/albums/{made['shared']['_id']}/feed.atom?share={'B' * 43}")).code == 404
    # A link with a password offers no feed: its token alone would skip the password.
    locked = await make_link(gallery["admin"], prefix, "album", made["shared"]["_id"], password=SHARE_PASSWORD)
    assert "feed_url" not in locked
    refused = await reader.get(f"{prefix}/albums/{made['shared']['_id']}/feed.atom?share={token_of(locked['url'])}")
    assert refused.code == 403
    # A withdrawn link's feed is gone.
    await gallery["admin"].post_form(f"{prefix}/shares/{link['id']}/revoke", {})
    assert (await reader.get(feed_path)).code == 410


async def test_the_embed_route_alone_may_be_framed_and_honours_permissions(app, gallery):
    prefix, media = gallery["g"]["prefix"], gallery["media"]
    visitor = app.browser(host=HOSTILE)
    page = await visitor.get(f"{prefix}/media/{gallery['gull']}")
    assert page.code == 200 and page.headers["X-Frame-Options"] == "SAMEORIGIN"
    snippets = re.findall(r'value="(&lt;iframe[^"]+)"', text(page))
    assert len(snippets) == 1, text(page)[-2000:]
    snippet = html.unescape(snippets[0])
    assert snippet.startswith(f'<iframe src="{PUBLIC}{prefix}/embed/{gallery["gull"]}"'), snippet
    assert HOSTILE not in snippet and "Gull &lt;b&gt;photo&lt;/b&gt;" in snippet
    embed = await visitor.get(f"{prefix}/embed/{gallery['gull']}")
    assert embed.code == 200
    assert "X-Frame-Options" not in embed.headers
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "script" not in text(embed).lower()
    assert f'src="{prefix}/media/{gallery["gull"]}/optimized"' in text(embed)
    assert f'href="{PUBLIC}{prefix}/media/{gallery["gull"]}"' in text(embed)
    # A private item: no embed, no box on its page, for anyone who cannot see it anyway.
    private = await visitor.get(f"{prefix}/embed/{media['pelican']}")
    assert private.code == 404 and "Pelican" not in text(private)
    admin_page = text(await gallery["admin"].get(f"{prefix}/media/{media['pelican']}"))
    assert "Embed on another site" not in admin_page and "Pelican photo" in admin_page
    shares_page = await gallery["admin"].get(f"{prefix}/shares")
    assert shares_page.headers["X-Frame-Options"] == "SAMEORIGIN"


async def test_host_mode_links_keep_the_gallerys_name_but_never_the_clients_port(app, make_gallery):
    from gallery.library.albums import root_album

    beta = await make_gallery("beta", hostnames=["photos.beta.test"])
    admin = app.browser(host="photos.beta.test:6666")
    assert (await admin.login("", "admin", beta["password"])).code == 302
    link = await make_link(admin, "", "album", (await root_album(beta["ctx"]))["_id"])
    assert link["url"].startswith("https://photos.beta.test/s/"), link
    assert link["feed_url"].startswith("https://photos.beta.test/albums/"), link
