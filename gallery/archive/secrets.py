"""A backup's secrets (the SMTP password and every other sealed setting, the sync key's hash)
under a passphrase the admin chooses (docs/backup-format.md, "Secrets").

In the gallery they are sealed with a key derived from the host secret and the tenant
(keys/sealed.py), useless anywhere else; in a backup they travel re-encrypted: scrypt turns
the passphrase and a random salt into an AES-256-GCM key, each value is sealed under it with
its own nonce and its name as associated data (a value cannot be moved to another name), and
a check value sealed the same way tells a wrong passphrase from a damaged backup before
anything is written. Restore re-seals each value under the target gallery's own key.
"""

from __future__ import annotations

import base64
import secrets as random

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

#: scrypt's cost: 32 MB and ~0.1 s per derivation. A document may not ask for more than the
#: bounds (the XSD says so too): a hostile backup must not make restore use gigabytes.
N, R, P = 2 ** 15, 8, 1
MAX_N, MAX_R, MAX_P = 2 ** 16, 8, 2
_NONCE = 12
_CHECK = b"atrium backup secrets v1"
MAX_PASSPHRASE = 1024
MIN_PASSPHRASE = 8


class PassphraseError(Exception):
    """The passphrase does not open the backup's secrets, or they were altered."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    if not (n <= MAX_N and r <= MAX_R and p <= MAX_P and n >= 2 and n & (n - 1) == 0):
        raise PassphraseError(f"the backup asks for scrypt costs beyond this Atrium's bounds (n={n}, r={r}, p={p})")
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def check_passphrase(passphrase: str) -> str:
    if not (MIN_PASSPHRASE <= len(passphrase) <= MAX_PASSPHRASE):
        raise PassphraseError(f"a passphrase has {MIN_PASSPHRASE} to {MAX_PASSPHRASE} characters")
    return passphrase


def seal(clear: dict[str, str], passphrase: str) -> dict:
    """The block backup.xml carries: {kdf, salt, n, r, p, check, items: {name: base64}}.
    Blocking (scrypt): run it off the event loop."""
    check_passphrase(passphrase)
    salt = random.token_bytes(16)
    aead = AESGCM(_key(passphrase, salt, N, R, P))

    def box(name: str, value: bytes) -> str:
        nonce = random.token_bytes(_NONCE)
        return _b64(nonce + aead.encrypt(nonce, value, f"atrium-backup:{name}".encode()))

    return {"kdf": "scrypt", "salt": _b64(salt), "n": N, "r": R, "p": P,
            "check": box("check", _CHECK),
            "items": {name: box(name, value.encode("utf-8")) for name, value in sorted(clear.items())}}


def open_block(block: dict, passphrase: str) -> dict[str, str]:
    """The clear values of a sealed block; PassphraseError when the passphrase is wrong or a
    value was altered. Blocking (scrypt): run it off the event loop."""
    try:
        salt = _unb64(block["salt"])
        aead = AESGCM(_key(passphrase, salt, int(block["n"]), int(block["r"]), int(block["p"])))
    except (KeyError, ValueError, TypeError) as exc:
        raise PassphraseError(f"the backup's secrets are damaged ({exc})") from None

    def unbox(name: str, text: str) -> bytes:
        try:
            raw = _unb64(text)
        except ValueError:
            raise PassphraseError(f"the backup's secret {name!r} is damaged (not base64)") from None
        if len(raw) < _NONCE + 16:
            raise PassphraseError(f"the backup's secret {name!r} is damaged (too short)")
        return aead.decrypt(raw[:_NONCE], raw[_NONCE:], f"atrium-backup:{name}".encode())

    try:
        if unbox("check", block["check"]) != _CHECK:
            raise InvalidTag()
    except InvalidTag:
        raise PassphraseError("the passphrase is wrong: it does not open this backup's secrets") from None
    out = {}
    for name, text in (block.get("items") or {}).items():
        try:
            out[name] = unbox(name, text).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            # The check opened, so the passphrase is right: this value was changed.
            raise PassphraseError(f"the backup's secret {name!r} was altered (it does not "
                                  f"authenticate under the right passphrase)") from None
    return out
