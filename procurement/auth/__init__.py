"""Users, roles, sessions and logins."""
