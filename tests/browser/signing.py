"""Signing a gallery's administrator in through the real login form (shared by page tests)."""

from __future__ import annotations

import re


async def sign_in(page, base: str, password: str, login: str = "admin") -> None:
    """Fill and send `base`/login, then wait for the landing page the form sends you to."""
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", password)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(re.compile(r".*/$"))
