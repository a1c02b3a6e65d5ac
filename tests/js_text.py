"""Finds words the scripts in static/js/ show to the member without `_t()` / `_tn()`.

A script is read with Babel's JavaScript lexer (the one `pybabel extract` uses for `_t`), and
every string literal outside a `_t(…)` / `_tn(…)` call is judged by where it stands:

- shown: assigned to textContent, innerText, innerHTML, title, placeholder, alt, label or a
  data-placeholder/data-label (CSS shows those), the value of a title/aria-label/placeholder/
  alt/label key in an object (`el("input", { placeholder: … })`), the value given to
  setAttribute("aria-label" | "title" | …), or an argument of alert/confirm/prompt, of
  `new Error(…)` (its message reaches a toast), of the edit helpers (toast, dialog, attempt,
  …) and of the text argument of `el(tag, attrs, text)`: any word there counts;
- code: compared (`=== "Enter"`, `case "x":`), an object key or a non-text object value
  (class, type, role…), the arguments of DOM and API calls (querySelector, addEventListener,
  classList.add, api("GET", "/media/…"), setRequestHeader…): never counts;
- anything else (a variable, a ternary, a return value): counts when it reads as prose —
  a capitalised word ("Rotated"), words with spaces between them, or a word with a space
  before or after it (a piece of a sentence, " days").
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.jslexer import tokenize, unquote_string

SCRIPTS = Path(__file__).resolve().parents[1] / "static" / "js"
# Words that read the same in every language, as in tests/template_text.py, and key names.
ALLOWED = {"Atrium", "GSP", "ZIP", "SMTP", "API", "URL", "XMP", "EXIF", "IPTC", "OK", "px", "KB",
           "MB", "GB", "TLS", "UTC", "HTTP", "tus", "use strict"}
TRANSLATE = {"_t", "_tn"}
TEXT_PROPERTIES = {"textContent", "innerText", "innerHTML", "outerHTML", "title", "placeholder",
                   "alt", "label", "ariaLabel", "ariaDescription", "ariaValueText", "returnValue",
                   "dataset.placeholder", "dataset.label"}
TEXT_KEYS = {"title", "aria-label", "aria-description", "aria-valuetext", "aria-roledescription",
             "placeholder", "alt", "label", "data-label", "data-placeholder", "text", "message"}
# Functions and which of their arguments are shown: the browser's own boxes, errors (their
# message ends in a toast or a status line), the edit helpers of static/js/edit.js (toast,
# attempt, the dialogs), the tools of edit-album.js and the buttons of edit-media.js. Their
# other arguments (a toast's kind, an icon's name, a class) are code.
SHOWING_CALLS = {
    "alert": {0}, "confirm": {0}, "prompt": {0}, "Error": {0}, "UploadError": {0},
    "toast": {0}, "toastAfterNavigation": {0}, "attempt": {1}, "dialog": {0},
    "confirmDialog": {0, 1, 2}, "promptDialog": {0, 1, 3}, "pickAlbum": {0}, "fail": {0},
    "button": {0, 4}, "tool": {0}, "bulkButton": {0}, "show": {0}, "say": {0},
}
# Calls whose arguments are names, selectors, URLs, events, headers: code, not text.
CODE_CALLS = {
    "querySelector", "querySelectorAll", "closest", "matches", "getElementById",
    "getElementsByClassName", "getElementsByTagName", "createElement", "createElementNS",
    "addEventListener", "removeEventListener", "dispatchEvent", "Event", "CustomEvent",
    "add", "remove", "toggle", "contains", "replace", "replaceAll", "getAttribute",
    "removeAttribute", "hasAttribute", "toggleAttribute", "setRequestHeader", "getResponseHeader",
    "open", "fetch", "api", "icon", "getItem", "setItem", "removeItem", "get", "set", "has",
    "delete", "append", "split", "join", "startsWith", "endsWith", "includes", "indexOf",
    "match", "test", "RegExp", "log", "warn", "error", "debug", "info", "postMessage",
    "toLocaleString", "toLocaleDateString", "toLocaleTimeString", "NumberFormat",
    "DateTimeFormat", "padStart", "padEnd", "scrollIntoView", "getPropertyValue",
    "setProperty", "matchMedia", "URL", "URLSearchParams", "encodeURIComponent", "parse",
    "stringify", "assign", "keys", "now", "setTimeout", "requestAnimationFrame", "write",
    "insertAdjacentHTML", "go", "pushState", "replaceState", "focus", "blur", "animate",
}
COMPARE = {"===", "!==", "==", "!="}
_WORD = re.compile(r"[^\W\d_]{2,}")
_PROSE = re.compile(
    r"^\W*[A-Z][a-z]"                     # a capitalised word: "Rotated", "Delete this item?"
    r"|[^\W\d_]{2,}[ \u00a0]+[^\W\d_]{2,}"  # words with a space between: "is moved to"
    r"|[^\W\d_]{2,}[ \u00a0]+\d"            # a word and a number: "under 1 s"
    r"|^[ \u00a0]+[^\W\d_]{2,}|[^\W\d_]{2,}[ \u00a0]+$"  # a piece of a sentence: " days", "Sending "
)


def _words(text: str) -> bool:
    return any(w not in ALLOWED for w in _WORD.findall(text))


def _prose(text: str) -> bool:
    if not _words(text) or re.match(r"\s*(?:[<>/#.\[?&]\S|data-)", text):
        return False  # markup, a URL, a selector or a query (". Sign in…" is a sentence's end)
    if re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z]*)+", text):  # a key name or type: ArrowLeft, PageDown
        return False
    return bool(_PROSE.search(text))


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def untranslated(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string a script shows without `_t()` in one script's source."""
    tokens = [t for t in tokenize(source, jsx=False, dotted=True, template_string=True)
              if t.type not in ("linecomment", "multilinecomment")]
    found: list[tuple[int, str]] = []
    # One frame per open bracket: [bracket, callee or "", index of the argument, key or None,
    # index of the bracket's token]
    stack: list[list] = []
    # The start of the current statement-ish expression at each depth: the assignment target
    targets: list[str | None] = [None]
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.type == "operator":
            if tok.value in "([{":
                callee = ""
                if tok.value == "(" and prev is not None and prev.type == "name" and prev.value not in (
                        "if", "while", "for", "switch", "return", "function", "catch", "typeof", "await"):
                    callee = _last(prev.value)
                    if i >= 2 and tokens[i - 2].value == "function":
                        callee = ""  # a declaration's parameters
                if tok.value == "[" and prev is not None and (prev.type == "name" or prev.value in ")]"):
                    callee = "[]"  # a subscript: h["Content-Type"], data["x"]
                stack.append([tok.value, callee, 0, None, i])
                # Grouping parentheses keep the assignment they are in: x.title = "A " + (b ? "c" : "d").
                targets.append(targets[-1] if tok.value == "(" and not callee else None)
            elif tok.value in ")]}":
                if stack:
                    stack.pop()
                    targets.pop()
            elif tok.value == ",":
                if stack:
                    stack[-1][2] += 1
                    stack[-1][3] = None
                targets[-1] = None
            elif tok.value == ";":
                targets[-1] = None
            elif tok.value == ":" and stack and stack[-1][0] == "{" and prev is not None and (
                    prev.type in ("name", "string")):
                before = tokens[i - 2] if i >= 2 else None
                if before is not None and before.value in ("{", ","):
                    stack[-1][3] = unquote_string(prev.value) if prev.type == "string" else prev.value
            elif tok.value in ("=", "+=") and prev is not None and prev.type == "name":
                targets[-1] = prev.value
            continue
        if tok.type == "name" and tok.value in ("const", "let", "var", "return"):
            targets[-1] = None
        if tok.type not in ("string", "template_string"):
            continue
        if any(frame[1] in TRANSLATE for frame in stack):
            continue
        if tok.type == "string":
            text = unquote_string(tok.value)
        else:  # a template literal: its words, without the ${…} parts
            text = re.sub(r"\$\{[^}]*\}", " ", tok.value[1:-1])
        if not text.strip() or text in ALLOWED:
            continue
        # (The lexer reads "===" as "==" then "=".)
        compared_before = prev is not None and (prev.value in COMPARE or prev.value == "case" or (
            prev.value == "=" and i >= 2 and tokens[i - 2].value in COMPARE))
        if compared_before or (nxt is not None and (nxt.value in COMPARE or nxt.value == "in")):
            continue  # compared: a key or a state, not words
        frame = stack[-1] if stack else None
        if frame and frame[1] == "[]":
            continue  # a subscript's key
        if frame and frame[0] == "{" and nxt is not None and nxt.value == ":" and prev is not None and (
                prev.value in ("{", ",")):
            continue  # an object's key
        shown: bool | None = None  # True: any word counts; False: code; None: prose counts
        target = targets[-1]
        if target is not None and (_last(target) in TEXT_PROPERTIES or any(
                target.endswith("." + p) for p in TEXT_PROPERTIES if "." in p)):
            shown = True
        elif target is not None and _last(target) in ("className", "id", "type", "name", "href",
                                                       "src", "rel", "value", "hash", "search"):
            shown = False
        # Grouping parentheses stand for what they are in: el(…, (a ? "x" : "y") + z).
        outer = next((f for f in reversed(stack) if not (f[0] == "(" and not f[1])), None)
        if outer and outer[0] == "{" and outer[3] is not None:
            shown = outer[3] in TEXT_KEYS
        elif outer and outer[0] == "(" and outer[1]:
            callee, argument = outer[1], outer[2]
            if callee == "setAttribute":
                shown = False if argument == 0 else None
                first = tokens[outer[4] + 1]
                if argument == 1 and first.type == "string":
                    shown = unquote_string(first.value) in TEXT_KEYS
            elif callee == "el":
                shown = argument >= 2
            elif callee in SHOWING_CALLS:
                shown = argument in SHOWING_CALLS[callee]
            elif callee in CODE_CALLS:
                shown = False
        if shown is False:
            continue
        if shown:
            text = re.sub(r"<[^>]*>", " ", text)  # markup's words only: tags are code
        if (shown and _words(text)) or (shown is None and _prose(text)):
            found.append((tok.lineno, " ".join(text.split())))
    return found


