"""`python -m server tenant backup|restore|export|import` as a provider runs them: real
processes, each data directory with its own embedded database."""

import json
from pathlib import Path

from tests.server.test_cli import run

BACKUPS = Path(__file__).resolve().parents[1] / "gallery" / "archive" / "backups"


def test_restore_backup_export_and_import_through_the_command_line(tmp_path):
    old_host, new_host = tmp_path / "old", tmp_path / "new"
    restored = run(old_host, "tenant", "restore", str(BACKUPS / "format-1.zip"), "--slug", "one",
                   "--title", "One")
    assert restored.returncode == 0, restored.stderr
    assert "restored one (format 1): 2 media" in restored.stdout
    assert "smtp_password: a secret, not in the backup; set it again" in restored.stdout

    again = run(old_host, "tenant", "restore", str(BACKUPS / "format-2.zip"), "--slug", "one")
    assert again.returncode == 1
    assert again.stderr.startswith("atrium: nothing restored: a tenant with slug 'one' already exists")

    future = tmp_path / "not-a-zip.zip"
    future.write_text("hello")
    refused = run(old_host, "tenant", "restore", str(future), "--slug", "two")
    assert refused.returncode == 1 and "not a backup archive" in refused.stderr

    archive = tmp_path / "one.zip"
    backed = run(old_host, "tenant", "backup", "one", "--out", str(archive), "--json")
    assert backed.returncode == 0, backed.stderr
    report = json.loads(backed.stdout)
    assert report["media"] == 2 and report["files"] == 2 and archive.exists()

    moved = tmp_path / "moved"
    exported = run(old_host, "tenant", "export", "--all", "--out", str(moved))
    assert exported.returncode == 0 and "exported one" in exported.stdout
    imported = run(new_host, "tenant", "import", str(moved))
    assert imported.returncode == 0, imported.stderr
    listed = json.loads(run(new_host, "tenant", "list", "--json").stdout)
    assert [(t["slug"], t["status"], t["title"], t["usage"]["media"]) for t in listed] == [("one", "active", "One", 2)]
    assert (new_host / "tenants" / "one" / "originals" / "Trips" / "beach.jpg").read_bytes() == \
        (old_host / "tenants" / "one" / "originals" / "Trips" / "beach.jpg").read_bytes()
