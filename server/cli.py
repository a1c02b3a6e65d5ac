"""`python -m server ...`: run the service, and host operations for scripts (with --json)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import getpass
import json
import logging
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from server import children
from server.config import ConfigError, load_config, render_template
from server.database import DatabaseUnavailable
from server.embedded_db import EmbeddedDatabaseError

log = logging.getLogger("atrium")
ROOT = Path(__file__).resolve().parent.parent
#: Job workers are cancelled at shutdown; their cleanup (a tool's SIGTERM, a lease
#: note) gets this long.
STOP_BACKGROUND_SECONDS = 6.0


class CommandError(Exception):
    """A command failed for a reason to print as one line (exit status 1)."""


def _config(args):
    path = args.config or os.environ.get("ATRIUM_CONFIG") or ROOT / "config.yaml"
    overrides = {}
    if getattr(args, "port", None):
        overrides["server.port"] = args.port
    if getattr(args, "data_dir", None):
        overrides["paths.data_dir"] = args.data_dir
    return load_config(path, overrides=overrides)


def _check_data_dir(config) -> None:
    data_dir = config.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CommandError(
            f"data directory {data_dir} is not writable ({exc.strerror}); see paths.data_dir"
        ) from None


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("pymongo").setLevel(logging.WARNING)
    logging.getLogger("tornado.access").setLevel(logging.WARNING)


# -- run --------------------------------------------------------------------------------
async def serve(config, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
    """Run the service until `stop` is set (or SIGINT/SIGTERM)."""
    _check_data_dir(config)
    # Before anything of ours starts: what a service killed on this data directory left.
    await asyncio.to_thread(children.stop_leftovers, config.data_dir)
    previous_mark = children.mark_children(config.data_dir)
    try:
        await _serve(config, ready, stop)
    finally:
        children.unmark_children(previous_mark)


async def _serve(config, ready: asyncio.Event | None, stop: asyncio.Event | None) -> None:
    from pymongo.errors import PyMongoError

    from server.app import make_app
    from server.runtime import start_background, stop_background
    from server.services import bounded, build_services
    from tenants.host_admins import setup_token

    services = await build_services(config)
    server = None
    from gallery.migrations.runner import MigrationError, migrate_host

    try:
        await migrate_host(services.host_db)  # its own steps; galleries go on first touch
    except MigrationError as exc:
        await services.close()
        raise CommandError(f"host database: {exc}") from None
    # From here on SIGTERM means a clean, bounded shutdown, even while starting.
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        app = make_app(services)
        services.starting = True  # /_health answers 503 until the workers and the feed run
        try:
            server = app.listen(
                # xheaders: the router believes them, from trusted proxies only (server.forwarded).
                config.server.port, address=config.server.host, xheaders=False,
                max_body_size=config.limits.max_request_mb * 1024 * 1024,
                idle_connection_timeout=120,
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"port {config.server.port} on {config.server.host} is already in use; "
                    "set server.port (or ATRIUM_SERVER_PORT)"
                ) from None
            raise CommandError(f"cannot listen on {config.server.host}:{config.server.port}: {exc.strerror}") from None
        await start_background(services)
        services.starting = False
        base = config.server.public_url or f"http://{_display_host(config)}:{config.server.port}"
        log.info("Atrium is listening on %s (host console: %s/_host/)", base, base)
        if config.server.mode == "production" and not config.server.public_url:
            # E-mailed links never follow a request's Host header (gallery/urls.py).
            log.warning("server.public_url is not set: e-mailed links in prefix mode point at %s", base)
        try:
            token = await setup_token(services.host_db)
        except PyMongoError as exc:  # the database died just now: its supervisor restarts it
            log.warning("could not check for a host admin (%s)", type(exc).__name__)
            token = None
        if token:
            log.warning("No host admin yet. Create the first one here (link works once): %s/_host/setup?token=%s", base, token)
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("shutting down")
    finally:
        # Every step bounded, whatever state the database is in (server/services.py).
        if server is not None:
            server.stop()
        await services.stop_database_if_silent()
        await bounded("stop the background work", stop_background(services), seconds=STOP_BACKGROUND_SECONDS)
        await services.close()


def _display_host(config) -> str:
    host = config.server.host
    return "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host


def cmd_run(args) -> None:
    config = _config(args)
    _setup_logging(config.logging.level)
    from server.lifetime import run_to_the_end

    run_to_the_end(serve(config))  # not asyncio.run: its end can wait forever (server/lifetime.py)


# -- host operations --------------------------------------------------------------------
async def _with_services(args, fn):
    from server.services import build_services

    config = _config(args)
    _setup_logging("WARNING")
    _check_data_dir(config)
    services = await build_services(config)
    try:
        return await fn(services)
    finally:
        await services.close()


def _print(args, data, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, default=_json_default, indent=2))
    else:
        print(text)


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _public(record: dict) -> dict:
    data = {k: v for k, v in record.items() if k not in ("installer", "key_salt")}
    data["slug"] = data.pop("_id")
    return data


def _installer_link(config, slug: str, token: str) -> str:
    from gallery.urls import canonical_urls

    public = config.server.public_url or f"http://{_display_host(config)}:{config.server.port}"
    urls = canonical_urls({"_id": slug}, config.server.base_domain, public, config.server.path_prefix_routing)
    return urls.absolute("/install", token=token)


def cmd_tenant(args) -> None:
    from tenants import provision
    from tenants.names import InvalidName, normalize_hostname
    from tenants.provision import ProvisioningError
    from tenants.registry import TenantNotFound
    from tenants.upgrade import schema_state
    from tenants.usage import tenant_usage

    async def run(services):
        registry = services.registry
        try:
            if args.action == "create":
                try:
                    hostnames = [normalize_hostname(h) for h in args.hostname or []]
                except InvalidName as exc:
                    raise CommandError(str(exc)) from None
                record, token = await provision.create_tenant(
                    registry, args.slug, args.title, hostnames, args.admin_email or "",
                    (args.quota_mb or 0) * 1024 * 1024,
                )
                link = _installer_link(services.config, record["_id"], token)
                _print(args, {**_public(record), "installer_url": link},
                       f"created tenant {record['_id']}\ninstaller: {link}")
            elif args.action == "list":
                records = await registry.list_records()
                rows = []
                for record in records:
                    rows.append({**_public(record), "usage": await tenant_usage(registry, record["_id"])})
                text = "\n".join(
                    f"{r['slug']:<24} {r['status']:<11} {r['usage']['media']:>7} media "
                    f"{r['usage']['users']:>5} users  {r['title']}" for r in rows
                ) or "no tenants"
                _print(args, rows, text)
            elif args.action == "show":
                record = await registry.get_record(args.slug)
                data = {**_public(record), "usage": await tenant_usage(registry, args.slug),
                        "schema": await schema_state(registry.tenant_db(args.slug, record))}
                _print(args, data, "\n".join(f"{k}: {v}" for k, v in data.items()))
            elif args.action in ("suspend", "resume"):
                change = provision.suspend_tenant if args.action == "suspend" else provision.resume_tenant
                record = await change(registry, args.slug)
                _print(args, _public(record), f"tenant {args.slug} is {record['status']}")
            elif args.action == "set":
                await _set_tenant(registry, args)
            elif args.action == "installer":
                token = await provision.new_installer_token(registry, args.slug)
                link = _installer_link(services.config, args.slug, token)
                _print(args, {"slug": args.slug, "installer_url": link}, link)
            elif args.action in ("backup", "restore", "export", "import"):
                await _backup_or_restore(services, args)
            elif args.action == "import-gsp":
                from server.gsp_cli import import_gsp

                await import_gsp(services, args, _print, CommandError)
            elif args.action == "delete":
                if args.confirm != args.slug:
                    raise CommandError(f"to delete, repeat the slug: --confirm {args.slug}")
                await provision.delete_tenant(registry, args.slug)
                _print(args, {"slug": args.slug, "deleted": True}, f"deleted tenant {args.slug}")
        except TenantNotFound:
            raise CommandError(f"no tenant {args.slug!r}") from None
        except ProvisioningError as exc:
            raise CommandError(str(exc)) from None

    asyncio.run(_with_services(args, run))


def _passphrase(args) -> str | None:
    """The first line of --passphrase-file (never a command-line argument: others see those)."""
    if not getattr(args, "passphrase_file", None):
        return None
    try:
        with open(args.passphrase_file, encoding="utf-8") as fh:
            return fh.readline().rstrip("\r\n")
    except OSError as exc:
        raise CommandError(f"cannot read the passphrase file: {exc.strerror}") from None


async def _set_tenant(registry, args) -> None:
    """`tenant set SLUG --media-folder DIR --read-only` (or `--no-media-folder`)."""
    from tenants.media_folder import set_media_folder

    if args.media_folder is None and not args.no_media_folder:
        raise CommandError("nothing to set: give --media-folder DIR --read-only, or --no-media-folder")
    if args.media_folder is not None and not args.read_only:
        raise CommandError("a media folder is read-only (uploads are turned off and synchronization "
                           "is the only way in): add --read-only to confirm")
    record = await set_media_folder(registry, args.slug, None if args.no_media_folder else args.media_folder)
    folder = record.get("media_folder")
    _print(args, _public(record),
           f"tenant {args.slug}: originals in the read-only folder {folder}" if folder
           else f"tenant {args.slug}: originals in its own storage again")


async def _backup_or_restore(services, args) -> None:
    """`tenant backup SLUG --out FILE` and `tenant restore FILE --slug NEW` (docs/backup-format.md)."""
    from gallery.archive.export import export_to_file
    from gallery.archive.restore import RestoreError
    from gallery.archive.secrets import PassphraseError
    from gallery.intake.ingest import job_queue
    from tenants.restore import restore_new

    if args.action in ("export", "import"):
        from tenants.restore import export_all, import_all

        try:
            if args.action == "export":
                done = await export_all(services.registry, args.out, passphrase=_passphrase(args))
                text = "\n".join(f"exported {d['slug']} to {args.out}/{d['file']}" for d in done)
            else:
                done = await import_all(services.registry, job_queue(services), args.dir,
                                        passphrase=_passphrase(args))
                text = "\n".join(f"imported {d['slug']}: {d['media']} media" for d in done)
        except RestoreError as exc:
            raise CommandError(f"stopped: {exc.full_text()}") from None
        except PassphraseError as exc:
            raise CommandError(f"nothing exported: {exc}") from None
        _print(args, done, text or "no tenants")
        return
    if args.action == "backup":
        ctx = await services.registry.context_for_slug(args.slug)
        try:
            report = await export_to_file(ctx, args.out, metadata_only=args.metadata_only,
                                          passphrase=_passphrase(args))
        except PassphraseError as exc:
            raise CommandError(f"no backup written: {exc}") from None
        lines = [(f"backed up {args.slug} to {args.out}: {report.media} media, {report.albums} albums, "
                  f"{report.users} users, {report.files} files ({report.bytes} bytes)")]
        lines += [f"left out media {x['media_id']} ({x['path']}): {x['reason']}" for x in report.left_out]
        lines += [f"not in the backup: {'the sync key' if k == 'sync_key' else 'setting ' + k} "
                  f"(a secret; give --passphrase-file to carry it encrypted)" for k in report.omitted_settings]
        _print(args, report.as_dict(), "\n".join(lines))
        return
    try:
        if args.into:
            from tenants.restore_into import restore_into

            report = await restore_into(services.registry, job_queue(services), args.file, args.slug,
                                        passphrase=_passphrase(args))
        else:
            report = await restore_new(services.registry, job_queue(services), args.file, args.slug,
                                       title=args.title, quota_bytes=(args.quota_mb or 0) * 1024 * 1024,
                                       passphrase=_passphrase(args))
    except RestoreError as exc:
        raise CommandError(f"nothing restored: {exc.full_text()}") from None
    lines = [(f"restored {report['slug']} (format {report['format']}): {report['media']} media, "
              f"{report['albums']} albums, {report['users']} users; derivatives are being remade")]
    _print(args, report, "\n".join(lines + report["not_restored"]))


def cmd_host_admin(args) -> None:
    from tenants.host_admins import HostAdminError, create_admin

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise CommandError("the passwords do not match")
    else:
        raise CommandError("give the password with --password-stdin or run in a terminal")

    async def run(services):
        try:
            admin = await create_admin(services.host_db, args.username, password)
        except HostAdminError as exc:
            raise CommandError(str(exc)) from None
        _print(args, {"username": admin["username"]}, f"created host admin {admin['username']}")

    asyncio.run(_with_services(args, run))


def cmd_migrate(args) -> None:
    from server.migrate_cli import MigrateFailed, migrate_galleries

    async def run(services):
        try:
            await migrate_galleries(services, args.slugs, args.all, args.dry_run)
        except MigrateFailed as exc:
            raise CommandError(str(exc)) from None

    asyncio.run(_with_services(args, run))


def cmd_config_template(args) -> None:
    sys.stdout.write(render_template())


def cmd_schema_check(args) -> None:
    from xmlcompat.cli import main as schema_check

    raise SystemExit(schema_check(args.rest))   # its own exit statuses (0/1/3, 2)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server", description="Atrium media gallery service")
    parser.add_argument("--config", help="config file (default: config.yaml beside the code, or $ATRIUM_CONFIG)")
    parser.add_argument("--data-dir", help="override paths.data_dir")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the web service and its job workers")
    run.add_argument("--port", type=int, help="override server.port")
    run.set_defaults(fn=cmd_run)

    tenant = sub.add_parser("tenant", help="create, list, show, set, suspend, resume or delete tenants")
    tsub = tenant.add_subparsers(dest="action", required=True)
    create = tsub.add_parser("create")
    create.add_argument("slug")
    create.add_argument("--title", required=True)
    create.add_argument("--hostname", action="append", help="custom domain (repeatable)")
    create.add_argument("--admin-email")
    create.add_argument("--quota-mb", type=int, default=0)
    tsub.add_parser("list")
    for name in ("show", "suspend", "resume", "installer"):
        p = tsub.add_parser(name)
        p.add_argument("slug")
    tset = tsub.add_parser("set", help="point a gallery's originals at a read-only media folder (docs/sync.md)")
    tset.add_argument("slug")
    folder = tset.add_mutually_exclusive_group()
    folder.add_argument("--media-folder", metavar="DIR",
                        help="an existing directory outside the data directory, only ever read")
    folder.add_argument("--no-media-folder", action="store_true",
                        help="back to the gallery's own originals/ (records then point there)")
    tset.add_argument("--read-only", action="store_true",
                      help="confirm: uploads are turned off, synchronization is the only way in")
    delete = tsub.add_parser("delete")
    delete.add_argument("slug")
    delete.add_argument("--confirm", help="the slug again, to confirm")
    backup = tsub.add_parser("backup", help="back a gallery up into one archive (docs/backup-format.md)")
    backup.add_argument("slug")
    backup.add_argument("--out", required=True, help="the archive file to write")
    backup.add_argument("--metadata-only", action="store_true", help="without the original files")
    backup.add_argument("--passphrase-file", help="a file whose first line is the passphrase the secrets "
                        "(SMTP password, sync key) are encrypted with; without it they are left out")
    restore = tsub.add_parser("restore", help="restore an archive as a new gallery")
    restore.add_argument("file")
    restore.add_argument("--slug", required=True, help="the new gallery's slug")
    restore.add_argument("--title", help="the new gallery's title (default: the backup's)")
    restore.add_argument("--quota-mb", type=int, default=0)
    restore.add_argument("--into", action="store_true",
                         help="restore into the existing gallery SLUG, which must be empty (its accounts are replaced)")
    restore.add_argument("--passphrase-file", help="a file whose first line is the passphrase of the backup's secrets")
    export = tsub.add_parser("export", help="back up every active gallery into a directory (to move them)")
    export.add_argument("--all", action="store_true", required=True, help="every active gallery")
    export.add_argument("--out", required=True, help="the directory to write")
    export.add_argument("--passphrase-file", help="carry every gallery's secrets encrypted with this passphrase")
    imp = tsub.add_parser("import", help="restore every gallery of an `export --all` directory")
    imp.add_argument("dir")
    imp.add_argument("--passphrase-file", help="the passphrase the export's secrets were encrypted with")
    from server.gsp_cli import add_parser as add_gsp_parser

    add_gsp_parser(tsub)
    for p in list(tsub.choices.values()):
        p.add_argument("--json", action="store_true", help="machine-readable output")
    tenant.set_defaults(fn=cmd_tenant)

    admin = sub.add_parser("host-admin", help="manage host console admins")
    asub = admin.add_subparsers(dest="action", required=True)
    acreate = asub.add_parser("create")
    acreate.add_argument("--username", required=True)
    acreate.add_argument("--password-stdin", action="store_true")
    acreate.add_argument("--json", action="store_true")
    admin.set_defaults(fn=cmd_host_admin)

    migrate = sub.add_parser("migrate", help="bring galleries to this release's schema (docs/migrations.md)")
    migrate.add_argument("slugs", nargs="*", metavar="SLUG")
    migrate.add_argument("--all", action="store_true", help="every gallery")
    migrate.add_argument("--dry-run", action="store_true", help="say what would run, change nothing")
    migrate.set_defaults(fn=cmd_migrate)

    template = sub.add_parser("config-template", help="print the documented default config.yaml")
    template.set_defaults(fn=cmd_config_template)

    # main() hands `schema-check …` to xmlcompat's own parser; this entry lists it in --help
    # and serves the rarer `--config F schema-check …` the same way.
    schema = sub.add_parser("schema-check", add_help=False,
                            help="compatibility of two XML language versions (xmlcompat: exit 0/1/3, 2 bad input)")
    schema.add_argument("rest", nargs=argparse.REMAINDER)
    schema.set_defaults(fn=cmd_schema_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["schema-check"]:
        from xmlcompat.cli import main as schema_check  # its own options and exit statuses

        return schema_check(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        args.fn(args)
    except (CommandError, ConfigError, DatabaseUnavailable, EmbeddedDatabaseError) as exc:
        print(f"atrium: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
