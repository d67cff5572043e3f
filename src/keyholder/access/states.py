"""The admin-access request lifecycle: every legal move, in one place (S20).

```
               confirms email       approval         2nd approval       time is up
    submitted ───────────▶ in_review ───────▶ approved_once ────────▶ cooling_off ───────▶ executed
                            │    ▲ reply         │                      │    │
                            │    │               │ request_info         │    │ active admin
                            ▼    │               │ (approvals void)     │    │ again (S21)
                          needs_info ◀───────────┘                      │    └──────▶ routed

          any open state ──▶ rejected (reviewer; the executive's denial in the cooling-off)
                         └──▶ cancelled (veto by an admin or contact on record, S25)

    recovery-code claims only:
               code redeemed (the code is the proof, no letter, no reviewers)
    submitted ─────────────────────────────────────────────────▶ cooling_off ──▶ (as above)
```
Every confirmed request goes to review, even one whose account has an admin
who can act (they are asked, S21, and reviewers close it): its requester must
not see a different path (S31a). Every state before ``executed`` can end in
``rejected`` (a reviewer, or the executive's denial once approved) or
``cancelled`` (a veto). ``executed``, ``rejected``, ``cancelled`` and
``routed`` are final. Anything else is a 409.

A request comes one of two ways (``RequestVia``): a letter reviewed by staff,
or a claim made with one of the account's break-glass recovery codes
(``access.recovery_claims``). A claim has no review: its one extra move,
``submitted → cooling_off``, is legal for claims only, so a letter request can
never skip its two approvals (S20); from the cooling-off on both are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from keyholder.errors import Conflict


class RequestState(StrEnum):
    SUBMITTED = "submitted"  # waiting for the requester to confirm their email address
    IN_REVIEW = "in_review"
    NEEDS_INFO = "needs_info"  # a reviewer asked the requester for more
    APPROVED_ONCE = "approved_once"
    COOLING_OFF = "cooling_off"  # approved twice; admins and contacts may veto until it ends
    EXECUTED = "executed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # vetoed
    ROUTED = "routed"  # at execution, an admin could act again: they were asked instead (S21)


class RequestVia(StrEnum):
    """How a request came: the reviewed letter, or a redeemed recovery code."""

    LETTER = "letter"
    RECOVERY_CODE = "recovery_code"


R = RequestState
_ENDINGS = frozenset({R.REJECTED, R.CANCELLED})

TRANSITIONS: Mapping[RequestState, frozenset[RequestState]] = {
    R.SUBMITTED: frozenset({R.IN_REVIEW}) | _ENDINGS,
    R.IN_REVIEW: frozenset({R.NEEDS_INFO, R.APPROVED_ONCE}) | _ENDINGS,
    R.NEEDS_INFO: frozenset({R.IN_REVIEW}) | _ENDINGS,
    R.APPROVED_ONCE: frozenset({R.COOLING_OFF, R.NEEDS_INFO}) | _ENDINGS,
    R.COOLING_OFF: frozenset({R.EXECUTED, R.ROUTED}) | _ENDINGS,
    R.EXECUTED: frozenset(),
    R.REJECTED: frozenset(),
    R.CANCELLED: frozenset(),
    R.ROUTED: frozenset(),
}

# A claim by recovery code starts its cooling-off at once: the code is its proof.
CLAIM_TRANSITIONS: Mapping[RequestState, frozenset[RequestState]] = {
    **TRANSITIONS,
    R.SUBMITTED: TRANSITIONS[R.SUBMITTED] | {R.COOLING_OFF},
}

_BY_VIA = {RequestVia.LETTER: TRANSITIONS, RequestVia.RECOVERY_CODE: CLAIM_TRANSITIONS}

OPEN_STATES = frozenset(s for s, moves in TRANSITIONS.items() if moves)
FINAL_STATES = frozenset(RequestState) - OPEN_STATES


def can_move(
    current: RequestState, target: RequestState, *, via: RequestVia = RequestVia.LETTER
) -> bool:
    return target in _BY_VIA[via][current]


def check_move(
    current: RequestState, target: RequestState, *, via: RequestVia = RequestVia.LETTER
) -> None:
    """Raise ``Conflict`` (409) unless ``current`` may become ``target`` (for a request ``via``)."""
    if can_move(current, target, via=via):
        return
    if current in FINAL_STATES:
        raise Conflict(f"this request is {current}; nothing more can happen to it")
    raise Conflict(f"a request that is {current} cannot become {target}")
