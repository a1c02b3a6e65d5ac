"""JSON API for accounts: the signed-in user's own account and sessions (/api/v1/me) and the
administrators' user management (/api/v1/users). The rules live in gallery.people.accounts and
gallery.people.account_admin (which write the event log); this module only maps JSON to them."""

from __future__ import annotations

from gallery.errors import Invalid, NotFound
from gallery.i18n import Message
from gallery.people import account_admin, accounts
from gallery.people.lockout import locked_until
from gallery.people.passwords import password_problem
from gallery.people.permissions import is_administrator, require_administrator, user_roles
from gallery.people.roles import ensure_admin_remains, list_roles
from gallery.people.sessions import end_user_sessions
from gallery.people.users import clean_email, get_user, list_users
from handlers.api_base import MAX_LIMIT, MAX_OFFSET, ApiHandler, int_query, operation

ID = r"([^/]+)"
MAX_ROLE_IDS = 100


def user_json(user: dict, *, admin_view: bool = False) -> dict:
    """What the API shows of an account (never the password hash or lockout counters)."""
    until = locked_until(user)
    data = {
        "id": user["_id"],
        "username": user["username"],
        "email": user.get("email", ""),
        "email_verified": bool(user.get("email_verified")),
        "status": user.get("status"),
        "role_ids": list(user.get("role_ids") or []),
        "album_id": user.get("album_id"),
        "created": user.get("created"),
    }
    if admin_view:
        data.update(
            disabled=bool(user.get("disabled")),
            pending=list(user.get("pending") or []),
            locked_until=until,
        )
    return data


def session_json(session: dict, current_sid: str | None) -> dict:
    return {
        "id": session["sid"],
        "created": session.get("created"),
        "last_seen": session.get("last_seen"),
        "expires": session.get("expires"),
        "ip": session.get("ip", ""),
        "user_agent": session.get("user_agent", ""),
        "current": session["sid"] == current_sid,
    }


def _string(body: dict, name: str, limit: int = 1000) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid(Message("%(name)s must be text.", name=name), field_errors={name: Message("must be text")})
    return value


def _role_ids(body: dict) -> list[str]:
    value = body.get("role_ids", [])
    if (
        not isinstance(value, list)
        or len(value) > MAX_ROLE_IDS
        or not all(isinstance(r, str) for r in value)
    ):
        raise Invalid(
            "role_ids must be a list of role ids.", field_errors={"role_ids": "must be a list"}
        )
    return value


class AccountApiHandler(ApiHandler):
    @property
    def job_queue(self):
        return self.services.jobs  # None: gallery.notices.mail enqueues straight into the host queue


# -- the signed-in user -------------------------------------------------------------------


class MeHandler(AccountApiHandler):
    async def get(self) -> None:
        user = self.require_user()
        roles = await user_roles(self.tenant, user)
        data = user_json(user)
        data["is_admin"] = is_administrator(roles)
        self.write_json({"user": data})

    async def patch(self) -> None:
        """Change one's e-mail address (needs the current password)."""
        user = self.require_user()
        body = self.json_body()
        user = await accounts.change_email(
            self.tenant,
            self.settings_values,
            user,
            _string(body, "current"),
            _string(body, "email", 400),
            urls=self.mail_urls,
            queue=self.job_queue,
            ip=self.client_ip(),
        )
        self.write_json({"user": user_json(user)})

    async def delete(self) -> None:
        user = self.require_user()
        await accounts.delete_own_account(
            self.tenant,
            self.settings_values,
            user,
            _string(self.json_body(), "password"),
            ip=self.client_ip(),
        )
        self.clear_session_cookie()
        self.write_json({"deleted": user["_id"]})


class MePasswordHandler(AccountApiHandler):
    async def post(self) -> None:
        user = self.require_user()
        body = self.json_body()
        await accounts.change_password(
            self.tenant,
            self.settings_values,
            user,
            _string(body, "current"),
            _string(body, "password"),
            _string(body, "password2"),
            keep_sid=self.session["sid"],
            urls=self.mail_urls,
            queue=self.job_queue,
            ip=self.client_ip(),
        )
        self.write_json({"changed": True})


class MeSessionsHandler(AccountApiHandler):
    async def get(self) -> None:
        user = self.require_user()
        sessions = (
            await self.tenant.db.sessions.find({"user_id": user["_id"]})
            .sort("last_seen", -1)
            .to_list(100)
        )
        sid = self.session["sid"]
        self.write_json({"items": [session_json(s, sid) for s in sessions]})

    async def delete(self) -> None:
        """Sign out every other session (this one stays)."""
        user = self.require_user()
        count = await end_user_sessions(self.tenant, user["_id"], keep_sid=self.session["sid"])
        self.write_json({"revoked": count})


