"""E-mail: the outbox, rendering from templates/emails/, and delivery by the `email.send` job.

Nothing is sent inside a request. `queue_mail` writes a message to the tenant's `outbox`
collection and enqueues an `email.send` job; the job renders the text and HTML parts with
the gallery's title, sends them with aiosmtplib (the tenant's SMTP settings, falling back
to the host's `smtp.*` configuration), retries with the queue's backoff and records the
final failure in the event log. Links that carry tokens live in the outbox only until the
message is sent.

The SMTP password setting is stored encrypted (keys.sealed: AES-256-GCM under a key
derived from the host secret and the tenant); gallery.settings seals it when saved.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

import aiosmtplib
import tornado.template
from pymongo.errors import DuplicateKeyError

from gallery import i18n
from gallery.errors import GalleryError
from gallery.i18n import LANGUAGES, N_
from gallery.ids import is_id, new_id
from gallery.notices import events, mail_destination
from gallery.notices.events import record_event
from jobs.queue import JobFailed, JobQueue, register
from keys.sealed import decrypt_secret

log = logging.getLogger("atrium.mail")

OUTBOX_VERSION = 1
ERROR_MAIL_MINUTES = 10
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "emails"
_html_loader = tornado.template.Loader(str(TEMPLATES))
_text_loader = tornado.template.Loader(str(TEMPLATES), autoescape=None)

SUBJECTS = {  # English; translated when the message is rendered in its recipient's language
    "installer": N_("Set up your gallery %(title)s"),
    "account_created": N_("Your account at %(title)s"),
    "verify": N_("Confirm your e-mail address for %(title)s"),
    "awaiting_approval": N_("Your account at %(title)s awaits approval"),
    "approved": N_("Your account at %(title)s is ready"),
    "reset": N_("Reset your password at %(title)s"),
    "password_changed": N_("Your password at %(title)s was changed"),
    "password_changed_by_admin": N_("An administrator changed your password at %(title)s"),
    "admin_new_account": N_("New account at %(title)s"),
    "admin_awaiting_approval": N_("An account at %(title)s awaits your approval"),
    "admin_error": N_("An error occurred at %(title)s"),
    "test": N_("Test message from %(title)s"),
}


# -- queueing -----------------------------------------------------------------------------


def _host_queue(ctx):
    # The host database sits beside the tenant's: "<prefix>t_<slug>" (or, after a restore
    # into the gallery, "<prefix>t_<slug>__<store>") -> "<prefix>host".
    name = ctx.db.name
    host_name = name[: name.rindex(f"t_{ctx.slug}")] + "host"
    return JobQueue(ctx.db.client[host_name])


async def queue_mail(
    ctx,
    to,
    template: str,
    variables: dict | None = None,
    *,
    queue=None,
    max_attempts: int | None = None,
    language: str | None = None,
) -> str | None:
    """Put a message in the outbox and enqueue its delivery; returns the outbox id. It is
    written in `language`, else in the language of the member with the first address."""
    from gallery.errors import Invalid
    from gallery.people.users import clean_email

    recipients = []
    for address in [to] if isinstance(to, str) else list(to):
        try:
            recipients.append(clean_email(address))
        except Invalid:
            log.warning("skipping an invalid recipient address")
    if not recipients:
        return None
    if template not in SUBJECTS:
        raise ValueError(f"unknown e-mail template {template}")
    if language is None:
        language = (await recipient_languages(ctx, recipients[:1])).get(recipients[0], "")
    doc = {
        "_id": new_id(),
        "to": list(dict.fromkeys(recipients)),
        "template": template,
        "vars": dict(variables or {}),
        "state": "queued",
        "attempts": 0,
        "language": language if language in LANGUAGES else "",  # optional: "" is English
        "created": datetime.now(UTC),
        "version": OUTBOX_VERSION,
    }
    await ctx.db.outbox.insert_one(doc)
    queue = queue or _host_queue(ctx)
    await queue.enqueue(
        ctx.slug, "email.send", {"outbox_id": doc["_id"]}, max_attempts=max_attempts
    )
    return doc["_id"]


async def notify_admins(ctx, template: str, variables: dict, *, queue=None) -> str | None:
    from gallery.settings import get_settings

    addresses = (await get_settings(ctx)).get("admin_notify_emails") or []
    if not addresses:
        return None
    # One message per language the administrators chose (most often one).
    languages = await recipient_languages(ctx, addresses)
    groups: dict[str, list[str]] = {}
    for address in addresses:
        groups.setdefault(languages.get(address, ""), []).append(address)
    outbox_id = None
    for language, group in groups.items():
        outbox_id = await queue_mail(ctx, group, template, variables, queue=queue, language=language) or outbox_id
    return outbox_id


async def recipient_languages(ctx, addresses: list[str]) -> dict[str, str]:
    """address -> the language its member chose (addresses of no member are left out)."""
    found = ctx.db.users.find(
        {"email": {"$in": list(addresses)}, "language": {"$in": list(LANGUAGES)}}, {"email": 1, "language": 1}
    )
    return {doc["email"]: doc["language"] async for doc in found}


async def notify_error(ctx, event: dict) -> str | None:
    """Tell the chosen administrators about an error, at most once per 10 minutes per gallery."""
    from gallery.settings import get_settings

    if not (await get_settings(ctx)).get("admin_notify_emails"):
        return None
    now = datetime.now(UTC)
    claimed = await ctx.db.meta.find_one_and_update(
        {"_id": "error_mail", "last": {"$lt": now - timedelta(minutes=ERROR_MAIL_MINUTES)}},
        {"$set": {"last": now}},
    )
    if claimed is None:
        try:
            await ctx.db.meta.insert_one({"_id": "error_mail", "last": now})
        except DuplicateKeyError:
            return None  # one was sent less than 10 minutes ago
    return await notify_admins(
        ctx,
        "admin_error",
        {
            "message": event.get("message", "")[:1000],
            "url": event.get("url", ""),
            "event_id": event.get("event_id") or "",
            "links": {"events": "/admin/events"},
        },
    )


# -- rendering and delivery ---------------------------------------------------------------


def render(template: str, variables: dict, *, title: str, urls=None, language: str | None = None) -> tuple[str, str, str]:
    """(subject, text, html) of a message, in `language` (English when it is unknown)."""
    values = {k: v for k, v in variables.items() if k != "links"}
    for name, path in (variables.get("links") or {}).items():
        values[name] = urls.absolute(path) if urls is not None else path
    values["title"] = title
    locale = i18n.get(language)
    values.update(_=locale.translate, lang=locale.code, formats=i18n.formats(locale.code))
    subject = locale.translate(SUBJECTS[template]) % {"title": title}
    subject = " ".join(subject.split())[:200]
    text = _text_loader.load(f"{template}.txt").generate(**values).decode()
    html = _html_loader.load(f"{template}.html").generate(**values).decode()
    return subject, text, html


def smtp_options(settings: dict, config, ctx) -> dict:
    """Where and how to send: the tenant's settings, each falling back to the host's."""
    smtp = config.smtp
    own_server = bool(settings.get("smtp_host"))
    tls = settings.get("smtp_tls") or "default"
    tls = smtp.tls if tls == "default" else tls
    username = settings.get("smtp_username") if own_server else smtp.username
    password = (
        decrypt_secret(ctx, settings.get("smtp_password", "")) if own_server else smtp.password
    )
    options = {
        "hostname": settings.get("smtp_host") or smtp.host,
        "port": int(settings.get("smtp_port") or smtp.port),
        "use_tls": tls == "tls",
        "start_tls": tls == "starttls",
        "timeout": smtp.timeout,
    }
    if username:
        options.update(username=username, password=password)
    return options


def build_message(
    settings: dict, config, title: str, to: list[str], subject: str, text: str, html: str
) -> EmailMessage:
    address = settings.get("from_address") or config.smtp.from_address
    name = settings.get("from_name") or title or config.smtp.from_name
    message = EmailMessage()
    message["From"] = formataddr((" ".join(name.split()), address))
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=address.rsplit("@", 1)[-1] or "localhost")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


async def deliver(ctx, config, to: list[str], template: str, variables: dict, urls=None,
                  language: str | None = None) -> str:
    """Render and send one message now; returns the SMTP server's answer."""
    from gallery.settings import get_settings

    settings = await get_settings(ctx) if ctx.active else {}
    title = settings.get("gallery_title") or ctx.title
    subject, text, html = render(template, variables, title=title, urls=urls, language=language)
    message = build_message(settings, config, title, to, subject, text, html)
    options = smtp_options(settings, config, ctx)
    sock = None
    if settings.get("smtp_host") or settings.get("smtp_port"):
        # The tenant's own server (or the host's server on a port the tenant chose): only
        # on a public address (unless the host allows private ones), connected here to
        # the address that was checked.
        sock = await mail_destination.connect(
            options["hostname"], options["port"], options["timeout"],
            allow_private=config.smtp.allow_private_tenant_servers,
        )
        options.update(sock=sock, port=None)
    client = aiosmtplib.SMTP(**options)
    try:
        try:
            await client.connect()  # greeting, EHLO, STARTTLS, login
        except aiosmtplib.SMTPAuthenticationError:
            raise mail_destination.MailServerUnreachable(mail_destination.LOGIN_REFUSED) from None
        except (aiosmtplib.SMTPException, *_NOT_REACHED) as exc:
            # One answer however the server was not reached: refused, silent, hanging up,
            # speaking HTTP. Different errors per port would map the network behind it.
            log.warning("SMTP server %s not reached: %s: %s", options["hostname"], type(exc).__name__, exc)
            raise mail_destination.MailServerUnreachable(mail_destination.NOT_REACHED) from None
        try:
            _errors, answer = await client.send_message(message)
        except _NOT_REACHED as exc:
            log.warning("SMTP server %s lost: %s: %s", options["hostname"], type(exc).__name__, exc)
            raise mail_destination.MailServerUnreachable(mail_destination.NOT_REACHED) from None
        with contextlib.suppress(Exception):
            await client.quit()
    finally:
        client.close()
        if sock is not None:
            sock.close()  # the transport has its own reference; a failed one leaves none
    return answer


