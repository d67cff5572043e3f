"""What the requester is told about their request: one wording, whatever the account (S31a).

Anyone can type any account name, so nothing the requester sees (the request's
page, the ticket's status, the emails) may say whether that account exists,
has an admin who can act, is paused after a veto or has another request open.
Every confirmed request therefore reads "received, in review" until a reviewer
decides, and every ending but a grant reads the same "closed". Why a request
went where it went (routed to an admin, no such account...) is for staff and
for the people on record only.

Only two stages say more than that, and both follow a decision by two reviewers
on a request they could approve: "approved" (the cooling-off) and "done".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from keyholder.access.states import RequestState


class Stage(StrEnum):
    """The requester's stages; several request states read as one."""

    CONFIRM_EMAIL = "confirm_email"
    IN_REVIEW = "in_review"
    NEEDS_INFO = "needs_info"
    APPROVED = "approved"
    DONE = "done"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Wording:
    stage: Stage
    label: str  # a word or two, for the status badge
    text: str  # what it means for the requester


_WORDING = (
    Wording(
        Stage.CONFIRM_EMAIL,
        "waiting for you",
        "Waiting for you to confirm your email address: open the link in the email "
        "we sent you. Nothing happens until you do.",
    ),
    Wording(
        Stage.IN_REVIEW,
        "received, in review",
        "We received your request and our staff are reviewing it. We will write to you "
        "by email when there is news.",
    ),
    Wording(
        Stage.NEEDS_INFO,
        "needs information",
        "A reviewer asked you for more information: see their message below, "
        "and reply here or to the email.",
    ),
    Wording(
        Stage.APPROVED,
        "approved",
        "Approved. The account's admins and contacts are told and may object "
        "before the change is made.",
    ),
    Wording(Stage.DONE, "done", "Done: the address you asked for is now an admin of the account."),
    Wording(
        Stage.CLOSED,
        "closed",
        "Your request is closed and nobody was given admin access through it. If a "
        "reviewer wrote to you, their message is on the ticket. You may send a new request "
        "at any time.",
    ),
)
_BY_STAGE: Mapping[Stage, Wording] = {w.stage: w for w in _WORDING}

R = RequestState
_STAGE_OF: Mapping[RequestState, Stage] = {
    R.SUBMITTED: Stage.CONFIRM_EMAIL,
    R.IN_REVIEW: Stage.IN_REVIEW,
    # One approval changes nothing for the requester, and only a request on a
    # real account can get one: saying so would tell that the account exists.
    R.APPROVED_ONCE: Stage.IN_REVIEW,
    R.NEEDS_INFO: Stage.NEEDS_INFO,
    R.COOLING_OFF: Stage.APPROVED,
    R.EXECUTED: Stage.DONE,
    R.REJECTED: Stage.CLOSED,
    R.CANCELLED: Stage.CLOSED,
    R.ROUTED: Stage.CLOSED,
}

CLOSED_HEADLINE = "Your request for admin access is closed"


def requester_wording(state: RequestState) -> Wording:
    """The requester's words for a request in ``state``: the one place they are chosen."""
    return _BY_STAGE[_STAGE_OF[state]]
