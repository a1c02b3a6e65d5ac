"""Languages: the gettext catalogues in locale/ loaded into Tornado's locale support, the
choice of a member's language, and dates and numbers written the way that language does.

Catalogues are `locale/<lang>/LC_MESSAGES/atrium.po`, compiled to `.mo` and committed
(docs/languages.md says how to extract, translate and compile). Tornado picks the closest
loaded language for a code ("de-AT" -> "de") and falls back to English.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path

import tornado.locale
from babel import Locale as BabelLocale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "atrium"
DEFAULT = "en"
#: The languages a member can choose, each named in its own words (never translated).
LANGUAGES = {"en": "English", "de": "Deutsch"}


@functools.cache
def load() -> None:
    """Load the compiled catalogues into Tornado once per process (every page asks: the
    .mo files are read from disk the first time only)."""
    tornado.locale.set_default_locale(DEFAULT)
    tornado.locale.load_gettext_translations(str(LOCALE_DIR), DOMAIN)


def get(code: str | None) -> tornado.locale.Locale:
    """The Tornado locale for a language code; anything unknown is English."""
    load()
    if code not in LANGUAGES:
        code = DEFAULT
    return tornado.locale.get(code)


def member_language(user: dict | None) -> str | None:
    """The language a member chose on their account page, or None (the browser decides)."""
    code = (user or {}).get("language")
    return code if code in LANGUAGES else None


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


class Message(str):
    """A message with values: `Message("Folders may be nested at most %(depth)s deep.",
    depth=8)` is the English text (a plain `str` to everything that reads it: logs, tests,
    the JSON of an API client that asks for English) and keeps its template and values, so
    a handler shows it in the asker's language (handlers/base.py `BaseHandler.translate`).
    A value that is itself a Message is translated too; any other value is data, shown as it
    is. The template is extracted like N_'s argument (server/i18n_extract.py)."""

    template: str
    values: dict

    def __new__(cls, template: str, **values):
        self = super().__new__(cls, template % values if values else template)
        self.template, self.values = template, values
        return self

    def __reduce__(self):  # pickled (process pool) as what it says and how it was made
        return _message, (self.template, self.values)

    def translated(self, translate) -> str:
        """The message through `translate` (a locale's `translate`); English on any mismatch."""
        values = {k: v.translated(translate) if isinstance(v, Message) else v for k, v in self.values.items()}
        try:
            return translate(self.template) % values if values else translate(self.template)
        except (KeyError, ValueError, TypeError):  # a translation that lost a placeholder
            return str(self)


def _message(template: str, values: dict) -> Message:
    return Message(template, **values)


def reason(exc) -> Message:
    """A media error's reason (media.errors.MediaError) as a Message, with its values."""
    return Message(getattr(exc, "template", exc.reason), **getattr(exc, "values", {}))


class Formats:
    """Dates and numbers written per language (Babel's CLDR data), for templates."""

    def __init__(self, code: str):
        self.locale = BabelLocale.parse(code if code in LANGUAGES else DEFAULT)

    def date(self, value: date | datetime | None, format: str = "medium") -> str:
        return babel_dates.format_date(value, format, locale=self.locale) if value else ""

    def datetime(self, value: datetime | None, format: str = "medium") -> str:
        """A UTC timestamp (the database keeps UTC), written with its zone."""
        if not value:
            return ""
        return babel_dates.format_datetime(value, format, tzinfo=babel_dates.UTC, locale=self.locale) + " UTC"

    def month(self, value: str) -> str:
        """"2026-03" as "March 2026" / "März 2026"."""
        year, month = int(value[:4]), int(value[5:7])
        return babel_dates.format_skeleton("yMMMM", date(year, month, 1), locale=self.locale)

    def number(self, value: float | None) -> str:
        return babel_numbers.format_decimal(value or 0, locale=self.locale)


@functools.cache
def formats(code: str) -> Formats:
    return Formats(code)
