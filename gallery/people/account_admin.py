"""Administrators' actions on accounts: create, disable, approve, unlock, change e-mail,
password and roles, send a reset link, delete. Each one is written to the event log.
"""

from __future__ import annotations

from gallery.errors import Invalid
from gallery.ids import is_id
from gallery.notices.mail import notify_admins, queue_mail
from gallery.people import roles as gallery_roles
from gallery.people.accounts import (
    account_event,
    became_active,
    mail_reset_link,
    remove_user,
    save_state,
    user_vars,
)
from gallery.people.lockout import unlock
from gallery.people.new_accounts import default_role_ids
from gallery.people.sessions import end_user_sessions
from gallery.people.users import (
    clean_email,
    create_user,
    get_user,
    set_password,
)


async def admin_create_user(
    ctx, settings: dict, admin: dict, form: dict, *, urls, queue=None, ip: str = ""
) -> dict:
    # No roles given (an API call without role_ids): the gallery's roles for new accounts.
    role_ids = form.get("role_ids")
    if role_ids is None:
        role_ids = await default_role_ids(ctx, settings)
    if not all(is_id(r) for r in role_ids) or (
        role_ids
        and await ctx.db.roles.count_documents({"_id": {"$in": role_ids}}) != len(set(role_ids))
    ):
        raise Invalid("Unknown role.", field_errors={"role_ids": "unknown role"})
    email = clean_email(form.get("email"))
    username = email if settings.get("email_as_username") else form.get("username")
    user = await create_user(
        ctx,
        username,
        email,
        form.get("password") or "",
        role_ids=list(dict.fromkeys(role_ids)),
        email_verified=True,
        min_length=int(settings.get("password_min_length", 10)),
        extra={"pending": [], "disabled": False,
               "user_album": bool(settings.get("user_album_for_new_accounts", True))},
    )
    await account_event(
        ctx,
        "account",
        f"Account {user['username']} created by {admin['username']}",
        admin,
        ip,
        user,
    )
    await became_active(ctx, user, settings)
    await queue_mail(
        ctx,
        email,
        "account_created",
        {**user_vars(user), "login_url": urls.absolute("/login")},
        queue=queue,
    )
    await notify_admins(
        ctx,
        "admin_new_account",
        {**user_vars(user), "user_url": urls.absolute(f"/admin/users/{user['_id']}")},
        queue=queue,
    )
    return user


async def admin_set_disabled(ctx, admin: dict, user_id: str, disabled: bool, ip: str = "") -> dict:
    user = await get_user(ctx, user_id)
    if disabled:
        await gallery_roles.ensure_admin_remains(ctx, users={user_id: None})
    user = await save_state(ctx, user, disabled=bool(disabled))
    if disabled:
        await end_user_sessions(ctx, user_id)
    verb = "disabled" if disabled else "enabled"
    await account_event(
        ctx, "account", f"Account {user['username']} {verb} by {admin['username']}", admin, ip, user
    )
    return user


async def admin_approve(
    ctx, settings: dict, admin: dict, user_id: str, *, urls, queue=None, ip: str = ""
) -> dict:
    user = await get_user(ctx, user_id)
    if "approve" not in (user.get("pending") or []):
        return user
    user = await save_state(ctx, user, pending=[p for p in user["pending"] if p != "approve"])
    await account_event(
        ctx,
        "account",
        f"Account {user['username']} approved by {admin['username']}",
        admin,
        ip,
        user,
    )
    if user["status"] == "active":
        await became_active(ctx, user, settings)
    await queue_mail(
        ctx,
        user["email"],
        "approved",
        {**user_vars(user), "login_url": urls.absolute("/login")},
        queue=queue,
    )
    return user


async def admin_unlock(ctx, admin: dict, user_id: str, ip: str = "") -> dict:
    user = await get_user(ctx, user_id)
    await unlock(ctx, user_id)
    await account_event(
        ctx,
        "account",
        f"Account {user['username']} unlocked by {admin['username']}",
        admin,
        ip,
        user,
    )
    return user


async def admin_set_email(ctx, admin: dict, user_id: str, email: str, ip: str = "") -> dict:
    user = await get_user(ctx, user_id)
    address = clean_email(email)
    user = await save_state(
        ctx, user, email=address, email_key=address.lower(), email_verified=True
    )
    await account_event(
        ctx,
        "account",
        f"E-mail of {user['username']} changed by {admin['username']}",
        admin,
        ip,
        user,
    )
    return user


async def admin_set_password(
    ctx, settings: dict, admin: dict, user_id: str, password: str, *, urls, queue=None, ip: str = ""
) -> dict:
    user = await get_user(ctx, user_id)
    await set_password(ctx, user, password, int(settings.get("password_min_length", 10)))
    await end_user_sessions(ctx, user_id)
    await account_event(
        ctx,
        "account",
        f"Password of {user['username']} set by {admin['username']}",
        admin,
        ip,
        user,
    )
    await queue_mail(
        ctx,
        user["email"],
        "password_changed_by_admin",
        {**user_vars(user), "forgot_url": urls.absolute("/forgot")},
        queue=queue,
    )
    return user


async def admin_give_album(ctx, settings: dict, admin: dict, user_id: str, ip: str = "") -> dict:
    """Turn the account's personal album on (made now if user albums are on and the account
    is active; otherwise when it becomes so)."""
    user = await get_user(ctx, user_id)
    await ctx.db.users.update_one({"_id": user_id}, {"$set": {"user_album": True}})
    user = {**user, "user_album": True}
    if user.get("status") == "active":
        await became_active(ctx, user, settings)
    await account_event(
        ctx, "account", f"Personal album of {user['username']} turned on by {admin['username']}",
        admin, ip, user,
    )
    return user


async def admin_set_roles(
    ctx, admin: dict, user_id: str, role_ids: list[str], ip: str = ""
) -> dict:
    user = await get_user(ctx, user_id)
    ids = await gallery_roles.set_user_roles(ctx, user_id, role_ids)
    names = (
        [r["name"] for r in await ctx.db.roles.find({"_id": {"$in": ids}}).to_list()] if ids else []
    )
    await account_event(
        ctx,
        "account",
        f"Roles of {user['username']} set by {admin['username']}: "
        f"{', '.join(sorted(names)) or 'none'}",
        admin,
        ip,
        user,
    )
    return {**user, "role_ids": ids}


async def admin_send_reset(
    ctx, admin: dict, user_id: str, *, urls, queue=None, ip: str = ""
) -> dict:
    user = await get_user(ctx, user_id)
    if not user.get("email"):
        raise Invalid("This account has no e-mail address.")
    await mail_reset_link(ctx, user, urls=urls, queue=queue)
    await account_event(
        ctx,
        "account",
        f"Password reset link sent to {user['username']} by {admin['username']}",
        admin,
        ip,
        user,
    )
    return user


async def admin_delete_user(ctx, admin: dict, user_id: str, ip: str = "") -> dict:
    user = await get_user(ctx, user_id)
    await gallery_roles.ensure_admin_remains(ctx, users={user_id: None})
    await remove_user(ctx, user)
    await account_event(
        ctx,
        "account",
        f"Account {user['username']} deleted by {admin['username']}",
        admin,
        ip,
        user,
    )
    return user
