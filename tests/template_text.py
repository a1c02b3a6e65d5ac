"""Finds user-visible words in templates that do not go through the translation function.

A template's source is read as Tornado sees it: `{{ … }}` expressions, `{% … %}` blocks and
`{# … #}` comments are taken out first (what an expression prints is either translated where
it is built, or data such as a title), then the rest is parsed as HTML. What remains in a text
node, or in a title/alt/placeholder/aria-label attribute, and has letters in it, is English the
member would see untranslated. Script and style bodies are code, not text (JavaScript strings
have their own catalogue, static/js/i18n.js).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
TEXT_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "data-label"}  # data-label: a table cell's heading at phone width
# Words that read the same in every language: the product's name, units, a few symbols.
ALLOWED = {"Atrium", "GSP", "ZIP", "SMTP", "API", "URL", "XMP", "EXIF", "IPTC", "Atom", "OK", "px", "KB", "MB", "GB", "TLS"}
_CODE = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)
# Blocks that fill an attribute of base.html (class names, data attributes), not text.
_ATTRIBUTE_BLOCKS = re.compile(r"{%\s*block\s+(?:main_class|body_class|main_attrs)\s*%}")
_OPENS = re.compile(r"{%\s*(?:block|if|for|while|try|apply|autoescape)\b")
_ENDS = re.compile(r"{%\s*end\s*%}")
# Elements whose text is code or a command to type, the same in every language.
_CODE_ELEMENTS = {"script", "style", "code", "pre", "kbd", "samp"}
_WORD = re.compile(r"[^\W\d_]{2,}")


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._code_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in _CODE_ELEMENTS:
            self._code_depth += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value:
                self._check(value)

    def handle_startendtag(self, tag, attrs):
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value:
                self._check(value)

    def handle_endtag(self, tag):
        if tag in _CODE_ELEMENTS and self._code_depth:
            self._code_depth -= 1

    def handle_data(self, data):
        if not self._code_depth:
            self._check(data)

    def _check(self, text: str) -> None:
        words = [w for w in _WORD.findall(text) if w not in ALLOWED]
        if words:
            self.found.append((self.getpos()[0], " ".join(text.split())))


def _without_attribute_blocks(source: str) -> str:
    """The source with the attribute blocks' bodies blanked (newlines kept)."""
    out, pos = [], 0
    for start in _ATTRIBUTE_BLOCKS.finditer(source):
        if start.start() < pos:
            continue
        depth, i = 1, start.end()
        while depth:
            opens, ends = _OPENS.search(source, i), _ENDS.search(source, i)
            if ends is None:
                break
            if opens and opens.start() < ends.start():
                depth, i = depth + 1, opens.end()
            else:
                depth, i = depth - 1, ends.end()
        out.append(source[pos:start.end()])
        out.append("\n" * source.count("\n", start.end(), i))
        pos = i
    out.append(source[pos:])
    return "".join(out)


def untranslated(source: str) -> list[tuple[int, str]]:
    """(line, text) of every user-visible piece of English outside `_()` in one template."""
    source = _without_attribute_blocks(source)
    # Code is replaced by the same number of newlines, so line numbers stay true.
    stripped = _CODE.sub(lambda m: "\x00" + "\n" * m.group(0).count("\n"), source)
    scanner = _Scanner()
    scanner.feed(stripped.replace("\x00", " "))
    scanner.close()
    return scanner.found


def templates(*, emails: bool = True) -> list[Path]:
    paths = sorted(TEMPLATES.rglob("*.html"))
    if emails:
        paths += sorted((TEMPLATES / "emails").glob("*.txt"))
    return paths


if __name__ == "__main__":
    total = 0
    for path in templates():
        for line, text in untranslated(path.read_text(encoding="utf-8")):
            total += 1
            print(f"{path.relative_to(TEMPLATES)}:{line}: {text}")
    print(total, "untranslated")


_CODE_ONLY = re.compile(r"{{(.*?)}}|{%(.*?)%}", re.DOTALL)
_PROSE = re.compile(r"^[^\W\d_][^\W\d_]+( +[\w\-.,;:'’“”?!…()]+)+[.…:]?$|^[A-Z][a-z]{2,}$")


def _without_translated(code: str) -> str:
    """The code with every `_(…)` call (its arguments too) taken out."""
    out, i = [], 0
    while True:
        start = code.find("_(", i)
        if start < 0 or (start and (code[start - 1].isalnum() or code[start - 1] in "_.")):
            if start < 0:
                out.append(code[i:])
                return "".join(out)
            out.append(code[i:start + 2])
            i = start + 2
            continue
        out.append(code[i:start])
        depth, j, quote = 0, start + 1, None
        while j < len(code):
            c = code[j]
            if quote:
                if c == "\\":
                    j += 1
                elif c == quote:
                    quote = None
            elif c in "\"'":
                quote = c
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if not depth:
                    break
            j += 1
        i = j + 1


def untranslated_in_code(source: str) -> list[tuple[int, str]]:
    """(line, text) of English words written as string literals in template code outside `_()`
    ("Untitled" if … else "Share this item")."""
    found = []
    for match in _CODE_ONLY.finditer(source):
        code = _without_translated(match.group(1) if match.group(1) is not None else match.group(2))
        for literal in re.finditer(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'', code):
            text = literal.group(1) or literal.group(2) or ""
            compared = re.search(r"(==|!=|\bin)\s*$", code[:literal.start()])  # a key, not words
            if _PROSE.match(text) and text not in ALLOWED and "%" not in text and not compared:
                found.append((source.count("\n", 0, match.start()) + 1, text))
    return found
