"""Backup and restore of a gallery: the versioned backup language, export, restore."""