class MeSessionHandler(AccountApiHandler):
    async def delete(self, sid: str) -> None:
        user = self.require_user()
        result = await self.tenant.db.sessions.delete_one({"user_id": user["_id"], "sid": sid[:24]})
        if not result.deleted_count:
            raise NotFound("No such session.")
        if sid == self.session["sid"]:
            self.clear_session_cookie()
        self.write_json({"revoked": sid})


# -- administrators -----------------------------------------------------------------------


class AdminApiHandler(AccountApiHandler):
    async def admin(self) -> dict:
        user = self.require_user()
        await require_administrator(self.tenant, user)
        return user


class UsersHandler(AdminApiHandler):
    async def get(self) -> None:
        await self.admin()
        page = self.page_arguments()
        q = self.get_query_argument("q", "")[:100]
        users, total = await list_users(self.tenant, q, skip=page["offset"], limit=page["limit"])
        self.write_json(
            {
                "items": [user_json(u, admin_view=True) for u in users],
                "total": total,
                "offset": page["offset"],
                "limit": page["limit"],
            }
        )

    async def post(self) -> None:
        admin = await self.admin()
        body = self.json_body()
        form = {
            "username": _string(body, "username", 400),
            "email": _string(body, "email", 400),
            "password": _string(body, "password"),
            # Left out: the gallery's roles for new accounts (setting default_role_ids).
            "role_ids": _role_ids(body) if "role_ids" in body else None,
        }
        user = await account_admin.admin_create_user(
            self.tenant,
            self.settings_values,
            admin,
            form,
            urls=self.mail_urls,
            queue=self.job_queue,
            ip=self.client_ip(),
        )
        self.write_json({"user": user_json(user, admin_view=True)}, status=201)


class UserHandler(AdminApiHandler):
    async def get(self, user_id: str) -> None:
        await self.admin()
        user = await get_user(self.tenant, user_id)
        sessions = await self.tenant.db.sessions.count_documents({"user_id": user["_id"]})
        self.write_json({"user": {**user_json(user, admin_view=True), "sessions": sessions}})

    async def patch(self, user_id: str) -> None:
        """Change any of: email, disabled, role_ids, password (each one logged)."""
        admin = await self.admin()
        body = self.json_body()
        known = {"email", "disabled", "role_ids", "password"}
        unknown = sorted(set(body) - known)
        if unknown:
            raise Invalid(
                Message("Unknown field %(name)s.", name=unknown[0]),
                field_errors={k: Message("unknown field") for k in unknown},
            )
        ctx, ip = self.tenant, self.client_ip()
        # Validate every field before changing anything, so a bad one changes nothing.
        email = _string(body, "email", 400) if "email" in body else None
        role_ids = _role_ids(body) if "role_ids" in body else None
        password = _string(body, "password") if "password" in body else None
        disabled = body.get("disabled")
        if "disabled" in body and not isinstance(disabled, bool):
            raise Invalid(
                "disabled must be true or false.", field_errors={"disabled": "not a bool"}
            )
        target = await get_user(ctx, user_id)
        if email is not None:
            clean_email(email)
        if password is not None:
            problem = password_problem(
                password,
                int(self.settings_values.get("password_min_length", 10)),
                username=target["username"],
                email=target.get("email", ""),
            )
            if problem:
                raise Invalid(problem, field_errors={"password": problem})
        if disabled is True or role_ids is not None:
            # The whole change must leave an active administrator, checked before any part.
            await ensure_admin_remains(ctx, users={user_id: None if disabled else role_ids})
        if role_ids is not None:
            await account_admin.admin_set_roles(ctx, admin, user_id, role_ids, ip=ip)
        if email is not None:
            await account_admin.admin_set_email(ctx, admin, user_id, email, ip=ip)
        if password is not None:
            await account_admin.admin_set_password(
                ctx,
                self.settings_values,
                admin,
                user_id,
                password,
                urls=self.mail_urls,
                queue=self.job_queue,
                ip=ip,
            )
        if "disabled" in body:
            await account_admin.admin_set_disabled(ctx, admin, user_id, disabled, ip=ip)
        user = await get_user(ctx, user_id)
        self.write_json({"user": user_json(user, admin_view=True)})

    async def delete(self, user_id: str) -> None:
        admin = await self.admin()
        await account_admin.admin_delete_user(self.tenant, admin, user_id, ip=self.client_ip())
        self.write_json({"deleted": user_id})


