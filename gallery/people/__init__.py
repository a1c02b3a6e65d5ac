"""People: users, passwords, sessions, lockout, accounts and their administration, the unverified-account sweep, roles and permissions."""
