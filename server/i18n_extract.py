"""Babel extraction of translatable messages from Tornado templates (babel.cfg names it).

Tornado templates are HTML with Python in `{{ … }}` and `{% … %}`. Each of those is written
out on the line it has in the template and the result is read by Babel's own Python
extractor, so `_("…")`, `_("…", "…", n)` and the line numbers come out as for Python code.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

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


# -- the commands of docs/languages.md ----------------------------------------------------
# python -m server.i18n_extract extract   templates + Python -> locale/atrium.pot
# python -m server.i18n_extract update    the pot merged into every locale/<lang>/…/atrium.po
# python -m server.i18n_extract compile   every .po -> .mo (committed, so a fresh clone runs)

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale"
POT = LOCALE / "atrium.pot"
# `_("…")` and `_("…", "…", n)` (told apart by their number of arguments), and `N_("…")`.
KEYWORDS = ["-k", "_:1,1t", "-k", "_:1,2,3t", "-k", "N_", "-k", "_t", "-k", "_tn:1,2"]
SCRIPTS = ROOT / "static" / "js"
#: What the scripts' catalogues are compiled into, one per language (static/js/i18n.js reads it).
SCRIPT_CATALOGUES = ROOT / "static" / "i18n"


def _pybabel(*args: str) -> None:
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", "-q", *args])


def _languages() -> list[str]:
    return sorted(p.name for p in LOCALE.iterdir() if (p / "LC_MESSAGES").is_dir())


def extract(output: Path = POT) -> None:
    _pybabel(
        "extract", "-F", str(ROOT / "babel.cfg"), "--no-default-keywords", *KEYWORDS,
        "--no-location", "--sort-output", "--project", "Atrium", "-o", str(output), str(ROOT),
    )


def update() -> None:
    from babel.messages.pofile import read_po, write_po

    for lang in _languages():
        _pybabel("update", "-i", str(POT), "-d", str(LOCALE), "-D", "atrium", "-l", lang,
                "--no-fuzzy-matching", "--ignore-obsolete")
    # English is the source language: its catalogue says each message as it is written.
    path = LOCALE / "en" / "LC_MESSAGES" / "atrium.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale="en")
    for message in catalog:
        if message.id and not any(message.string if isinstance(message.string, tuple) else [message.string]):
            message.string = message.id
    with path.open("wb") as f:
        write_po(f, catalog, sort_output=True, omit_header=False)


def script_messages() -> set:
    """The messages the scripts use (`_t("…")`, `_tn("…", "…", n)`)."""
    from babel.messages.extract import extract_from_dir

    found = extract_from_dir(
        str(SCRIPTS), [("**.js", "javascript")], keywords={"_t": None, "_tn": (1, 2)},
    )
    return {message for _file, _line, message, _comments, _context in found}


def script_catalogue(language: str) -> str:
    """static/i18n/<language>.js: the scripts' messages and their translations."""
    import json

    from babel.messages.pofile import read_po

    with (LOCALE / language / "LC_MESSAGES" / "atrium.po").open("rb") as f:
        catalog = read_po(f)
    wanted = script_messages()
    table = {}
    for message in catalog:
        if message.id in wanted and not message.fuzzy:
            if isinstance(message.id, tuple):
                table[message.id[0]] = list(message.string)
            else:
                table[message.id] = message.string
    body = json.dumps(dict(sorted(table.items())), ensure_ascii=False, indent=0)
    return f"// Made by `python -m server.i18n_extract compile` from locale/{language}.\nwindow.atriumMessages = {body};\n"


def compile_catalogues() -> None:
    _pybabel("compile", "-d", str(LOCALE), "-D", "atrium", "--statistics")
    SCRIPT_CATALOGUES.mkdir(exist_ok=True)
    for language in _languages():
        if language != "en":  # English scripts need no catalogue
            (SCRIPT_CATALOGUES / f"{language}.js").write_text(script_catalogue(language), encoding="utf-8")


if __name__ == "__main__":
    import sys

    commands = {"extract": extract, "update": update, "compile": compile_catalogues}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit("usage: python -m server.i18n_extract extract|update|compile")
    commands[sys.argv[1]]()


