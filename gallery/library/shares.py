"""Share links: a random link that opens one album (alone or with its sub-albums) or one
media object to whoever holds it, optionally until a date, behind a password, with the
originals. See docs/sharing.md.

The link's token is stored only as its SHA-256 (keys.tokens), a password like account
passwords (argon2id). Opening a link gives the visitor a `ShareGrant`
(gallery.people.permissions): `view`, and `view_original` if the link allows it, on
exactly what it names, added to whatever the visitor may see anyway; never any other
permission (no hide_watermark, no edit). A revoked or expired link opens nothing from the
next request on: grants are re-read from the records (cached until the tenant's next
write, and the expiry is checked on every use).

Who may make a link: a signed-in member with `view` and `edit_album` on the album (for a
media object: on its album); `allow_original` only for someone who may see the originals
there. The maker and the gallery's administrators may list and revoke it.

Document (collection `shares`, version 1): _id, v, token_hash, kind ("album"|"media"),
target_id, album_id (the album, or the media object's album when made), title (as made,
for the list), subalbums, allow_original, expires (datetime|None), password_hash
(str|None), created_by, created_by_name, created, revoked (datetime|None), views,
last_viewed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gallery.cached import fresh_copy
from gallery.errors import Forbidden, Gone, Invalid, NotFound, TooManyRequests
from gallery.i18n import Message
from gallery.ids import is_id, new_id
from gallery.library.albums import get_album
from gallery.library.media import get_media
from gallery.library.media_access import media_scope
from gallery.people import lockout
from gallery.people.passwords import hash_password, verify_password
from gallery.people.permissions import ShareGrant, Viewer, can, require
from gallery.schema import INDEXES
from keys.tokens import hash_token, new_token

VERSION = 1
MAX_DAYS = 3650
MIN_PASSWORD = 6
MAX_PASSWORD = 1024
MAX_LISTED = 1000
KINDS = ("album", "media")

LOCKED_MESSAGE = "This link is locked after too many wrong passwords. Try again later."
ADDRESS_MESSAGE = "Too many wrong passwords from your address. Try again in a few minutes."


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # The embedded database may hand datetimes back naive (they are stored in UTC).
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def state(share: dict, now: datetime | None = None) -> str:
    """"active", "revoked" or "expired"."""
    if share.get("revoked"):
        return "revoked"
    expires = _aware(share.get("expires"))
    if expires is not None and expires <= (now or _now()):
        return "expired"
    return "active"


def grant_of(share: dict) -> ShareGrant:
    if share["kind"] == "media":
        return ShareGrant(share["_id"], media_id=share["target_id"],
                          originals=bool(share.get("allow_original")))
    return ShareGrant(share["_id"], album_id=share["target_id"],
                      subalbums=bool(share.get("subalbums")),
                      originals=bool(share.get("allow_original")))


async def _target(ctx, kind: str, target_id: str) -> tuple[dict, dict]:
    """(the album or media object, the album-shaped scope permissions are asked on)."""
    if kind == "media":
        media = await get_media(ctx, target_id)
        return media, media_scope(media)
    album = await get_album(ctx, target_id)
    return album, album


def may_share(viewer: Viewer, scope: dict) -> bool:
    """Signed in, may see it, and may edit the album it is (in)."""
    return (
        not viewer.anonymous
        and can(viewer, "view", scope)
        and can(viewer, "edit_album", {k: v for k, v in scope.items() if k != "media_id"})
    )


def _expiry(days) -> datetime | None:
    if days in (None, "", 0, "0"):
        return None
    try:
        number = int(str(days).strip())
    except ValueError:
        number = -1
    if not 1 <= number <= MAX_DAYS:
        raise Invalid(
            Message("The link's lifetime is a whole number of days from 1 to %(days)s, or none.", days=MAX_DAYS),
            field_errors={"expires_days": Message("1 to %(days)s, or empty", days=MAX_DAYS)},
        )
    return _now() + timedelta(days=number)


async def create_share(
    ctx, viewer: Viewer, *, kind: str, target_id: str, subalbums: bool = False,
    allow_original: bool = False, expires_days=None, password: str | None = None,
) -> tuple[dict, str]:
    """Make a link; returns (its record, the token — shown once, never stored)."""
    if kind not in KINDS:
        raise Invalid("kind must be album or media.", field_errors={"kind": "album or media"})
    if not is_id(target_id):
        raise NotFound("No such album or media object.")
    target, scope = await _target(ctx, kind, target_id)
    require(viewer, "view", scope)
    if not may_share(viewer, scope):
        raise Forbidden("You may share only albums (and their media) you may edit.")
    if allow_original and not can(viewer, "view_original", scope):
        raise Forbidden("You may not share originals you may not see yourself.")
    password = password or None
    if password is not None and not (
        isinstance(password, str) and MIN_PASSWORD <= len(password) <= MAX_PASSWORD
    ):
        raise Invalid(
            Message("A link's password has %(least)s to %(most)s characters.", least=MIN_PASSWORD, most=MAX_PASSWORD),
            field_errors={"password": Message("%(least)s to %(most)s characters", least=MIN_PASSWORD, most=MAX_PASSWORD)},
        )
    token, token_hash = new_token()
    user = viewer.user
    doc = {
        "_id": new_id(),
        "v": VERSION,
        "token_hash": token_hash,
        "kind": kind,
        "target_id": target["_id"],
        "album_id": target["_id"] if kind == "album" else target["album_id"],
        "title": (target.get("title") or target.get("file_name") or "")[:200],
        "subalbums": bool(subalbums) and kind == "album",
        "allow_original": bool(allow_original),
        "expires": _expiry(expires_days),
        "password_hash": await hash_password(password) if password else None,
        "created_by": user["_id"],
        "created_by_name": user.get("username", ""),
        "created": _now(),
        "revoked": None,
        "views": 0,
        "last_viewed": None,
    }
    # Galleries made before share links have no indexes on the collection (indexes are made
    # at provisioning); making one here costs nothing when it exists, and no step is needed.
    for collection, keys, options in INDEXES:
        if collection == "shares":
            await ctx.db.shares.create_index(keys, **options)
    await ctx.db.shares.insert_one(doc)
    return doc, token


async def share_for_token(ctx, token: str) -> dict:
    """The record of a link, whatever its state; NotFound for a token that is none of ours."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise NotFound("There is no shared link at this address.")
    share = await ctx.db.shares.find_one({"token_hash": hash_token(token)})
    if share is None:
        raise NotFound("There is no shared link at this address.")
    return share


