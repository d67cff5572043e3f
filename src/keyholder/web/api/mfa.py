"""/api/mfa (enrol, disable, recovery codes) and /api/session/mfa (the second factor).

Enrolment, disabling and new recovery codes need the password again (S17).
Responses carry ``Cache-Control: no-store``: some hold the TOTP secret or
recovery codes, shown once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from keyholder.errors import NotAuthenticated
from keyholder.identity import mfa
from keyholder.web.api.nocache import PrivateRoute
from keyholder.web.api.schemas import Body
from keyholder.web.deps import SESSION_COOKIE, CurrentActor, RuntimeDep, UoW, set_session_cookie

router = APIRouter(tags=["mfa"], route_class=PrivateRoute)


class PasswordIn(Body):
    password: str = Field(max_length=4096)


class CodeIn(Body):
    code: str = Field(max_length=64)


class DisableIn(Body):
    password: str = Field(max_length=4096)
    code: str = Field(max_length=64)


class EnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str]


@router.post("/mfa/enrolment", response_model=EnrolmentOut)
async def begin_enrolment(
    body: PasswordIn, actor: CurrentActor, uow: UoW, runtime: RuntimeDep
) -> EnrolmentOut:
    """A fresh TOTP secret, its otpauth URI and QR code; MFA is on once confirmed."""
    # The password check is argon2: on the bounded hashing pool, as sign-in (S16).
    enrolment = await runtime.hashing.run(
        mfa.begin_mfa_enrolment,
        uow,
        actor=actor,
        password=body.password,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )
    return EnrolmentOut(
        secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_svg=enrolment.qr_svg
    )


@router.post("/mfa/enrolment/confirm", response_model=RecoveryCodesOut)
def confirm_enrolment(
    body: CodeIn, request: Request, actor: CurrentActor, uow: UoW, runtime: RuntimeDep
) -> RecoveryCodesOut:
    """Turn MFA on with a code from the app; the recovery codes are shown this once."""
    codes = mfa.confirm_mfa_enrolment(
        uow,
        body.code,
        actor=actor,
        session_token=request.cookies.get(SESSION_COOKIE),
        limiter=runtime.rate_limiter,
    )
    return RecoveryCodesOut(recovery_codes=codes)


@router.delete("/mfa", status_code=status.HTTP_204_NO_CONTENT)
async def disable(body: DisableIn, actor: CurrentActor, uow: UoW, runtime: RuntimeDep) -> Response:
    await runtime.hashing.run(
        mfa.disable_mfa,
        uow,
        actor=actor,
        password=body.password,
        code=body.code,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/mfa/recovery-codes", response_model=RecoveryCodesOut)
async def regenerate_recovery_codes(
    body: PasswordIn, actor: CurrentActor, uow: UoW, runtime: RuntimeDep
) -> RecoveryCodesOut:
    """New recovery codes, shown this once; the old ones stop working."""
    codes = await runtime.hashing.run(
        mfa.regenerate_recovery_codes,
        uow,
        actor=actor,
        password=body.password,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/session/mfa", status_code=status.HTTP_204_NO_CONTENT)
def verify_session(body: CodeIn, request: Request, uow: UoW, runtime: RuntimeDep) -> Response:
    """Pass the second factor for the session cookie (a TOTP or a recovery code).

    The answer sets a new session cookie: the one sent no longer works (S15).
    The CSRF token goes with the old cookie; ``GET /api/session`` gives the new one.
    """
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated("sign in first")
    verified = mfa.verify_second_factor(uow, token, body.code, limiter=runtime.rate_limiter)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    set_session_cookie(request, response, verified)
    return response
