"""The cyclic garbage collector paused while schemas are loaded and compared.

Loading a schema set with xmlschema and deciding a pair allocate millions of long-lived
objects; every full collection walks all of them again, and on a pair of 1 MB schema sets
those collections took most of the time (a decision of 0.8 s became 3–7 s). Both jobs are
bounded and create little cyclic garbage, so the collector is switched off while any of
them runs (process-wide, hence counted) and switched back on after the last one ends;
whatever garbage they left is collected by the next ordinary collection.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_users = 0
_was_enabled = False


@contextmanager
def paused_gc():
    global _users, _was_enabled
    with _lock:
        if _users == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _was_enabled:
                gc.enable()
