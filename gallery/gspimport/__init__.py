"""Importing a Gallery Server Pro backup (2.5 to 4.x) into an empty gallery (docs/gsp-import.md):
reader (streaming the XML), generation, model, checks, mapping, media_files, importer, report, jobs."""
