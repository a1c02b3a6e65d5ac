"""Failed sign-ins: accounts lock after N failures in a window; client addresses are throttled.

Gallery Server Pro allowed 50 wrong guesses; here the limits are the tenant's settings
(lockout_attempts / lockout_window_minutes / lockout_minutes). Attempts from one client
address are limited too (the login_ip_attempts setting, 20 by default, per IP_WINDOW),
whatever account they aim at. The host console uses the same rules on the host database.

Counting is what makes this hold under parallel requests: every attempt first takes a
slot with one atomic `$inc` that returns the new count, and the decision is made on that
count *before* the password is checked. Fifty guesses sent at once get fifty different
counts, so only the first `lockout_attempts` of them are ever checked, and the failure
that reaches the limit locks the account (a read, a slow password check and a write
would let every one of them through). A right password gives its slot back.

Names that are no account are counted and locked exactly like accounts, so "locked"
says nothing about whether an account exists. State lives in the database
(`login_attempts`: one document per account key and per address) so every process
sees the same counts.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from gallery.errors import Forbidden, TooManyRequests
from gallery.people.users import username_key

IP_ATTEMPTS = 20
IP_WINDOW = timedelta(minutes=15)
# Longer than any window (the lockout window setting goes up to a day).
STALE = timedelta(days=2)
# "Not locked": a real datetime rather than null, so one range query covers both cases.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


class AddressThrottled(TooManyRequests):
    """Too many attempts from one client address."""


class AccountLocked(Forbidden):
    """The account (or a name that is no account) is locked."""

    code = "locked"


ADDRESS_MESSAGE = "Too many failed sign-ins from your address. Try again in a few minutes."
LOCKED_MESSAGE = (
    "This account is locked after too many failed sign-ins. Try again later "
    "or ask an administrator to unlock it."
)


@dataclass(frozen=True)
class Limits:
    attempts: int = 5
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)
    address_attempts: int = IP_ATTEMPTS

    @classmethod
    def from_settings(cls, settings: dict) -> Limits:
        return cls(
            attempts=int(settings.get("lockout_attempts", 5)),
            window=timedelta(minutes=int(settings.get("lockout_window_minutes", 15))),
            lock=timedelta(minutes=int(settings.get("lockout_minutes", 15))),
            address_attempts=int(settings.get("login_ip_attempts", IP_ATTEMPTS)),
        )


def _now() -> datetime:
    return datetime.now(UTC)


def account_key(user: dict | None, login: str) -> str:
    """The counter of an account, or of a name that is no account (same treatment)."""
    if user is not None:
        return f"account:{user['_id']}"
    return "name:" + username_key((login or "").strip()[:254])


def address_key(ip: str) -> str:
    """The counter of a client address. IPv6 clients usually hold a whole /64 and could
    take a fresh address for every guess, so they are counted per /64."""
    try:
        parsed = ipaddress.ip_address((ip or "").split("%", 1)[0])
    except ValueError:
        return f"address:{ip or '-'}"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return f"address:{parsed.ipv4_mapped}"
        return f"address:{ipaddress.ip_network(f'{parsed}/64', strict=False)}"
    return f"address:{parsed}"


async def count_attempt(
    db,
    key: str,
    window: timedelta,
    now: datetime | None = None,
    *,
    collection: str = "login_attempts",
) -> dict:
    """Count one attempt; the counter as it is after this attempt's `$inc` (its `count` is
    this attempt's place in the window: decide on it, not on a separate read)."""
    now = now or _now()
    coll = db[collection]
    # A window that ended (and no lock running) starts again from zero. Two requests may
    # both reset it; the filter stops a reset once either has moved `since` on.
    fresh = {"$set": {"count": 0, "since": now, "locked_until": NEVER}}
    await coll.update_one(
        {"_id": key, "since": {"$lt": now - window}, "locked_until": {"$lt": now}}, fresh
    )
    # A lock that ran out starts the count again too, even inside the window (a lock
    # shorter than the window would otherwise last as long as the window).
    await coll.update_one({"_id": key, "locked_until": {"$gt": NEVER, "$lt": now}}, fresh)
    for _ in range(2):
        doc = await coll.find_one_and_update(
            {"_id": key}, {"$inc": {"count": 1}}, return_document=ReturnDocument.AFTER
        )
        if doc is not None:
            return doc
        try:
            doc = {"_id": key, "count": 1, "since": now, "locked_until": NEVER}
            await coll.insert_one(doc)
        except DuplicateKeyError:
            continue  # a parallel first attempt made it: count on it
        # Each new name or address adds a counter: those whose every window ended long
        # ago (and whose lock ran out) go, so guessing names cannot grow the collection.
        await coll.delete_many({"since": {"$lt": now - STALE}, "locked_until": {"$lt": now}})
        return doc
    raise RuntimeError(f"login counter {key} could not be taken")


