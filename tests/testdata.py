"""The project's shared test data (../shared/testdata beside the checkout).

Missing data fails the run with the path it looked for: a run that silently skipped the real
camera files (or any other shared file) would pass for the wrong reason. CI always has it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"


def shared_data(*parts: str) -> Path:
    """The path of shared test data; fails (never skips) when it is not there."""
    path = SHARED_TESTDATA.joinpath(*parts)
    if not path.exists():
        pytest.fail(
            f"test data missing: {path} (the project's shared/testdata must sit beside the checkout)",
            pytrace=False,
        )
    return path
