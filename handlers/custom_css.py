"""A gallery's custom CSS (the `custom_css` setting), served as its own stylesheet.

GET /custom.css?v=<version>: the admin's rules as `text/css`, linked from every page's
head after Atrium's own stylesheet, never written into a page (so nothing in it can end a
<style> element and start markup or script). The link carries the rules' hash, so the
response may be cached for long; any other `v` (an old link) is revalidated.
"""

from __future__ import annotations

import hashlib

import tornado.web

from handlers.base import TenantHandler


def css_version(settings: dict) -> str | None:
    """The hash the page's link carries, or None when the gallery has no custom CSS."""
    css = settings.get("custom_css") or ""
    return hashlib.sha256(css.encode()).hexdigest()[:16] if css.strip() else None


class CustomCssHandler(TenantHandler):
    async def get(self) -> None:
        version = css_version(self.settings_values)
        if version is None:
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", "text/css; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        # Opened on its own it is an inert document: no script, no plugins, nothing framed.
        self.set_header("Content-Security-Policy", "default-src 'none'; sandbox")
        if self.get_query_argument("v", "") == version:
            self.set_header("Cache-Control", "public, max-age=31536000, immutable")
        else:
            self.set_header("Cache-Control", "no-cache")
        self.finish(self.settings_values["custom_css"])


ROUTES = [(r"/custom\.css", CustomCssHandler)]
