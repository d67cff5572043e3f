"""SCIM 2.0 (RFC 7643/7644): an account's identity provider provisions its members.

A thin adapter over ``accounts``: every change goes through the same helpers as
the API, the CLI and the members import, so the last-admin guard, the audit
events, the invitation emails and the session rotation are theirs. See
docs/scim.md for the mapping and why permissions are an extension, not Groups.
"""
