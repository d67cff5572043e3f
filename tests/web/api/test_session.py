"""/api/session and /api/invitations/{token}/accept."""

from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD


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
