"""One tenant's gallery, in wings (people, library, intake, processing, notices, archive) over
settings, schema, usage, errors, ids, numbers, failpoints, urls and cached at the root;
see docs/ARCHITECTURE.md."""
