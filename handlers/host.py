"""The host console at `/_host/`: the hosting provider's admins manage tenants here."""

from __future__ import annotations

import asyncio
import logging
import re

import tornado.web

from gallery.people.lockout import AccountLocked, AddressThrottled
from handlers.base import HostHandler
from tenants import host_admins, provision
from tenants.media_folder import set_media_folder
from tenants.names import InvalidName, split_hostnames
from tenants.provision import ProvisioningError
from tenants.registry import TenantNotFound
from tenants.upgrade import schema_state
from tenants.usage import tenant_usage

log = logging.getLogger("atrium.host")

PAGE_SIZE = 50
MB = 1024 * 1024


def tenant_origin_url(handler: HostHandler, slug: str, path: str) -> str:
    """An absolute URL into a tenant, as seen from the host console's own address."""
    config = handler.config
    scheme = handler.request.protocol
    if config.server.path_prefix_routing:
        return f"{scheme}://{handler.request.host}/g/{slug}{path}"
    port = handler.request.host.rpartition(":")[2] if ":" in handler.request.host else ""
    return f"{scheme}://{slug}.{config.server.base_domain}{':' + port if port else ''}{path}"


class ConsoleHandler(HostHandler):
    async def get(self) -> None:
        self.require_admin()
        try:
            page = max(1, int(self.get_argument("page", "1")))
        except ValueError:
            page = 1
        registry = self.services.registry
        total = await registry.count()
        records = await registry.list_records(skip=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        usages = await asyncio.gather(*(tenant_usage(registry, r["_id"], r) for r in records))
        schemas = await asyncio.gather(*(schema_state(registry.tenant_db(r["_id"], r)) for r in records))
        rows = [{"record": r, "usage": u, "schema": s}
                for r, u, s in zip(records, usages, schemas, strict=True)]
        self.render(
            "host/console.html", rows=rows, page=page, pages=max(1, -(-total // PAGE_SIZE)),
            total=total, tenant_url=lambda slug: tenant_origin_url(self, slug, "/"),
        )


class LoginHandler(HostHandler):
    async def get(self) -> None:
        if self.current_admin:
            self.redirect("/_host/")
            return
        self.render("host/login.html", error=None, username="")

    async def post(self) -> None:
        username = self.get_body_argument("username", "")
        try:
            admin = await host_admins.sign_in(
                self.services.host_db, username, self.get_body_argument("password", ""),
                self.client_ip(),
            )
        except (AccountLocked, AddressThrottled) as exc:
            log.warning("host console sign-in refused for %r from %s: %s",
                        username[:100], self.client_ip(), type(exc).__name__)
            self.set_status(exc.status)
            self.render("host/login.html", error=exc.message, username=username)
            return
        if admin is None:
            self.set_status(401)
            self.render("host/login.html", error="Wrong user name or password.", username=username)
            return
        token = await host_admins.create_session(self.services.host_db, admin)
        self.set_signed_cookie(
            self.HOST_COOKIE, token, expires_days=None, path="/_host/", httponly=True,
            samesite="Strict", secure=self.request.protocol == "https",
        )
        self.redirect("/_host/")


class LogoutHandler(HostHandler):
    async def post(self) -> None:
        token = self.get_signed_cookie(self.HOST_COOKIE, max_age_days=1)
        await host_admins.end_session(self.services.host_db, token.decode() if token else None)
        self.clear_cookie(self.HOST_COOKIE, path="/_host/")
        self.redirect("/_host/login")


class SetupHandler(HostHandler):
    """The one-time link (printed at start-up) that creates the first host admin."""

    async def _check(self) -> str:
        token = self.get_argument("token", "")
        if await host_admins.count_admins(self.services.host_db):
            raise tornado.web.HTTPError(410, "A host admin exists already; sign in instead.")
        if not await host_admins.setup_token_valid(self.services.host_db, token):
            raise tornado.web.HTTPError(403, "This setup link is not valid; see the service log.")
        return token

    async def get(self) -> None:
        token = await self._check()
        self.render("host/setup.html", token=token, error=None, username="")

    async def post(self) -> None:
        token = await self._check()
        username = self.get_body_argument("username", "")
        password = self.get_body_argument("password", "")
        if password != self.get_body_argument("password2", ""):
            self.render("host/setup.html", token=token, error="The passwords do not match.", username=username)
            return
        try:
            admin = await host_admins.create_admin(self.services.host_db, username, password)
        except host_admins.HostAdminError as exc:
            self.set_status(400)
            self.render("host/setup.html", token=token, error=str(exc), username=username)
            return
        session = await host_admins.create_session(self.services.host_db, admin)
        self.set_signed_cookie(self.HOST_COOKIE, session, expires_days=None, path="/_host/",
                               httponly=True, samesite="Strict")
        self.redirect("/_host/")


class NewTenantHandler(HostHandler):
    def _form(self) -> dict:
        return {k: self.get_body_argument(k, "") for k in ("slug", "title", "hostnames", "admin_email", "quota_mb")}

    async def get(self) -> None:
        self.require_admin()
        self.render("host/new_tenant.html", form={}, error=None)

    async def post(self) -> None:
        self.require_admin()
        form = self._form()
        try:
            hostnames = split_hostnames(form["hostnames"])
            quota_mb = int(form["quota_mb"] or 0)
            if quota_mb < 0:
                raise ValueError
        except InvalidName as exc:
            return self._fail(form, str(exc))
        except ValueError:
            return self._fail(form, "Quota must be a whole number of megabytes (0 for unlimited).")
        try:
            record, token = await provision.create_tenant(
                self.services.registry, form["slug"].strip().lower(), form["title"], hostnames,
                form["admin_email"].strip(), quota_mb * MB,
            )
        except ProvisioningError as exc:
            return self._fail(form, str(exc))
        await self.services.registry.host_db.tenants.update_one(
            {"_id": record["_id"]}, {"$set": {"created_by": self.current_admin["username"]}}
        )
        mail_job = None
        if self.services.jobs is not None and record.get("admin_email"):
            mail_job = await self.services.jobs.notify_installer(record, token)
        url = tenant_origin_url(self, record["_id"], f"/install?token={token}")
        await render_tenant(self, record["_id"], installer_url=url, installer_mail=mail_job)

    def _fail(self, form: dict, message: str) -> None:
        self.set_status(400)
        self.render("host/new_tenant.html", form=form, error=message)


async def render_tenant(handler: HostHandler, slug: str, installer_url: str | None = None,
                        error: str | None = None, notice: str | None = None,
                        installer_mail: str | None = None) -> None:
    registry = handler.services.registry
    try:
        record = await registry.get_record(slug)
    except TenantNotFound:
        raise tornado.web.HTTPError(404, "No such tenant.") from None
    usage = await tenant_usage(registry, slug, record)
    handler.render(
        "host/tenant.html", record=record, usage=usage, installer_url=installer_url,
        schema=await schema_state(registry.tenant_db(slug, record)),
        error=error, notice=notice, tenant_url=tenant_origin_url(handler, slug, "/"),
        installer_mail=installer_mail,
    )


class TenantHandler(HostHandler):
    async def get(self, slug: str) -> None:
        self.require_admin()
        await render_tenant(self, slug)

    async def post(self, slug: str) -> None:
        """Edit title, hostnames and quota."""
        self.require_admin()
        try:
            hostnames = split_hostnames(self.get_body_argument("hostnames", ""))
            quota = int(self.get_body_argument("quota_mb", "0") or 0) * MB
            await provision.update_tenant(
                self.services.registry, slug, title=self.get_body_argument("title", ""),
                hostnames=hostnames, quota_bytes=quota,
            )
        except TenantNotFound:
            raise tornado.web.HTTPError(404, "No such tenant.") from None
        except (InvalidName, ProvisioningError) as exc:
            self.set_status(400)
            return await render_tenant(self, slug, error=str(exc))
        except ValueError:
            self.set_status(400)
            return await render_tenant(self, slug, error="Quota must be a whole number of megabytes.")
        await render_tenant(self, slug, notice="Saved.")


class MediaFolderHandler(HostHandler):
    """Point a gallery's originals at a read-only folder on the server, or back at its own
    storage (tenants/media_folder.py checks the folder; docs/sync.md)."""

    async def post(self, slug: str) -> None:
        self.require_admin()
        clear = self.get_body_argument("action", "") == "clear"
        folder = "" if clear else self.get_body_argument("media_folder", "").strip()
        problem = None
        if not clear and not folder:
            problem = "Give the folder's absolute path."
        elif not clear and self.get_body_argument("read_only", "") != "on":
            problem = "Confirm that the folder is read-only: uploads are turned off there."
        if problem is None:
            try:
                record = await set_media_folder(self.services.registry, slug, folder)
            except TenantNotFound:
                raise tornado.web.HTTPError(404, "No such tenant.") from None
            except ProvisioningError as exc:
                problem = str(exc)[:1].upper() + str(exc)[1:] + "."
        if problem is not None:
            self.set_status(400)
            return await render_tenant(self, slug, error=problem)
        notice = (f"Originals now come from {record['media_folder']}, read-only; synchronize "
                  "the gallery to bring its files in." if record.get("media_folder")
                  else "Originals are in the gallery's own storage again.")
        await render_tenant(self, slug, notice=notice)


class InstallerLinkHandler(HostHandler):
    async def post(self, slug: str) -> None:
        self.require_admin()
        try:
            token = await provision.new_installer_token(self.services.registry, slug)
        except TenantNotFound:
            raise tornado.web.HTTPError(404, "No such tenant.") from None
        except ProvisioningError as exc:
            self.set_status(409)
            return await render_tenant(self, slug, error=str(exc))
        await render_tenant(self, slug, installer_url=tenant_origin_url(self, slug, f"/install?token={token}"))


class InstallerMailHandler(HostHandler):
    """Whether the installer e-mail went out, for the tenant page to say so where the link
    is shown (the link itself is never part of the answer)."""

    async def get(self, slug: str, job_id: str) -> None:
        self.require_admin()
        job = await self.services.host_db.jobs.find_one(
            {"_id": job_id, "tenant": slug, "kind": "email.installer"},
            {"state": 1, "error": 1, "result": 1},
        )
        if job is None:
            raise tornado.web.HTTPError(404, "No such message.")
        state = job.get("state")
        if state == "done":
            state = "skipped" if (job.get("result") or {}).get("skipped") else "sent"
        elif state in ("queued", "running") and job.get("error"):
            state = "retrying"
        elif state in ("queued", "running"):
            state = "sending"
        self.set_header("Cache-Control", "no-store")
        # The queue keeps "ErrorType: message"; the page shows the message.
        error = re.sub(r"^[A-Z][A-Za-z]+: ", "", job.get("error") or "")
        self.finish({"state": state, "error": error[:500]})


class StatusHandler(HostHandler):
    async def post(self, slug: str) -> None:
        self.require_admin()
        action = {"suspend": provision.suspend_tenant, "resume": provision.resume_tenant}.get(
            self.get_body_argument("action", "")
        )
        if action is None:
            raise tornado.web.HTTPError(400, "Unknown action.")
        try:
            await action(self.services.registry, slug)
        except TenantNotFound:
            raise tornado.web.HTTPError(404, "No such tenant.") from None
        except ProvisioningError as exc:
            self.set_status(409)
            return await render_tenant(self, slug, error=str(exc))
        self.redirect(f"/_host/tenants/{slug}")


class DeleteHandler(HostHandler):
    async def post(self, slug: str) -> None:
        self.require_admin()
        if self.get_body_argument("confirm", "") != slug:
            self.set_status(400)
            return await render_tenant(self, slug, error="Type the tenant's slug exactly to delete it.")
        try:
            await provision.delete_tenant(self.services.registry, slug)
        except TenantNotFound:
            raise tornado.web.HTTPError(404, "No such tenant.") from None
        self.redirect("/_host/")


class HostRootHandler(HostHandler):
    """The base domain's front page: what this is, and where the console is."""

    def get(self) -> None:
        self.render("host/landing.html")


SLUG = r"([a-z0-9][a-z0-9-]{1,40})"
ROUTES = [
    (r"/", HostRootHandler),
    (r"/_host/?", ConsoleHandler),
    (r"/_host/login", LoginHandler),
    (r"/_host/logout", LogoutHandler),
    (r"/_host/setup", SetupHandler),
    (r"/_host/tenants/new", NewTenantHandler),
    (rf"/_host/tenants/{SLUG}", TenantHandler),
    (rf"/_host/tenants/{SLUG}/installer", InstallerLinkHandler),
    (rf"/_host/tenants/{SLUG}/media-folder", MediaFolderHandler),
    (rf"/_host/tenants/{SLUG}/installer-mail/([0-9a-f]{{24}})", InstallerMailHandler),
    (rf"/_host/tenants/{SLUG}/status", StatusHandler),
    (rf"/_host/tenants/{SLUG}/delete", DeleteHandler),
]
