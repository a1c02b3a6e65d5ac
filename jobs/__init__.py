"""The job queue: ground floor, shared by every process; it knows job kinds, never galleries."""
