"""Account life cycle: registration, e-mail verification, approval, password reset and change,
and the personal album. Administrators' actions on accounts are in gallery.people.account_admin;
`register` itself is in gallery.people.registration (above the unverified-account sweep).

An account signs in only when every enabled step is done: `pending` lists the steps still
open ("verify", "approve"), `disabled` is the admin's switch, and `status` (what sessions
check) is derived from both by gallery.people.users.user_status. Links carry single-use tokens
stored hashed in `tokens`; a reset link lives one hour. Mail goes through gallery.notices.mail
(outbox + job); `urls` is the request's TenantUrls, `queue` the job queue (or None).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from gallery.errors import Conflict, Forbidden, Gone, Invalid, NotFound, TooManyRequests
from gallery.i18n import LANGUAGES
from gallery.ids import is_id
from gallery.library.albums import (
    album_dir,
    album_document,
    default_sort,
    root_album,
    safe_dirname,
    sibling_dirnames,
)
from gallery.media_folder import read_only
from gallery.notices.events import record_event
from gallery.notices.mail import notify_admins, queue_mail
from gallery.people import roles as gallery_roles
from gallery.people.lockout import address_key, count_attempt, unlock
from gallery.people.new_accounts import fill, wants_album
from gallery.people.passwords import password_problem, verify_password
from gallery.people.sessions import end_user_sessions
from gallery.people.users import (
    clean_email,
    find_by_login,
    get_user,
    set_password,
    user_status,
)
from keys.tokens import hash_token, new_token

log = logging.getLogger("atrium.accounts")

TOKEN_VERSION = 1
RESET_HOURS = 1
# Reset mails per account and requests per client address within RESET_HOURS.
RESET_PER_ACCOUNT = 3
RESET_PER_ADDRESS = 10
VERIFY_HOURS = 48


# -- tokens -------------------------------------------------------------------------------


async def issue_token(ctx, user: dict, purpose: str, hours: float) -> str:
    token, token_hash = new_token()
    now = datetime.now(UTC)
    await ctx.db.tokens.insert_one(
        {
            "_id": token_hash,
            "user_id": user["_id"],
            "purpose": purpose,
            "used": False,
            "created": now,
            "expires": now + timedelta(hours=hours),
            "version": TOKEN_VERSION,
        }
    )
    return token


async def peek_token(ctx, token: str, purpose: str) -> dict:
    """The token's record if it can still be used; Gone with a clear reason otherwise."""
    if not isinstance(token, str) or not token or len(token) > 200:
        raise Gone("This link is not valid. Ask for a new one.")
    doc = await ctx.db.tokens.find_one({"_id": hash_token(token), "purpose": purpose})
    if doc is None:
        raise Gone("This link is not valid. Ask for a new one.")
    if doc.get("used"):
        raise Gone("This link has already been used. Ask for a new one.")
    if doc["expires"] < datetime.now(UTC):
        raise Gone("This link has expired. Ask for a new one.")
    return doc


async def use_token(ctx, token: str, purpose: str) -> dict:
    """Claim a token once (atomically): of two uses at the same time exactly one wins."""
    await peek_token(ctx, token, purpose)
    doc = await ctx.db.tokens.find_one_and_update(
        {"_id": hash_token(token), "purpose": purpose, "used": False},
        {"$set": {"used": True, "used_at": datetime.now(UTC)}},
    )
    if doc is None:
        raise Gone("This link has already been used. Ask for a new one.")
    return doc


# -- helpers ------------------------------------------------------------------------------


async def save_state(ctx, user: dict, **changes) -> dict:
    user = {**user, **changes}
    user["status"] = user_status(user)
    await ctx.db.users.update_one(
        {"_id": user["_id"]}, {"$set": {**changes, "status": user["status"]}}
    )
    return user


async def set_language(ctx, user: dict, code: str) -> dict:
    """The member's language for pages and e-mails; "" follows the browser. Stored on the
    user (optional: a user without it follows the browser, so no migration)."""
    if code and code not in LANGUAGES:
        raise Invalid("Choose one of the offered languages.", field_errors={"language": "unknown"})
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": {"language": code}})
    return {**user, "language": code}


def user_vars(user: dict) -> dict:
    return {"username": user["username"], "email": user.get("email", "")}


async def account_event(
    ctx, kind: str, message: str, actor: dict | None, ip: str = "", target: dict | None = None
) -> None:
    details = {"target_id": target["_id"], "target": target["username"]} if target else None
    await record_event(ctx, kind, message, user=actor, ip=ip, details=details)


async def became_active(ctx, user: dict, settings: dict) -> None:
    if settings.get("user_albums") and wants_album(user) and not user.get("album_id"):
        await create_user_album(ctx, user, settings)


# -- verification (registration itself: gallery.people.registration) ----------------------------


async def _send_verification(ctx, user: dict, address: str, *, urls, queue, language: str | None = None) -> None:
    """Issue a verification token and queue the mail carrying its link (in the member's
    language, else `language`: the one the request that asked for it was answered in)."""
    token = await issue_token(ctx, user, "verify", VERIFY_HOURS)
    await queue_mail(
        ctx,
        address,
        "verify",
        {
            **user_vars(user),
            "hours": VERIFY_HOURS,
            "verify_url": urls.absolute("/verify", token=token),
        },
        queue=queue,
        language=user.get("language") or language or "",  # a new address belongs to no member yet
    )


