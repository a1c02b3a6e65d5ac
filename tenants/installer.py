"""The per-tenant installer: one use of a hashed, expiring token creates the gallery.

Validation happens before the token is claimed; the claim is one atomic update, so of
two installers racing with the same token exactly one wins. If setting up the gallery
then fails, everything made is removed and the token works again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from gallery.errors import Forbidden, Gone, Invalid
from gallery.library.albums import album_document
from gallery.people import roles as gallery_roles
from gallery.people.passwords import password_problem
from gallery.people.users import clean_email, clean_username, create_user
from gallery.settings import update_settings
from keys.tokens import hash_token, token_matches

log = logging.getLogger("atrium.install")

MIN_PASSWORD = 10


def check_token(record: dict, token: str | None) -> None:
    """Raise Forbidden/Gone unless this token may run the installer now."""
    if record.get("status") not in ("installing",):
        raise Gone("This gallery is already installed; the installer is closed.")
    if not token:
        raise Forbidden("The installer needs the link your host gave you.")
    installer = record.get("installer") or {}
    if not token_matches(token, installer.get("token_hash")):
        raise Forbidden("This installer link is not valid. Ask your host for a new one.")
    if installer.get("expires") and installer["expires"] < datetime.now(UTC):
        raise Gone("This installer link has expired. Ask your host for a new one.")


async def finish_install(registry, ctx, token: str, form: dict) -> dict:
    """Validate the form, claim the token, create root album, roles and admin; return the admin."""
    check_token(ctx.record, token)
    title = (form.get("title") or "").strip()
    errors = {}
    if not title or len(title) > 200:
        errors["title"] = "is required (at most 200 characters)"
    try:
        username = clean_username(form.get("username"))
    except Invalid as exc:
        errors.update(exc.field_errors)
        username = ""
    try:
        email = clean_email(form.get("email"))
    except Invalid as exc:
        errors.update(exc.field_errors)
        email = ""
    password = form.get("password") or ""
    problem = password_problem(password, MIN_PASSWORD, username=username, email=email)
    if problem:
        errors["password"] = problem
    elif password != form.get("password2", password):
        errors["password2"] = "does not match the password"
    if errors:
        raise Invalid("Please correct the marked fields.", field_errors=errors)

    host = registry.host_db
    now = datetime.now(UTC)
    claimed = await host.tenants.find_one_and_update(
        {"_id": ctx.slug, "status": "installing", "installer.token_hash": hash_token(token)},
        {"$set": {"status": "finishing", "installer.claimed": now}},
    )
    if claimed is None:
        raise Gone("This installer link has just been used.")
    db = ctx.db
    try:
        root = album_document(title, None)
        root["dirname"] = ""
        await db.albums.insert_one(root)
        roles = gallery_roles.builtin_roles(root["_id"])
        await db.roles.insert_many(roles)
        admin_role = next(r for r in roles if r["builtin"] == "administrators")
        admin = await create_user(
            ctx, username, email, password, role_ids=[admin_role["_id"]],
            min_length=MIN_PASSWORD, email_verified=True,
        )
        await update_settings(ctx, {"gallery_title": title})
        await host.tenants.update_one(
            {"_id": ctx.slug},
            {"$set": {"status": "active", "title": title, "installed": now},
             "$unset": {"installer": ""}},
        )
    except BaseException:
        log.exception("installing %s failed; rolling back", ctx.slug)
        for name in ("albums", "roles", "users", "settings", "sessions"):
            await db[name].delete_many({})
        await host.tenants.update_one(
            {"_id": ctx.slug, "status": "finishing"},
            {"$set": {"status": "installing"}, "$unset": {"installer.claimed": ""}},
        )
        raise
    finally:
        registry.forget(ctx.slug)
    log.info("tenant %s installed by %s", ctx.slug, username)
    return admin
