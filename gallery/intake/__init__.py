"""Every way media comes in: ingest, upload records, ZIP import and file replacement."""
