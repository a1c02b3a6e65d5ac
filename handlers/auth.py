"""Signing in and out of a gallery."""

from __future__ import annotations

from gallery.sessions import create_session, end_session
from gallery.users import check_credentials
from handlers.base import TenantHandler


class LoginHandler(TenantHandler):
    def _next(self) -> str:
        target = self.get_argument("next", "")
        return target if self.urls.is_local(target) else self.urls("/")

    async def get(self) -> None:
        if self.user:
            self.redirect(self._next())
            return
        self.render("login.html", error=None, login="", next=self.get_argument("next", ""))

    async def post(self) -> None:
        login = self.get_body_argument("login", "")
        password = self.get_body_argument("password", "")
        user = await check_credentials(self.tenant, login, password)
        if user is None or user.get("status") != "active":
            self.set_status(401)
            self.render("login.html", error="Wrong user name or password.", login=login,
                        next=self.get_body_argument("next", ""))
            return
        token = await create_session(self.tenant, user, self.client_ip(), self.request.headers.get("User-Agent", ""))
        self.set_session_cookie(token)
        target = self.get_body_argument("next", "")
        self.redirect(target if self.urls.is_local(target) else self.urls("/"))


class LogoutHandler(TenantHandler):
    async def post(self) -> None:
        await end_session(self.tenant, self.get_session_token())
        self.clear_session_cookie()
        self.redirect(self.urls("/"))


ROUTES = [(r"/login", LoginHandler), (r"/logout", LogoutHandler)]
