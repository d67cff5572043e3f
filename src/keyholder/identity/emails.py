"""Email addresses as identities."""

from __future__ import annotations

from keyholder.errors import InvalidInput


def normalize_email(address: str) -> str:
    """The canonical, case-folded form used as a unique key.

    Case-folding the whole address (local part included) means
    ``Jane@ACME.example`` and ``jane@acme.example`` are one person, which is what
    every customer expects even though RFC 5321 allows case-sensitive local parts.
    """
    # Imported on first use: the CLI's read-only commands never parse an address,
    # and email-validator takes a noticeable part of their start-up (issue 16).
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415

    candidate = address.strip()
    if "\r" in candidate or "\n" in candidate:
        raise InvalidInput("an email address cannot contain line breaks")
    try:
        validated = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"{candidate!r} is not a valid email address: {exc}") from None
    return validated.normalized.casefold()


def email_domain(address: str) -> str:
    return address.rpartition("@")[2]
