"""The library: albums, media documents, listing and ordering, privacy, bulk actions, embeds, file names, transforms, tags, search and ZIP downloads."""
