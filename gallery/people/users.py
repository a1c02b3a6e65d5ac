"""Tenant user accounts: creation, lookup and credentials."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from pymongo.errors import DuplicateKeyError

from gallery.errors import Conflict, Invalid, NotFound
from gallery.i18n import Message
from gallery.ids import is_id, new_id
from gallery.people.passwords import hash_password, password_problem

USER_VERSION = 1
USERNAME_MAX = 64
EMAIL_MAX = 254
_EMAIL_RE = re.compile(
    r"^[^@\s<>\"'(),;:\\\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def username_key(username: str) -> str:
    """Compare names as people read them: NFKC (folds look-alike forms) and case-insensitive."""
    return unicodedata.normalize("NFKC", username).casefold()


def clean_username(username) -> str:
    if not isinstance(username, str):
        raise Invalid("User name is required.", field_errors={"username": "is required"})
    name = unicodedata.normalize("NFKC", username).strip()
    if not name:
        raise Invalid("User name is required.", field_errors={"username": "is required"})
    if len(name) > USERNAME_MAX:
        raise Invalid(
            Message("User name is too long (at most %(count)s characters).", count=USERNAME_MAX),
            field_errors={"username": Message("at most %(count)s characters", count=USERNAME_MAX)},
        )
    if _CONTROL.search(name):
        raise Invalid(
            "User name contains control characters.",
            field_errors={"username": "contains control characters"},
        )
    return name


def clean_email(email, required: bool = True) -> str:
    if not isinstance(email, str) or not email.strip():
        if required:
            raise Invalid("E-mail address is required.", field_errors={"email": "is required"})
        return ""
    value = email.strip()
    if len(value) > EMAIL_MAX or not _EMAIL_RE.match(value):
        raise Invalid(
            "E-mail address is not valid.", field_errors={"email": "is not a valid address"}
        )
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


async def create_user(
    ctx,
    username: str,
    email: str,
    password: str,
    *,
    role_ids: list[str] | None = None,
    status: str = "active",
    min_length: int = 10,
    email_verified: bool = False,
    extra: dict | None = None,
) -> dict:
    name = clean_username(username)
    address = clean_email(email)
    problem = password_problem(password, min_length, username=name, email=address)
    if problem:
        raise Invalid(problem, field_errors={"password": problem})
    now = datetime.now(UTC)
    user = {
        "_id": new_id(),
        "username": name,
        "username_key": username_key(name),
        "email": address,
        "email_key": address.lower(),
        "email_verified": email_verified,
        "password_hash": await hash_password(password),
        "role_ids": list(role_ids or []),
        "status": status,
        "created": now,
        "password_changed": now,
        "version": USER_VERSION,
        **(extra or {}),
    }
    try:
        await ctx.db.users.insert_one(user)
    except DuplicateKeyError:
        raise Conflict("That user name is taken.", field_errors={"username": "is taken"}) from None
    return user


async def get_user(ctx, user_id: str) -> dict:
    user = await ctx.db.users.find_one({"_id": user_id}) if is_id(user_id) else None
    if user is None:
        raise NotFound("No such user.")
    return user


async def find_by_login(ctx, login: str) -> dict | None:
    """A user by user name, or by e-mail address (case-insensitive)."""
    if not isinstance(login, str) or not login.strip() or len(login) > EMAIL_MAX:
        return None
    key = username_key(login.strip())
    user = await ctx.db.users.find_one({"username_key": key})
    if user is None and "@" in login:
        user = await ctx.db.users.find_one({"email_key": login.strip().lower()})
    return user


async def list_users(
    ctx, query: str = "", *, skip: int = 0, limit: int = 50
) -> tuple[list[dict], int]:
    """Users whose name or e-mail contains `query` (case-insensitive); (page, total)."""
    filt: dict = {}
    if query and query.strip():
        pattern = re.escape(query.strip()[:100])
        filt = {
            "$or": [
                {"username": {"$regex": pattern, "$options": "i"}},
                {"email": {"$regex": pattern, "$options": "i"}},
            ]
        }
    total = await ctx.db.users.count_documents(filt)
    page = (
        await ctx.db.users.find(filt, {"password_hash": 0})
        .sort("username_key", 1)
        .skip(max(0, skip))
        .limit(limit)
        .to_list()
    )
    return page, total


def user_status(user: dict) -> str:
    """active only when every enabled step (verification, approval) is done and not disabled."""
    if user.get("disabled"):
        return "disabled"
    pending = user.get("pending") or []
    if "verify" in pending:
        return "unverified"
    if "approve" in pending:
        return "pending_approval"
    return "active"


async def set_password(ctx, user: dict, password: str, min_length: int) -> None:
    problem = password_problem(
        password, min_length, username=user["username"], email=user.get("email", "")
    )
    if problem:
        raise Invalid(problem, field_errors={"password": problem})
    await ctx.db.users.update_one(
        {"_id": user["_id"]},
        {
            "$set": {
                "password_hash": await hash_password(password),
                "password_changed": datetime.now(UTC),
            }
        },
    )
    # Whatever set it (a reset link, the owner, an administrator), a new password spends
    # every reset link still out: an older mail must not reopen the account.
    await ctx.db.tokens.delete_many({"user_id": user["_id"], "purpose": "reset", "used": False})
