"""Application assembly: one host-level app and one tenant app behind a router.

The router decides from the Host header and the path, without touching the database:

- the base domain (or localhost / an IP address): `/g/<slug>/...` goes to the tenant app
  in prefix mode (the prefix is cut from `request.path`); `/_host/`, `/static/` and
  `/_health` go to the host app;
- `<slug>.<base_domain>`: tenant app, host mode, tenant by slug;
- any other hostname: tenant app, host mode, tenant by custom hostname.

The tenant handler's `prepare()` then looks the tenant up (cached) and answers 404/503
for unknown or suspended tenants.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import tornado.web

from handlers import ROUTE_MODULES_HOST, ROUTE_MODULES_TENANT
from handlers.errors import BadHostHandler, HostNotFoundHandler, TenantNotFoundHandler
from server.body_limits import SETTING as MAX_FORM_BYTES
from server.body_limits import BoundedBodies
from server.forwarded import apply_forwarded, parse_proxies
from server.services import Services
from server.templating import Loader
from tenants.names import SLUG_RE

ROOT = Path(__file__).resolve().parent.parent
access_log = logging.getLogger("atrium.access")

_HOST_CHARS = re.compile(r"^[a-z0-9.-]{1,253}$")
_PREFIX = re.compile(r"^/g/([^/]+)(/.*)?$")


@dataclass(frozen=True)
class Target:
    """Which tenant a request is for, as far as the router can tell."""

    slug: str | None = None
    hostname: str | None = None
    prefix: str = ""  # "/g/<slug>" in prefix mode


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


class TenantApplication(BoundedBodies, tornado.web.Application):
    """The tenant routes (behind AtriumApplication's router)."""


class AtriumApplication(BoundedBodies, tornado.web.Application):
    def __init__(self, services: Services, **settings):
        self.services = services
        config = services.config
        common = dict(
            services=services,
            template_path=str(ROOT / "templates"),
            # Same templates, rendered without leaving a reference cycle (server.templating).
            template_loader=Loader(str(ROOT / "templates"), autoescape="xhtml_escape"),
            static_path=str(ROOT / "static"),
            cookie_secret=config.security.host_secret,
            xsrf_cookies=True,
            xsrf_cookie_kwargs={"httponly": False, "samesite": "Lax"},
            autoescape="xhtml_escape",
            compress_response=True,
            log_function=self._log_request,
            # Bodies of handlers that do not stream are refused over this (server.body_limits).
            **{MAX_FORM_BYTES: config.limits.max_form_kb * 1024},
        )
        common.update(settings)
        host_routes = [r for module in ROUTE_MODULES_HOST for r in module.ROUTES]
        tenant_routes = [r for module in ROUTE_MODULES_TENANT for r in module.ROUTES]
        self.tenant_app = TenantApplication(
            tenant_routes, default_handler_class=TenantNotFoundHandler, **common
        )
        super().__init__(host_routes, default_handler_class=HostNotFoundHandler, **common)
        self.base_domain = config.server.base_domain.lower()
        self.prefix_routing = config.server.path_prefix_routing
        # Proxies whose X-Forwarded-* headers are believed (none unless server.xheaders).
        self.trusted_proxies = parse_proxies(config.server.trusted_proxies) if config.server.xheaders else ()

    def _is_base_host(self, host: str) -> bool:
        return host in (self.base_domain, "localhost") or _is_ip(host)

    def find_handler(self, request, **kwargs):
        if self.trusted_proxies:
            apply_forwarded(request, self.trusted_proxies)
        host = (request.host_name or "").lower().rstrip(".")
        if not (_HOST_CHARS.match(host) or (host.startswith("[") and _is_ip(host))):
            return self.get_handler_delegate(request, BadHostHandler)
        if self._is_base_host(host):
            match = _PREFIX.match(request.path) if self.prefix_routing else None
            if match:
                slug = match.group(1)
                if not SLUG_RE.match(slug):
                    return self.get_handler_delegate(request, HostNotFoundHandler)
                if match.group(2) is None:
                    # Cookies are scoped to /g/<slug>/: keep every page under it.
                    return self.get_handler_delegate(
                        request, tornado.web.RedirectHandler, {"url": f"/g/{slug}/", "permanent": False}
                    )
                request.atrium_target = Target(slug=slug, prefix=f"/g/{slug}")
                request.atrium_original_path = request.path
                request.path = match.group(2) or "/"
                return self.tenant_app.find_handler(request, **kwargs)
            request.atrium_target = None
            return super().find_handler(request, **kwargs)
        if host.endswith("." + self.base_domain):
            label = host[: -len(self.base_domain) - 1]
            if not SLUG_RE.match(label):
                return self.get_handler_delegate(request, HostNotFoundHandler)
            request.atrium_target = Target(slug=label)
        else:
            request.atrium_target = Target(hostname=host)
        return self.tenant_app.find_handler(request, **kwargs)

    def _log_request(self, handler: tornado.web.RequestHandler) -> None:
        if not self.services.config.logging.access_log:
            return
        request = handler.request
        target = getattr(request, "atrium_target", None)
        tenant = "-"
        if getattr(handler, "tenant", None) is not None:
            tenant = handler.tenant.slug
        elif target is not None:
            tenant = target.slug or target.hostname or "-"
        elif request.path.startswith("/_host"):
            tenant = "_host"
        status = handler.get_status()
        level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
        access_log.log(
            level, "%s %s %s %d %.1fms", tenant, request.method,
            getattr(request, "atrium_original_path", request.path), status,
            1000.0 * request.request_time(),
        )


def make_app(services: Services, **settings) -> AtriumApplication:
    return AtriumApplication(services, **settings)


def uptime(services: Services) -> float:
    return time.time() - services.started
