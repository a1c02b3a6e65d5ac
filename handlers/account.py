"""The signed-in user's own account: e-mail, password, sessions, deleting the account."""

from __future__ import annotations

from gallery.errors import GalleryError
from gallery.people import accounts
from gallery.people.sessions import end_user_sessions
from handlers.auth import AccountPageHandler

_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_agent(user_agent: str, _=lambda message: message) -> tuple[str, bool]:
    """("Firefox on Windows", is_phone) from a User-Agent, so people recognise their sessions;
    `_` translates the words around the names."""
    ua = user_agent or ""
    browser = next((name for key, name in _BROWSERS if key in ua), "")
    system = next((name for key, name in _SYSTEMS if key in ua), "")
    if not browser and not system:
        return (_("Unknown browser") if not ua else ua[:60]), False
    if system:
        text = _("%(browser)s on %(system)s") % {"browser": browser or _("A browser"), "system": system}
    else:
        text = browser
    return text, "Mobile" in ua or system in ("Android", "iPhone")


class AccountHandler(AccountPageHandler):
    async def page(self, notice=None, errors=None, status=200) -> None:
        sessions = (
            await self.tenant.db.sessions.find({"user_id": self.user["_id"]})
            .sort("last_seen", -1)
            .to_list(100)
        )
        self.set_status(status)
        self.render(
            "account/account.html",
            describe_agent=lambda user_agent: describe_agent(user_agent, self._),
            sessions=sessions,
            current_sid=self.session["sid"],
            notice=notice,
            errors=errors or {},
        )

    async def get(self) -> None:
        self.require_user()
        await self.page()

    async def post(self) -> None:
        self.require_user()
        action = self.get_body_argument("action", "")
        ctx, settings, ip = self.tenant, self.settings_values, self.client_ip()
        try:
            if action == "email":
                await accounts.change_email(
                    ctx,
                    settings,
                    self.user,
                    self.get_body_argument("current", ""),
                    self.get_body_argument("email", ""),
                    urls=self.mail_urls,
                    queue=self.job_queue,
                    ip=ip,
                )
                self.user = await ctx.db.users.find_one({"_id": self.user["_id"]})
                notice = self._("Your e-mail address was changed.")
            elif action == "password":
                await accounts.change_password(
                    ctx,
                    settings,
                    self.user,
                    self.get_body_argument("current", ""),
                    self.get_body_argument("password", ""),
                    self.get_body_argument("password2", ""),
                    keep_sid=self.session["sid"],
                    urls=self.mail_urls,
                    queue=self.job_queue,
                    ip=ip,
                )
                notice = self._("Your password was changed; your other sessions were signed out.")
            elif action == "revoke":
                sid = self.get_body_argument("sid", "")[:24]
                result = await ctx.db.sessions.delete_one({"user_id": self.user["_id"], "sid": sid})
                notice = (
                    self._("The session was signed out.") if result.deleted_count
                    else self._("No such session.")
                )
            elif action == "revoke_others":
                count = await end_user_sessions(ctx, self.user["_id"], keep_sid=self.session["sid"])
                notice = self._(
                    "%(count)d other session signed out.", "%(count)d other sessions signed out.", count
                ) % {"count": count}
            elif action == "language":
                self.user = await accounts.set_language(ctx, self.user, self.get_body_argument("language", "")[:8])
                # This page already answers in the new language (Tornado caches the locale).
                self.locale = self.get_user_locale() or self.get_browser_locale()
                notice = self._("Your language was saved.")
            elif action == "delete":
                await accounts.delete_own_account(
                    ctx, settings, self.user, self.get_body_argument("current", ""), ip=ip
                )
                self.clear_session_cookie()
                self.user = None
                return self.render(
                    "account/message.html",
                    heading=self._("Account deleted"),
                    message=self._("Your account and your sessions are gone."),
                )
            else:
                notice = None
        except GalleryError as exc:
            return await self.page(
                errors={"action": action, "message": self._(exc.message), **exc.field_errors},
                status=exc.status,
            )
        await self.page(notice=notice)


ROUTES = [(r"/account", AccountHandler)]
