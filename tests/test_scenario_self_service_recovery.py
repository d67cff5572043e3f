"""The seed's first recovery path, end to end (issue 3's scenario).

The customer's IT recovers the old admin's mailbox; the admin asks for a reset,
the email arrives at a real SMTP server, the link sets a new password, every
old session and token is dead, the admin signs in again, enrols MFA and adds a
new admin.
"""

from __future__ import annotations

import re

import pyotp
from fastapi.testclient import TestClient

from keyholder.web.app import create_app
from tests.factories import PASSWORD, Factories

NEW_PASSWORD = "a brand new passphrase for alice"


def session_cookie(response) -> dict[str, str]:
    # TestClient speaks http and would not send a Secure cookie back by itself.
    token = re.search(r"keyholder_session=([^;]+)", response.headers["set-cookie"]).group(1)
    return {"Cookie": f"keyholder_session={token}"}


def test_admin_recovers_access_by_resetting_and_adds_a_new_admin(mail_runtime, smtp_server, clock):
    factories = Factories(mail_runtime)
    relay = mail_runtime.relay()
    assert relay is not None
    account = factories.account("acme-corp", domains=["acme.example"])
    alice = factories.user("alice@acme.example", password=PASSWORD)
    factories.member(account, alice, "view,manage")
    factories.user("bob@acme.example")
    old_token = factories.auth(alice)

    with TestClient(create_app(runtime=mail_runtime, run_relay=False)) as client:
        old_session = session_cookie(
            client.post("/api/session", json={"email": alice.email, "password": PASSWORD})
        )

        # 1. The mailbox is back: ask for a reset; the email arrives over SMTP.
        assert client.post("/api/password-resets", json={"email": alice.email}).status_code == 202
        assert relay.run_until_idle().sent == 1
        [email] = smtp_server.messages_to(alice.email)
        link = re.search(r"https://keyholder\.test/reset/(khr_[A-Za-z0-9_-]+)", email.body)
        assert link, email.body

        # 2. The link sets the new password, once, and signs nobody in.
        reset = client.post(
            f"/api/password-resets/{link.group(1)}", json={"password": NEW_PASSWORD}
        )
        assert reset.status_code == 204
        assert "set-cookie" not in reset.headers

        # 3. Every old session and token is dead; the old password no longer works.
        assert client.get("/api/session", headers=old_session).status_code == 401
        assert client.get("/api/enterprise-accounts", headers=old_token).status_code == 401
        old = client.post("/api/session", json={"email": alice.email, "password": PASSWORD})
        assert old.status_code == 401
        relay.run_until_idle()
        assert len(smtp_server.messages_to(alice.email)) == 2  # the reset, then the notice

        # 4. Sign in with the new password and enrol MFA.
        login = client.post("/api/session", json={"email": alice.email, "password": NEW_PASSWORD})
        assert login.status_code == 200
        session = session_cookie(login)
        enrolment = client.post(
            "/api/mfa/enrolment", json={"password": NEW_PASSWORD}, headers=session
        )
        assert enrolment.status_code == 200
        code = pyotp.TOTP(enrolment.json()["secret"]).at(clock.now())
        confirmed = client.post("/api/mfa/enrolment/confirm", json={"code": code}, headers=session)
        assert confirmed.status_code == 200
        assert len(confirmed.json()["recovery_codes"]) == 10

        # 5. Back in charge: add a second admin.
        added = client.post(
            "/api/enterprise-accounts/acme-corp/members",
            json={"user": {"email": "bob@acme.example"}, "permissions": ["manage"]},
            headers=session,
        )
        assert added.status_code == 201, added.text
        assert {"name": "manage"} in added.json()["permissions"]
