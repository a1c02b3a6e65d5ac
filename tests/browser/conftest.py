"""Headless Chromium (Debian's) driven by Playwright against the real running app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import pytest_asyncio

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest_asyncio.fixture
async def browser_page():
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed (./atrium test installs it)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
def shot():
    """Save a screenshot for reviewers under test-output/screenshots/."""

    async def take(page, name: str) -> Path:
        path = SHOTS / f"{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    return take
