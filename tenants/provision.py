"""Creating and deleting tenants; a failed creation removes everything it made."""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, datetime, timedelta

from pymongo.errors import DuplicateKeyError

from gallery import schema
from keys.tokens import new_token
from storage.root import StorageError
from tenants.names import InvalidName, check_slug, normalize_hostname
from tenants.registry import TenantNotFound, TenantRegistry

log = logging.getLogger("atrium.tenants")

STATUSES = ("provisioning", "installing", "active", "suspended")


class ProvisioningError(Exception):
    """A tenant could not be created; the message says why. Nothing was left behind."""


def _installer(days: int) -> tuple[str, dict]:
    token, token_hash = new_token()
    now = datetime.now(UTC)
    return token, {"token_hash": token_hash, "created": now, "expires": now + timedelta(days=days)}


async def create_tenant(
    registry: TenantRegistry,
    slug: str,
    title: str,
    hostnames: list[str] | None = None,
    admin_email: str = "",
    quota_bytes: int = 0,
) -> tuple[dict, str]:
    """Provision a tenant; return (record, installer token)."""
    try:
        slug = check_slug(slug)
        hostnames = [normalize_hostname(h) for h in hostnames or []]
    except InvalidName as exc:
        raise ProvisioningError(str(exc)) from None
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ProvisioningError("title is required (at most 200 characters)")
    if not isinstance(quota_bytes, int) or quota_bytes < 0:
        raise ProvisioningError("quota must be a whole number of bytes, 0 for unlimited")
    base = registry.config.server.base_domain
    for name in hostnames:
        if name == base or name.endswith("." + base):
            raise ProvisioningError(f"hostname {name} is under the base domain; use the slug instead")

    host = registry.host_db
    token, installer = _installer(registry.config.security.installer_token_days)
    record = {
        "_id": slug,
        "title": title,
        "hostnames": hostnames,
        "status": "provisioning",
        "admin_email": admin_email,
        "quota_bytes": quota_bytes,
        "created": datetime.now(UTC),
        "key_salt": secrets.token_hex(8),
        "installer": installer,
        "version": 1,
    }
    try:
        await host.tenants.insert_one(record)
    except DuplicateKeyError:
        raise ProvisioningError(f"a tenant with slug {slug!r} already exists") from None

    claimed: list[str] = []
    storage = registry.storage(slug)
    made_storage = False
    try:
        for name in hostnames:
            try:
                await host.hostnames.insert_one({"_id": name, "slug": slug})
            except DuplicateKeyError:
                raise ProvisioningError(f"hostname {name} is already used by another tenant") from None
            claimed.append(name)
        try:
            await asyncio.to_thread(storage.create)
        except StorageError as exc:
            raise ProvisioningError(str(exc)) from None
        made_storage = True
        db = registry.tenant_db(slug)
        await schema.create_indexes(db)
        await schema.write_meta(db)
        await host.tenants.update_one({"_id": slug}, {"$set": {"status": "installing"}})
    except BaseException:
        log.warning("provisioning %s failed; removing what was made", slug)
        if claimed:
            await host.hostnames.delete_many({"_id": {"$in": claimed}})
        if made_storage:
            await asyncio.to_thread(storage.remove)
        await registry.client.drop_database(registry.database_name(slug))
        await host.tenants.delete_one({"_id": slug})
        raise
    record["status"] = "installing"
    log.info("tenant %s created", slug)
    return record, token


async def new_installer_token(registry: TenantRegistry, slug: str) -> str:
    """Issue a fresh installer link (the old one stops working); only before installation."""
    token, installer = _installer(registry.config.security.installer_token_days)
    result = await registry.host_db.tenants.update_one(
        {"_id": slug, "status": "installing"}, {"$set": {"installer": installer}}
    )
    if result.matched_count == 0:
        await registry.get_record(slug)  # raises TenantNotFound
        raise ProvisioningError(f"tenant {slug} is already installed")
    registry.forget(slug)
    return token


async def delete_tenant(registry: TenantRegistry, slug: str) -> None:
    """Remove a tenant's record, hostnames, database and storage root."""
    record = await registry.host_db.tenants.find_one({"_id": slug})
    if record is None:
        raise TenantNotFound(slug)
    # Mark first so no request is served while the rest goes away.
    await registry.host_db.tenants.update_one({"_id": slug}, {"$set": {"status": "deleting"}})
    registry.forget(slug)
    await registry.host_db.hostnames.delete_many({"slug": slug})
    await registry.host_db.jobs.delete_many({"tenant": slug})
    await registry.client.drop_database(registry.database_name(slug, record))
    await asyncio.to_thread(registry.storage(slug).remove)
    await registry.host_db.tenants.delete_one({"_id": slug})
    registry.forget(slug)
    log.info("tenant %s deleted", slug)


async def suspend_tenant(registry: TenantRegistry, slug: str) -> dict:
    """Stop serving a tenant (remembering whether it was installed, for resume)."""
    record = await registry.get_record(slug)
    if record["status"] not in ("active", "installing"):
        raise ProvisioningError(f"cannot suspend tenant {slug}: it is {record['status']}")
    await registry.host_db.tenants.update_one(
        {"_id": slug}, {"$set": {"status": "suspended", "status_before": record["status"]}}
    )
    registry.forget(slug)
    return await registry.get_record(slug)


async def resume_tenant(registry: TenantRegistry, slug: str) -> dict:
    """Serve a suspended tenant again, in the state it had before."""
    record = await registry.get_record(slug)
    if record["status"] != "suspended":
        raise ProvisioningError(f"cannot resume tenant {slug}: it is {record['status']}, not suspended")
    return await registry.set_status(slug, record.get("status_before") or "active")


async def update_tenant(
    registry: TenantRegistry, slug: str, *, title: str | None = None,
    hostnames: list[str] | None = None, quota_bytes: int | None = None,
) -> dict:
    """Change a tenant's title, hostnames or quota."""
    record = await registry.get_record(slug)
    changes: dict = {}
    if title is not None:
        title = title.strip()
        if not title or len(title) > 200:
            raise ProvisioningError("title is required (at most 200 characters)")
        changes["title"] = title
    if quota_bytes is not None:
        if quota_bytes < 0:
            raise ProvisioningError("quota must be 0 (unlimited) or more")
        changes["quota_bytes"] = quota_bytes
    if hostnames is not None:
        try:
            hostnames = [normalize_hostname(h) for h in hostnames]
        except InvalidName as exc:
            raise ProvisioningError(str(exc)) from None
        old = set(record.get("hostnames", []))
        added = [h for h in hostnames if h not in old]
        claimed = []
        for name in added:
            try:
                await registry.host_db.hostnames.insert_one({"_id": name, "slug": slug})
            except DuplicateKeyError:
                await registry.host_db.hostnames.delete_many({"_id": {"$in": claimed}})
                raise ProvisioningError(f"hostname {name} is already used by another tenant") from None
            claimed.append(name)
        removed = [h for h in old if h not in hostnames]
        if removed:
            await registry.host_db.hostnames.delete_many({"_id": {"$in": removed}, "slug": slug})
        changes["hostnames"] = hostnames
    if changes:
        await registry.host_db.tenants.update_one({"_id": slug}, {"$set": changes})
    registry.forget(slug)
    return await registry.get_record(slug)
