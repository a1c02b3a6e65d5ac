"""Every template is rendered by the suite, with the namespace its real caller gives it.

Compiling a template (tests/test_templates.py) does not catch one that breaks at render
time: a name its handler no longer passes, a method called on None. So every template
rendered while the tests run is recorded (pages, `{% module Template %}` partials, e-mails
in HTML and text), together with what it extends and includes. At the end of a run over
the whole suite, a template that nothing rendered fails the run, naming the file: write the
test that opens the page or sends the mail.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import tornado.template

from server import templating

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
_REFERENCES = re.compile(r"{%\s*(?:extends|include)\s+[\"']([^\"']+)[\"']\s*%}")

rendered: set[str] = set()


def _recording(generate):
    def wrapper(self, **kwargs):
        # Names are relative to their loader's root (the mailer's is templates/emails/).
        root = getattr(self.loader, "root", None)
        path = Path(root, self.name) if root else TEMPLATES / self.name
        if path.is_relative_to(TEMPLATES):
            rendered.add(path.relative_to(TEMPLATES).as_posix())
        return generate(self, **kwargs)

    return wrapper


def install() -> None:
    """Record every render from now on (both the service's and the mailer's templates)."""
    for cls in (tornado.template.Template, templating.Template):
        if "generate" in vars(cls) and not getattr(cls.generate, "_records", False):
            cls.generate = _recording(cls.generate)
            cls.generate._records = True


def covered() -> set[str]:
    """Rendered templates plus everything they extend or include, transitively."""
    seen: set[str] = set()
    todo = [name for name in rendered if (TEMPLATES / name).is_file()]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for ref in _REFERENCES.findall((TEMPLATES / name).read_text(encoding="utf-8")):
            # Resolved as tornado.template.Loader does: relative to the including template.
            todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(name), ref)))
    return seen


def never_rendered() -> list[str]:
    every = {str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt")}
    return sorted(every - covered())
