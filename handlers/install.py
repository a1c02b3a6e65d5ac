"""The tenant's installer wizard at `/install?token=…`."""

from __future__ import annotations

from gallery.errors import Invalid
from gallery.people.sessions import create_session
from handlers.base import TenantHandler
from tenants.installer import check_token, finish_install


class InstallHandler(TenantHandler):
    allow_uninstalled = True

    def _form(self) -> dict:
        return {k: self.get_body_argument(k, "") for k in ("title", "username", "email", "password", "password2")}

    async def get(self) -> None:
        token = self.get_argument("token", "")
        check_token(self.tenant.record, token)
        self.render("install.html", token=token, form={"title": self.tenant.title,
                    "email": self.tenant.record.get("admin_email", "")}, errors={}, message=None)

    async def post(self) -> None:
        token = self.get_body_argument("token", "")
        form = self._form()
        try:
            admin = await finish_install(self.services.registry, self.tenant, token, form)
        except Invalid as exc:
            self.set_status(400)
            form.pop("password", None)
            form.pop("password2", None)
            self.render("install.html", token=token, form=form, errors=exc.field_errors, message=exc.message)
            return
        session = await create_session(self.tenant, admin, self.client_ip(), self.request.headers.get("User-Agent", ""))
        self.set_session_cookie(session)
        self.redirect(self.urls("/"))


ROUTES = [(r"/install", InstallHandler)]
