"""docs/settings.md, generated from the settings schema (gallery.settings.SETTINGS).

Run `python -m server.settings_doc` after changing the schema; tests/server/test_settings_doc.py
fails while the file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gallery import settings as gallery_settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _default(s: gallery_settings.Setting) -> str:
    if s.type == "bool":
        return "on" if s.default else "off"
    if s.type == "list":
        items = [s.choice_label(v) for v in s.default]
        return ", ".join(items) if items else "(none)"
    if s.type == "choice":
        return s.choice_label(s.default)
    if s.type == "labels":
        return ", ".join(f"{s.choice_label(k)}: {v}" for k, v in s.default.items()) or "(the usual names)"
    if s.default == "":
        return "(empty)"
    return f"{s.default} {s.unit}".strip()


def _allowed(s: gallery_settings.Setting) -> str:
    if s.type == "labels":
        return f"a heading of at most {s.max_length} characters for any of: " + ", ".join(f"`{c}`" for c in s.choices)
    if s.choices:
        pairs = [f"`{c}` {label}" if label != c else f"`{c}`"
                 for c, label in zip(s.choices, s.choice_labels or s.choices)]
        return ("any of: " if s.type == "list" else "one of: ") + ", ".join(pairs)
    if s.minimum is not None:
        return f"{s.minimum}–{s.maximum} {s.unit}".strip()
    if s.type in ("str", "text"):
        return f"text, at most {s.max_length} characters"
    if s.type == "list":
        return "comma-separated words"
    return "on or off" if s.type == "bool" else ""


def render() -> str:
    out = [
        "# Gallery settings",
        "",
        "Generated from `gallery/settings.py` by `python -m server.settings_doc`; do not edit by hand.",
        "An administrator changes them on the gallery's Settings page (Administration → Settings),",
        "one section per heading below. The key is the name in the settings document and the API.",
        "",
    ]
    for group in gallery_settings.GROUPS:
        out += [f"## {group}", "", "| Setting | Key | What it does | Default | Allowed |", "|---|---|---|---|---|"]
        for s in gallery_settings.SETTINGS:
            if s.group == group:
                what = s.description + (f". **Warning:** {s.warning}" if s.warning else "")
                out.append(f"| {_cell(s.label)} | `{s.key}` | {_cell(what)} | "
                           f"{_cell(_default(s))} | {_cell(_allowed(s))} |")
        out.append("")
    return "\n".join(out)


def main() -> int:
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
