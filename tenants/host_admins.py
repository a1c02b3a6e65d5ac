"""Host administrators (the hosting provider's people) and their console sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo.errors import DuplicateKeyError

from gallery.people.lockout import Limits, account_key, begin_attempt
from gallery.people.passwords import (
    hash_password,
    password_problem,
    refresh_stored_hash,
    verify_password,
)
from gallery.people.users import username_key
from keys.tokens import hash_token, new_token, token_matches

HOST_PASSWORD_MIN = 12
SESSION_HOURS = 12
# Console sign-ins: the tenants' default lockout (5 failures in 15 minutes lock the name
# for 15) and address throttle (20 attempts in 15 minutes).
HOST_LIMITS = Limits()


class HostAdminError(Exception):
    """A host admin could not be created or signed in; the message says why."""


async def count_admins(host_db) -> int:
    return await host_db.host_admins.count_documents({})


async def create_admin(host_db, username: str, password: str) -> dict:
    name = (username or "").strip()
    if not name or len(name) > 64:
        raise HostAdminError("user name is required (at most 64 characters)")
    problem = password_problem(password, HOST_PASSWORD_MIN, username=name)
    if problem:
        raise HostAdminError(problem)
    doc = {
        "_id": username_key(name),
        "username": name,
        "password_hash": await hash_password(password),
        "created": datetime.now(UTC),
    }
    try:
        await host_db.host_admins.insert_one(doc)
    except DuplicateKeyError:
        raise HostAdminError(f"host admin {name!r} already exists") from None
    await host_db.host_meta.delete_one({"_id": "setup"})
    return doc


async def sign_in(host_db, username: str, password: str, ip: str) -> dict | None:
    """The admin if the password is right, None if wrong. The console is the key to every
    tenant, so it has the tenants' lockout and address throttle (gallery.people.lockout, counted
    in the host database): AccountLocked or AddressThrottled instead of a check."""
    username = (username or "")[:254]
    doc = await host_db.host_admins.find_one({"_id": username_key(username)})
    attempt = await begin_attempt(host_db, account_key(doc, username), ip, HOST_LIMITS)
    if not await verify_password(password or "", doc["password_hash"] if doc else None):
        await attempt.failed()
        return None
    await attempt.succeeded()
    await refresh_stored_hash(host_db.host_admins, doc["_id"], password, doc["password_hash"])
    return doc


async def setup_token(host_db) -> str | None:
    """When no host admin exists, a one-time link to create the first (printed at start-up)."""
    if await count_admins(host_db):
        return None
    token, token_hash = new_token()
    await host_db.host_meta.update_one(
        {"_id": "setup"}, {"$set": {"token_hash": token_hash, "created": datetime.now(UTC)}}, upsert=True
    )
    return token


async def setup_token_valid(host_db, token: str) -> bool:
    doc = await host_db.host_meta.find_one({"_id": "setup"})
    return bool(doc) and token_matches(token or "", doc.get("token_hash"))


async def create_session(host_db, admin: dict) -> str:
    token, token_hash = new_token()
    now = datetime.now(UTC)
    await host_db.host_sessions.insert_one(
        {"_id": token_hash, "admin_id": admin["_id"], "created": now,
         "expires": now + timedelta(hours=SESSION_HOURS)}
    )
    return token


async def admin_for_session(host_db, token: str | None) -> dict | None:
    if not token or len(token) > 200:
        return None
    session = await host_db.host_sessions.find_one({"_id": hash_token(token)})
    if session is None or session["expires"] < datetime.now(UTC):
        return None
    return await host_db.host_admins.find_one({"_id": session["admin_id"]})


async def end_session(host_db, token: str | None) -> None:
    if token:
        await host_db.host_sessions.delete_one({"_id": hash_token(token)})
