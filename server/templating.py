"""Tornado templates that leave no reference cycle behind.

`tornado.template.Template.generate` runs the compiled template by `exec`-ing it into a
fresh namespace dict, which defines `_tt_execute` there; the function's globals are that
same dict, so every page rendered leaves a cycle (namespace -> function -> namespace)
that holds the handler, the request, its headers, cookies and everything the template
was given. Only the cyclic garbage collector can free it. At a few thousand pages a
second that garbage is what set the collector off, and its full collections (tens of ms,
longer with more tenants' contexts alive) were most of the service's tail latency.

Here the namespace is emptied once the page is rendered, so the page's objects are freed
by reference counting the moment the request ends. Everything else is Tornado's.
"""

from __future__ import annotations

import datetime
import linecache
import os
from typing import Any

import tornado.template
from tornado import escape
from tornado.util import ObjectDict


class Template(tornado.template.Template):
    def generate(self, **kwargs: Any) -> bytes:
        # The same namespace tornado.template.Template.generate makes (Tornado 6).
        namespace = {
            "escape": escape.xhtml_escape,
            "xhtml_escape": escape.xhtml_escape,
            "url_escape": escape.url_escape,
            "json_encode": escape.json_encode,
            "squeeze": escape.squeeze,
            "linkify": escape.linkify,
            "datetime": datetime,
            "_tt_utf8": escape.utf8,
            "_tt_string_types": (str, bytes),
            # __name__ and __loader__ let tracebacks show the generated source.
            "__name__": self.name.replace(".", "_"),
            "__loader__": ObjectDict(get_source=lambda name: self.code),
        }
        namespace.update(self.namespace)
        namespace.update(kwargs)
        exec(self.compiled, namespace)  # noqa: S102 - Tornado's own compiled template
        execute = namespace["_tt_execute"]
        linecache.clearcache()  # as Tornado does: a reloaded template's source is not stale
        try:
            return execute()
        finally:
            namespace.clear()  # breaks namespace -> _tt_execute -> namespace


class Loader(tornado.template.Loader):
    """tornado.template.Loader making the Template above."""

    def _create_template(self, name: str) -> Template:
        with open(os.path.join(self.root, name), "rb") as f:
            return Template(f.read(), name=name, loader=self)
