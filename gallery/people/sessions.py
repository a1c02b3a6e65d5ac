"""Sign-in sessions recorded in the tenant database, so they can be listed and revoked.

The cookie carries a random session token; the database stores only its hash.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gallery.cached import fresh_copy
from gallery.ids import new_id
from keys.tokens import hash_token, new_token

SESSION_DAYS = 30
# last_seen is written at most this often, so browsing costs no write per request.
TOUCH_SECONDS = 300


async def create_session(ctx, user: dict, ip: str, user_agent: str) -> str:
    token, token_hash = new_token()
    now = datetime.now(UTC)
    await ctx.db.sessions.insert_one(
        {
            "_id": token_hash,
            "sid": new_id(),  # a public id for listing/revoking; the hash never leaves the server
            "user_id": user["_id"],
            "created": now,
            "last_seen": now,
            "expires": now + timedelta(days=SESSION_DAYS),
            "ip": ip,
            "user_agent": (user_agent or "")[:300],
        }
    )
    return token


async def user_for_session(ctx, token: str) -> tuple[dict, dict] | None:
    """(session, user) for a live session token, or None."""
    if not token or len(token) > 200:
        return None
    token_hash = hash_token(token)
    now = datetime.now(UTC)
    # Cached on the context until any write to the tenant's database (a revoked session,
    # a disabled user, a role change) or a few seconds pass; callers get their own copies.
    key = ("session", token_hash)
    found = ctx.cached(key)
    if found is None:
        generation = ctx.generation
        session = await ctx.db.sessions.find_one({"_id": token_hash})
        user = await ctx.db.users.find_one({"_id": session["user_id"]}) if session else None
        found = (session, user)
        ctx.remember(key, found, generation)
    session, user = fresh_copy(found)
    if session is None or session["expires"] < now:
        return None
    if user is None or user.get("status") != "active":
        return None
    if (now - session["last_seen"]).total_seconds() > TOUCH_SECONDS:
        await ctx.db.sessions.update_one({"_id": session["_id"]}, {"$set": {"last_seen": now}})
    return session, user


async def end_session(ctx, token: str) -> None:
    if token:
        await ctx.db.sessions.delete_one({"_id": hash_token(token)})


async def end_user_sessions(ctx, user_id: str, keep_sid: str | None = None) -> int:
    query = {"user_id": user_id}
    if keep_sid:
        query["sid"] = {"$ne": keep_sid}
    result = await ctx.db.sessions.delete_many(query)
    return result.deleted_count
