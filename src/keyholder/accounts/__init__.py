"""Enterprise accounts, their members, permissions and invitations."""
