"""Babel extraction of translatable messages from Tornado templates (babel.cfg names it).

Tornado templates are HTML with Python in `{{ … }}` and `{% … %}`. Each of those is written
out on the line it has in the template and the result is read by Babel's own Python
extractor, so `_("…")`, `_("…", "…", n)` and the line numbers come out as for Python code.
"""

from __future__ import annotations

import io
import re

from babel.messages.extract import extract_python

_CODE = re.compile(r"{{(.*?)}}|{%(.*?)%}|{#.*?#}", re.DOTALL)


def python_of_template(source: str) -> str:
    """The template's expressions and statements, each on its own line number."""
    lines: list[str] = []
    for match in _CODE.finditer(source):
        code = match.group(1) if match.group(1) is not None else match.group(2)
        if code is None:  # a comment
            continue
        line = source.count("\n", 0, match.start())
        while len(lines) < line:
            lines.append("")
        # One statement per line, at column 0: Babel tokenizes, it does not compile.
        lines.append(" ".join(code.strip().splitlines()))
    return "\n".join(lines) + "\n"


def extract_tornado(fileobj, keywords, comment_tags, options):
    """Babel extraction method for Tornado templates (`[tornado: templates/**.html]`)."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    python = io.BytesIO(python_of_template(source).encode("utf-8"))
    yield from extract_python(python, keywords, comment_tags, {"encoding": "utf-8"})
