"""Every test of the checker runs with strict witnesses: a counterexample whose witness does
not validate (valid under A, invalid under B) fails the test instead of becoming "unknown"."""

from __future__ import annotations

import pytest

from xmlcompat import witness


@pytest.fixture(autouse=True)
def strict_witnesses(monkeypatch):
    monkeypatch.setattr(witness, "STRICT", True)
