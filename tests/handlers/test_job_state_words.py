"""A job's state in words of the page's language on first render (backup, synchronization
and GSP import pages; static/js/admin-jobs.js writes the same words as it follows a job),
an outgoing mail's state on the e-mail page, and a gallery's status in the host console."""

import re

from gallery.archive.jobs import KIND as BACKUP
from gallery.gspimport.jobs import KIND as GSP_IMPORT
from gallery.intake.ingest import job_queue
from gallery.intake.sync_lock import KIND as SYNC
from gallery.notices.mail import queue_mail
from tests.client import text

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}
ENGLISH = {"Accept-Language": "en"}
_BADGE = re.compile(r'<span class="badge job-state[^"]*">([^<]*)</span>')


async def test_job_states_are_words_of_the_pages_language(app, make_gallery):
    g = await make_gallery()
    queue = job_queue(app.services)
    # Held jobs: no worker takes them while the pages are read, so they stay "queued".
    for kind in (BACKUP, SYNC, GSP_IMPORT):
        await queue.enqueue(g["slug"], kind, {"requested_by": "test"}, hold=True)
    admin = app.browser()
    assert (await admin.login(g["prefix"], g["username"], g["password"])).code == 302
    for path in ("/admin/backup", "/admin/sync", "/admin/import-gsp"):
        german = text(await admin.get(g["prefix"] + path, headers=GERMAN))
        english = text(await admin.get(g["prefix"] + path, headers=ENGLISH))
        assert _BADGE.findall(german) == ["Wartet"], (path, _BADGE.findall(german))
        assert _BADGE.findall(english) == ["Waiting"], (path, _BADGE.findall(english))
        assert 'data-state="queued"' in german  # what the script follows stays the state's name


async def test_an_outgoing_mails_state_is_a_word(app, make_gallery):
    g = await make_gallery()
    await queue_mail(g["ctx"], "someone@else.test", "test", {})
    admin = app.browser()
    assert (await admin.login(g["prefix"], g["username"], g["password"])).code == 302
    german = text(await admin.get(g["prefix"] + "/admin/email", headers=GERMAN))
    states = re.findall(r'<td><span class="badge">([^<]*)</span></td>', german)
    assert states and set(states) <= {"Wartet", "Gesendet", "Fehlgeschlagen"}, states


async def test_a_galleries_status_is_a_word_in_the_host_console(app, make_gallery):
    from tenants.host_admins import create_admin

    g = await make_gallery()
    await create_admin(app.services.host_db, "provider", "a-long-host-password-1")
    host = app.browser()
    await host.get("/_host/login")
    assert (await host.post_form("/_host/login", {"username": "provider", "password": "a-long-host-password-1"})).code == 302
    for path in ("/_host/", f"/_host/tenants/{g['slug']}"):
        german = text(await host.get(path, headers=GERMAN))
        assert re.search(r'<span class="badge status-active">aktiv</span>', german), path
        english = text(await host.get(path, headers=ENGLISH))
        assert re.search(r'<span class="badge status-active">active</span>', english), path
