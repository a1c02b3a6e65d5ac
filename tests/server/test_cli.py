"""`python -m server ...` as a provider runs it: real processes, the embedded database."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(data_dir, *args, stdin=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
    return subprocess.run(
        [sys.executable, "-m", "server", "--data-dir", str(data_dir), *args],
        cwd=ROOT, capture_output=True, text=True, input=stdin, timeout=60, env=env,
    )


def test_tenant_round_trip(tmp_path):
    created = run(tmp_path, "tenant", "create", "acme", "--title", "Acme", "--hostname", "pics.acme.example", "--json")
    assert created.returncode == 0, created.stderr
    data = json.loads(created.stdout)
    assert data["slug"] == "acme" and data["status"] == "installing" and "/install?token=" in data["installer_url"]
    assert "key_salt" not in data and "installer" not in data

    dup = run(tmp_path, "tenant", "create", "acme", "--title", "Again")
    assert dup.returncode == 1 and dup.stderr.strip() == "atrium: a tenant with slug 'acme' already exists"
    bad = run(tmp_path, "tenant", "create", "-x", "--title", "Bad")
    assert bad.returncode != 0
    taken = run(tmp_path, "tenant", "create", "other", "--title", "O", "--hostname", "pics.acme.example")
    assert taken.returncode == 1 and "already used" in taken.stderr

    listed = json.loads(run(tmp_path, "tenant", "list", "--json").stdout)
    assert [t["slug"] for t in listed] == ["acme"] and listed[0]["usage"] == {"media": 0, "users": 0, "bytes": 0}
    assert run(tmp_path, "tenant", "suspend", "acme").stdout.strip() == "tenant acme is suspended"
    assert json.loads(run(tmp_path, "tenant", "show", "acme", "--json").stdout)["status"] == "suspended"
    assert run(tmp_path, "tenant", "resume", "acme").stdout.strip() == "tenant acme is installing"
    assert run(tmp_path, "tenant", "delete", "acme").returncode == 1
    assert run(tmp_path, "tenant", "delete", "acme", "--confirm", "acme").returncode == 0
    missing = run(tmp_path, "tenant", "show", "acme")
    assert missing.returncode == 1 and missing.stderr.strip() == "atrium: no tenant 'acme'"
    assert not (tmp_path / "tenants" / "acme").exists()


def test_host_admin_create_refuses_a_weak_password(tmp_path):
    weak = run(tmp_path, "host-admin", "create", "--username", "ops", "--password-stdin", stdin="short\n")
    assert weak.returncode == 1 and "at least 12" in weak.stderr
    ok = run(tmp_path, "host-admin", "create", "--username", "ops", "--password-stdin", stdin="Copper-Kettle-Sunrise-5\n")
    assert ok.returncode == 0 and "created host admin ops" in ok.stdout


def test_start_up_problems_are_one_clear_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    bad_dir = run(blocker / "data", "run")
    assert bad_dir.returncode == 1 and "is not writable" in bad_dir.stderr and "paths.data_dir" in bad_dir.stderr

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        busy = run(tmp_path / "d", "run", "--port", str(port))
    assert busy.returncode == 1 and f"port {port}" in busy.stderr and "already in use" in busy.stderr

    config = tmp_path / "c.yaml"
    config.write_text("database:\n  uri: mongodb://127.0.0.1:1/\n  connect_timeout: 1\n")
    down = run(tmp_path / "e", "--config", str(config), "tenant", "list")
    assert down.returncode == 1 and "did not answer within 1s" in down.stderr