_NOT_REACHED = (
    OSError,
    TimeoutError,
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPConnectResponseError,
    aiosmtplib.SMTPHeloError,
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPTimeoutError,
)


def job_urls(ctx, config):
    from gallery.urls import canonical_urls, public_origin

    server = config.server
    return canonical_urls(
        ctx.record, server.base_domain, public_origin(server), server.path_prefix_routing
    )


async def send_job(job) -> dict:
    """The `email.send` job: deliver one outbox message."""
    ctx = job.tenant
    config = job.services.config
    outbox_id = job.payload.get("outbox_id")
    doc = await ctx.db.outbox.find_one({"_id": outbox_id}) if is_id(outbox_id) else None
    if doc is None or doc.get("state") != "queued":
        return {"skipped": True}
    try:
        answer = await deliver(
            ctx,
            config,
            doc["to"],
            doc["template"],
            doc.get("vars") or {},
            urls=job_urls(ctx, config),
            language=doc.get("language"),
        )
    except Exception as exc:
        reason = (exc.message if isinstance(exc, GalleryError) else f"{type(exc).__name__}: {exc}")[:1000]
        last = job.job.get("attempts", 1) >= job.job.get("max_attempts", 1)
        update = {"attempts": job.job.get("attempts", 1), "error": reason}
        if last:
            update.update(state="failed", finished=datetime.now(UTC), vars={})
        await ctx.db.outbox.update_one({"_id": doc["_id"]}, {"$set": update})
        if not last:
            raise
        await record_event(
            ctx,
            "email_failed",
            f"E-mail '{doc['template']}' to {', '.join(doc['to'])} could not be sent: {reason}",
            details={"outbox_id": doc["_id"]},
        )
        raise JobFailed(reason) from None
    # Sent: drop the variables, which may hold single-use links.
    await ctx.db.outbox.update_one(
        {"_id": doc["_id"]},
        {
            "$set": {
                "state": "sent",
                "answer": str(answer)[:500],
                "sent": datetime.now(UTC),
                "attempts": job.job.get("attempts", 1),
                "vars": {},
            }
        },
    )
    return {"answer": str(answer)[:500]}


