"""The one place that builds URLs inside a tenant, for both routing modes.

Host mode: the tenant owns the whole host (`photos.example.com/albums/1`).
Prefix mode: the tenant lives under `/g/<slug>/` of the base domain.
Templates, redirects and e-mails all call this; nothing hard-codes a path. It lives in
gallery/ (not tenants/) because gallery.notices.mail builds absolute links from jobs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlencode, urlsplit

# Visible ASCII: no controls, no spaces, nothing a header could not carry as is.
_PRINTABLE = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class TenantUrls:
    prefix: str  # "" in host mode, "/g/<slug>" in prefix mode
    origin: str  # "https://photos.example.com" - for absolute links (e-mail)

    def __call__(self, path: str = "/", **query) -> str:
        if not path.startswith("/"):
            path = "/" + path
        url = self.prefix + path
        query = {k: v for k, v in query.items() if v is not None}
        if query:
            url += "?" + urlencode(query, doseq=True)
        return url

    def absolute(self, path: str = "/", **query) -> str:
        return self.origin + self(path, **query)

    def is_local(self, url: str) -> bool:
        """True for a same-tenant path: only these are followed after login (`next=`).

        Browsers read a Location leniently: they drop tabs and newlines (`/\t/evil.example`
        becomes `//evil.example`, another host), take `\\` for `/`, and resolve `..`. So a
        path qualifies only if it is printable ASCII without spaces or backslashes (what a
        browser sends; also what a header may carry), has no scheme or host, does not start
        with `//`, has no dot segments, all of it also once percent-decoded, and lies under
        the tenant's prefix."""
        if not url or len(url) > 2000:
            return False
        # Checked as sent and once decoded, should anything downstream decode it again.
        for form in (url, unquote(url)):
            if not _PRINTABLE.fullmatch(form) or "\\" in form:
                return False
            if not form.startswith("/") or form.startswith("//"):
                return False
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            return False
        if any(unquote(segment) in (".", "..") for segment in parts.path.split("/")):
            return False
        return url == self.prefix or url.startswith(self.prefix + "/") if self.prefix else True

    def local_or_home(self, url: str) -> str:
        """`url` if it is a local path (is_local), else the gallery's home."""
        return url if self.is_local(url) else self("/")


def public_origin(server) -> str:
    """`server.public_url`, or the origin derived from the listening host and port."""
    if server.public_url:
        return server.public_url.rstrip("/")
    host = server.host
    host = "localhost" if host in ("", "0.0.0.0", "127.0.0.1", "::") else host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{server.port}"


def canonical_urls(tenant: dict, base_domain: str, public_url: str, prefix_routing: bool) -> TenantUrls:
    """URLs for work done outside a request (e-mail from jobs, CLI output)."""
    slug = tenant["_id"]
    hostnames = tenant.get("hostnames") or []
    scheme = public_url.split("://", 1)[0] if "://" in public_url else "http"
    if hostnames:
        return TenantUrls(prefix="", origin=f"{scheme}://{hostnames[0]}")
    if prefix_routing:
        return TenantUrls(prefix=f"/g/{slug}", origin=public_url.rstrip("/"))
    return TenantUrls(prefix="", origin=f"{scheme}://{slug}.{base_domain}{_port(public_url)}")


def _port(origin: str) -> str:
    """":<port>" of an origin that names one, else ""."""
    netloc = origin.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = netloc.rpartition(":")
    return f":{port}" if host and port.isdigit() and not netloc.endswith("]") else ""


def mail_urls(tenant: dict, server, *, prefix: str, hostname: str | None, scheme: str) -> TenantUrls:
    """URLs for links that leave the request (e-mail), from a trusted origin only.

    The request's Host header is the client's to choose: `Host: 203.0.113.7` reaches a
    tenant in prefix mode, and any port can follow a real name. So the origin is never
    taken from it. Prefix mode links go to `server.public_url` (or the origin derived
    from host/port); host mode links keep the request's hostname only when it is one
    the tenant is configured for (`<slug>.<base_domain>` or one of its own hostnames),
    with the scheme and port of the public URL, else the tenant's canonical origin.
    `scheme` (http/https, all Tornado accepts) is used only without a public URL.
    """
    public = public_origin(server)
    if server.public_url:
        scheme = public.split("://", 1)[0]
    if prefix:
        return TenantUrls(prefix=prefix, origin=public)
    name = (hostname or "").lower().rstrip(".")
    if name and name in {h.lower() for h in tenant.get("hostnames") or []}:
        return TenantUrls(prefix="", origin=f"{scheme}://{name}")
    if name and name == f"{tenant['_id']}.{server.base_domain}".lower():
        return TenantUrls(prefix="", origin=f"{scheme}://{name}{_port(public)}")
    return canonical_urls(tenant, server.base_domain, public, server.path_prefix_routing)
