"""Page 1 of Office/OpenDocument files through LibreOffice, where the host has it (the
service never requires it: without `soffice` the files get an icon). `./atrium test`
installs it, so these tests fail, not skip, where it is missing.

A document converted on the server must not make the server fetch what it links to:
LibreOffice 7.4 with a default profile fetches a linked image's URL while converting (SSRF),
which the profile Atrium writes for each conversion blocks (media/office.py)."""

from __future__ import annotations

import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from media.office import office_available, render_office_first_page
from tests.media.filetype_samples import make_office


@pytest.fixture(autouse=True)
def libreoffice(request):
    if "without_libreoffice" not in request.fixturenames:
        assert office_available(), "LibreOffice is not installed (`./atrium test` installs it)"


@pytest.fixture
def without_libreoffice(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no soffice, no libreoffice


async def test_without_libreoffice_there_is_no_page_and_no_error(without_libreoffice, tmp_path):
    src = tmp_path / "letter.docx"
    src.write_bytes(make_office("docx"))
    assert office_available() is None
    assert await render_office_first_page(src, tmp_path / "page.jpg") is None
    assert not list(tmp_path.glob("page*"))

_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
)


def _odf(kind: str, body: str) -> bytes:
    mimetype = f"application/vnd.oasis.opendocument.{kind}"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
        zf.writestr(
            "content.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS} '
            f'office:version="1.2"><office:body>{body}</office:body></office:document-content>',
        )
    return out.getvalue()


@pytest.fixture(scope="module")
def listener():
    """A local web server that records every request a conversion makes."""
    hits: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


async def test_page_one_of_a_word_file_is_drawn_by_libreoffice(tmp_path):
    src = tmp_path / "letter.docx"
    src.write_bytes(make_office("docx"))
    page = await render_office_first_page(src, tmp_path / "page.jpg", max_dimension=800)
    assert page.source == "pdf_page" and max(page.width, page.height) <= 800
    with Image.open(page.path) as im:
        assert im.format == "JPEG" and im.convert("L").getextrema()[0] < 100  # there is text
    assert not list(tmp_path.glob("*.part*"))


@pytest.mark.parametrize(
    "name, kind, body",
    [
        ("linked.odt", "text",
         ('<office:text><text:p>A linked picture<draw:frame svg:width="2cm" svg:height="2cm" '
         'text:anchor-type="as-char"><draw:image xlink:href="{url}/picture.png" xlink:type="simple" '
         'xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p>'
         '<text:section text:name="S"><text:section-source xlink:href="{url}/section.txt" '
         'xlink:type="simple"/></text:section></office:text>')),
        ("webservice.ods", "spreadsheet",
         ('<office:spreadsheet><table:table table:name="T"><table:table-row>'
         '<table:table-cell table:formula="of:=WEBSERVICE(&quot;{url}/cell&quot;)" '
         'office:value-type="string"><text:p>cached</text:p></table:table-cell>'
         "</table:table-row></table:table></office:spreadsheet>")),
    ],
)
async def test_converting_a_document_never_fetches_what_it_links_to(listener, tmp_path, name, kind, body):
    url, hits = listener
    hits.clear()
    src = tmp_path / name
    src.write_bytes(_odf(kind, body.format(url=url)))
    page = await render_office_first_page(src, tmp_path / "page.jpg")
    assert page.source == "pdf_page"  # converted, with the link left alone
    assert hits == []
