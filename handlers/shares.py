"""Share links (gallery/library/shares.py): opening one, making one, the Shared links page.

GET/POST /s/<token>        open a link (its password form first, if it has one)
GET  /shares               the links the member made (an administrator: all of them)
POST /shares               make a link (JSON in, JSON out; the album and media pages' dialog)
POST /shares/<id>/revoke   withdraw a link

Every link handed out is absolute and built from the trusted origin (gallery.urls.mail_urls),
never from the request's Host header: a link copied from a page reached through a hostile
Host would otherwise send its token wherever that name points.
"""

from __future__ import annotations

from gallery.errors import GalleryError, Invalid, NotAuthenticated
from gallery.i18n import N_, Message
from gallery.library import shares
from gallery.notices.events import record_event
from gallery.people.permissions import viewer_for
from handlers.base import MAX_SHARES, TenantHandler

TOKEN = r"([A-Za-z0-9_-]{20,100})"


def share_urls(urls, share: dict, token: str) -> dict:
    """The link itself and, for an album link without a password, its Atom feed."""
    out = {"url": urls.absolute(f"/s/{token}")}
    if share["kind"] == "album" and not share.get("password_hash"):
        out["feed_url"] = urls.absolute(f"/albums/{share['target_id']}/feed.atom", share=token)
    return out


def _what(share: dict) -> str:
    return "album" if share["kind"] == "album" else "item"


class ShareLinkHandler(TenantHandler):
    """GET/POST /s/<token>[?next=<path inside what it opens>]"""

    async def get(self, token: str) -> None:
        share = await self.active_share(token)
        if share.get("password_hash") and share["_id"] not in self.get_share_ids():
            self.render("shares/password.html", error=None, what=_what(share))
            return
        await self.open(share)

    async def post(self, token: str) -> None:
        share = await self.active_share(token)
        if share.get("password_hash"):
            try:
                await shares.check_password(
                    self.tenant, share, self.get_body_argument("password", ""),
                    self.client_ip(), self.settings_values,
                )
            except GalleryError as exc:
                self.set_status(exc.status)
                self.render("shares/password.html", error=exc.message, what=_what(share))
                return
        await self.open(share)

    async def active_share(self, token: str) -> dict:
        # The page of a link that is gone says so (410) in plain words; no search engine
        # should keep any of it.
        self.set_header("X-Robots-Tag", "noindex")
        self.set_header("Cache-Control", "no-store")
        share = await shares.share_for_token(self.tenant, token)
        shares.require_active(share)
        await shares.require_target(self.tenant, share)
        return share

    async def open(self, share: dict) -> None:
        ids = [share["_id"]] + [i for i in self.get_share_ids() if i != share["_id"]]
        self.set_share_ids(ids[:MAX_SHARES])
        await shares.record_view(self.tenant, share)
        target = (
            f"/media/{share['target_id']}" if share["kind"] == "media"
            else f"/albums/{share['target_id']}"
        )
        # `next` (a feed entry's link) may only lead inside this gallery.
        wanted = self.get_argument("next", "")
        self.redirect(wanted if wanted and self.urls.is_local(wanted) else self.urls(target))


class SharesPage(TenantHandler):
    """GET /shares: the list; POST /shares: make a link (JSON)."""

    async def get(self) -> None:
        user = self.require_user()
        viewer = await viewer_for(self.tenant, user, self.settings_values)
        self.is_gallery_admin = viewer.is_admin
        found = await shares.list_shares(self.tenant, viewer)
        self.render("shares/list.html", shares=found, everyone=viewer.is_admin)

    async def post(self) -> None:
        if self.user is None:
            raise NotAuthenticated("Please sign in to share.")
        user = self.user
        body = self.json_body()
        viewer = await viewer_for(self.tenant, user, self.settings_values)
        for name in ("subalbums", "allow_original"):
            if not isinstance(body.get(name, False), bool):
                raise Invalid(Message("%(name)s must be true or false.", name=name), field_errors={name: Message("true or false")})
        for name in ("kind", "target_id", "password"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise Invalid(Message("%(name)s must be text.", name=name), field_errors={name: Message("must be text")})
        share, token = await shares.create_share(
            self.tenant, viewer,
            kind=body.get("kind") or "",
            target_id=body.get("target_id") or "",
            subalbums=body.get("subalbums", False),
            allow_original=body.get("allow_original", False),
            expires_days=body.get("expires_days"),
            password=body.get("password") or None,
        )
        await record_event(
            self.tenant, "share_created",
            Message(N_("Shared link made for the album “%(title)s”") if share["kind"] == "album"
                    else N_("Shared link made for the item “%(title)s”"), title=share["title"] or share["target_id"]),
            user=user, ip=self.client_ip(), url=self.request.path,
            details={"share_id": share["_id"], "kind": share["kind"], "target_id": share["target_id"],
                     "subalbums": share["subalbums"], "allow_original": share["allow_original"]},
        )
        self.write_json(
            {
                "id": share["_id"],
                "kind": share["kind"],
                "expires": share["expires"],
                "password": bool(share["password_hash"]),
                "allow_original": share["allow_original"],
                "subalbums": share["subalbums"],
                "list_url": self.urls("/shares"),
                **share_urls(self.mail_urls, share, token),
            },
            status=201,
        )


class ShareRevokeHandler(TenantHandler):
    """POST /shares/<id>/revoke"""

    async def post(self, share_id: str) -> None:
        user = self.require_user()
        viewer = await viewer_for(self.tenant, user, self.settings_values)
        share = await shares.revoke_share(self.tenant, viewer, share_id)
        await record_event(
            self.tenant, "share_revoked",
            Message(N_("Shared link withdrawn for the album “%(title)s”") if share["kind"] == "album"
                    else N_("Shared link withdrawn for the item “%(title)s”"), title=share.get("title") or share["target_id"]),
            user=user, ip=self.client_ip(), url=self.request.path,
            details={"share_id": share["_id"], "kind": share["kind"], "target_id": share["target_id"]},
        )
        if "application/json" in self.request.headers.get("Accept", ""):
            self.write_json({"id": share["_id"], "state": shares.state(share)})
            return
        self.redirect(self.urls("/shares"))


ROUTES = [
    (rf"/s/{TOKEN}", ShareLinkHandler),
    (r"/shares", SharesPage),
    (r"/shares/([0-9a-f]{24})/revoke", ShareRevokeHandler),
]
