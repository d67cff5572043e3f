"""Request-scoped dependencies, declared once as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from keyholder.bootstrap import Runtime
from keyholder.db.uow import RequestContext, UnitOfWork
from keyholder.errors import NotAuthenticated
from keyholder.identity import service as identity
from keyholder.identity.actor import Actor
from keyholder.web.request_log import note_actor, request_id_of

SESSION_COOKIE = "keyholder_session"


# Each dependency FastAPI resolves costs several microseconds per request
# (signature walk, cache key, parameter binding), a real share of a read that
# answers in well under a millisecond. So the ones every request uses take the
# Request and nothing else, and reach the runtime directly instead of
# depending on ``get_runtime``. All are ``async def``: a plain ``def``
# dependency would be sent to the thread pool, one hop per dependency.


def runtime_of(request: Request) -> Runtime:
    """The application's runtime, for the API and the pages alike."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie, for the API and the pages alike (HttpOnly, SameSite=Lax, Secure; S19)."""
    settings = runtime_of(request).settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_ttl.total_seconds()),
        httponly=True,
        secure=not settings.is_development,
        samesite="lax",
        path="/",
    )


def request_context(request: Request) -> RequestContext:
    # One id per request, whatever asks: the log line, the audit events and the emails.
    return RequestContext(
        client_address=request.client.host if request.client else None,
        request_id=request_id_of(request.scope),
    )


def uow_for(request: Request, *, read_only: bool = False) -> UnitOfWork:
    """A unit of work that records this request's client address and id in the audit log.

    For a route that runs a second use case (a page shown again after a refused
    form): ``UoW`` and ``ReadUoW`` give one each, and a unit of work opens once.
    """
    return runtime_of(request).uow(request_context(request), read_only=read_only)


async def get_uow(request: Request) -> UnitOfWork:
    return uow_for(request)


async def get_read_uow(request: Request) -> UnitOfWork:
    return uow_for(request, read_only=True)


UoW = Annotated[UnitOfWork, Depends(get_uow)]
ReadUoW = Annotated[UnitOfWork, Depends(get_read_uow)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def _authenticate(request: Request) -> Actor | None:
    """The caller from a bearer token or a session cookie, or None when anonymous.

    Credentials that are present but wrong are an error, never anonymity.
    Nothing is cached: every request checks its token or session afresh, so a
    revocation takes effect on the next request.
    """
    runtime = runtime_of(request)
    token = bearer_token(request)
    if token is not None:
        actor = identity.authenticate_api_token(runtime.uow(read_only=True), token)
        if actor is None:
            raise NotAuthenticated("the API token is not valid")
        note_actor(request.scope, actor.user_id)
        return actor
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        actor = identity.authenticate_session(runtime.uow(read_only=True), cookie)
        if actor is None:
            raise NotAuthenticated("your session has ended; sign in again")
        note_actor(request.scope, actor.user_id)
        return actor
    return None


async def optional_actor(request: Request) -> Actor | None:
    """The caller, or None when anonymous (see ``_authenticate``)."""
    return _authenticate(request)


async def current_actor(request: Request) -> Actor:
    """The caller; 401 when anonymous."""
    actor = _authenticate(request)
    if actor is None:
        raise NotAuthenticated("sign in, or send 'Authorization: Bearer <token>'")
    return actor


OptionalActor = Annotated[Actor | None, Depends(optional_actor)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
