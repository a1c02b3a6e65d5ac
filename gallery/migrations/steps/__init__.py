"""Tenant-database migration steps, one module per step: NNNN_what.py (see docs/migrations.md)."""
