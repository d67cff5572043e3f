"""/api/passkeys (register, list, rename, remove) and passkey sign-in under /api/session.

Each WebAuthn ceremony is two calls: the first answers ``{ceremony, options}``
(``options`` is the ``publicKey`` argument of ``navigator.credentials``, its
binary fields base64url), the second takes ``{ceremony, credential}``
(``credential`` is the ``PublicKeyCredential`` as JSON, binary fields
base64url, as ``PublicKeyCredential.toJSON()`` gives it).

- Registering and removing need the password again (S17); once you have a
  passkey, they also need a session signed in with one (or a recovery code).
- ``POST /api/session/passkey`` passes the second factor of the session
  cookie (or steps a TOTP session up); ``POST /api/session/passwordless``
  signs in with a discoverable passkey alone. Both answer a new session
  cookie (S15).

API tokens carry the second factor of the session that made them: only a
token made from a passkey sign-in acts as staff or admin while
``KEYHOLDER_REQUIRE_PHISHING_RESISTANT_ADMIN`` is on.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from keyholder.errors import NotAuthenticated
from keyholder.identity import passkey_sign_in, passkeys
from keyholder.identity.models import Passkey
from keyholder.web import csrf
from keyholder.web.api.nocache import PrivateRoute
from keyholder.web.api.schemas import Body, SessionUserOut, session_user_out
from keyholder.web.deps import SESSION_COOKIE, CurrentActor, RuntimeDep, UoW, set_session_cookie

router = APIRouter(tags=["passkeys"], route_class=PrivateRoute)

Credential = dict[str, Any]


class PasswordIn(Body):
    password: str = Field(max_length=4096)


class RegistrationIn(Body):
    ceremony: uuid.UUID
    name: str = Field(default="", max_length=200)
    credential: Credential


class AssertionIn(Body):
    ceremony: uuid.UUID
    credential: Credential


class RenameIn(Body):
    name: str = Field(max_length=200)


class CeremonyOut(BaseModel):
    ceremony: uuid.UUID
    options: dict[str, Any]


class PasskeyOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    # Whether the key keeps the credential and so can sign in without a password.
    discoverable: bool
    # When an answer came with a signature counter that went backwards (a copied key?).
    clone_warning_at: datetime | None


def passkey_out(passkey: Passkey) -> PasskeyOut:
    return PasskeyOut(
        id=passkey.id,
        name=passkey.name,
        created_at=passkey.created_at,
        last_used_at=passkey.last_used_at,
        discoverable=passkey.discoverable,
        clone_warning_at=passkey.clone_warning_at,
    )


def _ceremony_out(ceremony: passkeys.Ceremony) -> CeremonyOut:
    return CeremonyOut(ceremony=ceremony.id, options=ceremony.options)


@router.get("/passkeys", response_model=list[PasskeyOut])
def list_passkeys(actor: CurrentActor, uow: UoW) -> list[PasskeyOut]:
    """Your passkeys and security keys, oldest first."""
    return [passkey_out(each) for each in passkeys.list_passkeys(uow, actor=actor)]


@router.post("/passkeys/registration", response_model=CeremonyOut)
async def begin_registration(
    body: PasswordIn, request: Request, actor: CurrentActor, uow: UoW, runtime: RuntimeDep
) -> CeremonyOut:
    """Options for ``navigator.credentials.create`` (needs your password)."""
    # The password check is argon2: on the bounded hashing pool, as sign-in (S16).
    ceremony = await runtime.hashing.run(
        passkeys.begin_registration,
        uow,
        actor=actor,
        password=body.password,
        session_token=request.cookies.get(SESSION_COOKIE) if _by_cookie(request) else None,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )
    return _ceremony_out(ceremony)


@router.post(
    "/passkeys/registration/finish",
    response_model=PasskeyOut,
    status_code=status.HTTP_201_CREATED,
)
def finish_registration(
    body: RegistrationIn, request: Request, actor: CurrentActor, uow: UoW
) -> PasskeyOut:
    """Keep the new passkey, named ``name`` (or "Passkey N"); you are told by email."""
    passkey = passkeys.finish_registration(
        uow,
        body.ceremony,
        body.credential,
        name=body.name,
        actor=actor,
        session_token=request.cookies.get(SESSION_COOKIE) if _by_cookie(request) else None,
    )
    return passkey_out(passkey)


@router.patch("/passkeys/{passkey_id}", response_model=PasskeyOut)
def rename_passkey(
    passkey_id: uuid.UUID, body: RenameIn, actor: CurrentActor, uow: UoW
) -> PasskeyOut:
    return passkey_out(passkeys.rename_passkey(uow, passkey_id, body.name, actor=actor))


@router.delete("/passkeys/{passkey_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_passkey(
    passkey_id: uuid.UUID,
    body: PasswordIn,
    request: Request,
    *,
    actor: CurrentActor,
    uow: UoW,
    runtime: RuntimeDep,
) -> Response:
    """Remove a passkey (needs your password, and a passkey sign-in); it stops working now.

    Every other session and API token of yours ends too: the one asking stays.
    """
    await runtime.hashing.run(
        passkeys.remove_passkey,
        uow,
        passkey_id,
        actor=actor,
        password=body.password,
        current_session_token=request.cookies.get(SESSION_COOKIE) if _by_cookie(request) else None,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/session/passkey", response_model=CeremonyOut)
def begin_second_factor(request: Request, uow: UoW) -> CeremonyOut:
    """Options to pass the session cookie's second factor with a passkey."""
    return _ceremony_out(passkey_sign_in.begin_second_factor(uow, _cookie(request)))


@router.post("/session/passkey/finish", status_code=status.HTTP_204_NO_CONTENT)
def finish_second_factor(
    body: AssertionIn, request: Request, uow: UoW, runtime: RuntimeDep
) -> Response:
    """The answer sets a new session cookie, verified with a passkey (S15).

    The CSRF token goes with the old cookie; ``GET /api/session`` gives the new one.
    """
    verified = passkey_sign_in.finish_second_factor(
        uow, _cookie(request), body.ceremony, body.credential, limiter=runtime.rate_limiter
    )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    set_session_cookie(request, response, verified)
    return response


@router.post("/session/passwordless", response_model=CeremonyOut)
def begin_passwordless(uow: UoW) -> CeremonyOut:
    """Options to sign in with a passkey alone (one your authenticator keeps)."""
    return _ceremony_out(passkey_sign_in.begin_passwordless(uow))


@router.post("/session/passwordless/finish", response_model=SessionUserOut)
def finish_passwordless(
    body: AssertionIn, request: Request, response: Response, uow: UoW, runtime: RuntimeDep
) -> SessionUserOut:
    """Sign in: sets the session cookie, verified with a passkey."""
    signed_in = passkey_sign_in.finish_passwordless(
        uow,
        body.ceremony,
        body.credential,
        client_address=uow.context.client_address,
        replaces=request.cookies.get(SESSION_COOKIE),  # S15: the old id stops working
        limiter=runtime.rate_limiter,
    )
    set_session_cookie(request, response, signed_in.session_token)
    out = session_user_out(signed_in.user)
    out.mfa_required = False  # passed already
    out.csrf_token = csrf.session_token(uow.settings.secret, signed_in.session_token)
    return out


def _cookie(request: Request) -> str:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated("sign in first")
    return token


def _by_cookie(request: Request) -> bool:
    # A bearer token wins over a cookie (web.deps): then no session began the ceremony.
    return not request.headers.get("authorization")