def _locked(doc: dict, now: datetime) -> bool:
    until = doc.get("locked_until")
    return bool(until and until > now)


@dataclass
class Attempt:
    """One sign-in attempt that was allowed to check its password."""

    db: object
    account: str
    address: str
    count: int
    limits: Limits

    async def failed(self) -> datetime | None:
        """The password was wrong; returns when the lock ends if this failure locked it."""
        if self.count < self.limits.attempts:
            return None
        until = _now() + self.limits.lock
        await self.db.login_attempts.update_one(
            {"_id": self.account}, {"$set": {"locked_until": until}}
        )
        return until

    async def succeeded(self) -> None:
        """The password was right: the account starts again; the address gets its slot back."""
        await self.db.login_attempts.update_one(
            {"_id": self.account}, {"$set": {"count": 0, "locked_until": NEVER}}
        )
        await self.db.login_attempts.update_one(
            {"_id": self.address, "count": {"$gt": 0}}, {"$inc": {"count": -1}}
        )


async def begin_attempt(db, account: str, ip: str, limits: Limits) -> Attempt:
    """Take a slot for one attempt; AddressThrottled or AccountLocked instead of a check."""
    now = _now()
    address = address_key(ip)
    by_address = await count_attempt(db, address, IP_WINDOW, now)
    if by_address["count"] > limits.address_attempts:
        raise AddressThrottled(ADDRESS_MESSAGE)
    by_account = await count_attempt(db, account, limits.window, now)
    if _locked(by_account, now) or by_account["count"] > limits.attempts:
        raise AccountLocked(LOCKED_MESSAGE)
    return Attempt(db, account, address, by_account["count"], limits)


async def lock_ends(db, account: str) -> datetime | None:
    """When the account's lock ends, or None if it is not locked now."""
    doc = await db.login_attempts.find_one({"_id": account})
    now = _now()
    return doc["locked_until"] if doc and _locked(doc, now) else None


async def note_user_failure(ctx, user: dict, count: int, until: datetime | None) -> None:
    """Show a real account's failures and lock on the user, for the admin pages."""
    update: dict = {"login_failures": count}
    if until is not None:
        update["locked_until"] = until
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": update})


async def clear_user_failures(ctx, user: dict) -> None:
    if user.get("login_failures") or user.get("locked_until"):
        await ctx.db.users.update_one(
            {"_id": user["_id"]}, {"$set": {"login_failures": 0, "locked_until": None}}
        )


def locked_until(user: dict) -> datetime | None:
    """When the account's lock ends (as last recorded on the user), or None."""
    until = user.get("locked_until")
    return until if until and until > _now() else None


async def unlock(ctx, user_id: str) -> None:
    await ctx.db.login_attempts.delete_one({"_id": f"account:{user_id}"})
    await ctx.db.users.update_one(
        {"_id": user_id}, {"$set": {"login_failures": 0, "locked_until": None}}
    )
