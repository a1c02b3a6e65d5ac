"""Self-registration: create an account and mail its next step. Above gallery.people.accounts
and gallery.people.account_sweep (stale unverified accounts go first, so an abandoned
registration frees its name), which both stay below it."""

from __future__ import annotations

from gallery.errors import Forbidden, Invalid
from gallery.people.account_sweep import schedule_sweep, sweep_unverified
from gallery.people.accounts import _after_verification, _send_verification, account_event
from gallery.people.new_accounts import default_role_ids
from gallery.people.passwords import password_problem
from gallery.people.users import clean_email, clean_username, create_user, user_status


async def register(ctx, settings: dict, form: dict, *, urls, queue=None, ip: str = "",
                   language: str | None = None) -> dict:
    """Create a self-registered account; mails the next step. Returns the user."""
    if not settings.get("allow_registration"):
        raise Forbidden("This gallery does not accept new accounts.")
    # Stale unverified accounts go first, so an abandoned registration frees its name.
    await sweep_unverified(ctx, int(settings.get("unverified_account_days", 7)))
    errors: dict[str, str] = {}
    email = username = ""
    try:
        email = clean_email(form.get("email"))
    except Invalid as exc:
        errors.update(exc.field_errors)
    if settings.get("email_as_username"):
        username = email
    else:
        try:
            username = clean_username(form.get("username"))
        except Invalid as exc:
            errors.update(exc.field_errors)
    password = form.get("password") or ""
    problem = password_problem(
        password, int(settings.get("password_min_length", 10)), username=username, email=email
    )
    if problem:
        errors["password"] = problem
    elif password != form.get("password2"):
        errors["password2"] = "does not match the password"
    if (
        email
        and not errors.get("email")
        and await ctx.db.users.find_one({"email_key": email.lower()}, {"_id": 1})
    ):
        errors["email"] = "is already used by an account"
    if errors:
        raise Invalid("Please correct the marked fields.", field_errors=errors)
    pending = []
    if settings.get("require_email_verification"):
        pending.append("verify")
    if settings.get("require_approval"):
        pending.append("approve")
    user = await create_user(
        ctx,
        username,
        email,
        password,
        role_ids=await default_role_ids(ctx, settings),
        status=user_status({"pending": pending}),
        email_verified=False,
        min_length=int(settings.get("password_min_length", 10)),
        extra={"pending": pending, "disabled": False, "registered": True,
               "user_album": bool(settings.get("user_album_for_new_accounts", True))},
    )
    await account_event(ctx, "account", f"Account {user['username']} registered", None, ip, user)
    if "verify" in pending:
        await _send_verification(ctx, user, email, urls=urls, queue=queue, language=language)
        await schedule_sweep(ctx, queue, int(settings.get("unverified_account_days", 7)))
    else:
        await _after_verification(ctx, user, settings, urls=urls, queue=queue)
    return user