def require_active(share: dict) -> None:
    found = state(share)
    if found == "revoked":
        raise Gone("This shared link was withdrawn by the person who shared it.")
    if found == "expired":
        raise Gone("This shared link has expired.")


async def require_target(ctx, share: dict) -> None:
    """Gone when what the link named is no longer in the gallery (deleted)."""
    try:
        await _target(ctx, share["kind"], share["target_id"])
    except NotFound:
        raise Gone("What this link shared is no longer in the gallery.") from None


async def check_password(ctx, share: dict, password: str, ip: str, settings: dict) -> None:
    """Raise unless `password` opens the link. Each attempt takes its slot in the sign-in
    counters first (gallery.people.lockout: per link and per client address, decided on
    the atomic count before the password is checked), so parallel guesses cannot pass the
    limit; too many wrong ones lock the link for the lockout time."""
    try:
        attempt = await lockout.begin_attempt(
            ctx.db, f"share:{share['_id']}", ip, lockout.Limits.from_settings(settings)
        )
    except lockout.AddressThrottled:
        raise TooManyRequests(ADDRESS_MESSAGE) from None
    except lockout.AccountLocked:
        raise TooManyRequests(LOCKED_MESSAGE) from None
    if await verify_password(str(password or "")[:MAX_PASSWORD], share.get("password_hash")):
        await attempt.succeeded()
        return
    if await attempt.failed():
        raise TooManyRequests(LOCKED_MESSAGE)
    raise Forbidden("That is not the link's password.", field_errors={"password": "is not right"})


async def record_view(ctx, share: dict) -> None:
    # Past the write tracking of ctx.db (tenants/context.py): a view count changes no cached
    # read (the grants' cache leaves it out), and a popular link must not make every page of
    # the gallery rebuild at each visit.
    shares_collection = getattr(ctx.db, "_db", ctx.db).shares
    await shares_collection.update_one(
        {"_id": share["_id"]}, {"$inc": {"views": 1}, "$set": {"last_viewed": _now()}}
    )


async def active_grants(ctx, share_ids) -> tuple[ShareGrant, ...]:
    """The grants of the links a visitor opened that still hold (cached like roles)."""
    ids = tuple(sorted({i for i in share_ids if is_id(i)}))
    if not ids:
        return ()
    key = ("shares", ids)
    found = ctx.cached(key)
    if found is None:
        generation = ctx.generation
        found = await ctx.db.shares.find(
            {"_id": {"$in": list(ids)}},
            {"kind": 1, "target_id": 1, "subalbums": 1, "allow_original": 1, "expires": 1,
             "revoked": 1},
        ).to_list()
        ctx.remember(key, found, generation)
    now = _now()
    return tuple(grant_of(s) for s in found if state(s, now) == "active")


async def list_shares(ctx, viewer: Viewer) -> list[dict]:
    """The links a member made, or for an administrator every link; newest first."""
    if viewer.anonymous:
        return []
    query = {} if viewer.is_admin else {"created_by": viewer.user["_id"]}
    found = await ctx.db.shares.find(query, {"token_hash": 0}).sort("created", -1).limit(
        MAX_LISTED
    ).to_list()
    now = _now()
    for share in found:
        share["has_password"] = bool(share.pop("password_hash", None))
        share["state"] = state(share, now)
        share["expires"] = _aware(share.get("expires"))
    return fresh_copy(found)


async def get_share(ctx, share_id: str) -> dict:
    share = await ctx.db.shares.find_one({"_id": share_id}) if is_id(share_id) else None
    if share is None:
        raise NotFound("No such shared link.")
    return share


async def revoke_share(ctx, viewer: Viewer, share_id: str) -> dict:
    """Withdraw a link (its maker or an administrator); revoking twice changes nothing."""
    share = await get_share(ctx, share_id)
    if viewer.anonymous or not (viewer.is_admin or share.get("created_by") == viewer.user["_id"]):
        raise NotFound("No such shared link.")
    if not share.get("revoked"):
        await ctx.db.shares.update_one({"_id": share["_id"]}, {"$set": {"revoked": _now()}})
    return await get_share(ctx, share_id)
