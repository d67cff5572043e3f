"""The reply plus-address: ``support+t123-<mac>@domain`` routes a reply to ticket 123.

The MAC (HMAC-SHA256 with the secret key, truncated) stops anyone from writing
into a ticket by guessing its number.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from email.utils import formataddr, parseaddr

from keyholder.config import Settings

_MAC_LENGTH = 16  # hex digits: 64 bits


def desk_mailbox(settings: Settings) -> tuple[str, str, str]:
    """(display name, local part, domain) of the desk's address."""
    name, address = parseaddr(settings.desk_address)
    local, _, domain = address.partition("@")
    return name, local, domain


def ticket_mac(settings: Settings, number: int) -> str:
    digest = hmac.new(settings.secret, f"desk-reply:{number}".encode(), hashlib.sha256)
    return digest.hexdigest()[:_MAC_LENGTH]


def reply_address(settings: Settings, number: int) -> str:
    """The Reply-To header value for ticket ``number``."""
    name, local, domain = desk_mailbox(settings)
    return formataddr((name, f"{local}+t{number}-{ticket_mac(settings, number)}@{domain}"))


def ticket_from_address(settings: Settings, address: str) -> int | None:
    """The ticket number a plus-address names, if its MAC is right; else None."""
    _, local, domain = desk_mailbox(settings)
    pattern = rf"{re.escape(local)}\+t(\d{{1,18}})-([0-9a-f]{{{_MAC_LENGTH}}})@{re.escape(domain)}"
    match = re.fullmatch(pattern, parseaddr(address)[1].strip().lower())
    if match is None:
        return None
    number = int(match.group(1))
    if not hmac.compare_digest(match.group(2), ticket_mac(settings, number)):
        return None
    return number
