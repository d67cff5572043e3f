"""/api/enterprise-accounts/{name}/recovery-codes and /recovery-claims: break-glass recovery.

An admin generates the account's recovery codes (shown once, in this answer
only); later, when no admin can act, a signed-in user with a verified address
on a verified domain of the account claims admin access with one of them. The
claim's cooling-off, veto links and grant are the access requests' own.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from keyholder.access.recovery_claims import redeem_recovery_code
from keyholder.accounts.recovery_codes import generate_recovery_codes
from keyholder.web.api.schemas import Body
from keyholder.web.deps import CurrentActor, RuntimeDep, UoW, request_context

# Included by ``web.api.accounts``' router, under its /enterprise-accounts prefix.
router = APIRouter(tags=["recovery codes"])


class RecoveryCodesOut(BaseModel):
    codes: list[str] = Field(description="Shown once: only their hashes are kept")
    detail: str


class RecoveryClaimIn(Body):
    code: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2000)


class RecoveryClaimOut(BaseModel):
    request_id: str
    state: str
    ticket: int
    ticket_path: str
    cooling_off_until: datetime
    told: str
    detail: str


@router.post(
    "/{name}/recovery-codes",
    response_model=RecoveryCodesOut,
    status_code=status.HTTP_201_CREATED,
)
def generate_codes(name: str, uow: UoW, actor: CurrentActor) -> RecoveryCodesOut:
    """A new set of recovery codes (admins of the account only); the old set stops working.

    Every contact on record and every admin is emailed that it happened.
    """
    codes = generate_recovery_codes(uow, name, actor=actor)
    return RecoveryCodesOut(
        codes=codes,
        detail=(
            "Keep these codes somewhere safe, away from this account's admins' own devices: "
            "they are shown only now. Each works once; generating a new set voids these."
        ),
    )


@router.post(
    "/{name}/recovery-claims",
    response_model=RecoveryClaimOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def claim(
    name: str,
    body: RecoveryClaimIn,
    *,
    request: Request,
    uow: UoW,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> RecoveryClaimOut:
    """Claim admin access with a recovery code of the account, when no admin can act.

    Needs a verified address on a verified domain of the account. The grant
    waits for a cooling-off (KEYHOLDER_RECOVERY_CLAIM_COOLING_OFF) during which
    every admin and contact on record can stop it.
    """
    accepted = redeem_recovery_code(
        uow,
        name,
        body.code,
        actor=actor,
        limiter=runtime.rate_limiter,
        client_address=request_context(request).client_address,
        reason=body.reason,
    )
    return RecoveryClaimOut(
        request_id=str(accepted.request_id),
        state="cooling_off",
        ticket=accepted.ticket,
        ticket_path=accepted.ticket_path,
        cooling_off_until=accepted.cooling_off_until,
        told=accepted.told,
        detail=(
            "Your code was accepted. You become an admin of the account when the waiting "
            "period ends, unless someone on record for the account stops it; we email you."
        ),
    )
