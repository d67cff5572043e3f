"""/api/email-verifications and /api/email-changes (SECURITY.md S4, S5, S9, S11, S17).

Their links carry one-time tokens, so every response is private (S4; see
``web.api.nocache``). Changing the address needs the current password (S17).
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from pydantic import Field

from keyholder.identity import verification
from keyholder.web.api.nocache import PrivateRoute
from keyholder.web.api.schemas import Body
from keyholder.web.deps import CurrentActor, RuntimeDep, UoW

router = APIRouter(tags=["email"], route_class=PrivateRoute)

_LINK_RESPONSES: dict[int | str, dict[str, str]] = {
    404: {"description": "Not a link of this kind"},
    410: {"description": "Link is dead"},
}


class EmailChangeRequest(Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=4096)


@router.post("/email-verifications", status_code=status.HTTP_202_ACCEPTED)
def send_verification(actor: CurrentActor, uow: UoW) -> JSONResponse:
    """Email a new verification link to the signed-in user's address (409 if verified)."""
    verification.send_verification(uow, actor=actor)
    return JSONResponse({"status": "accepted"}, status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/email-verifications/{token}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_LINK_RESPONSES,
)
def verify_email(token: str, uow: UoW) -> Response:
    """Mark an address verified with the link sent to it; the link works once."""
    verification.verify_email(uow, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/email-changes", status_code=status.HTTP_202_ACCEPTED)
async def request_email_change(
    body: EmailChangeRequest, actor: CurrentActor, uow: UoW, runtime: RuntimeDep
) -> JSONResponse:
    """Ask to change the signed-in user's address; needs the current password (S17).

    A link goes to the new address, which must confirm; a notice to the old one (S5).
    """
    # Verifies the password: on the bounded hashing pool, as sign-in (S16).
    await runtime.hashing.run(
        verification.request_email_change,
        uow,
        body.email,
        actor=actor,
        password=body.password,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )
    return JSONResponse({"status": "accepted"}, status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/email-changes/{token}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_LINK_RESPONSES,
)
def confirm_email_change(token: str, uow: UoW) -> Response:
    """Complete an email change with the link sent to the new address."""
    verification.confirm_email_change(uow, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
