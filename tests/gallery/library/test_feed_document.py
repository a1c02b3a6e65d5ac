"""gallery.library.feeds.album_feed writes well-formed, valid Atom whatever the titles and
captions hold: markup, CDATA ends, characters XML 1.0 refuses."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from gallery.library.feeds import album_feed
from tests.handlers.test_feeds import ATOM_RNG, A

HOSTILE = "<script>alert(1)</script> ]]> &amp; \x01\x08\x0b\x1f\ufffe end"


def test_hostile_titles_and_captions_make_valid_atom():
    items = [
        {"_id": "a" * 24, "title": HOSTILE, "caption": HOSTILE, "date_added": datetime(2026, 1, 2),
         "derivatives": {"thumbnail": {"path": "x"}}},
        {"_id": "b" * 24, "file_name": "plain.jpg", "caption": "",
         "date_added": datetime(2026, 1, 3, tzinfo=UTC), "updated": None},
    ]
    body = album_feed(
        feed_id="https://g.example/albums/1", title=HOSTILE, author="\x00Gallery",
        self_url="https://g.example/albums/1/feed.atom", page_url="https://g.example/albums/1",
        items=items, entry_id=lambda m: f"https://g.example/media/{m['_id']}",
        entry_url=lambda m: f"https://g.example/media/{m['_id']}",
        image_url=lambda m: f"https://g.example/media/{m['_id']}/thumbnail",
    )
    root = etree.fromstring(body)
    schema = etree.RelaxNG(etree.fromstring(ATOM_RNG))
    assert schema.validate(root), schema.error_log
    assert root.findtext(f"{A}title") == "<script>alert(1)</script> ]]> &amp;  end"
    assert root.findtext(f"{A}updated") == "2026-01-03T00:00:00Z"  # the newest entry
    first, second = root.findall(f"{A}entry")
    # The html content is markup lxml built: the caption is text in it, the script is not a tag.
    content = etree.fromstring(first.findtext(f"{A}content"), etree.HTMLParser())
    assert content.find(".//script") is None
    assert "<script>alert(1)</script>" in "".join(content.xpath("//text()"))
    assert second.findtext(f"{A}title") == "plain.jpg" and second.find(f"{A}content") is None
