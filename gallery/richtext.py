"""User-entered HTML in captions and album summaries (GSP's AllowUserEnteredHtml, AllowedHtmlTags).

Captions and summaries are stored as typed, always. They are rendered by `user_html()`:
with the `allow_user_html` setting off (the default) as escaped text; with it on, through
nh3 (the binding of the Rust sanitiser ammonia) keeping only the tags and attributes of
the admin's allowlist (`allowed_html_tags`, `allowed_html_attributes`). The admin chooses
within ALLOWABLE_TAGS / ALLOWABLE_ATTRIBUTES: formatting only, never a tag that runs or
loads anything (script, style, iframe, svg, form...) nor an event handler, `style`, `id`
or `class` (which could restyle or clobber the page's own elements). Links keep http(s),
mailto and relative URLs and get rel="noopener noreferrer nofollow".
"""

from __future__ import annotations

import html
from functools import lru_cache

import nh3

from gallery.i18n import Message

ALLOWABLE_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "del", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "u", "ul",
})
ALLOWABLE_ATTRIBUTES = frozenset({
    "alt", "cite", "colspan", "dir", "height", "href", "lang", "rowspan", "src", "title",
    "width",
})
URL_SCHEMES = frozenset({"http", "https", "mailto"})
DEFAULT_TAGS = ["b", "i", "em", "strong", "u", "s", "a", "p", "br", "ul", "ol", "li",
                "blockquote", "code"]
DEFAULT_ATTRIBUTES = ["a.href", "a.title"]


def check_tags(tags: list[str]) -> None:
    """Raise ValueError naming the tags outside ALLOWABLE_TAGS (the settings form says it)."""
    bad = [t for t in tags if t.lower() not in ALLOWABLE_TAGS]
    if bad:
        raise ValueError(Message("may not allow %(tags)s (only formatting tags)", tags=", ".join(bad[:5])))


def check_attributes(attributes: list[str]) -> None:
    """Entries are "tag.attribute" or "*.attribute", within the allowable sets."""
    bad = []
    for entry in attributes:
        tag, dot, attribute = entry.lower().partition(".")
        if not dot or (tag != "*" and tag not in ALLOWABLE_TAGS) or (
            attribute not in ALLOWABLE_ATTRIBUTES
        ):
            bad.append(entry)
    if bad:
        raise ValueError(Message(
            "may not allow %(attributes)s (write tag.attribute, e.g. a.href; "
            "no event handlers, style, id or class)",
            attributes=", ".join(bad[:5]),
        ))


@lru_cache(maxsize=32)
def _cleaner(tags: tuple[str, ...], attributes: tuple[str, ...]) -> nh3.Cleaner:
    # Filtered again here, so an allowlist stored before a check existed cannot widen it.
    allowed = {t.lower() for t in tags} & ALLOWABLE_TAGS
    per_tag: dict[str, set[str]] = {}
    for entry in attributes:
        tag, dot, attribute = entry.lower().partition(".")
        if dot and attribute in ALLOWABLE_ATTRIBUTES and (tag == "*" or tag in allowed):
            per_tag.setdefault(tag, set()).add(attribute)
    per_tag.get("a", set()).discard("rel")  # set by the cleaner itself
    return nh3.Cleaner(
        tags=allowed,
        attributes=per_tag,
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_allowed(settings: dict) -> bool:
    return bool(settings.get("allow_user_html", False))


def user_html(text: str | None, settings: dict) -> str:
    """Markup safe to put into a page as it is: escaped text, or the sanitised HTML."""
    text = text or ""
    if not html_allowed(settings):
        return html.escape(text, quote=True)
    cleaner = _cleaner(
        tuple(settings.get("allowed_html_tags") or ()),
        tuple(settings.get("allowed_html_attributes") or ()),
    )
    return cleaner.clean(text)


def plain_text(text: str | None, settings: dict) -> str:
    """What a reader sees, without markup (for attributes, titles, the lightbox line)."""
    text = text or ""
    if not html_allowed(settings):
        return text
    return html.unescape(nh3.clean(text, tags=set()))
