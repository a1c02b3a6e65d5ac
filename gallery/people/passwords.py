"""Password hashing (argon2id through passlib, as provided by libpass) and the password policy.

Hashing costs tens of milliseconds of CPU, so callers run it off the event loop
(`await hash_password(...)` does that for them).
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path

from passlib.hash import argon2

_HASHER = argon2.using(type="ID")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        # Spend the same time as a real check so timing does not reveal unknown accounts.
        await asyncio.to_thread(_HASHER.verify, password, _DUMMY_HASH)
        return False
    try:
        return await asyncio.to_thread(_HASHER.verify, password, password_hash)
    except (ValueError, TypeError):
        return False


_DUMMY_HASH = _HASHER.hash("atrium-dummy-password")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(
        line.strip().lower() for line in path.read_text().splitlines() if line.strip()
    )


def password_problem(password: str, min_length: int, *, username: str = "", email: str = "") -> str | None:
    """Why a password is not acceptable, or None when it is."""
    if not isinstance(password, str) or len(password) < min_length:
        return f"Use at least {min_length} characters."
    if len(password) > 1024:
        return "Use at most 1024 characters."
    lowered = password.lower()
    if lowered in common_passwords():
        return "This password is one of the most common ones; choose another."
    if len(set(password)) < 4:
        return "Use more different characters."
    for name in (username.lower(), email.lower().split("@")[0]):
        if len(name) >= 3 and name in lowered:
            return "The password must not contain your user name or e-mail."
    stripped = lowered.rstrip("0123456789!?.")
    if stripped in common_passwords() and len(stripped) >= 4:
        return "This password is a common one with a few characters added; choose another."
    return None