def scripts() -> list[Path]:
    return sorted(SCRIPTS.glob("*.js"))


if __name__ == "__main__":
    import sys

    paths = [Path(p) for p in sys.argv[1:]] or scripts()
    total = 0
    for path in paths:
        for line, text in untranslated(path.read_text(encoding="utf-8")):
            total += 1
            print(f"{path.name}:{line}: {text}")
    print(total, "untranslated")


def fragments(source: str) -> list[tuple[int, str]]:
    """(line, message) of every `_t` / `_tn` message that is only a piece of a sentence: joined
    to other text with `+` (the words' order is then fixed in English), starting or ending with
    a space, or a `_t` call written inside another one's arguments (which extraction skips).
    A sentence with a name or a number in it is one message with placeholders:
    `_t("Sending %(name)s…", { name })`."""
    tokens = [t for t in tokenize(source, jsx=False, dotted=True, template_string=True)
              if t.type not in ("linecomment", "multilinecomment")]
    found = []
    for i, tok in enumerate(tokens):
        if not (tok.type == "name" and tok.value in TRANSLATE and i + 1 < len(tokens) and tokens[i + 1].value == "("):
            continue
        depth, j = 0, i + 1
        while j < len(tokens):
            if tokens[j].type == "operator" and tokens[j].value in "([{":
                depth += 1
            elif tokens[j].type == "operator" and tokens[j].value in ")]}":
                depth -= 1
                if not depth:
                    break
            j += 1
        first = tokens[i + 2] if i + 2 < len(tokens) else None
        message = unquote_string(first.value) if first is not None and first.type == "string" else ""
        joined = (i and tokens[i - 1].value == "+") or (j + 1 < len(tokens) and tokens[j + 1].value == "+")
        nested = any(t.type == "name" and t.value in TRANSLATE for t in tokens[i + 2:j])
        if joined or nested or message != message.strip():
            found.append((tok.lineno, message))
    return found