async def _after_verification(ctx, user: dict, settings: dict, *, urls, queue) -> None:
    admin_vars = {**user_vars(user), "user_url": urls.absolute(f"/admin/users/{user['_id']}")}
    if "approve" in (user.get("pending") or []):
        await queue_mail(ctx, user["email"], "awaiting_approval", user_vars(user), queue=queue)
        await notify_admins(ctx, "admin_awaiting_approval", admin_vars, queue=queue)
        return
    await became_active(ctx, user, settings)
    await notify_admins(ctx, "admin_new_account", admin_vars, queue=queue)


async def verify_email(ctx, settings: dict, token: str, *, urls, queue=None) -> dict:
    """Follow a verification link: the address is confirmed; returns the user."""
    doc = await use_token(ctx, token, "verify")
    try:
        user = await get_user(ctx, doc["user_id"])
    except NotFound:
        raise Gone("This link is not valid. Ask for a new one.") from None
    was_pending = "verify" in (user.get("pending") or [])
    pending = [p for p in user.get("pending") or [] if p != "verify"]
    user = await save_state(ctx, user, pending=pending, email_verified=True)
    if was_pending:
        await _after_verification(ctx, user, settings, urls=urls, queue=queue)
    return user


# -- password reset and change ------------------------------------------------------------


async def mail_reset_link(ctx, user: dict, *, urls, queue=None, language: str | None = None) -> None:
    """Issue a single-use reset token for the user and queue the mail carrying its link (in
    the member's language, else `language`)."""
    token = await issue_token(ctx, user, "reset", RESET_HOURS)
    await queue_mail(
        ctx,
        user["email"],
        "reset",
        {**user_vars(user), "reset_url": urls.absolute("/reset", token=token)},
        queue=queue,
        language=user.get("language") or language,
    )


async def request_reset(ctx, login: str, *, urls, queue=None, ip: str = "", language: str | None = None) -> None:
    """Mail a reset link to the account(s) of this address or name. Says nothing about them.

    Limited per client address (TooManyRequests: that says nothing about accounts) and per
    account (further requests within the hour send nothing, and answer the same), each
    counted with one atomic `$inc` (gallery.people.lockout.count_attempt)."""
    window = timedelta(hours=RESET_HOURS)
    by_address = await count_attempt(ctx.db, address_key(ip), window, collection="reset_requests")
    if by_address["count"] > RESET_PER_ADDRESS:
        raise TooManyRequests(
            "Too many password reset requests from your address. Try again in an hour."
        )
    users = []
    if isinstance(login, str) and "@" in login and len(login) <= 254:
        users = await ctx.db.users.find({"email_key": login.strip().lower()}).to_list(10)
    if not users:
        found = await find_by_login(ctx, login)
        users = [found] if found else []
    for user in users:
        if user.get("disabled") or not user.get("email"):
            continue
        mine = await count_attempt(
            ctx.db, f"account:{user['_id']}", window, collection="reset_requests"
        )
        if mine["count"] > RESET_PER_ACCOUNT:
            if mine["count"] == RESET_PER_ACCOUNT + 1:
                await account_event(
                    ctx, "account", f"Reset requests for {user['username']} paused for an hour",
                    None, ip, user,
                )
            continue
        await mail_reset_link(ctx, user, urls=urls, queue=queue, language=language)


async def reset_password(
    ctx,
    settings: dict,
    token: str,
    password: str,
    password2: str,
    *,
    urls,
    queue=None,
    ip: str = "",
) -> dict:
    """Set a new password with a reset link; ends every session; the link is then spent."""
    doc = await peek_token(ctx, token, "reset")
    user = await ctx.db.users.find_one({"_id": doc["user_id"]})
    if user is None or user.get("disabled"):
        raise Gone("This link is not valid. Ask for a new one.")
    _check_new_password(user, settings, password, password2)
    await use_token(ctx, token, "reset")
    await set_password(ctx, user, password, int(settings.get("password_min_length", 10)))
    await end_user_sessions(ctx, user["_id"])
    await unlock(ctx, user["_id"])
    await account_event(
        ctx, "account", f"Password of {user['username']} reset by e-mail link", user, ip, user
    )
    await _mail_password_changed(ctx, user, urls=urls, queue=queue)
    return user


async def _mail_password_changed(ctx, user: dict, *, urls, queue) -> None:
    """Tell the owner their password changed, with a way back in if it was not them."""
    await queue_mail(
        ctx,
        user["email"],
        "password_changed",
        {**user_vars(user), "forgot_url": urls.absolute("/forgot")},
        queue=queue,
    )


def _check_new_password(user: dict, settings: dict, password: str, password2: str) -> None:
    problem = password_problem(
        password,
        int(settings.get("password_min_length", 10)),
        username=user["username"],
        email=user.get("email", ""),
    )
    if problem:
        raise Invalid(problem, field_errors={"password": problem})
    if password != password2:
        raise Invalid(
            "The two passwords differ.", field_errors={"password2": "does not match the password"}
        )


