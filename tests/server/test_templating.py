"""Pages render without leaving reference cycles, so a request's objects are freed the
moment it ends instead of waiting for the cyclic collector (whose full collections were
most of the service's tail latency)."""

from __future__ import annotations

import gc
import weakref

import tornado.web

from server.templating import Template


class _Marker:
    pass


def test_a_rendered_template_keeps_nothing_alive():
    marker = _Marker()
    seen = weakref.ref(marker)
    template = Template("{% for i in range(2) %}{{ thing.__class__.__name__ }}{% end %}", name="t.html")
    gc.disable()
    try:
        assert template.generate(thing=marker) == b"_Marker_Marker"
        del marker
        assert seen() is None, "the template's namespace still holds what it was given"
    finally:
        gc.enable()


def _live_handlers() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, tornado.web.RequestHandler))


async def test_gallery_pages_leave_no_handler_behind(app, make_gallery):
    gallery = await make_gallery("cycles")
    visitor = app.browser()
    pages = [f"{gallery['prefix']}/", f"{gallery['prefix']}/search?q=x", f"{gallery['prefix']}/login"]
    for path in pages:  # warm: first renders compile templates and fill caches
        assert (await visitor.get(path)).code == 200
    gc.collect()
    before = _live_handlers()
    gc.disable()
    try:
        for _ in range(5):
            for path in pages:
                assert (await visitor.get(path)).code == 200
        # Without the cyclic collector, a handler caught in a cycle would still be here.
        assert _live_handlers() == before
    finally:
        gc.enable()
