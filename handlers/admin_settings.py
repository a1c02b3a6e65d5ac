"""The tenant admin's settings page, rendered from the settings schema."""

from __future__ import annotations

from gallery import settings as gallery_settings
from gallery.processing import watermarks
from gallery.library.albums import root_album
from gallery.errors import Invalid
from gallery.i18n import Message, N_
from gallery.library.albums import root_album
from gallery.notices.events import record_event
from gallery.people.permissions import require_administrator
from gallery.ids import is_id
from gallery.people.new_accounts import usable_role_ids
from gallery.people.permissions import viewer_for
from gallery.people.roles import list_roles
from handlers.base import TenantHandler
from handlers.upload_page import writable_albums

CHECKLISTS = frozenset({"ordered_checklist", "grouped_checklist", "roles", "in_checklist"})

# Changing one of these leaves existing thumbnails and optimized copies as they were made:
# the page then offers to regenerate them (the media.regenerate job, with progress).
DERIVATIVE_SETTINGS = frozenset({
    "thumbnail_size", "thumbnail_quality", "optimized_size", "optimized_quality",
    "derivative_format", "optimized_trigger_kb",
})


class SettingsHandler(TenantHandler):
    async def _admin(self) -> None:
        self.require_user()
        await require_administrator(self.tenant, self.user)
        self.is_gallery_admin = True

    async def _page(self, values: dict, errors: dict, notice: str | None,
                    derivatives_changed: bool = False) -> None:
        root = await root_album(self.tenant)
        root_id = root["_id"] if root else None
        viewer = await viewer_for(self.tenant, self.user, self.settings_values)
        albums = await writable_albums(self.tenant, viewer, "view", self.gallery_title)
        self.render("admin/settings.html", schema=gallery_settings.SETTINGS,
                    groups=gallery_settings.GROUPS, values=values, errors=errors, notice=notice,
                    root_id=root_id, albums=[a for a in albums if a["id"] != root_id],
                    roles=await list_roles(self.tenant),
                    derivatives_changed=derivatives_changed)

    async def _check_references(self, clean: dict) -> dict[str, str]:
        """Settings that name records of this gallery must name existing ones (an id typed
        into the form, or another gallery's album, is refused rather than silently ignored)."""
        errors = {}
        parent = clean.get("user_album_parent_id")
        if parent and not (is_id(parent) and await self.tenant.db.albums.find_one({"_id": parent}, {"_id": 1})):
            errors["user_album_parent_id"] = N_("Parent of user albums must be an album of this gallery")
        roles = clean.get("default_role_ids") or []
        if roles:
            if not set(roles) <= await usable_role_ids(self.tenant, roles):
                errors["default_role_ids"] = N_("Roles of new accounts must be roles of this gallery that do not administer it")
        return errors

    async def get(self) -> None:
        await self._admin()
        await self._page(self.settings_values, {}, None)

    async def post(self) -> None:
        await self._admin()
        submitted = {}
        for setting in gallery_settings.SETTINGS:
            if setting.type == "labels":
                # One text box per choice, named "<key>.<choice>" (in the checklist's rows).
                submitted[setting.key] = {
                    c: self.get_body_argument(f"{setting.key}.{c}", "") for c in setting.choices
                }
            elif setting.widget in CHECKLISTS:
                # One form value per ticked box, in the page's order (a comma-separated
                # value, as the page sent before its checklists, is read the same way);
                # parse_value caps the count.
                submitted[setting.key] = [
                    part for arg in self.get_body_arguments(setting.key)[:1000]
                    for part in arg.split(",")
                ][:1000]
            elif setting.type == "bool":
                submitted[setting.key] = self.get_body_argument(setting.key, "") == "on"
            elif setting.secret and not self.get_body_argument(setting.key, ""):
                continue  # an empty secret field keeps the stored value
            else:
                submitted[setting.key] = self.get_body_argument(setting.key, "")
        try:
            # Store only what differs, so untouched settings keep following the defaults.
            clean = gallery_settings.validate(submitted)
            if reference_errors := await self._check_references(clean):
                raise Invalid("Some settings are not valid.", field_errors=reference_errors)
            changed = {k: v for k, v in clean.items() if v != self.settings_values.get(k)}
            values = await gallery_settings.update_settings(self.tenant, changed)
        except Invalid as exc:
            self.set_status(400)
            await self._page({**self.settings_values, **submitted}, exc.field_errors, None)
            return
        keys = sorted(changed)
        if watermarks.version_changed(keys):
            # New copies are made as they are asked for; old ones go a little later.
            from gallery.intake.ingest import job_queue

            await watermarks.schedule_cleanup(self.tenant, job_queue(self.services))
        if keys:
            await record_event(self.tenant, "settings", Message("Settings changed: %(keys)s", keys=", ".join(keys)),
                               user=self.user, ip=self.client_ip(), url=self.request.path)
        self.settings_values = values
        self.gallery_title = values.get("gallery_title") or self.tenant.title
        await self._page(values, {}, "Settings saved.",
                         derivatives_changed=bool(DERIVATIVE_SETTINGS & set(keys)))


ROUTES = [(r"/admin/settings", SettingsHandler)]
