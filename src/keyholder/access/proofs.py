"""No grant without a proof that does not come from the requester (S23b).

Whatever the requester types or uploads (the form, the letter) can be made up
by whoever asks, and reviewers judge it on that. Two proofs come from outside
the request: the executive on record clicking the link we emailed to the
address on record (never one from the form, S22), and the request's token
published in DNS on a verified domain of the account. A request starts its
cooling-off, and is executed, only while one of them holds; no reviewer's note
stands in for them. ``lifecycle.move`` asks ``require_independent_proof`` on the
state change itself, so no path (API, web page, CLI, worker) can skip it.

A look-alike address (S23a) is different: it is a positive sign of an attack,
so it blocks approval outright (``lookalike_items``), proof or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keyholder.access.dns_proof import CHALLENGE_LABEL, record_value
from keyholder.access.evidence import Check, Status, status_of
from keyholder.access.models import AccessRequest
from keyholder.access.states import RequestState
from keyholder.errors import NoIndependentProof

# The states a request reaches only with a proof in hand.
GATED_STATES = frozenset({RequestState.COOLING_OFF, RequestState.EXECUTED})


@dataclass(frozen=True, slots=True)
class Proof:
    """One independent proof: does it hold, and what the customer can do to provide it."""

    check: Check
    status: Status
    explanation: str
    how_to_provide: str

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check.value,
            "status": self.status.value,
            "explanation": self.explanation,
            "how_to_provide": self.how_to_provide,
        }


@dataclass(frozen=True, slots=True)
class Proofs:
    items: tuple[Proof, ...]

    @property
    def held(self) -> bool:
        return any(proof.status is Status.PASS for proof in self.items)

    def as_json(self) -> dict[str, Any]:
        return {"held": self.held, "items": [proof.as_json() for proof in self.items]}


def _explanation(request: AccessRequest, check: Check, default: str) -> str:
    item = next((i for i in request.evidence if i["check"] == check), None)
    return str(item["explanation"]) if item else default


def independent_proofs(request: AccessRequest) -> Proofs:
    """The executive's confirmation and the DNS proof, each with its status now."""
    confirmed = request.executive_confirmed_at is not None and request.executive_denied_at is None
    executive_seen = status_of(request, Check.EXECUTIVE_CONFIRMATION)
    executive = Proof(
        Check.EXECUTIVE_CONFIRMATION,
        Status.PASS
        if confirmed
        else Status.FAIL
        if executive_seen is Status.FAIL
        else Status.UNKNOWN,
        _explanation(request, Check.EXECUTIVE_CONFIRMATION, "no link sent yet"),
        "the executive on record opens the confirmation link we emailed to their address "
        "on record and confirms (ask them to look for it, spam folder included)",
    )
    dns = Proof(
        Check.DNS_PROOF,
        status_of(request, Check.DNS_PROOF) or Status.UNKNOWN,
        _explanation(request, Check.DNS_PROOF, "not checked yet"),
        "someone who runs the DNS of a verified domain of the account publishes TXT "
        f'"{record_value(request.dns_token)}" at {CHALLENGE_LABEL}.<that domain>; then staff '
        f"press Check DNS now (POST /api/access-requests/{request.id}/dns-proof/check)",
    )
    return Proofs((executive, dns))


def require_independent_proof(request: AccessRequest, *, to: str, then: str = "") -> None:
    """Raise 409 naming the missing proofs and how to provide them, unless one holds.

    ``to`` says what waits for the proof and ``then`` what the reader does next.
    """
    proofs = independent_proofs(request)
    if proofs.held:
        return
    ways = "; or ".join(
        f"{p.check.value} (now {p.status.value}): {p.how_to_provide}" for p in proofs.items
    )
    raise NoIndependentProof(
        f"{to} needs a proof from outside the request, and none holds yet (S23b); a "
        f"reviewer's note cannot replace it. One of: {ways}.{' ' + then if then else ''}",
        missing=[p.as_json() for p in proofs.items],
    )


def lookalike_items(evidence: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failing items that name a look-alike of a verified domain (S23a): never approvable."""
    return [i for i in evidence if i["status"] == Status.FAIL and i.get("lookalike_of")]
