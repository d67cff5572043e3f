"""Every audit target string, built in one place.

A target names what an event is about, as ``kind:key``. The log is searched by
target (an account's history takes every event whose target starts with the
account's prefix), so a target spelt by hand in one service would hide its
events. Built from plain values: the audit log knows no slice's models.
"""

from __future__ import annotations

import uuid


def user_target(email: str) -> str:
    return f"user:{email}"


def account_target(account_name: str) -> str:
    return f"account:{account_name}"


def inside_account_prefix(account_name: str) -> str:
    """What the targets of an account's members, invitations and contacts start with."""
    return f"{account_target(account_name)}/"


def member_target(account_name: str, email: str) -> str:
    return f"{inside_account_prefix(account_name)}member:{email}"


def invitation_target(account_name: str, invitation_id: uuid.UUID) -> str:
    return f"{inside_account_prefix(account_name)}invitation:{invitation_id}"


def contact_target(account_name: str, contact_id: uuid.UUID) -> str:
    """A recovery contact on record for an account."""
    return f"{inside_account_prefix(account_name)}contact:{contact_id}"


def scim_token_target(account_name: str, token_id: uuid.UUID) -> str:
    """A bearer token of the account's SCIM endpoint."""
    return f"{inside_account_prefix(account_name)}scim_token:{token_id}"


def request_target(request_id: uuid.UUID) -> str:
    """A request for admin access."""
    return f"access_request:{request_id}"


def ticket_target(number: int) -> str:
    return f"ticket:{number}"


def attachment_target(attachment_id: uuid.UUID) -> str:
    return f"attachment:{attachment_id}"


def canned_reply_target(name: str) -> str:
    return f"canned_reply:{name}"


def setting_target(name: str) -> str:
    """A platform-wide setting (the TOTP encryption keys)."""
    return f"setting:{name}"


def webhook_target(endpoint_id: uuid.UUID) -> str:
    """A webhook endpoint (or audit stream) an operator subscribed."""
    return f"webhook:{endpoint_id}"
