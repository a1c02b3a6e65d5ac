"""The tenant admin's user pages: list and search, create, edit, enable/disable, unlock,
approve, roles, reset links, delete. Every action is written to the event log (gallery.people.accounts)."""

from __future__ import annotations

from datetime import UTC, datetime

from gallery.errors import GalleryError
from gallery.i18n import N_
from gallery.notices import mail
from gallery.people import account_admin
from gallery.people.lockout import locked_until
from gallery.people.new_accounts import default_role_ids
from gallery.people.permissions import require_administrator
from gallery.people.roles import list_roles
from gallery.people.users import get_user, list_users
from handlers.auth import AccountPageHandler

PAGE = 50
# How long the user page refreshes itself to show whether a message it queued went out.
MAIL_WAIT_SECONDS = 30
#: A user's status as the pages show it (gallery.people.users.user_status), in the catalogue.
STATUS_WORDS = {"active": N_("active"), "pending_approval": N_("pending approval"),
                "unverified": N_("unverified"), "disabled": N_("disabled")}


def _age_seconds(doc: dict) -> float:
    created = doc["created"]
    if created.tzinfo is None:  # the database hands back naive UTC
        created = created.replace(tzinfo=UTC)
    return (datetime.now(UTC) - created).total_seconds()


class AdminPage(AccountPageHandler):
    """A page only gallery administrators reach."""

    async def admin(self) -> dict:
        self.require_user()
        await require_administrator(self.tenant, self.user)
        self.is_gallery_admin = True
        return self.user


class UsersHandler(AdminPage):
    async def page(self, form=None, errors=None, notice=None, status=200) -> None:
        q = self.get_argument("q", "")[:100]
        try:
            page = max(1, int(self.get_argument("page", "1")))
        except ValueError:
            page = 1
        users, total = await list_users(self.tenant, q, skip=(page - 1) * PAGE, limit=PAGE)
        self.set_status(status)
        self.render(
            "admin/users.html",
            users=users,
            total=total,
            q=q,
            page=page,
            pages=max(1, -(-total // PAGE)),
            roles=await list_roles(self.tenant),
            default_roles=await default_role_ids(self.tenant, self.settings_values),
            form=form or {},
            errors=errors or {},
            notice=notice,
            locked_until=locked_until,
        )

    async def get(self) -> None:
        await self.admin()
        await self.page()

    async def post(self) -> None:
        admin = await self.admin()
        form = {n: self.get_body_argument(n, "") for n in ("username", "email", "password")}
        form["role_ids"] = [r[:24] for r in self.get_body_arguments("role_ids")][:100]
        try:
            user = await account_admin.admin_create_user(
                self.tenant,
                self.settings_values,
                admin,
                form,
                urls=self.mail_urls,
                queue=self.job_queue,
                ip=self.client_ip(),
            )
        except GalleryError as exc:
            safe = {k: v for k, v in form.items() if k != "password"}
            return await self.page(
                safe, exc.field_errors or {"form": exc.message}, status=exc.status
            )
        self.redirect(self.urls(f"/admin/users/{user['_id']}", notice="created"))


class UserHandler(AdminPage):
    async def page(self, user_id: str, notice=None, error=None, status=200) -> None:
        user = await get_user(self.tenant, user_id)
        sessions = await self.tenant.db.sessions.count_documents({"user_id": user_id})
        # What became of the newest message to this account (a welcome, a reset link...):
        # said here, where the admin acted, rather than only in the e-mail page's outbox.
        last_mail = await mail.latest_to(self.tenant, user.get("email", ""))
        self.set_status(status)
        self.render(
            "admin/user.html",
            account=user,
            last_mail=last_mail,
            mail_waiting=bool(
                last_mail and last_mail.get("state") == "queued" and not last_mail.get("error")
                and _age_seconds(last_mail) < MAIL_WAIT_SECONDS
            ),
            login_url=self.mail_urls.absolute("/login"),
            roles=await list_roles(self.tenant),
            sessions=sessions,
            locked=locked_until(user),
            notice=notice,
            error=error,
        )

    async def get(self, user_id: str) -> None:
        await self.admin()
        notice = (
            "The account was created." if self.get_argument("notice", "") == "created" else None
        )
        await self.page(user_id, notice=notice)

    async def post(self, user_id: str) -> None:
        admin = await self.admin()
        action = self.get_body_argument("action", "")
        ctx, settings, ip, q = self.tenant, self.settings_values, self.client_ip(), self.job_queue
        notices = {
            "disable": "The account is disabled and its sessions ended.",
            "enable": "The account is enabled.",
            "unlock": "The account is unlocked.",
            "approve": "The account is approved; the user was told.",
            "roles": "Roles saved.",
            "user_album": "The personal album is on.",
            "reset": "A password reset link is on its way.",
            "email": "E-mail address saved.",
            "password": "Password set; the user's sessions ended and the user was told.",
        }
        try:
            if action in ("disable", "enable"):
                await account_admin.admin_set_disabled(
                    ctx, admin, user_id, action == "disable", ip=ip
                )
            elif action == "user_album":
                await account_admin.admin_give_album(ctx, settings, admin, user_id, ip=ip)
            elif action == "unlock":
                await account_admin.admin_unlock(ctx, admin, user_id, ip=ip)
            elif action == "approve":
                await account_admin.admin_approve(
                    ctx, settings, admin, user_id, urls=self.mail_urls, queue=q, ip=ip
                )
            elif action == "roles":
                await account_admin.admin_set_roles(
                    ctx,
                    admin,
                    user_id,
                    [r[:24] for r in self.get_body_arguments("role_ids")][:100],
                    ip=ip,
                )
            elif action == "reset":
                await account_admin.admin_send_reset(
                    ctx, admin, user_id, urls=self.mail_urls, queue=q, ip=ip
                )
            elif action == "email":
                await account_admin.admin_set_email(
                    ctx, admin, user_id, self.get_body_argument("email", ""), ip=ip
                )
            elif action == "password":
                await account_admin.admin_set_password(
                    ctx,
                    settings,
                    admin,
                    user_id,
                    self.get_body_argument("password", ""),
                    urls=self.mail_urls,
                    queue=q,
                    ip=ip,
                )
            elif action == "delete":
                await account_admin.admin_delete_user(ctx, admin, user_id, ip=ip)
                return self.redirect(self.urls("/admin/users"))
            else:
                return await self.page(user_id, error="Unknown action.", status=400)
        except GalleryError as exc:
            if exc.status == 404:
                raise
            return await self.page(user_id, error=exc.message, status=exc.status)
        await self.page(user_id, notice=notices[action])


ROUTES = [(r"/admin/users", UsersHandler), (r"/admin/users/([^/]+)", UserHandler)]
