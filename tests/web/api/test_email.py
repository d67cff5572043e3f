"""/api/email-verifications and /api/email-changes: SECURITY.md S4, S5, S9, S11, S17."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from keyholder.bootstrap import Runtime
from keyholder.identity.models import User
from keyholder.mail.models import OutboxMessage
from tests.factories import PASSWORD, Factories

CARA = "cara@customer.example"
NEW = "cara@new.example"
PRIVATE = {"referrer-policy": "no-referrer", "cache-control": "no-store"}
VERIFY_LINK = re.compile(r"https://keyholder\.test/verify-email/(khv_[A-Za-z0-9_-]+)")
CHANGE_LINK = re.compile(r"https://keyholder\.test/confirm-email-change/(khv_[A-Za-z0-9_-]+)")


def last_mail(runtime: Runtime, kind: str) -> OutboxMessage:
    with runtime.uow(read_only=True) as uow:
        row = uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id.desc())
        ).first()
    assert row is not None, kind
    return row


def token_in(mail: OutboxMessage, link: re.Pattern[str]) -> str:
    match = link.search(mail.body)
    assert match, mail.body
    return match.group(1)


def assert_private(response) -> None:
    """S4: pages with a token neither leak it as a Referer nor are kept in a cache."""
    for name, value in PRIVATE.items():
        assert response.headers.get(name) == value, (name, response.headers)


def email_of(runtime: Runtime, user_id) -> User:
    with runtime.uow(read_only=True) as uow:
        user = uow.session.get(User, user_id)
        assert user is not None
        return user


@pytest.fixture
def cara(factories: Factories) -> User:
    return factories.user(CARA, password=PASSWORD)


def test_s4_s11_verification_over_the_api(
    client: TestClient, runtime: Runtime, factories: Factories, cara: User
) -> None:
    headers = factories.auth(cara)
    with runtime.uow() as uow:
        uow.session.execute(update(User).where(User.id == cara.id).values(email_verified_at=None))
        uow.commit()
    response = client.post("/api/email-verifications", headers=headers)
    assert response.status_code == 202, response.text
    assert_private(response)
    token = token_in(last_mail(runtime, "email_verification"), VERIFY_LINK)

    response = client.post(f"/api/email-verifications/{token}")
    assert response.status_code == 204, response.text
    assert_private(response)
    assert email_of(runtime, cara.id).email_verified_at is not None

    again = client.post(f"/api/email-verifications/{token}")
    assert again.status_code == 410
    assert_private(again)
    # Verified now: no more links.
    assert client.post("/api/email-verifications", headers=headers).status_code == 409


def test_s11_unknown_or_foreign_tokens_are_404(client: TestClient) -> None:
    for path in ("/api/email-verifications/khv_nothing", "/api/email-changes/khr_nothing"):
        response = client.post(path)
        assert response.status_code == 404
        assert_private(response)


def test_resend_needs_a_signed_in_user(client: TestClient) -> None:
    assert client.post("/api/email-verifications").status_code == 401
    response = client.post("/api/email-changes", json={"email": NEW, "password": PASSWORD})
    assert response.status_code == 401


def test_s17_email_change_with_a_wrong_password_is_refused(
    client: TestClient, runtime: Runtime, factories: Factories, cara: User
) -> None:
    response = client.post(
        "/api/email-changes",
        json={"email": NEW, "password": "not the password"},
        headers=factories.auth(cara),
    )
    assert response.status_code == 403
    assert_private(response)
    assert email_of(runtime, cara.id).email == CARA


def test_s5_s9_email_change_over_the_api(
    client: TestClient, runtime: Runtime, factories: Factories, cara: User
) -> None:
    response = client.post(
        "/api/email-changes",
        json={"email": NEW, "password": PASSWORD},
        headers=factories.auth(cara),
    )
    assert response.status_code == 202, response.text
    assert_private(response)
    assert last_mail(runtime, "email_change_requested").recipients == [CARA]  # S5
    confirm = last_mail(runtime, "email_change_confirm")
    assert confirm.recipients == [NEW]
    token = token_in(confirm, CHANGE_LINK)
    assert email_of(runtime, cara.id).email == CARA  # not before the new address confirms

    # S11: a change link is no verification link.
    assert client.post(f"/api/email-verifications/{token}").status_code == 404
    response = client.post(f"/api/email-changes/{token}")
    assert response.status_code == 204, response.text
    assert_private(response)
    assert email_of(runtime, cara.id).email == NEW
    assert last_mail(runtime, "email_changed").recipients == [CARA]  # S5
    assert client.post(f"/api/email-changes/{token}").status_code == 410


def test_address_of_another_user_is_409(
    client: TestClient, factories: Factories, cara: User
) -> None:
    factories.user(NEW)
    response = client.post(
        "/api/email-changes",
        json={"email": NEW, "password": PASSWORD},
        headers=factories.auth(cara),
    )
    assert response.status_code == 409
