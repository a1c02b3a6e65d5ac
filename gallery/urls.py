"""The one place that builds URLs inside a tenant, for both routing modes.

Host mode: the tenant owns the whole host (`photos.example.com/albums/1`).
Prefix mode: the tenant lives under `/g/<slug>/` of the base domain.
Templates, redirects and e-mails all call this; nothing hard-codes a path. It lives in
gallery/ (not tenants/) because gallery.notices.mail builds absolute links from jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


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
        """True for a same-tenant path: only these are followed after login (`next=`)."""
        if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
            return False
        return url == self.prefix or url.startswith(self.prefix + "/") if self.prefix else True


def canonical_urls(tenant: dict, base_domain: str, public_url: str, prefix_routing: bool) -> TenantUrls:
    """URLs for work done outside a request (e-mail from jobs, CLI output)."""
    slug = tenant["_id"]
    hostnames = tenant.get("hostnames") or []
    scheme = public_url.split("://", 1)[0] if "://" in public_url else "http"
    if hostnames:
        return TenantUrls(prefix="", origin=f"{scheme}://{hostnames[0]}")
    if prefix_routing:
        return TenantUrls(prefix=f"/g/{slug}", origin=public_url.rstrip("/"))
    port = public_url.rsplit(":", 1)[1] if public_url.count(":") == 2 else ""
    port = f":{port.rstrip('/')}" if port else ""
    return TenantUrls(prefix="", origin=f"{scheme}://{slug}.{base_domain}{port}")
