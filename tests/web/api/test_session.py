"""/api/session and /api/invitations/{token}/accept."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from keyholder.accounts import members
from keyholder.config import Environment, Settings
from keyholder.identity import service as identity
from keyholder.identity.models import StaffRole
from keyholder.mail.models import OutboxMessage
from keyholder.web.app import create_app
from tests.factories import OPERATOR, PASSWORD
from tests.pools import busy_workers
from tests.runtimes import runtime_with


@pytest.fixture
def alice(factories):
    return factories.user("alice@acme.example", password=PASSWORD)


class TestSession:
    def test_login_sets_a_hardened_cookie_that_authenticates(self, client, alice):
        response = client.post(
            "/api/session", json={"email": "ALICE@acme.example", "password": PASSWORD}
        )
        assert response.status_code == 200
        assert response.json()["email"] == "alice@acme.example"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
        assert "Secure" in cookie  # the test settings are not development
        # TestClient does not send Secure cookies over http: pass it on by hand.
        token = re.search(r"keyholder_session=([^;]+)", cookie).group(1)
        me = client.get("/api/session", headers={"Cookie": f"keyholder_session={token}"})
        assert me.status_code == 200
        assert me.json()["email"] == "alice@acme.example"

    @pytest.mark.parametrize(
        ("email", "password"),
        [
            ("alice@acme.example", "wrong password"),
            ("nobody@acme.example", PASSWORD),
            ("junk", "x"),
        ],
    )
    def test_bad_credentials_get_one_generic_answer(self, client, alice, email, password):
        response = client.post("/api/session", json={"email": email, "password": password})
        assert response.status_code == 401
        assert response.json()["detail"] == "email or password is wrong"

    def test_logout_ends_the_session(self, client, alice):
        login = client.post("/api/session", json={"email": alice.email, "password": PASSWORD})
        token = re.search(r"keyholder_session=([^;]+)", login.headers["set-cookie"]).group(1)
        cookie = {"Cookie": f"keyholder_session={token}"}
        assert client.get("/api/session", headers=cookie).status_code == 200
        assert client.delete("/api/session", headers=cookie).status_code == 204
        assert client.get("/api/session", headers=cookie).status_code == 401


class TestInvitationAccept:
    @pytest.fixture
    def invited(self, client, factories):
        account = factories.account("acme-corp")
        admin = factories.admin_of(account, "admin@acme.example")
        response = client.post(
            "/api/enterprise-accounts/acme-corp/members",
            json={"user": {"email": "new@acme.example"}, "permissions": ["manage"]},
            headers=factories.auth(admin),
        )
        assert response.status_code == 202
        return factories.last_invitation_token()

    def test_newcomer_signs_up_by_accepting(self, client, invited):
        response = client.post(
            f"/api/invitations/{invited}/accept", json={"name": "New Person", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        assert response.json()["user"]["email"] == "new@acme.example"
        assert {"name": "manage"} in response.json()["permissions"]
        login = client.post(
            "/api/session", json={"email": "new@acme.example", "password": PASSWORD}
        )
        assert login.status_code == 200

    def test_invitation_works_once(self, client, invited):
        first = client.post(f"/api/invitations/{invited}/accept", json={"password": PASSWORD})
        second = client.post(f"/api/invitations/{invited}/accept", json={"password": PASSWORD})
        assert first.status_code == 200
        assert second.status_code == 410

    def test_invitation_is_bound_to_the_invited_email(self, client, factories, invited):
        mallory = factories.user("mallory@evil.example")
        response = client.post(
            f"/api/invitations/{invited}/accept", json={}, headers=factories.auth(mallory)
        )
        assert response.status_code == 403
        # ...and it still works for the right person afterwards.
        ok = client.post(f"/api/invitations/{invited}/accept", json={"password": PASSWORD})
        assert ok.status_code == 200

    def test_signed_in_invitee_accepts_with_their_session(self, client, factories, invited):
        newcomer = factories.user("new@acme.example")
        response = client.post(
            f"/api/invitations/{invited}/accept", json={}, headers=factories.auth(newcomer)
        )
        assert response.status_code == 200

    def test_existing_user_must_sign_in_to_accept(self, client, factories, invited):
        factories.user("new@acme.example")
        response = client.post(f"/api/invitations/{invited}/accept", json={"password": PASSWORD})
        assert response.status_code == 401

    def test_unknown_token_is_404(self, client):
        response = client.post("/api/invitations/khi_nope/accept", json={"password": PASSWORD})
        assert response.status_code == 404


def clients_of(runtime) -> Callable[[str], TestClient]:
    """Test clients of one app, each calling from the client address given."""
    app = create_app(runtime=runtime, run_relay=False)

    def client_at(address: str) -> TestClient:
        return TestClient(app, base_url="http://testserver", client=(address, 50000))

    return client_at


THROTTLE_LIMITS = {
    "login_limit_per_account": "3 per 5 minutes",
    "login_limit_per_client": "5 per 5 minutes",
}


class TestLoginThrottling:
    """S16 over HTTP: 429 problem+json with Retry-After, on memory and Redis storage."""

    @pytest.fixture
    def throttled(self, make_runtime):
        return make_runtime(**THROTTLE_LIMITS)

    @pytest.fixture
    def client_at(self, throttled):
        return clients_of(throttled)

    @staticmethod
    def log_in(client, email, password):
        return client.post("/api/session", json={"email": email, "password": password})

    def assert_throttled(self, response):
        assert response.status_code == 429
        assert response.headers["content-type"] == "application/problem+json"
        assert 1 <= int(response.headers["retry-after"]) <= 300
        body = response.json()
        assert body["status"] == 429
        assert body["title"] == "Too many requests"
        assert "set-cookie" not in response.headers
        return body

    def test_s16_per_account_limit_across_addresses_is_a_429_problem(self, client_at, alice):
        for n in range(3):
            assert (
                self.log_in(client_at(f"198.51.100.{n}"), alice.email, "wrong").status_code == 401
            )
        # The right password, from yet another address: still refused.
        self.assert_throttled(self.log_in(client_at("198.51.100.50"), alice.email, PASSWORD))

    def test_s16_per_client_limit_across_accounts_is_a_429_problem(self, client_at, alice):
        client = client_at("203.0.113.7")
        for n in range(5):
            assert self.log_in(client, f"user{n}@acme.example", "wrong").status_code == 401
        self.assert_throttled(self.log_in(client, alice.email, PASSWORD))
        assert self.log_in(client_at("203.0.113.8"), alice.email, PASSWORD).status_code == 200

    def test_s16_throttled_answer_does_not_tell_whether_the_account_exists(self, client_at, alice):
        bodies = []
        for n, email in enumerate([alice.email, "nobody@acme.example"]):
            for m in range(3):
                self.log_in(client_at(f"192.0.2.{10 * n + m}"), email, "wrong")
            bodies.append(
                self.assert_throttled(self.log_in(client_at("192.0.2.99"), email, "wrong"))
            )
        assert bodies[0] == bodies[1]

    def test_s16_throttled_sign_in_does_not_block_a_reset_request(
        self, client_at, throttled, alice
    ):
        client = client_at("198.51.100.1")
        for _ in range(4):
            self.log_in(client, alice.email, "wrong")
        self.assert_throttled(self.log_in(client, alice.email, PASSWORD))
        response = client.post("/api/password-resets", json={"email": alice.email})
        assert response.status_code == 202
        with throttled.uow(read_only=True) as uow:
            kinds = uow.session.scalars(select(OutboxMessage.kind)).all()
        assert kinds == ["password_reset"]


class TestHashingPoolUnderLoad:
    def test_s16_other_requests_are_served_while_the_hashing_pool_is_full(
        self, client, runtime, factories, alice
    ):
        release = threading.Event()
        blockers = [
            runtime.hashing.submit(release.wait, 30) for _ in range(runtime.hashing.workers)
        ]
        login: dict[str, int] = {}

        def sign_in() -> None:
            response = client.post(
                "/api/session", json={"email": alice.email, "password": PASSWORD}
            )
            login["status"] = response.status_code

        signer = threading.Thread(target=sign_in)
        try:
            signer.start()
            headers = factories.auth(alice)
            started = time.monotonic()
            me = client.get("/api/session", headers=headers)
            assert me.status_code == 200
            assert time.monotonic() - started < 2
            # The sign-in waits for the pool, not for the server.
            assert signer.is_alive()
            assert "status" not in login
        finally:
            release.set()
            signer.join(timeout=30)
        assert all(blocker.result(timeout=5) for blocker in blockers)
        assert login["status"] == 200


def session_cookie(response) -> str:
    match = re.search(r"keyholder_session=([^;]*)", response.headers["set-cookie"])
    assert match, response.headers.get("set-cookie")
    return match.group(1)


def with_cookie(token: str) -> dict[str, str]:
    # TestClient does not send Secure cookies over http: pass them on by hand.
    return {"Cookie": f"keyholder_session={token}"}


def sign_in(client, user, **kwargs) -> str:
    response = client.post(
        "/api/session", json={"email": user.email, "password": PASSWORD}, **kwargs
    )
    assert response.status_code == 200, response.text
    return session_cookie(response)


class TestSessionRotation:
    def test_s15_signing_in_again_changes_the_id_and_the_old_one_gets_401(self, client, alice):
        old = sign_in(client, alice)
        new = sign_in(client, alice, headers=with_cookie(old))
        assert new != old
        assert client.get("/api/session", headers=with_cookie(old)).status_code == 401
        assert client.get("/api/session", headers=with_cookie(new)).status_code == 200

    def test_s15_a_staff_role_change_sends_the_old_session_to_401(self, client, runtime, alice):
        old = sign_in(client, alice)
        identity.set_staff_role(runtime.uow(), alice.email, StaffRole.AGENT, actor=OPERATOR)
        assert client.get("/api/session", headers=with_cookie(old)).status_code == 401
        me = client.get("/api/session", headers=with_cookie(sign_in(client, alice)))
        assert me.json()["staff_role"] == "agent"

    def test_s15_gaining_manage_sends_the_old_session_to_401(self, client, factories, alice):
        account = factories.account("acme-corp")
        admin = factories.admin_of(account, "admin@acme.example")
        factories.member(account, alice, "view")
        old = sign_in(client, alice)
        response = client.patch(
            f"/api/enterprise-accounts/acme-corp/members/{alice.email}",
            json={"permissions": ["view", "manage"]},
            headers=factories.auth(admin),
        )
        assert response.status_code == 200, response.text
        assert client.get("/api/session", headers=with_cookie(old)).status_code == 401
        assert client.get("/api/session", headers=with_cookie(sign_in(client, alice))).is_success


class TestLogOutEverywhere:
    def test_s14_ends_every_session_and_api_token_of_the_caller(self, client, factories, alice):
        here, elsewhere = sign_in(client, alice), sign_in(client, alice)
        token = factories.token(alice)
        response = client.delete("/api/sessions", headers=with_cookie(here))
        assert response.status_code == 200
        assert response.json() == {"credentials_revoked": 3}
        assert session_cookie(response) in {"", '""'}  # the cookie is cleared
        for cookie in (here, elsewhere):
            assert client.get("/api/session", headers=with_cookie(cookie)).status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/session", headers=bearer).status_code == 401

    def test_s14_keep_current_spares_the_session_asking(self, client, factories, alice):
        here, elsewhere = sign_in(client, alice), sign_in(client, alice)
        token = factories.token(alice)
        response = client.delete("/api/sessions?keep_current=true", headers=with_cookie(here))
        assert response.json() == {"credentials_revoked": 2}
        assert "set-cookie" not in response.headers
        assert client.get("/api/session", headers=with_cookie(here)).status_code == 200
        assert client.get("/api/session", headers=with_cookie(elsewhere)).status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/session", headers=bearer).status_code == 401

    def test_s14_works_with_an_api_token_too(self, client, factories, alice):
        session = sign_in(client, alice)
        bearer = factories.auth(alice)
        response = client.delete("/api/sessions", headers=bearer)
        assert response.json() == {"credentials_revoked": 2}
        assert client.get("/api/session", headers=bearer).status_code == 401
        assert client.get("/api/session", headers=with_cookie(session)).status_code == 401

    def test_anonymous_callers_get_401(self, client):
        assert client.delete("/api/sessions").status_code == 401


class TestCookieAttributes:
    @pytest.fixture
    def client_in(self, settings, clock, engine):
        @contextlib.contextmanager
        def client_in(env: Environment) -> Iterator[TestClient]:
            changes: dict[str, object] = {"env": env}
            if env is Environment.PRODUCTION:  # which refuses the suite's cheap argon2
                changes |= {"argon2_time_cost": 5, "argon2_memory_cost": 7168}
            with (
                runtime_with(settings, clock, engine, **changes) as runtime,
                TestClient(create_app(runtime=runtime, run_relay=False)) as client,
            ):
                yield client

        return client_in

    @pytest.mark.parametrize("env", list(Environment))
    def test_s19_httponly_samesite_lax_and_secure_outside_development(self, client_in, alice, env):
        with client_in(env) as client:
            response = client.post(
                "/api/session", json={"email": alice.email, "password": PASSWORD}
            )
        assert response.status_code == 200
        name_value, *attributes = response.headers["set-cookie"].split(";")
        assert name_value.startswith("keyholder_session=")
        flags = dict(a.strip().lower().partition("=")[::2] for a in attributes)
        assert "httponly" in flags
        assert flags["samesite"] == "lax"
        assert ("secure" in flags) is (env is not Environment.DEVELOPMENT)
        assert flags["path"] == "/"


class TestPasswordPolicyOverHttp:
    def test_s13_a_common_password_is_refused_saying_why(self, client, factories):
        factories.account("acme-corp")
        members.add_member(
            factories.runtime.uow(), "acme-corp", "new@acme.example", ["view"], actor=OPERATOR
        )
        token = factories.last_invitation_token()
        response = client.post(f"/api/invitations/{token}/accept", json={"password": "Password1"})
        assert response.status_code == 422
        assert "most commonly used passwords" in response.json()["detail"]
        ok = client.post(f"/api/invitations/{token}/accept", json={"password": PASSWORD})
        assert ok.status_code == 200


class TestSignInCannotBeStarved:
    """S40 over HTTP: a full queue is a 503 with Retry-After; limits come before the queue."""

    @pytest.fixture
    def one_slot(self, make_runtime):
        """One worker, one place in the queue; a client may try twice."""
        return make_runtime(
            hashing_workers=1, hashing_queue_limit=1, login_limit_per_client="2 per 5 minutes"
        )

    @pytest.fixture
    def client_at(self, one_slot):
        return clients_of(one_slot)

    def test_s40_a_full_queue_answers_503_problem_with_retry_after(
        self, one_slot, client_at, alice
    ):
        pool = one_slot.hashing
        with busy_workers(pool) as blockers:
            pool.submit(time.sleep, 0)  # the one place in the queue
            response = client_at("198.51.100.1").post(
                "/api/session", json={"email": alice.email, "password": PASSWORD}
            )
            assert not any(blocker.done() for blocker in blockers)  # refused, not waited
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "10"  # the default deadline
        assert response.json()["status"] == 503
        assert "set-cookie" not in response.headers

    def test_s40_a_throttled_client_never_reaches_the_pool(self, one_slot, client_at, alice):
        client = client_at("203.0.113.5")
        for _ in range(2):
            assert TestLoginThrottling.log_in(client, alice.email, "wrong").status_code == 401
        pool = one_slot.hashing
        with busy_workers(pool) as blockers:
            pool.submit(time.sleep, 0)  # the queue is full: a queued sign-in would be a 503
            response = TestLoginThrottling.log_in(client, alice.email, PASSWORD)
            assert not any(blocker.done() for blocker in blockers)  # answered without waiting
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) > 0

    def test_s16_s40_a_fresh_client_signs_in_after_anothers_failures(self, make_runtime, alice):
        shipped = {
            name: field.default
            for name, field in Settings.model_fields.items()
            if name.startswith("login_limit_")
        }
        client_at = clients_of(make_runtime(**shipped))
        attacker = client_at("203.0.113.66")
        statuses = [
            TestLoginThrottling.log_in(attacker, alice.email, f"guess {n}").status_code
            for n in range(15)
        ]
        assert statuses[0] == 401
        assert statuses[-1] == 429
        fresh = client_at("198.51.100.7")
        assert TestLoginThrottling.log_in(fresh, alice.email, PASSWORD).status_code == 200
        assert TestLoginThrottling.log_in(attacker, alice.email, PASSWORD).status_code == 429
