"""/api/session (sign in and out with a cookie) and /api/invitations/{token}/accept."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from keyholder.accounts import invitations
from keyholder.identity import service as identity
from keyholder.web.api.schemas import (
    InvitationAccept,
    MemberOut,
    SessionCreate,
    SessionUserOut,
    member_out,
    session_user_out,
)
from keyholder.web.deps import SESSION_COOKIE, CurrentActor, OptionalActor, RuntimeDep, UoW

router = APIRouter(tags=["session"])


@router.post("/session", response_model=SessionUserOut)
def log_in(body: SessionCreate, response: Response, uow: UoW) -> SessionUserOut:
    signed_in = identity.log_in(
        uow, body.email, body.password, client_address=uow.context.client_address
    )
    settings = uow.settings
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.session_token,
        max_age=int(settings.session_ttl.total_seconds()),
        httponly=True,
        secure=not settings.is_development,
        samesite="lax",
        path="/",
    )
    return session_user_out(signed_in.user)


@router.get("/session", response_model=SessionUserOut)
def who_am_i(actor: CurrentActor, runtime: RuntimeDep) -> SessionUserOut:
    user = identity.get_user(runtime.uow(read_only=True), actor)
    return session_user_out(user)


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
def log_out(request: Request, uow: UoW) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        identity.log_out(uow, token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/invitations/{token}/accept", response_model=MemberOut)
def accept_invitation(
    token: str, body: InvitationAccept, uow: UoW, actor: OptionalActor
) -> MemberOut:
    membership = invitations.accept_invitation(
        uow, token, actor=actor, name=body.name, password=body.password
    )
    return member_out(membership)
