"""Failed sign-ins: accounts lock after N failures in a window; client addresses are throttled.

Gallery Server Pro allowed 50 wrong guesses; here the limits are the tenant's settings
(lockout_attempts / lockout_window_minutes / lockout_minutes). Failures of one client
address are limited too (the login_ip_attempts setting, 20 by default, per IP_WINDOW), whatever account they aim at.
State lives in the tenant database so every process sees the same counts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

IP_ATTEMPTS = 20
IP_WINDOW = timedelta(minutes=15)


def _now() -> datetime:
    return datetime.now(UTC)


def locked_until(user: dict) -> datetime | None:
    """When the account's lock ends, or None if it is not locked now."""
    until = user.get("locked_until")
    return until if until and until > _now() else None


async def record_failure(ctx, user: dict, settings: dict) -> bool:
    """Count a wrong password for this account; return True if the account is now locked."""
    now = _now()
    window = timedelta(minutes=int(settings.get("lockout_window_minutes", 15)))
    failures = [t for t in user.get("login_failures", []) if t > now - window] + [now]
    update: dict = {"login_failures": failures[-100:]}
    locked = len(failures) >= int(settings.get("lockout_attempts", 5))
    if locked:
        update["locked_until"] = now + timedelta(minutes=int(settings.get("lockout_minutes", 15)))
        update["login_failures"] = []
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": update})
    return locked


async def clear_failures(ctx, user: dict) -> None:
    if user.get("login_failures") or user.get("locked_until"):
        await ctx.db.users.update_one(
            {"_id": user["_id"]}, {"$set": {"login_failures": [], "locked_until": None}}
        )


async def unlock(ctx, user_id: str) -> None:
    await ctx.db.users.update_one(
        {"_id": user_id}, {"$set": {"login_failures": [], "locked_until": None}}
    )


async def address_blocked(ctx, ip: str, limit: int = IP_ATTEMPTS) -> bool:
    """True while this client address has had `limit` failed sign-ins in the window."""
    doc = await ctx.db.login_throttle.find_one({"_id": ip or "-"})
    if not doc:
        return False
    recent = [t for t in doc.get("failures", []) if t > _now() - IP_WINDOW]
    return len(recent) >= limit


async def record_address_failure(ctx, ip: str) -> None:
    key = ip or "-"
    now = _now()
    doc = await ctx.db.login_throttle.find_one({"_id": key}) or {}
    recent = [t for t in doc.get("failures", []) if t > now - IP_WINDOW] + [now]
    await ctx.db.login_throttle.update_one(
        {"_id": key}, {"$set": {"failures": recent[-1000:]}}, upsert=True
    )
