"""The one exception the checker raises for bad input."""

from __future__ import annotations


class CompatError(Exception):
    """Bad input (a schema or rule file that cannot be used): str() is one line naming the
    file and the problem, printed as is by the command line (exit status 2)."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
