"""Users, staff roles, passwords, sessions and API tokens."""
