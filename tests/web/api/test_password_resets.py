"""/api/password-resets: SECURITY.md S1, S4, S7-S9, S11, S14, S31, S35; end to end over SMTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from keyholder.audit.service import list_events
from keyholder.bootstrap import Runtime
from keyholder.clock import FixedClock
from keyholder.identity.models import StaffRole, User
from keyholder.mail.models import OutboxMessage
from keyholder.web.app import create_app
from tests.factories import PASSWORD, Factories

NEW_PASSWORD = "a brand new pass phrase"
CARA = "cara@customer.example"
LINK = re.compile(r"(https?://[^/\s]+)/reset/(khr_[A-Za-z0-9_-]+)")
PRIVATE = {"referrer-policy": "no-referrer", "cache-control": "no-store"}


def reset_mails(runtime: Runtime) -> list[OutboxMessage]:
    with runtime.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "password_reset")
                .order_by(OutboxMessage.id)
            )
        )


def last_token(runtime: Runtime) -> str:
    match = LINK.search(reset_mails(runtime)[-1].body)
    assert match
    return match.group(2)


def assert_private(response) -> None:
    """S4: a reset page neither leaks its URL as a Referer nor is kept in a cache."""
    for name, value in PRIVATE.items():
        assert response.headers.get(name) == value, (name, response.headers)


def session_cookie(response) -> dict[str, str]:
    token = re.search(r"keyholder_session=([^;]+)", response.headers["set-cookie"]).group(1)
    return {"Cookie": f"keyholder_session={token}"}


@pytest.fixture
def cara(factories: Factories) -> User:
    return factories.user(CARA, password=PASSWORD)


@pytest.fixture
def requested(client: TestClient, runtime: Runtime, cara: User) -> str:
    """Cara asked for a reset; the token from her email."""
    assert client.post("/api/password-resets", json={"email": CARA}).status_code == 202
    return last_token(runtime)


class TestRequest:
    @pytest.mark.parametrize(
        "address",
        [
            pytest.param(CARA, id="existing"),
            pytest.param("nobody@customer.example", id="unknown"),
            pytest.param("new@customer.example", id="unverified"),
            pytest.param("agent@keyholder.example", id="S31-staff"),
            pytest.param("not an email address", id="malformed"),
            pytest.param("", id="empty"),
        ],
    )
    def test_s1_s31_one_answer_for_every_address(self, client, runtime, factories, cara, address):
        """S1: identical status, body and headers; S31: a staff address gets no email."""
        factories.user("new@customer.example", password=PASSWORD)
        factories.user("agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT)
        with runtime.uow() as uow:
            uow.session.execute(
                update(User)
                .where(User.email == "new@customer.example")
                .values(email_verified_at=None)
            )
            uow.commit()
        reference = client.post("/api/password-resets", json={"email": "x@nowhere.example"})

        response = client.post("/api/password-resets", json={"email": address})

        assert response.status_code == reference.status_code == 202
        assert response.content == reference.content
        assert response.json()["status"] == "accepted"
        assert _headers(response) == _headers(reference)
        assert_private(response)
        sent_to = [mail.recipients for mail in reset_mails(runtime)]
        assert sent_to == ([[CARA]] if address == CARA else [])

    def test_s4_link_uses_the_base_url_whatever_the_host_headers(self, client, runtime, cara):
        """S4: a forged Host or X-Forwarded-Host never reaches the emailed link."""
        response = client.post(
            "/api/password-resets",
            json={"email": CARA},
            headers={
                "Host": "evil.example",
                "X-Forwarded-Host": "evil.example",
                "X-Forwarded-Proto": "http",
                "Forwarded": "host=evil.example;proto=http",
            },
        )

        assert response.status_code == 202
        [mail] = reset_mails(runtime)
        assert "evil" not in mail.body
        assert LINK.search(mail.body).group(1) == "https://keyholder.test"

    def test_non_string_email_is_a_validation_error(self, client):
        response = client.post("/api/password-resets", json={"email": ["a@b.example"]})
        assert response.status_code == 422
        assert_private(response)

    def test_s35_request_is_audited_with_client_and_request_id(self, client, runtime, cara):
        """S35: time, actor, target, client address and request id; the token is not there."""
        client.post(
            "/api/password-resets", json={"email": CARA}, headers={"X-Request-Id": "req-77"}
        )

        [event] = list_events(runtime.uow(read_only=True), action="password_reset.request")
        assert (event.actor, event.target) == ("anonymous", f"user:{CARA}")
        assert (event.client_address, event.request_id) == ("testclient", "req-77")
        assert last_token(runtime).removeprefix("khr_") not in str(event.data)


class TestReset:
    def test_204_sets_the_password_and_signs_nobody_in(self, client, requested):
        """S14: no session cookie comes back; the new password works at sign-in."""
        response = client.post(f"/api/password-resets/{requested}", json={"password": NEW_PASSWORD})

        assert response.status_code == 204
        assert response.content == b""
        assert "set-cookie" not in response.headers
        assert_private(response)
        login = client.post("/api/session", json={"email": CARA, "password": NEW_PASSWORD})
        assert login.status_code == 200
        old = client.post("/api/session", json={"email": CARA, "password": PASSWORD})
        assert old.status_code == 401

    def test_s14_every_session_and_api_token_stops_working(self, client, runtime, factories, cara):
        """S14: the cookie session and the bearer token of before → 401; a notice is sent."""
        cookie = session_cookie(
            client.post("/api/session", json={"email": CARA, "password": PASSWORD})
        )
        bearer = factories.auth(cara)
        assert client.get("/api/session", headers=cookie).status_code == 200
        assert client.get("/api/session", headers=bearer).status_code == 200
        client.post("/api/password-resets", json={"email": CARA})
        token = last_token(runtime)

        client.post(f"/api/password-resets/{token}", json={"password": NEW_PASSWORD})

        assert client.get("/api/session", headers=cookie).status_code == 401
        assert client.get("/api/session", headers=bearer).status_code == 401
        with runtime.uow(read_only=True) as uow:
            [notice] = uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "password_changed")
            ).all()
        assert notice.recipients == [CARA]
        assert NEW_PASSWORD not in notice.body
        assert token.removeprefix("khr_") not in notice.body

    def test_s7_reuse_is_410_and_changes_nothing(self, client, requested):
        """S7: the second use → 410 Gone; the password is the one the first use set."""
        first = client.post(f"/api/password-resets/{requested}", json={"password": NEW_PASSWORD})
        second = client.post(
            f"/api/password-resets/{requested}", json={"password": "mallory's pass phrase"}
        )

        assert (first.status_code, second.status_code) == (204, 410)
        assert second.headers["content-type"] == "application/problem+json"
        assert_private(second)
        assert client.post(
            "/api/session", json={"email": CARA, "password": NEW_PASSWORD}
        ).status_code == 200  # fmt: skip
        assert client.post(
            "/api/session", json={"email": CARA, "password": "mallory's pass phrase"}
        ).status_code == 401  # fmt: skip

    @pytest.mark.parametrize("case", [(-1, 204), (1, 410)], ids=["ttl-1s", "ttl+1s"])
    def test_s8_expiry_at_ttl_minus_and_plus_one_second(
        self, client, requested, clock: FixedClock, case
    ):
        """S8: 60 minutes by default, checked with the fixed clock."""
        offset, status = case
        clock.advance(timedelta(minutes=60, seconds=offset))

        response = client.post(f"/api/password-resets/{requested}", json={"password": NEW_PASSWORD})

        assert response.status_code == status
        assert_private(response)

    def test_s9_a_newer_link_kills_the_older_one(self, client, runtime, requested):
        """S9: asking again revokes the first link."""
        client.post("/api/password-resets", json={"email": CARA})
        newer = last_token(runtime)

        older = client.post(f"/api/password-resets/{requested}", json={"password": NEW_PASSWORD})
        assert older.status_code == 410
        newest = client.post(f"/api/password-resets/{newer}", json={"password": NEW_PASSWORD})
        assert newest.status_code == 204

    def test_unknown_token_is_404(self, client, cara):
        response = client.post("/api/password-resets/khr_unknown", json={"password": NEW_PASSWORD})
        assert response.status_code == 404
        assert_private(response)

    def test_s11_an_invitation_token_is_not_a_reset_token(self, client, factories, cara):
        """S11: a `khi_` invitation token → 404 here, and it still works as an invitation."""
        factories.account("acme-corp")
        admin = factories.admin_of(factories.account("other-corp"), "boss@other.example")
        client.post(
            "/api/enterprise-accounts/other-corp/members",
            json={"user": {"email": "new@other.example"}, "permissions": ["view"]},
            headers=factories.auth(admin),
        )
        invitation = factories.last_invitation_token()

        response = client.post(
            f"/api/password-resets/{invitation}", json={"password": NEW_PASSWORD}
        )

        assert response.status_code == 404
        accepted = client.post(
            f"/api/invitations/{invitation}/accept", json={"password": NEW_PASSWORD}
        )
        assert accepted.status_code == 200

    def test_s13_a_refused_password_is_422_and_the_link_still_works(self, client, requested):
        """A password the policy refuses → 422 with the reason; the token is not spent."""
        short = client.post(f"/api/password-resets/{requested}", json={"password": "short"})

        assert short.status_code == 422
        assert "at least 8 characters" in short.json()["detail"]
        assert_private(short)
        ok = client.post(f"/api/password-resets/{requested}", json={"password": NEW_PASSWORD})
        assert ok.status_code == 204

    def test_s35_a_refused_token_is_audited(self, client, runtime, requested):
        """S35: `password_reset.failed` is written although the request is refused."""
        client.post(f"/api/password-resets/{requested}", json={"password": NEW_PASSWORD})
        client.post(
            f"/api/password-resets/{requested}",
            json={"password": NEW_PASSWORD},
            headers={"X-Request-Id": "req-88"},
        )

        [failed] = list_events(runtime.uow(read_only=True), action="password_reset.failed")
        assert failed.target == f"user:{CARA}"
        assert failed.data["after"]["reason"] == "used"
        assert (failed.client_address, failed.request_id) == ("testclient", "req-88")


# --- end to end, over a real SMTP server ---------------------------------------------


def test_end_to_end_reset_over_smtp(mail_runtime, smtp_server):
    """Request → the relay delivers → the link from the received email → reset →
    the old API token is refused (S14) → sign in with the new password."""
    factories = Factories(mail_runtime)
    cara = factories.user(CARA, password=PASSWORD)
    old_token = factories.auth(cara)
    relay = mail_runtime.relay()
    assert relay is not None
    app = create_app(runtime=mail_runtime, run_relay=False)
    with TestClient(app, base_url="http://testserver") as client:
        assert client.get("/api/session", headers=old_token).status_code == 200
        asked = client.post("/api/password-resets", json={"email": CARA})
        assert asked.status_code == 202

        assert relay.run_until_idle().sent == 1
        [received] = smtp_server.messages_to(CARA)
        assert received.subject == "Reset your Keyholder password"
        origin, token = LINK.search(received.body).groups()
        assert origin == "https://keyholder.test"

        done = client.post(f"/api/password-resets/{token}", json={"password": NEW_PASSWORD})
        assert done.status_code == 204

        assert client.get("/api/session", headers=old_token).status_code == 401
        login = client.post("/api/session", json={"email": CARA, "password": NEW_PASSWORD})
        assert login.status_code == 200
        assert client.get("/api/session", headers=session_cookie(login)).json()["email"] == CARA
        again = client.post(f"/api/password-resets/{token}", json={"password": "x" * 12})
        assert again.status_code == 410

        assert relay.run_until_idle().sent == 1
        [_, notice] = smtp_server.messages_to(CARA)
        assert notice.subject == "Your Keyholder password was changed"
        assert NEW_PASSWORD not in notice.body
        assert token not in notice.body


def _headers(response) -> list[tuple[str, str]]:
    """Every header but the request's own random id (the same for no two requests)."""
    return sorted((k, v) for k, v in response.headers.items() if k != "x-request-id")