# -- messages built in Python and shown on pages ------------------------------------------
# Errors are raised in English (the API answers in English) and handlers hand notices to
# templates as plain strings; BaseHandler.render translates them by looking them up. This
# extractor finds those strings without marking each one: the literal arguments of a
# GalleryError (or HTTPError) raised, the values of its field_errors, and literals given as
# message=/heading=/error=/notice=/problem= or assigned to such a name.
_ERRORS = {
    "GalleryError", "Invalid", "NotAuthenticated", "Forbidden", "NotFound", "Conflict", "Gone",
    "TooLarge", "Unsupported", "TooManyRequests", "ReadOnlyMedia", "Busy", "GspRefused",
    "GalleryNotEmpty", "ImportRunning", "MailDestinationRefused", "MailServerUnreachable",
    "StorageFailed", "AccountLocked", "PreconditionFailed", "HTTPError",
    "UnsupportedMedia", "CorruptMedia", "MediaTooLarge", "QuotaExceeded", "AlreadyInAlbum",
    "AlreadyInGallery",
}
_SHOWN_NAMES = {"message", "heading", "error", "notice", "problem", "not_empty"}
_SAYS = re.compile(r"(problem|_label|_words)$")
# Module tables of words a page shows (PERMISSION_HELP, KIND_LABELS, MONTH_NAMES, …).
_WORD_TABLE = re.compile(r"^_?[A-Z0-9_]*(LABELS|HELP|WORDS|GROUPS|NAMES|TITLES)$")
# Declarations whose words a page shows: the settings schema (gallery/settings.py: label,
# description and group, then the keyword arguments named here) and the metadata fields
# (gallery/metadata_fields.py: name and label), by their positional arguments.
_DECLARATIONS = {"Setting": (slice(3, 6), {"unit", "warning", "choice_labels", "choice_groups"}),
                 "Field": (slice(1, 3), set())}


def _literals(node):
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        yield node.lineno, node.value
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _literals(value)
    elif isinstance(node, ast.Tuple | ast.List):
        for value in node.elts:
            yield from _literals(value)


def extract_shown_messages(fileobj, keywords, comment_tags, options):
    """Babel extraction method for Python modules whose English strings reach pages."""
    import ast

    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)
    tree = ast.parse(source.decode("utf-8"))
    for node in ast.walk(tree):
        found = []
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "Message" and node.args:
                # gallery.i18n.Message("… %(name)s …", name=…): the template is the message,
                # its named placeholders filled where it is shown.
                for line, text in _literals(node.args[0]):
                    yield line, None, text, []
            elif name in _DECLARATIONS:
                # Shown with `_()` as they are (never formatted): "{username}" is text here.
                positions, keywords_shown = _DECLARATIONS[name]
                shown = [text for arg in node.args[positions] for text in _literals(arg)]
                for keyword in node.keywords:
                    if keyword.arg in keywords_shown:
                        shown.extend(_literals(keyword.value))
                for line, text in shown:
                    if "%" not in text:  # Babel would take "10%" for a placeholder
                        yield line, None, text, []
            elif name in _ERRORS:
                if any(k.arg not in ("field_errors", "log_message", "message") for k in node.keywords):
                    # Raised with values (media.errors.MediaError): `%(name)s` placeholders
                    # filled where it is shown.
                    for arg in node.args:
                        for line, text in _literals(arg):
                            yield line, None, text, []
                    continue
                for arg in node.args:
                    found.extend(_literals(arg))
                for keyword in node.keywords:
                    if keyword.arg in ("field_errors", "log_message", "message"):
                        found.extend(_literals(keyword.value))
            else:
                for keyword in node.keywords:
                    if keyword.arg in _SHOWN_NAMES:
                        found.extend(_literals(keyword.value))
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in _SHOWN_NAMES for t in node.targets
        ):
            found.extend(_literals(node.value))
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and _WORD_TABLE.match(t.id) for t in node.targets
        ):
            # Words, not identifiers kept in such tables ("IptcByline", "cookie").
            found.extend((line, text) for line, text in _literals(node.value)
                         if " " in text or not (text.islower() or re.search(r"[a-z][A-Z]", text)))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _SAYS.search(node.name):
            # A function that answers in words ("…_problem", "…_label"): what it returns.
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    found.extend(_literals(inner.value))
        for line, text in found:
            if "%" not in text and "{" not in text:  # formatted at run time: no stable message
                yield line, None, text, []
