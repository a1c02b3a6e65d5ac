"""Secrets kept in settings (the SMTP password), sealed per tenant.

AES-256-GCM under a key derived from the host secret and the tenant ("enc2:"), bound to
the tenant's slug. Values written by the earlier HMAC-SHA256 stream cipher ("enc1:") still
decrypt; `encrypt_secret` turns them into "enc2:". `ctx` is anything with the tenant's
`cookie_key` and `slug` (a TenantContext): this module sits below settings and mail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys.tokens import derive_key

_PREFIX = "enc2:"
_LEGACY_PREFIX = "enc1:"
_NONCE = 12


def _keys(ctx) -> tuple[bytes, bytes]:
    base = derive_key(ctx.cookie_key.hex(), "settings-secret:v1").hex()
    return derive_key(base, "encrypt"), derive_key(base, "mac")


def _aead(ctx) -> AESGCM:
    base = derive_key(ctx.cookie_key.hex(), "settings-secret:v2").hex()
    return AESGCM(derive_key(base, "aes-256-gcm"))


def _associated(ctx) -> bytes:
    # Binds a stored value to its tenant: copying it into another gallery does not decrypt.
    return f"atrium-secret:{ctx.slug}".encode()


def encrypt_secret(ctx, value: str) -> str:
    """AES-GCM under the tenant's key; an old "enc1:" value is re-encrypted."""
    if value.startswith(_PREFIX):
        return value
    if value.startswith(_LEGACY_PREFIX):
        value = _legacy_decrypt(ctx, value)
    nonce = secrets.token_bytes(_NONCE)
    cipher = _aead(ctx).encrypt(nonce, value.encode(), _associated(ctx))
    return _PREFIX + base64.urlsafe_b64encode(nonce + cipher).decode()


def decrypt_secret(ctx, stored: str) -> str:
    """The clear value; '' when it is missing or does not authenticate (e.g. another host secret)."""
    if not stored:
        return ""
    if stored.startswith(_LEGACY_PREFIX):
        return _legacy_decrypt(ctx, stored)
    if not stored.startswith(_PREFIX):
        return ""
    try:
        raw = base64.urlsafe_b64decode(stored[len(_PREFIX) :])
    except ValueError:
        return ""
    if len(raw) < _NONCE + 16:
        return ""
    try:
        plain = _aead(ctx).decrypt(raw[:_NONCE], raw[_NONCE:], _associated(ctx))
    except InvalidTag:
        return ""
    return plain.decode()


def is_legacy(value) -> bool:
    """An "enc1:" value (gallery.settings re-seals these whenever settings are saved)."""
    return isinstance(value, str) and value.startswith(_LEGACY_PREFIX)


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
    return bytes(out[:length])


def legacy_encrypt_secret(ctx, value: str) -> str:
    """The retired "enc1:" format (HMAC-SHA256 keystream + MAC); kept so tests can make one."""
    enc, mac = _keys(ctx)
    nonce = secrets.token_bytes(16)
    plain = value.encode()
    cipher = bytes(a ^ b for a, b in zip(plain, _keystream(enc, nonce, len(plain)), strict=True))
    tag = hmac.new(mac, nonce + cipher, hashlib.sha256).digest()
    return _LEGACY_PREFIX + base64.urlsafe_b64encode(nonce + cipher + tag).decode()


def _legacy_decrypt(ctx, stored: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(stored[len(_LEGACY_PREFIX) :])
    except ValueError:
        return ""
    if len(raw) < 48:
        return ""
    nonce, cipher, tag = raw[:16], raw[16:-32], raw[-32:]
    enc, mac = _keys(ctx)
    if not hmac.compare_digest(tag, hmac.new(mac, nonce + cipher, hashlib.sha256).digest()):
        return ""
    return bytes(
        a ^ b for a, b in zip(cipher, _keystream(enc, nonce, len(cipher)), strict=True)
    ).decode()
