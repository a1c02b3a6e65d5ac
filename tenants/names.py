"""Rules for tenant slugs and hostnames."""

from __future__ import annotations

import re

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")
RESERVED_SLUGS = frozenset(
    {
        "www", "api", "host", "static", "admin", "mail", "smtp", "ftp", "g", "_host",
        "assets", "cdn", "media", "health", "status", "localhost", "root", "system",
    }
)
# A DNS name: labels of letters, digits and hyphens, not starting or ending with a hyphen.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
HOSTNAME_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")


class InvalidName(ValueError):
    """A slug or hostname breaks the rules; the message says which rule."""


def check_slug(slug: str) -> str:
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise InvalidName(
            f"slug {slug!r} is not valid: use 2 to 41 lower-case letters, digits and hyphens, "
            "starting with a letter or digit"
        )
    if slug in RESERVED_SLUGS:
        raise InvalidName(f"slug {slug!r} is reserved")
    return slug


def normalize_hostname(hostname: str) -> str:
    """Lower-case, strip a trailing dot and a port; refuse anything that is not a DNS name."""
    if not isinstance(hostname, str):
        raise InvalidName("hostname must be text")
    name = hostname.strip().lower().rstrip(".")
    if len(name) > 253 or not HOSTNAME_RE.match(name) or "." not in name:
        raise InvalidName(f"hostname {hostname!r} is not a valid domain name")
    return name


def split_hostnames(text: str) -> list[str]:
    """Parse a comma/space separated list of hostnames (form and CLI input)."""
    names = [part for part in re.split(r"[\s,]+", text or "") if part]
    seen: list[str] = []
    for part in names:
        name = normalize_hostname(part)
        if name not in seen:
            seen.append(name)
    return seen
