"""Single-use secret tokens: random, stored only as a hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> tuple[str, str]:
    """Return (token for the link, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str, stored_hash: str | None) -> bool:
    return bool(stored_hash) and hmac.compare_digest(hash_token(token), stored_hash)


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose (e.g. one tenant's cookies) derived from the host secret."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()
