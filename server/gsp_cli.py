"""`python -m server tenant import-gsp SLUG --backup FILE --media DIR|ZIP [--gallery-id N]
[--dry-run]`: print the preview of a Gallery Server Pro backup, then import it into the empty
gallery SLUG (docs/gsp-import.md). One gallery of a multi-gallery backup per run: import each
into its own tenant with --gallery-id."""

from __future__ import annotations


def _preview_text(pv: dict) -> str:
    lines = [f"GSP generation {pv['generation']}"
             + (f" (version {pv['schema_version']})" if pv.get("schema_version") else "")
             + f", recognised by its {'version marker' if pv['detected_by'] == 'marker' else 'schema'}"
             + (f"; layout closest to GSP {pv['closest']}" if pv.get("closest") else "")]
    for g in pv["galleries"]:
        chosen = " <- this one" if g["id"] == pv.get("gallery_id") else ""
        lines.append(f"  gallery {g['id']}: {g['description'] or '(no name)'}: {g['albums']} albums, "
                     f"{g['media']} media{chosen}")
    if pv.get("counts"):
        c = pv["counts"]
        lines.append(f"to import: {c['albums']} albums, {c['media']} media, {c['users']} users, "
                     f"{c['roles']} roles, {c['settings']} settings")
    if pv.get("media_files"):
        f = pv["media_files"]
        lines.append(f"media files: {f['found']} found, {f['missing']} missing, "
                     f"{f['generated_skipped']} GSP thumbnails/optimized copies passed over, "
                     f"{f['refused']} refused")
    for item in pv.get("skipped", [])[:200]:
        lines.append(f"  {item['status']} {item['kind']} {item['id']} {item['name']}: {item['reason']}")
    return "\n".join(lines)


def _report_text(report: dict) -> str:
    lines = ["imported:"]
    for kind, c in report["counts"].items():
        if any(c.values()):
            lines.append(f"  {kind}: {c['imported']} imported, {c['skipped']} skipped, {c['failed']} failed")
    for item in report["items"]:
        lines.append(f"  {item['status']} {item['kind']} {item['id']} {item['name']}: {item['reason']}")
    for link in report["password_links"]:
        lines.append(f"  set-password link for {link['username']}: {link['link']}")
    return "\n".join(lines)


async def import_gsp(services, args, emit, command_error) -> None:
    """`emit(args, data, text)` prints; `command_error` is the CLI's one-line failure."""
    from gallery.errors import GalleryError
    from gallery.gspimport.importer import import_backup, preview
    from gallery.intake.ingest import job_queue
    from gallery.notices.mail import job_urls

    ctx = await services.registry.context_for_slug(args.slug)
    try:
        pv = await preview(ctx, args.backup, args.media, args.gallery_id)
        if args.dry_run or pv["gallery_id"] is None:
            if pv["gallery_id"] is None:
                pv["message"] = "the backup holds several galleries: choose one with --gallery-id"
            emit(args, pv, _preview_text(pv) + ("\n" + pv["message"] if pv.get("message") else ""))
            return
        if not args.json:
            print(_preview_text(pv), flush=True)
        report = await import_backup(ctx, services.registry, args.backup, args.media, pv["gallery_id"],
                                     queue=job_queue(services), urls=job_urls(ctx, services.config))
    except GalleryError as exc:
        raise command_error(f"nothing imported: {exc.message}") from None
    emit(args, report, _report_text(report))


def add_parser(tsub) -> None:
    p = tsub.add_parser("import-gsp", help="import a Gallery Server Pro backup into the empty gallery SLUG")
    p.add_argument("slug")
    p.add_argument("--backup", required=True, help="GSP's backup: the .xml or its .zip")
    p.add_argument("--media", help="the old server's media folder: a directory or a ZIP of it")
    p.add_argument("--gallery-id", type=int, help="the GSP gallery to import (a backup may hold several)")
    p.add_argument("--dry-run", action="store_true", help="print the preview only; write nothing")
