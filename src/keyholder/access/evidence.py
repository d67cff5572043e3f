"""Evidence about a request: each check pass / fail / unknown, with its source and why.

Reviewers read the risk summary: failing items first, then unknown ones, then
what passed. Items are plain dicts in ``AccessRequest.evidence`` (JSON), keyed
by ``check``; a later result for the same check replaces the earlier one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from keyholder.access.dns_proof import CHALLENGE_LABEL, record_value
from keyholder.access.models import AccessRequest
from keyholder.accounts.contacts import contacts_on_record
from keyholder.accounts.models import AccountContact, ContactKind, EnterpriseAccount
from keyholder.domains import check_email_domain


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check's outcome, not a password
    FAIL = "fail"
    UNKNOWN = "unknown"


class Check(StrEnum):
    ACCOUNT = "account"
    CONTRACT_NUMBER = "contract_number"
    EXECUTIVE_ON_RECORD = "executive_on_record"
    EXECUTIVE_DOMAIN = "executive_domain"
    EMAIL_TO_ADD = "email_to_add"
    EXECUTIVE_CONFIRMATION = "executive_confirmation"
    DNS_PROOF = "dns_proof"
    LETTER = "letter"
    EXISTING_ADMINS = "existing_admins"
    RECOVERY_CODE = "recovery_code"  # claims only: the code redeemed is their proof


_ORDER = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.PASS: 2}


@dataclass(frozen=True, slots=True)
class Item:
    check: str
    status: Status
    source: str
    explanation: str
    # The verified domain an address imitates (S23a): such a fail is never approvable.
    lookalike_of: str | None = None

    def as_json(self) -> dict[str, Any]:
        found = {
            "check": self.check,
            "status": self.status.value,
            "source": self.source,
            "explanation": self.explanation,
        }
        return found | ({"lookalike_of": self.lookalike_of} if self.lookalike_of else {})


def record(request: AccessRequest, items: Iterable[Item]) -> None:
    """Add or replace evidence items on the request (reassigned, so the JSON is saved)."""
    by_check = {item["check"]: item for item in request.evidence}
    for item in items:
        by_check[item.check] = item.as_json()
    request.evidence = list(by_check.values())


def risk_summary(evidence: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items with failing ones first, then unknown, then passing (stable within each)."""
    return sorted(evidence, key=lambda item: _ORDER.get(Status(item["status"]), 3))


def status_of(request: AccessRequest, check: Check) -> Status | None:
    for item in request.evidence:
        if item["check"] == check:
            return Status(item["status"])
    return None


def executives_on_record(
    account: EnterpriseAccount, *, now: datetime, min_age: timedelta
) -> list[AccountContact]:
    """Executive contacts that count for recovery: confirmed by link and past the
    waiting period (S22). The only ones trusted with confirmation links, compared
    with the letter and the form, told of a grant or allowed to veto one."""
    return contacts_on_record(account, now=now, min_age=min_age, kind=ContactKind.EXECUTIVE)


def unknown_account(request: AccessRequest) -> list[Item]:
    return [
        Item(
            Check.ACCOUNT,
            Status.FAIL,
            "account records",
            f"no enterprise account is named {request.account_name!r}",
        )
    ]


def _email_to_add(email: str, verified: Sequence[str]) -> Item:
    """On a verified domain passes; a look-alike of one fails (S23a); any other is unknown.

    Unknown, not fail: a customer may rightly make an admin of an address on a
    domain they never verified (a parent company's); a reviewer weighs it.
    """
    verdict = check_email_domain(email, verified)
    if verdict.status == "pass":
        status = Status.PASS
    else:
        status = Status.FAIL if verdict.lookalike_of else Status.UNKNOWN
    return Item(
        Check.EMAIL_TO_ADD, status, "verified domains", verdict.explanation, verdict.lookalike_of
    )


def record_checks(
    request: AccessRequest,
    account: EnterpriseAccount,
    *,
    staff_address: bool,
    executives: Sequence[AccountContact],
    confirmers: Sequence[AccountContact],
) -> list[Item]:
    """What the typed fields say against the account's records, checked at once.

    ``executives`` are the executives on record (``executives_on_record``): an
    executive still unconfirmed or within its waiting period is not one (S22).
    """
    verified = [d.domain for d in account.domains if d.verified_at is not None]
    domain = check_email_domain(request.executive_email, verified)
    return [
        Item(Check.ACCOUNT, Status.PASS, "account records", f"matches account {account.name!r}"),
        _contract_item(request, account),
        _executive_item(request, account, executives),
        Item(
            Check.EXECUTIVE_DOMAIN,
            Status(domain.status),
            "verified domains",
            domain.explanation,
            domain.lookalike_of,
        ),
        _staff_item() if staff_address else _email_to_add(request.email_to_add, verified),
        _confirmation_item(confirmers),
        Item(
            Check.DNS_PROOF,
            Status.UNKNOWN,
            "DNS",
            f"optional: publish TXT {record_value(request.dns_token)!r} at "
            f"{CHALLENGE_LABEL}.<a verified domain>, then ask for a check",
        ),
        Item(Check.LETTER, Status.UNKNOWN, "letter pre-screen", "pre-screen pending"),
    ]


def _contract_item(request: AccessRequest, account: EnterpriseAccount) -> Item:
    # Validated and normalised at intake; folded again for requests taken before that.
    if request.contract_number.strip().upper() == account.contract_number:
        return Item(Check.CONTRACT_NUMBER, Status.PASS, "account records", "matches")
    return Item(
        Check.CONTRACT_NUMBER,
        Status.FAIL,
        "account records",
        f"typed {request.contract_number!r}; the contract on record is different",
    )


def _executive_item(
    request: AccessRequest, account: EnterpriseAccount, executives: Sequence[AccountContact]
) -> Item:
    match = next((c for c in executives if c.email == request.executive_email), None)
    if match is not None:
        return Item(
            Check.EXECUTIVE_ON_RECORD,
            Status.PASS,
            "account contacts",
            f"{match.name}, {match.title}, is the executive on record",
        )
    on_record = ", ".join(f"{c.name} ({c.title})" for c in executives) or "none"
    waiting = any(
        c.kind is ContactKind.EXECUTIVE and c.email == request.executive_email
        for c in account.contacts
    )
    why = (
        "is named an executive contact but has not confirmed by link or is still "
        "within its waiting period"
        if waiting
        else "is not an executive contact on record"
    )
    return Item(
        Check.EXECUTIVE_ON_RECORD,
        Status.FAIL,
        "account contacts",
        f"{request.executive_email} {why} (on record: {on_record})",
    )


def _staff_item() -> Item:
    return Item(
        Check.EMAIL_TO_ADD,
        Status.FAIL,
        "staff",
        "the address is platform staff's, or on (or like) a staff domain (S31)",
    )


def _confirmation_item(confirmers: Sequence[AccountContact]) -> Item:
    if confirmers:
        names = ", ".join(f"{c.name} <{c.email}>" for c in confirmers)
        return Item(
            Check.EXECUTIVE_CONFIRMATION,
            Status.UNKNOWN,
            "confirmation link",
            f"waiting for an answer; link sent to the executive on record: {names}",
        )
    return Item(
        Check.EXECUTIVE_CONFIRMATION,
        Status.FAIL,
        "account contacts",
        "no executive contact on record (confirmed, and past the waiting period) to confirm with",
    )
