"""Numbered steps that move a gallery's stored documents to this release's shapes."""
