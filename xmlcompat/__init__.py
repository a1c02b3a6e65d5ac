"""xmlcompat: compatibility of XML language versions (schema + rules), decided exactly where
XSD allows it, every incompatibility proved by a witness document. Knows nothing of Atrium.

    from xmlcompat import check, load_language, CompatError
"""

from xmlcompat.errors import CompatError
from xmlcompat.loader import Language, load_language

__all__ = ["CompatError", "Language", "check", "check_history", "load_language"]


def __getattr__(name):
    # check/check_history pull in the whole decision machinery; import it on first use.
    if name in ("check", "check_history"):
        from xmlcompat import compare

        return getattr(compare, name)
    raise AttributeError(name)
