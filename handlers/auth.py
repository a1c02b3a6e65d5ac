"""Signing in and out, self-registration, e-mail verification and password reset."""

from __future__ import annotations

from gallery.errors import Gone, Invalid, TooManyRequests
from gallery.i18n import Message
from gallery.notices.events import record_event
from gallery.people import accounts, registration
from gallery.people.lockout import (
    AccountLocked,
    AddressThrottled,
    Limits,
    account_key,
    begin_attempt,
    clear_user_failures,
    note_user_failure,
)
from gallery.people.passwords import refresh_stored_hash, verify_password
from gallery.people.sessions import create_session, end_session
from gallery.people.users import find_by_login
from handlers.base import TenantHandler

STATUS_MESSAGES = {
    "unverified": "Please confirm your e-mail address first: follow the link we sent you.",
    "pending_approval": "Your account awaits approval by an administrator.",
    "disabled": "This account is disabled. Ask an administrator.",
}


class AccountPageHandler(TenantHandler):
    """Shared bits of the account pages."""

    @property
    def job_queue(self):
        return self.services.jobs  # None: gallery.notices.mail enqueues straight into the host queue

    def form_values(self, *names: str) -> dict:
        return {n: self.get_body_argument(n, "") for n in names}


class LoginHandler(AccountPageHandler):
    def writes_data(self) -> bool:
        return False  # only the visitor's session and sign-in counters: allowed while read-only

    def _next(self) -> str:
        return self.urls.local_or_home(self.get_argument("next", ""))

    def _page(self, error=None, login="", status=200, notice=None) -> None:
        self.set_status(status)
        self.render(
            "account/login.html",
            error=error,
            login=login,
            next=self.get_argument("next", ""),
            notice=notice,
        )

    async def get(self) -> None:
        if self.user:
            self.redirect(self._next())
            return
        self._page(
            notice=self.get_argument("notice", None)
            and "Your password was changed. Please sign in."
        )

    async def post(self) -> None:
        ctx, ip = self.tenant, self.client_ip()
        login = self.get_body_argument("login", "")[:254]
        password = self.get_body_argument("password", "")
        user = await find_by_login(ctx, login)
        # The slot is taken (and the decision made) before the password is checked, so
        # parallel guesses cannot all pass a limit none of them has yet recorded.
        try:
            attempt = await begin_attempt(
                ctx.db, account_key(user, login), ip, Limits.from_settings(self.settings_values)
            )
        except AddressThrottled as exc:
            await record_event(
                ctx, "login_throttled", Message("Sign-in refused: too many failures from %(ip)s", ip=ip), ip=ip
            )
            return self._page(exc.message, login, 429)
        except AccountLocked as exc:
            # Unknown names lock and answer exactly like accounts (no enumeration).
            name = user["username"] if user else repr(login[:100])
            await record_event(
                ctx,
                "login_locked",
                Message("Sign-in to locked account %(name)s", name=name),
                ip=ip,
                details={"target_id": user["_id"]} if user else None,
            )
            return self._page(exc.message, login, 403)
        if not await verify_password(password, user.get("password_hash") if user else None):
            until = await attempt.failed()
            if user is not None:
                await note_user_failure(ctx, user, attempt.count, until)
            if until is not None:
                name = user["username"] if user else repr(login[:100])
                await record_event(
                    ctx,
                    "account_locked",
                    Message("Account %(name)s locked after failed sign-ins", name=name),
                    ip=ip,
                    details={"target_id": user["_id"]} if user else None,
                )
            await record_event(ctx, "login_failed", Message("Failed sign-in as %(login)s", login=repr(login[:100])), ip=ip)
            return self._page("Wrong user name or password.", login, 401)
        await attempt.succeeded()
        await clear_user_failures(ctx, user)
        await refresh_stored_hash(ctx.db.users, user["_id"], password, user["password_hash"])
        if user.get("status") != "active":
            return self._page(
                STATUS_MESSAGES.get(user.get("status"), STATUS_MESSAGES["disabled"]), login, 403
            )
        token = await create_session(ctx, user, ip, self.request.headers.get("User-Agent", ""))
        self.set_session_cookie(token)
        wanted = self.get_body_argument("next", "")
        if not self.urls.is_local(wanted) and await self._lands_on_own_album(user):
            # GSP's RedirectToUserAlbumAfterLogin: members start in their personal album.
            return self.redirect(self.urls(f"/albums/{user['album_id']}"))
        self.redirect(self.urls.local_or_home(wanted))

    async def _lands_on_own_album(self, user: dict) -> bool:
        album_id = user.get("album_id")
        if not album_id or not self.settings_values.get("user_album_after_login"):
            return False
        return await self.tenant.db.albums.count_documents({"_id": album_id}, limit=1) > 0


