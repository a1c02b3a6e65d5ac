"""Host-database migration steps (`<prefix>host`), one module per step: NNNN_what.py.

None yet: the host database's shapes are those of release 37975f0 (login_attempts is a new
collection, not a changed shape). The first step is 0002, and HOST_SCHEMA_VERSION follows.
"""
