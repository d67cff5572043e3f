"""/api/password-resets: ask for a reset link, and use one (SECURITY.md A, B, S14)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from keyholder.identity import reset
from keyholder.web.api.nocache import PrivateRoute
from keyholder.web.api.schemas import PasswordResetComplete, PasswordResetRequest
from keyholder.web.deps import RuntimeDep, UoW

# PrivateRoute lives in web.api.nocache; still exported here for older imports.
__all__ = ["ACCEPTED", "PrivateRoute", "request_reset", "reset_password", "router"]

# One answer for every address (S1): nothing in it depends on the address.
ACCEPTED = {
    "status": "accepted",
    "detail": (
        "If this address belongs to a user who can reset their password, a link to do so "
        "is on its way there."
    ),
}


router = APIRouter(prefix="/password-resets", tags=["password resets"], route_class=PrivateRoute)


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def request_reset(body: PasswordResetRequest, uow: UoW, runtime: RuntimeDep) -> JSONResponse:
    """Email a reset link if the address may have one; the same 202 for every address."""
    reset.request_password_reset(uow, body.email, limiter=runtime.rate_limiter)
    return JSONResponse(ACCEPTED, status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/{token}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "Not a reset link"}, 410: {"description": "Link is dead"}},
)
async def reset_password(
    token: str, body: PasswordResetComplete, uow: UoW, runtime: RuntimeDep
) -> Response:
    """Set a new password with a reset link. Signs nobody in; every session ends (S14)."""
    # The use case hashes the password: on the bounded hashing pool, as sign-in (S16).
    await runtime.hashing.run(
        reset.reset_password, uow, token, body.password, hasher=runtime.password_hasher
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
