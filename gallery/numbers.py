"""Whole numbers from text, parsed one strict way for every query argument, header and field.

Python's `int()` takes more than a client should send: other scripts' digits (`"٣"`),
underscores (`"1_000"`), surrounding spaces, and `str.isdigit()` even says yes to
superscripts (`"²³"`) that `int()` then refuses with a ValueError. Here a number is ASCII
digits with an optional leading minus, at most 30 of them; anything else is `Invalid` (400).
"""

from __future__ import annotations

import re

from gallery.errors import Invalid
from gallery.i18n import Message

_WHOLE = re.compile(r"-?[0-9]{1,30}")


def whole_number(name: str, value) -> int:
    """`value` (an int, or its text in ASCII digits) as an int, or Invalid naming `name`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        return int(value)
    raise Invalid(Message("%(name)s must be a whole number.", name=name), field_errors={name: "must be a whole number"})


def bounded_int(name: str, value, minimum: int, maximum: int) -> int:
    """A whole number (int or its text) within [minimum, maximum], or Invalid naming `name`."""
    number = whole_number(name, value)
    if not minimum <= number <= maximum:
        raise Invalid(
            Message("%(name)s must be between %(minimum)s and %(maximum)s.", name=name, minimum=minimum, maximum=maximum),
            field_errors={name: Message("must be between %(minimum)s and %(maximum)s", minimum=minimum, maximum=maximum)},
        )
    return number
