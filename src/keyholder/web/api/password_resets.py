"""/api/password-resets: ask for a reset link, and use one (SECURITY.md A, B, S14)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from keyholder.identity import reset
from keyholder.web.api.schemas import PasswordResetComplete, PasswordResetRequest
from keyholder.web.deps import UoW

# S4: the token is in these URLs, so no page may leak them through a Referer
# header or keep them in a cache. Set on every response, errors included.
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}

# One answer for every address (S1): nothing in it depends on the address.
ACCEPTED = {
    "status": "accepted",
    "detail": (
        "If this address belongs to a user who can reset their password, a link to do so "
        "is on its way there."
    ),
}


class PrivateRoute(APIRoute):
    """A route whose every response, problem details included, carries PRIVATE_HEADERS.

    Error responses are built by the app's exception handlers, after the
    endpoint has returned, so the headers are added where the response starts.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_private(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PRIVATE_HEADERS.items():
                    headers[name] = value
            await send(message)

        await super().handle(scope, receive, send_private)


router = APIRouter(prefix="/password-resets", tags=["password resets"], route_class=PrivateRoute)


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def request_reset(body: PasswordResetRequest, uow: UoW) -> JSONResponse:
    """Email a reset link if the address may have one; the same 202 for every address."""
    reset.request_password_reset(uow, body.email)
    return JSONResponse(ACCEPTED, status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/{token}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "Not a reset link"}, 410: {"description": "Link is dead"}},
)
async def reset_password(token: str, body: PasswordResetComplete, uow: UoW) -> Response:
    """Set a new password with a reset link. Signs nobody in; every session ends (S14)."""
    # The use case hashes the password: on the bounded hashing pool, as sign-in (S16).
    await uow.hashing.run(reset.reset_password, uow, token, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