async def installer_job(job) -> dict:
    """The `email.installer` job: send the installer link to the tenant's admin address."""
    ctx = job.tenant
    config = job.services.config
    record = await job.services.registry.host_db.tenants.find_one({"_id": ctx.slug}) or ctx.record
    token = job.payload.get("token")
    address = record.get("admin_email")
    if not token or not address or record.get("status") != "installing":
        return {"skipped": True}
    from gallery.urls import canonical_urls, public_origin

    # Built from the configuration alone: no request (and no Host header) is involved.
    server = config.server
    urls = canonical_urls(
        record, server.base_domain, public_origin(server), server.path_prefix_routing
    )
    answer = await deliver(
        ctx, config, [address], "installer", {"install_url": urls.absolute("/install", token=token)}
    )
    # The token has done its work here: do not keep it in the job document.
    await job.queue.jobs.update_one({"_id": job.job["_id"]}, {"$set": {"payload": {}}})
    return {"answer": str(answer)[:500]}


async def recent_outbox(ctx, limit: int = 20) -> list[dict]:
    return await ctx.db.outbox.find({}, {"vars": 0}).sort("created", -1).limit(limit).to_list()


async def latest_to(ctx, address: str, within: timedelta = timedelta(minutes=10)) -> dict | None:
    """The newest message to `address` queued within `within` (without its variables, which
    may hold single-use links), for showing its fate where the action that sent it was taken."""
    if not address:
        return None
    since = datetime.now(UTC) - within
    found = await ctx.db.outbox.find(
        {"to": address, "created": {"$gte": since}}, {"vars": 0}
    ).sort("created", -1).limit(1).to_list()
    return found[0] if found else None


def _register() -> None:
    register("email.send", send_job)
    register("email.installer", installer_job)
    if notify_error not in events.ERROR_HOOKS:
        events.ERROR_HOOKS.append(notify_error)


_register()