async def change_password(
    ctx,
    settings: dict,
    user: dict,
    current: str,
    password: str,
    password2: str,
    *,
    keep_sid: str | None,
    urls,
    queue=None,
    ip: str = "",
) -> None:
    """Change one's own password (the current one is required); other sessions end."""
    if not await verify_password(current or "", user.get("password_hash")):
        raise Invalid(
            "The current password is not right.", field_errors={"current": "is not right"}
        )
    _check_new_password(user, settings, password, password2)
    await set_password(ctx, user, password, int(settings.get("password_min_length", 10)))
    await end_user_sessions(ctx, user["_id"], keep_sid=keep_sid)
    await account_event(ctx, "account", f"{user['username']} changed their password", user, ip)
    await _mail_password_changed(ctx, user, urls=urls, queue=queue)


async def change_email(
    ctx, settings: dict, user: dict, password: str, email: str, *, urls, queue=None, ip: str = ""
) -> dict:
    if not await verify_password(password or "", user.get("password_hash")):
        raise Invalid(
            "The current password is not right.", field_errors={"current": "is not right"}
        )
    address = clean_email(email)
    if settings.get("email_as_username"):
        raise Invalid(
            "Your e-mail address is your account name here; ask an administrator to change it."
        )
    clash = await ctx.db.users.find_one(
        {"email_key": address.lower(), "_id": {"$ne": user["_id"]}}, {"_id": 1}
    )
    if clash:
        raise Conflict(
            "That address is already used by an account.", field_errors={"email": "is already used"}
        )
    verify = bool(settings.get("require_email_verification"))
    user = await save_state(
        ctx, user, email=address, email_key=address.lower(), email_verified=not verify
    )
    await account_event(
        ctx, "account", f"{user['username']} changed their e-mail address", user, ip
    )
    if verify:
        await _send_verification(ctx, user, address, urls=urls, queue=queue)
    return user


async def delete_own_account(ctx, settings: dict, user: dict, password: str, ip: str = "") -> None:
    if not settings.get("allow_account_deletion"):
        raise Forbidden("Accounts cannot be deleted by their users here; ask an administrator.")
    if not await verify_password(password or "", user.get("password_hash")):
        raise Invalid("The password is not right.", field_errors={"password": "is not right"})
    await gallery_roles.ensure_admin_remains(ctx, users={user["_id"]: None})
    await remove_user(ctx, user)
    await account_event(ctx, "account", f"{user['username']} deleted their account", None, ip, user)


async def remove_user(ctx, user: dict) -> None:
    await delete_user_album(ctx, user)
    await ctx.db.sessions.delete_many({"user_id": user["_id"]})
    await ctx.db.tokens.delete_many({"user_id": user["_id"]})
    await ctx.db.users.delete_one({"_id": user["_id"]})


# -- personal albums ----------------------------------------------------------------------


async def create_user_album(ctx, user: dict, settings: dict) -> dict | None:
    """A personal album under the configured parent (or the root), owned by the user;
    none in a read-only media folder (albums come from its directories, and nobody could
    upload into it)."""
    if read_only(ctx):
        return None
    parent_id = settings.get("user_album_parent_id") or ""
    parent = await ctx.db.albums.find_one({"_id": parent_id}) if is_id(parent_id) else None
    parent = parent or await root_album(ctx)
    if parent is None:
        return None
    title = (fill(settings.get("user_album_title_template") or "{username}", user).strip()
             or user["username"])[:200]
    # Its own directory: an album without one would share (and on deletion, lose) the parent's.
    dirname = safe_dirname(title, await sibling_dirnames(ctx, parent))
    album = album_document(title, parent, owner_id=user["_id"], dirname=dirname)
    album["user_album_of"] = user["_id"]
    album.update(default_sort(settings))
    album["summary"] = fill(settings.get("user_album_summary_template") or "", user)[:2000]
    await asyncio.to_thread(album_dir(ctx, album).mkdir, parents=True, exist_ok=True)
    await ctx.db.albums.insert_one(album)
    await gallery_roles.give_album(ctx, album, user)
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": {"album_id": album["_id"]}})
    return album


async def delete_user_album(ctx, user: dict) -> None:
    """Remove the user's personal album with everything below it: records, originals,
    derivatives and the usage they counted (gallery.library.albums.delete_album does the work)."""
    from gallery.library.albums import delete_album
    from gallery.people.permissions import Viewer

    album = await ctx.db.albums.find_one({"user_album_of": user["_id"]})
    if album is None:
        return
    await gallery_roles.take_album(ctx, album)
    # The account's removal was already authorized; act as the gallery itself would.
    system = Viewer(
        user={"_id": "system", "username": "system"},
        roles=[
            {
                "permissions": ["administer_gallery"],
                "album_ids": [*album.get("ancestors", []), album["_id"]],
            }
        ],
    )
    await delete_album(ctx, system, album["_id"], delete_files=True)
