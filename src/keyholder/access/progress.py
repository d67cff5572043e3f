"""Where an access request stands, for the requester's ticket page.

The requester sees what we could read in their letter (found / not found for
each thing it must state) so they can send a clearer copy, but never how it
compared with the account's records: pass/fail on the contract number or the
executive on record would let a forger try letters until one passes. Those
comparisons are for reviewers only. Where the request stands is worded by
``requester_view`` alone, the same whatever the account (S31a).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from keyholder.access import dns_check
from keyholder.access.dns_proof import CHALLENGE_LABEL, record_value
from keyholder.access.models import AccessRequest
from keyholder.access.requester_view import Stage, Wording, requester_wording
from keyholder.access.states import RequestState, RequestVia
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.desk.links import ticket_by_link
from keyholder.desk.models import Ticket, TicketKind
from keyholder.desk.policy import readable_ticket
from keyholder.desk.service import TicketThread, thread_of
from keyholder.identity.actor import Actor
from keyholder.when import aware, countdown

# Where a proof from outside the request (S23b) can still help. The record is
# the same random per-request value whether or not the account exists (S31a).
_PROOF_STATES = frozenset(
    {RequestState.IN_REVIEW, RequestState.NEEDS_INFO, RequestState.APPROVED_ONCE}
)

# What the letter must state, in the requester's words, and the pre-screen item
# that holds each one.
_LETTER_ITEMS = (
    ("The enterprise account name", "account_name"),
    ("The email address to add", "email_to_add"),
    ("Why the change is needed", "reason"),
    ("The contract number", "contract_number"),
    ("The executive's name", "executive_name"),
    ("The executive's title", "executive_title"),
    ("The executive's email address", "executive_email"),
    ("The date", "date"),
)
_SIGNATURE_WORDS = {
    "signature-like ink": "found",
    "uncertain": "unclear",
    "no handwriting": "not found",
}


class LetterStatus(StrEnum):
    WAITING = "waiting"  # for the requester's confirmation; the letter is read after it
    READING = "reading"
    READ = "read"
    BY_REVIEWER = "by_reviewer"  # not read automatically (unreadable, or not screened)
    OVER = "over"  # the request ended before its letter was read: nothing more to say


@dataclass(frozen=True, slots=True)
class LetterReading:
    label: str
    found: str  # "found", "not found" or "unclear"


@dataclass(frozen=True, slots=True)
class RequestProgress:
    stage: Wording
    letter: LetterStatus
    readings: tuple[LetterReading, ...] = ()
    # The DNS proof the customer can give (S23b), while reviewers may still need it.
    dns_record: str | None = None
    dns_value: str | None = None  # the TXT record's text, to copy on its own
    dns_name: str = CHALLENGE_LABEL  # the record's name, under the verified domain
    # Approved: when the change is made unless someone on record stops it, and how long
    # that is from now ("2 days 3 hours left").
    changes_at: datetime | None = None
    time_left: str | None = None

    @property
    def settled(self) -> bool:
        """Nothing on the page changes until someone acts (the page may stop polling)."""
        return self.letter is not LetterStatus.READING


def progress_for(uow: UnitOfWork, number: int, *, actor: Actor) -> RequestProgress | None:
    """The same for a signed-in reader of the ticket (404 if they may not read it, S30)."""
    with uow:
        return _progress(uow, readable_ticket(uow, number, actor=actor))


def progress_by_link(uow: UnitOfWork, number: int, mac: str) -> RequestProgress | None:
    """The request behind the ticket the link opens; None if it is not an access request."""
    with uow:
        return _progress(uow, ticket_by_link(uow, number, mac))


def _progress(tx: Tx, ticket: Ticket) -> RequestProgress | None:
    if ticket.kind is not TicketKind.ADMIN_ACCESS:
        return None
    request = tx.session.scalars(
        select(AccessRequest).where(AccessRequest.ticket_id == ticket.id)
    ).one_or_none()
    if request is None:
        return None
    letter, readings = _letter(request)
    stage = requester_wording(request.state)
    claim = request.via is RequestVia.RECOVERY_CODE  # no letter, and its code is its proof
    if claim or (stage.stage in {Stage.CLOSED, Stage.DONE} and letter is not LetterStatus.READ):
        # "A reviewer reads it" would be untrue of a request that is over.
        letter = LetterStatus.OVER
    proof_helps = request.state in _PROOF_STATES and not claim
    changes_at = time_left = None
    if request.state is RequestState.COOLING_OFF and request.cooling_off_until is not None:
        changes_at = aware(request.cooling_off_until)
        now = tx.clock.now()
        time_left = countdown(changes_at, now) if changes_at > aware(now) else "any moment now"
    # No ``outcome``: it is written for staff and may name the account's admins or its
    # state; a reviewer's words reach the requester as a message on the ticket.
    return RequestProgress(
        stage=stage,
        letter=letter,
        readings=readings,
        dns_record=dns_check.record_for(request) if proof_helps else None,
        dns_value=record_value(request.dns_token) if proof_helps else None,
        changes_at=changes_at,
        time_left=time_left,
    )


def _letter(request: AccessRequest) -> tuple[LetterStatus, tuple[LetterReading, ...]]:
    report = request.prescreen
    if request.prescreen_due:
        return LetterStatus.READING, ()
    if report is None:
        waiting = request.requester_confirmed_at is None
        return (LetterStatus.WAITING if waiting else LetterStatus.BY_REVIEWER), ()
    if "error" in report or report.get("ocr") == "unavailable":
        return LetterStatus.BY_REVIEWER, ()
    return LetterStatus.READ, _readings(report)


def _readings(report: Mapping[str, Any]) -> tuple[LetterReading, ...]:
    items = report.get("items") or {}
    readings = [
        LetterReading(label, "found" if items.get(key) else "not found")
        for label, key in _LETTER_ITEMS
    ]
    level = (report.get("signature") or {}).get("level")
    signature = _SIGNATURE_WORDS.get(str(level), "unclear")
    readings.append(LetterReading("The executive's handwritten signature", signature))
    return tuple(readings)


@dataclass(frozen=True, slots=True)
class CustomerTicket:
    """A ticket as its requester's page shows it: public messages, and the request's progress."""

    thread: TicketThread
    progress: RequestProgress | None  # None unless the ticket is a request for admin access


def customer_ticket(uow: UnitOfWork, number: int, *, actor: Actor) -> CustomerTicket:
    """Ticket ``number`` for a signed-in reader (404 if they may not read it, S30), in one
    transaction: the thread as ``desk.service.get_ticket`` gives it, and ``progress_for``."""
    with uow:
        ticket = readable_ticket(uow, number, actor=actor)
        return CustomerTicket(
            thread=thread_of(uow, ticket, staff=actor.is_staff),
            progress=_progress(uow, ticket),
        )


def linked_ticket(uow: UnitOfWork, number: int, mac: str) -> CustomerTicket:
    """``customer_ticket`` for the link in desk emails (404 for a wrong or expired link):
    its public messages, and ``progress_by_link``."""
    with uow:
        ticket = ticket_by_link(uow, number, mac)
        return CustomerTicket(
            thread=thread_of(uow, ticket, staff=False), progress=_progress(uow, ticket)
        )
