"""Values cached on a tenant context (`ctx.cached`/`ctx.remember`) handed out as copies."""

from __future__ import annotations


def fresh_copy(value):
    """A copy of a cached document for a caller that may change it: dicts and lists are
    copied all the way down, everything else (str, int, datetime, bytes) is immutable.
    Several times faster than copy.deepcopy, which matters once per request."""
    if isinstance(value, dict):
        return {k: fresh_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fresh_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(fresh_copy(v) for v in value)
    return value
