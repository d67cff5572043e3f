"""/api/session (sign in and out with a cookie), /api/sessions, /api/invitations/{token}/accept.

The session cookie is HttpOnly, SameSite=Lax, and Secure outside development
(S19). Signing in replaces the session the client already held (S15). CSRF
(S38): ``keyholder.web.csrf.ApiRequestGuard`` refuses state changes from other
origins and non-JSON bodies sent with the cookie but without the
``X-CSRF-Token`` header; signing in and ``GET /api/session`` give that token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from keyholder.accounts import invitations
from keyholder.accounts.schemas import MemberOut, member_out
from keyholder.identity import service as identity
from keyholder.identity import sessions
from keyholder.web import csrf
from keyholder.web.api.schemas import (
    InvitationAccept,
    SessionCreate,
    SessionsEndedOut,
    SessionUserOut,
    session_user_out,
)
from keyholder.web.deps import (
    SESSION_COOKIE,
    CurrentActor,
    OptionalActor,
    RuntimeDep,
    UoW,
    set_session_cookie,
)
from keyholder.web.disconnect import unless_disconnected

router = APIRouter(tags=["session"])


@router.post("/session", response_model=SessionUserOut)
async def log_in(
    body: SessionCreate, request: Request, response: Response, uow: UoW, runtime: RuntimeDep
) -> SessionUserOut:
    # Limits first, then the hash on the bounded pool, not the event loop or
    # FastAPI's thread pool: in a login flood the queue waits there, holding no
    # thread (S16), and a client that hangs up leaves it (S40).
    signed_in = await unless_disconnected(
        request,
        identity.log_in_on_pool(
            uow,
            body.email,
            body.password,
            client_address=uow.context.client_address,
            replaces=request.cookies.get(SESSION_COOKIE),  # S15: the old id stops working
            limiter=runtime.rate_limiter,
            hashing=runtime.hashing,
        ),
    )
    set_session_cookie(request, response, signed_in.session_token)
    out = session_user_out(signed_in.user)
    out.csrf_token = csrf.session_token(uow.settings.secret, signed_in.session_token)
    return out


@router.get("/session", response_model=SessionUserOut)
def who_am_i(request: Request, actor: CurrentActor, runtime: RuntimeDep) -> SessionUserOut:
    user = identity.get_user(runtime.uow(read_only=True), actor)
    out = session_user_out(user)
    out.csrf_token = csrf.api_token(request, runtime.settings.secret)
    return out


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
def log_out(request: Request, uow: UoW) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        identity.log_out(uow, token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.delete("/sessions", response_model=SessionsEndedOut)
def log_out_everywhere(
    request: Request, response: Response, actor: CurrentActor, uow: UoW, keep_current: bool = False
) -> SessionsEndedOut:
    """End every session and API token of the caller (S14's "log out everywhere").

    With ``?keep_current=true`` the session this request came with stays.
    """
    current = request.cookies.get(SESSION_COOKIE) if keep_current else None
    revoked = sessions.log_out_everywhere(uow, actor=actor, current_session_token=current)
    if current is None:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return SessionsEndedOut(credentials_revoked=revoked)


@router.post("/invitations/{token}/accept", response_model=MemberOut)
def accept_invitation(
    token: str, body: InvitationAccept, uow: UoW, actor: OptionalActor, runtime: RuntimeDep
) -> MemberOut:
    membership = invitations.accept_invitation(
        uow,
        token,
        actor=actor,
        name=body.name,
        password=body.password,
        hasher=runtime.password_hasher,
    )
    return member_out(membership)