class UserActionHandler(AdminApiHandler):
    """POST /api/v1/users/<id>/<action>: unlock, approve, reset-link."""

    async def post(self, user_id: str, action: str) -> None:
        admin = await self.admin()
        ctx, ip, q = self.tenant, self.client_ip(), self.job_queue
        if action == "unlock":
            await account_admin.admin_unlock(ctx, admin, user_id, ip=ip)
        elif action == "approve":
            await account_admin.admin_approve(
                ctx, self.settings_values, admin, user_id, urls=self.mail_urls, queue=q, ip=ip
            )
        elif action == "reset-link":
            await account_admin.admin_send_reset(
                ctx, admin, user_id, urls=self.mail_urls, queue=q, ip=ip
            )
        else:
            raise NotFound("No such action.")
        user = await get_user(ctx, user_id)
        self.write_json({"user": user_json(user, admin_view=True)})


class RolesHandler(AdminApiHandler):
    async def get(self) -> None:
        await self.admin()
        roles = await list_roles(self.tenant)
        self.write_json(
            {
                "items": [
                    {
                        "id": r["_id"],
                        "name": r.get("name", ""),
                        "permissions": list(r.get("permissions") or []),
                        "album_ids": list(r.get("album_ids") or []),
                        "builtin": r.get("builtin"),
                        "owner_album_id": r.get("owner_album_id"),
                    }
                    for r in roles
                ]
            }
        )


ROUTES = [
    (r"/api/v1/me", MeHandler),
    (r"/api/v1/me/password", MePasswordHandler),
    (r"/api/v1/me/sessions", MeSessionsHandler),
    (rf"/api/v1/me/sessions/{ID}", MeSessionHandler),
    (r"/api/v1/users", UsersHandler),
    (rf"/api/v1/users/{ID}/(unlock|approve|reset-link)", UserActionHandler),
    (rf"/api/v1/users/{ID}", UserHandler),
    (r"/api/v1/roles", RolesHandler),
]

_U = ("user_id",)
_TEXT = {"type": "string"}
_USER_EDIT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "email": _TEXT,
        "disabled": {"type": "boolean"},
        "role_ids": {"type": "array", "items": _TEXT},
        "password": _TEXT,
    },
}

OPENAPI = {
    "/api/v1/me": {
        "get": operation("The signed-in user", tag="accounts"),
        "patch": operation(
            "Change one's e-mail address (needs the current password)",
            tag="accounts",
            body={
                "type": "object",
                "required": ["current", "email"],
                "properties": {"current": _TEXT, "email": _TEXT},
            },
        ),
        "delete": operation(
            "Delete one's own account (when the gallery allows it)",
            tag="accounts",
            body={"type": "object", "required": ["password"], "properties": {"password": _TEXT}},
        ),
    },
    "/api/v1/me/password": {
        "post": operation(
            "Change one's password; other sessions end",
            tag="accounts",
            body={
                "type": "object",
                "required": ["current", "password", "password2"],
                "properties": {"current": _TEXT, "password": _TEXT, "password2": _TEXT},
            },
        )
    },
    "/api/v1/me/sessions": {
        "get": operation("One's sessions (the current one is marked)", tag="accounts"),
        "delete": operation("Sign out every other session", tag="accounts"),
    },
    "/api/v1/me/sessions/{session_id}": {
        "delete": operation("Sign out one session", params=("session_id",), tag="accounts")
    },
    "/api/v1/users": {
        "get": operation(
            "Users (administrators)",
            query=("q", int_query("offset", 0, MAX_OFFSET), int_query("limit", 1, MAX_LIMIT)),
            tag="users",
        ),
        "post": operation(
            "Create a user (administrators)",
            tag="users",
            ok="201",
            also=("409",),
            body={
                "type": "object",
                "required": ["email", "password"],
                "properties": {
                    "username": _TEXT,
                    "email": _TEXT,
                    "password": _TEXT,
                    "role_ids": {"type": "array", "items": _TEXT},
                },
            },
        ),
    },
    "/api/v1/users/{user_id}": {
        "get": operation("A user (administrators)", params=_U, tag="users"),
        "patch": operation(
            "Change e-mail, disabled, roles or password (administrators)",
            params=_U,
            body=_USER_EDIT,
            body_optional=True,
            also=("409",),
            tag="users",
        ),
        "delete": operation(
            "Delete a user and their personal album (administrators)",
            params=_U,
            also=("409",),
            tag="users",
        ),
    },
    "/api/v1/users/{user_id}/unlock": {
        "post": operation("Unlock a locked account", params=_U, tag="users")
    },
    "/api/v1/users/{user_id}/approve": {
        "post": operation("Approve a registration", params=_U, tag="users")
    },
    "/api/v1/users/{user_id}/reset-link": {
        "post": operation("Mail a password reset link", params=_U, tag="users")
    },
    "/api/v1/roles": {"get": operation("Roles, for assigning them (administrators)", tag="users")},
}
