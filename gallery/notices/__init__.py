"""Notices: the event log, and mail that reacts to it."""
