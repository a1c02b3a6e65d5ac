"""The tenant admin's e-mail page: where mail goes, a test message, and the recent outbox."""

from __future__ import annotations

from gallery.errors import GalleryError
from gallery.ids import is_id
from gallery.notices import mail
from handlers.admin_users import AdminPage


class EmailHandler(AdminPage):
    async def page(self, error=None, status=200) -> None:
        test_id = self.get_argument("test", "")
        test = (
            await self.tenant.db.outbox.find_one({"_id": test_id}, {"vars": 0})
            if is_id(test_id)
            else None
        )
        options = mail.smtp_options(self.settings_values, self.config, self.tenant)
        options.pop("password", None)
        self.set_status(status)
        self.render(
            "admin/email.html",
            options=options,
            test=test,
            outbox=await mail.recent_outbox(self.tenant),
            error=error,
            default_to=self.user.get("email", ""),
        )

    async def get(self) -> None:
        await self.admin()
        await self.page()

    async def post(self) -> None:
        await self.admin()
        try:
            # One attempt only: the page reports the SMTP server's answer rather than retrying.
            outbox_id = await mail.queue_mail(
                self.tenant,
                self.get_body_argument("to", "")[:254],
                "test",
                {},
                queue=self.job_queue,
                max_attempts=1,
            )
        except GalleryError as exc:
            return await self.page(error=exc.message, status=exc.status)
        if outbox_id is None:
            return await self.page(error="That is not a valid e-mail address.", status=400)
        self.redirect(self.urls("/admin/email", test=outbox_id))


ROUTES = [(r"/admin/email", EmailHandler)]
