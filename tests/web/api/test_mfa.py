"""/api/mfa and /api/session/mfa (SECURITY.md S17; S18-prep)."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from keyholder.identity.models import User
from tests.factories import PASSWORD


@pytest.fixture
def alice(factories):
    return factories.user("alice@acme.example", password=PASSWORD)


def session_cookie(response) -> dict[str, str]:
    """The session cookie a response sets, as a header for the next request.

    TestClient does not send Secure cookies over http: pass it on by hand.
    """
    token = re.search(r"keyholder_session=([^;]+)", response.headers["set-cookie"]).group(1)
    return {"Cookie": f"keyholder_session={token}"}


def sign_in(client, email: str = "alice@acme.example") -> tuple[dict[str, str], dict]:
    response = client.post("/api/session", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return session_cookie(response), response.json()


def totp(runtime, secret: str) -> str:
    return pyotp.TOTP(secret).at(runtime.clock.now())


def enrol(client, runtime, headers) -> tuple[str, list[str]]:
    begun = client.post("/api/mfa/enrolment", json={"password": PASSWORD}, headers=headers)
    assert begun.status_code == 200, begun.text
    secret = begun.json()["secret"]
    confirmed = client.post(
        "/api/mfa/enrolment/confirm", json={"code": totp(runtime, secret)}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


def test_s17_enrolment_with_a_wrong_password_is_refused_and_changes_nothing(client, runtime, alice):
    headers, _ = sign_in(client)
    response = client.post("/api/mfa/enrolment", json={"password": "nope"}, headers=headers)
    assert response.status_code == 403
    with runtime.uow(read_only=True) as uow:
        assert uow.session.scalar(select(User.mfa_secret)) is None


def test_enrolment_answers_are_not_cached(client, alice):
    headers, _ = sign_in(client)
    response = client.post("/api/mfa/enrolment", json={"password": PASSWORD}, headers=headers)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert body["qr_svg"].startswith("<svg")


def test_confirming_with_a_wrong_code_fails(client, runtime, alice):
    headers, _ = sign_in(client)
    client.post("/api/mfa/enrolment", json={"password": PASSWORD}, headers=headers)
    response = client.post("/api/mfa/enrolment/confirm", json={"code": "12345x"}, headers=headers)
    assert response.status_code == 422


def test_s18_prep_sign_in_then_requires_the_second_factor(client, runtime, alice):
    headers, _ = sign_in(client)
    secret, _ = enrol(client, runtime, headers)
    # The session that enrolled proved the factor and keeps working.
    assert client.get("/api/session", headers=headers).status_code == 200

    headers, body = sign_in(client)
    assert body["mfa_required"] is True
    assert client.get("/api/session", headers=headers).status_code == 401
    runtime.clock.advance(timedelta(seconds=30))
    wrong = client.post("/api/session/mfa", json={"code": "000000"}, headers=headers)
    assert wrong.status_code == 401
    assert client.get("/api/session", headers=headers).status_code == 401
    right = client.post("/api/session/mfa", json={"code": totp(runtime, secret)}, headers=headers)
    assert right.status_code == 204
    assert client.get("/api/session", headers=session_cookie(right)).status_code == 200


def test_s15_passing_the_second_factor_sets_a_new_session_cookie(client, runtime, alice):
    """Session fixation: the cookie that arrived before the second factor ends with it."""
    headers, _ = sign_in(client)
    secret, _ = enrol(client, runtime, headers)
    planted, _ = sign_in(client)
    runtime.clock.advance(timedelta(seconds=30))
    right = client.post("/api/session/mfa", json={"code": totp(runtime, secret)}, headers=planted)
    assert right.status_code == 204
    assert "httponly" in right.headers["set-cookie"].lower()
    verified = session_cookie(right)
    assert verified != planted
    assert client.get("/api/session", headers=planted).status_code == 401
    me = client.get("/api/session", headers=verified)
    assert me.status_code == 200
    assert me.json()["email"] == "alice@acme.example"


def test_a_totp_code_cannot_be_replayed(client, runtime, alice):
    headers, _ = sign_in(client)
    secret, _ = enrol(client, runtime, headers)
    runtime.clock.advance(timedelta(seconds=30))
    code = totp(runtime, secret)
    first, _ = sign_in(client)
    second, _ = sign_in(client)
    assert client.post("/api/session/mfa", json={"code": code}, headers=first).status_code == 204
    assert client.post("/api/session/mfa", json={"code": code}, headers=second).status_code == 401


def test_a_recovery_code_works_once(client, runtime, alice):
    headers, _ = sign_in(client)
    _, codes = enrol(client, runtime, headers)
    first, _ = sign_in(client)
    second, _ = sign_in(client)
    assert (
        client.post("/api/session/mfa", json={"code": codes[0]}, headers=first).status_code == 204
    )
    response = client.post("/api/session/mfa", json={"code": codes[0]}, headers=second)
    assert response.status_code == 401


def test_s17_regenerating_recovery_codes_needs_the_password_and_voids_old_ones(
    client, runtime, alice
):
    headers, _ = sign_in(client)
    _, old = enrol(client, runtime, headers)
    refused = client.post("/api/mfa/recovery-codes", json={"password": "nope"}, headers=headers)
    assert refused.status_code == 403
    response = client.post("/api/mfa/recovery-codes", json={"password": PASSWORD}, headers=headers)
    assert response.status_code == 200
    new = response.json()["recovery_codes"]
    later, _ = sign_in(client)
    assert client.post("/api/session/mfa", json={"code": old[0]}, headers=later).status_code == 401
    assert client.post("/api/session/mfa", json={"code": new[0]}, headers=later).status_code == 204


def test_s17_disabling_needs_the_password_and_a_code(client, runtime, alice):
    headers, _ = sign_in(client)
    secret, _ = enrol(client, runtime, headers)
    runtime.clock.advance(timedelta(seconds=30))
    code = totp(runtime, secret)
    no_password = client.request(
        "DELETE", "/api/mfa", json={"password": "nope", "code": code}, headers=headers
    )
    assert no_password.status_code == 403
    no_code = client.request(
        "DELETE", "/api/mfa", json={"password": PASSWORD, "code": "000000"}, headers=headers
    )
    assert no_code.status_code == 403
    done = client.request(
        "DELETE", "/api/mfa", json={"password": PASSWORD, "code": code}, headers=headers
    )
    assert done.status_code == 204
    later, body = sign_in(client)
    assert body["mfa_required"] is False
    assert client.get("/api/session", headers=later).status_code == 200


def test_api_tokens_need_no_second_factor(client, runtime, factories, alice):
    headers, _ = sign_in(client)
    enrol(client, runtime, headers)
    assert client.get("/api/session", headers=factories.auth(alice)).status_code == 200
