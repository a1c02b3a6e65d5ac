"""Password hashing (argon2id through passlib, as provided by libpass) and the password policy.

Hashing costs tens to hundreds of milliseconds of CPU (the host sets the cost:
`security.password_*`), so callers run it off the event loop (`await hash_password(...)`
does that for them).
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path

from passlib.hash import argon2

# RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes) until the service
# configures its own (`security.password_*`, server/services.py).
_HASHER = argon2.using(type="ID", memory_cost=65536, rounds=3, parallelism=4)
_dummy: tuple = (None, "")  # (hasher, a hash it made) for checks of unknown accounts


def configure(memory_kb: int, rounds: int, parallelism: int) -> None:
    """Hash new passwords with this cost from now on (the process's one setting)."""
    global _HASHER
    if (_HASHER.memory_cost, _HASHER.default_rounds, _HASHER.parallelism) != (memory_kb, rounds, parallelism):
        _HASHER = argon2.using(type="ID", memory_cost=memory_kb, rounds=rounds, parallelism=parallelism)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        # Spend the same time as a real check so timing does not reveal unknown accounts.
        await asyncio.to_thread(_verify_dummy, password)
        return False
    try:
        return await asyncio.to_thread(_HASHER.verify, password, password_hash)
    except (ValueError, TypeError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with another cost than the configured one (then its
    owner's next sign-in, which has the password, stores a new one)."""
    try:
        return _HASHER.needs_update(password_hash)
    except (ValueError, TypeError):
        return False


async def refresh_stored_hash(collection, doc_id, password: str, password_hash: str) -> None:
    """After a right password: store a hash of the configured cost in place of one made with
    another, so raising the cost reaches every account that signs in. Only if the stored hash
    is still the one checked (a password changed meanwhile wins)."""
    if not needs_rehash(password_hash):
        return
    fresh = await hash_password(password)
    await collection.update_one({"_id": doc_id, "password_hash": password_hash}, {"$set": {"password_hash": fresh}})


def _verify_dummy(password: str) -> None:
    """A check against a hash of the configured cost, made once per hasher in the calling
    thread (not at import, not on the event loop: it costs as much as a check)."""
    global _dummy
    hasher, dummy = _dummy
    if hasher is not _HASHER:
        hasher = _HASHER
        dummy = hasher.hash("atrium-dummy-password")
        _dummy = (hasher, dummy)
    hasher.verify(password, dummy)


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
