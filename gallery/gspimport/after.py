"""What follows a committed import: every imported user is asked to set a password (their GSP
password is never carried, whatever its format), by e-mail when they have an address and
mail can be queued, else by a link in the report; and the report goes into the event log."""

from __future__ import annotations

import logging

from gallery.notices.events import record_event
from gallery.people import accounts

log = logging.getLogger("atrium.gspimport")
#: The set-password link of an imported account lasts longer than a reset link: people
#: moving from GSP may read the mail days later.
LINK_HOURS = 14 * 24


async def finish(ctx, a, *, queue=None, urls=None, user: dict | None = None) -> None:
    report = a.report
    for doc in a.built.users:
        if urls is None:
            report.item("users", "note", doc["username"], doc["username"],
                        "no set-password link could be made here (no public address); use "
                        "'Forgot password' or the admin's reset")
            continue
        token = await accounts.issue_token(ctx, doc, "reset", LINK_HOURS)
        link = urls.absolute("/reset", token=token)
        if doc.get("email") and queue is not None:
            from gallery.notices.mail import queue_mail

            await queue_mail(ctx, doc["email"], "reset", {**accounts.user_vars(doc), "reset_url": link},
                             queue=queue)
        else:
            report.password_links.append({"username": doc["username"], "link": link})
    await record_event(ctx, "gsp.import", f"Imported from Gallery Server Pro: {report.summary()}",
                       user=user, details=report.as_dict())
