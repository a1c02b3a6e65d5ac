"""Every template compiles, and the pages no other test opens render."""

from pathlib import Path

import pytest
from tornado.template import Loader

from tests.client import text

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@pytest.mark.parametrize("name", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")))
def test_template_compiles(name):
    Loader(str(TEMPLATES), autoescape="xhtml_escape").load(name)


async def test_host_landing_and_tenant_404_pages_render(app, make_gallery):
    landing = await app.browser().get("/")
    assert landing.code == 200 and "Host console" in text(landing)
    await make_gallery("alpha")
    missing = await app.browser().get("/g/alpha/no/such/page")
    assert missing.code == 404 and "Alpha Gallery" in text(missing) and "Back to the gallery" in text(missing)
