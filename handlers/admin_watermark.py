"""The settings page's watermark helpers: a live preview and the PNG upload.

GET  /admin/watermark/preview?watermark_…=…  the sample image (static/img/) stamped with
     the given, not yet saved, watermark settings (JPEG, rendered in the process pool)
POST /admin/watermark/image   multipart field "image": a PNG with transparency becomes
     the watermark image (stored under watermarks/<sha256>.png); "remove=1" clears it
"""

from __future__ import annotations

import asyncio
import os

from gallery import settings as gallery_settings
from gallery.processing import watermarks
from gallery.errors import Invalid
from gallery.notices.events import record_event
from gallery.processing.derivatives import _in_pool
from handlers.admin_users import AdminPage
from media.errors import MediaError

SAMPLE = ("img", "watermark-sample.jpg")


class WatermarkPreviewHandler(AdminPage):
    async def get(self) -> None:
        await self.admin()
        values = dict(self.settings_values)
        submitted = {
            key: self.get_query_argument(key)
            for key in watermarks.KEYS
            if self.get_query_argument(key, None) is not None
        }
        # The form's checkbox is absent when unticked: the preview shows the stamp anyway.
        submitted.pop("watermark_enabled", None)
        try:
            values.update(gallery_settings.validate(submitted))
        except Invalid as exc:
            self.write_json({"error": {"code": "invalid", "message": exc.message,
                                       "fields": exc.field_errors}}, status=400)
            return
        from media.watermark import preview

        sample = os.path.join(self.settings["static_path"], *SAMPLE)
        try:
            body = await _in_pool(self.services, preview, sample,
                                  watermarks.spec_for(self.tenant, values))
        except MediaError as exc:
            self.write_json({"error": {"code": "invalid", "message": exc.reason}}, status=400)
            return
        self.set_header("Content-Type", "image/jpeg")
        self.set_header("Cache-Control", "private, no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(body)


class WatermarkImageHandler(AdminPage):
    async def post(self) -> None:
        await self.admin()
        ctx = self.tenant
        if self.get_body_argument("remove", ""):
            digest = ""
        else:
            files = self.request.files.get("image") or []
            if len(files) != 1 or not files[0]["body"]:
                raise Invalid("Choose a PNG file.", field_errors={"image": "missing"})
            digest = await asyncio.to_thread(watermarks.store_image, ctx, files[0]["body"])
        await gallery_settings.update_settings(ctx, {"watermark_image": digest})
        from gallery.intake.ingest import job_queue

        await watermarks.schedule_cleanup(ctx, job_queue(self.services))
        await record_event(ctx, "settings", "Watermark image " + ("set" if digest else "removed"),
                           user=self.user, ip=self.client_ip(), url=self.request.path)
        self.redirect(self.urls("/admin/settings") + "#watermark")


ROUTES = [
    (r"/admin/watermark/preview", WatermarkPreviewHandler),
    (r"/admin/watermark/image", WatermarkImageHandler),
]