class LogoutHandler(TenantHandler):
    def writes_data(self) -> bool:
        return False  # ends the visitor's own session: allowed while read-only

    async def post(self) -> None:
        await end_session(self.tenant, self.get_session_token())
        self.clear_session_cookie()
        self.redirect(self.urls("/"))


class RegisterHandler(AccountPageHandler):
    FIELDS = ("username", "email", "password", "password2")

    def _page(self, form=None, errors=None, status=200) -> None:
        self.set_status(status)
        self.render("account/register.html", form=form or {}, errors=errors or {})

    async def get(self) -> None:
        if not self.settings_values.get("allow_registration"):
            self.set_status(403)
            return self.render(
                "account/message.html",
                heading="Registration is closed",
                message="This gallery does not accept new accounts.",
            )
        self._page()

    async def post(self) -> None:
        form = self.form_values(*self.FIELDS)
        try:
            user = await registration.register(
                self.tenant,
                self.settings_values,
                form,
                urls=self.mail_urls,
                queue=self.job_queue,
                ip=self.client_ip(),
                language=self.locale.code,  # the verification mail speaks the page's language
            )
        except Invalid as exc:
            safe = {k: v for k, v in form.items() if "password" not in k}
            return self._page(safe, exc.field_errors or {"form": exc.message}, exc.status)
        steps = user.get("pending") or []
        if "verify" in steps:
            message = "We sent you an e-mail. Follow its link to confirm your address."
        elif "approve" in steps:
            message = "Your account awaits approval by an administrator; we will e-mail you."
        else:
            message = "Your account is ready. You can sign in now."
        self.render("account/message.html", heading="Thank you for registering", message=message)


class VerifyHandler(AccountPageHandler):
    def writes_data(self) -> bool:
        return True  # its GET confirms the account (a mailed link)

    async def get(self) -> None:
        # A GET that changes state is usual for mailed links; the token is single-use.
        try:
            user = await accounts.verify_email(
                self.tenant,
                self.settings_values,
                self.get_argument("token", ""),
                urls=self.mail_urls,
                queue=self.job_queue,
            )
        except Gone as exc:
            self.set_status(410)
            return self.render(
                "account/message.html", heading="This link does not work", message=exc.message
            )
        if user["status"] == "pending_approval":
            message = "Your address is confirmed. An administrator will now approve your account; we will e-mail you."
        else:
            message = "Your address is confirmed. You can sign in now."
        self.render("account/message.html", heading="Thank you", message=message)


class ForgotHandler(AccountPageHandler):
    async def get(self) -> None:
        self.render("account/forgot.html", sent=False)

    async def post(self) -> None:
        login = self.get_body_argument("login", "")[:254]
        try:
            await accounts.request_reset(
                self.tenant, login, urls=self.mail_urls, queue=self.job_queue, ip=self.client_ip(),
                language=self.locale.code,  # unless the member chose a language
            )
        except TooManyRequests as exc:
            self.set_status(exc.status)
            return self.render("account/message.html", heading="Please wait", message=exc.message)
        # The same answer whether or not such an account exists.
        self.render("account/forgot.html", sent=True)


class ResetHandler(AccountPageHandler):
    def _token(self) -> str:
        return self.get_argument("token", "")[:200]

    async def get(self) -> None:
        try:
            await accounts.peek_token(self.tenant, self._token(), "reset")
        except Gone as exc:
            self.set_status(410)
            return self.render(
                "account/message.html", heading="This link does not work", message=exc.message
            )
        self.render("account/reset.html", token=self._token(), errors={})

    async def post(self) -> None:
        try:
            await accounts.reset_password(
                self.tenant,
                self.settings_values,
                self._token(),
                self.get_body_argument("password", ""),
                self.get_body_argument("password2", ""),
                urls=self.mail_urls,
                queue=self.job_queue,
                ip=self.client_ip(),
            )
        except Gone as exc:
            self.set_status(410)
            return self.render(
                "account/message.html", heading="This link does not work", message=exc.message
            )
        except Invalid as exc:
            self.set_status(400)
            return self.render(
                "account/reset.html",
                token=self._token(),
                errors=exc.field_errors or {"form": exc.message},
            )
        self.clear_session_cookie()
        self.render(
            "account/message.html",
            heading="Password changed",
            message="Your new password is set and every session was signed out. You can sign in now.",
        )


ROUTES = [
    (r"/login", LoginHandler),
    (r"/logout", LogoutHandler),
    (r"/register", RegisterHandler),
    (r"/verify", VerifyHandler),
    (r"/forgot", ForgotHandler),
    (r"/reset", ResetHandler),
]
