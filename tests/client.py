"""A small HTTP client for tests: a cookie jar that respects paths, and XSRF form posts."""

from __future__ import annotations

import json
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPResponse

_XSRF_RE = re.compile(r'name="_xsrf" value="([^"]+)"')
# Tornado's own words when it refuses a write for its XSRF token (shown on the error page
# or in the JSON error), HTML-escaped or not.
_XSRF_REFUSAL = re.compile(
    r"XSRF cookie does not match|(?:'|&#39;|&#x27;|\\u0027)_xsrf(?:'|&#39;|&#x27;|\\u0027) argument"
)
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


class XsrfRefused(AssertionError):
    """A write was refused for its XSRF token although the test did not expect it: whatever
    the test meant to check was never reached."""


class Browser:
    def __init__(self, base: str, host: str | None = None):
        self.base = base
        self.host = host
        self.cookies: dict[tuple[str, str], str] = {}  # (name, path) -> value
        self.client = AsyncHTTPClient()

    def _cookies_for(self, path: str) -> dict[str, str]:
        pairs = {}
        # Longer paths first, like browsers, so /g/a/ beats / for the same name.
        for (name, cpath), value in sorted(self.cookies.items(), key=lambda kv: -len(kv[0][1])):
            if path.startswith(cpath) or path + "/" == cpath:
                pairs.setdefault(name, value)
        return pairs

    def _cookie_header(self, path: str) -> str:
        return "; ".join(f"{k}={v}" for k, v in self._cookies_for(path).items())

    def _store(self, response: HTTPResponse) -> None:
        for header in response.headers.get_list("Set-Cookie"):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                key = (name, morsel["path"] or "/")
                if morsel["expires"] and "1970" in morsel["expires"] or morsel["max-age"] == "0":
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value

    def xsrf(self, path: str | None = None) -> str | None:
        """The XSRF cookie a browser would send to `path` (XSRF cookies are scoped per
        gallery in prefix mode), or without a path the first one there is."""
        if path is not None:
            return self._cookies_for(path.split("?")[0]).get("_xsrf")
        for (name, _path), value in self.cookies.items():
            if name == "_xsrf":
                return value
        return None

    async def request(self, method: str, path: str, *, body=None, headers=None, form=None,
                      json_body=None, follow=False, expect_xsrf_refusal=False,
                      **kwargs) -> HTTPResponse:
        """One request. A write refused for its XSRF token fails the test unless it says
        `expect_xsrf_refusal=True`, so a refusal never passes for the wrong reason."""
        headers = dict(headers or {})
        if self.host:
            headers["Host"] = self.host
        cookie = self._cookie_header(path.split("?")[0])
        if cookie:
            headers["Cookie"] = cookie
        if form is not None:
            body = urlencode(form, doseq=True)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if json_body is not None:
            body = json.dumps(json_body)
            headers.setdefault("Content-Type", "application/json")
        if method in _WRITES and body is None:
            body = b"" if method != "DELETE" else None
        response = await self.client.fetch(
            self.base + path, method=method, body=body, headers=headers,
            follow_redirects=False, raise_error=False, allow_nonstandard_methods=True, **kwargs,
        )
        self._store(response)
        refused = (
            method in _WRITES and response.code == 403
            and _XSRF_REFUSAL.search((response.body or b"").decode("utf-8", "replace"))
        )
        if refused and not expect_xsrf_refusal:
            raise XsrfRefused(f"{method} {path} was refused for its XSRF token: {text(response)[:300]}")
        if expect_xsrf_refusal and not refused:
            raise AssertionError(
                f"{method} {path} expected an XSRF refusal, got {response.code}: {text(response)[:300]}"
            )
        if follow and response.code in (301, 302, 303) and "Location" in response.headers:
            location = response.headers["Location"]
            return await self.get(location, follow=True)
        return response

    async def get(self, path: str, **kwargs) -> HTTPResponse:
        return await self.request("GET", path, **kwargs)

    async def post_form(self, path: str, form: dict, *, with_xsrf: bool = True, **kwargs) -> HTTPResponse:
        """Post a form the way a browser would: load the page's XSRF cookie first."""
        form = dict(form)
        if with_xsrf:
            if self.xsrf(path) is None:
                await self.get(path.split("?")[0])
            form["_xsrf"] = self.xsrf(path)
        return await self.request("POST", path, form=form, **kwargs)

    async def api(self, method: str, path: str, json_body=None, **kwargs) -> HTTPResponse:
        headers = kwargs.pop("headers", {})
        if method != "GET":
            if self.xsrf(path) is None:
                # A page of the same scope sets its XSRF cookie: the gallery's sign-in page.
                prefix = re.match(r"/g/[^/]+", path)
                await self.get((prefix.group(0) if prefix else "") + "/login")
            headers["X-XSRFToken"] = self.xsrf(path)
        return await self.request(method, path, json_body=json_body, headers=headers, **kwargs)

    async def login(self, prefix: str, username: str, password: str) -> HTTPResponse:
        await self.get(f"{prefix}/login")
        return await self.post_form(f"{prefix}/login", {"login": username, "password": password})


def text(response: HTTPResponse) -> str:
    return (response.body or b"").decode("utf-8", "replace")
