"""The seed's second recovery path, end to end (issue 5's story).

acme-corp has no reachable admin. Someone from its IT asks for admin access
with a letter signed by the CEO; the CEO confirms by the emailed link; the
customer proves DNS control; two reviewers approve; the cooling-off passes
(fixed clock); the worker grants; the requester and the CEO each receive the
outcome, threaded with the ticket, over real SMTP; the new admin accepts the
invitation, enrols MFA and adds a member. Real SMTP and DNS servers on loopback.
"""

from __future__ import annotations

import re

import pyotp
import pytest
from fastapi.testclient import TestClient

from keyholder.bootstrap import bootstrap
from keyholder.mail.transports import SMTPTransport
from keyholder.web.app import create_app
from keyholder.worker import run_jobs_once
from tests.access.dns_server import LoopbackDNSServer
from tests.access.flow import EXECUTIVE, NEW_ADMIN, REQUESTER, Story, letter_png
from tests.web.api.test_access_requests import form_fields

URL = "/api/access-requests"
NEW_PASSWORD = "the new admin's own passphrase"


@pytest.fixture
def dns_server():
    with LoopbackDNSServer() as server:
        yield server


@pytest.fixture
def story_runtime(runtime, settings, clock, engine, smtp_server, dns_server):
    changed = settings.model_copy(
        update={"dns_nameservers": (dns_server.address,), "dns_port": dns_server.port}
    )
    story_runtime = bootstrap(
        changed,
        clock=clock,
        engine=engine,
        mail_transport=SMTPTransport(smtp_server.url, timeout=5),
    )
    yield story_runtime
    story_runtime.hashing.close()


def link(body: str, kind: str) -> str:
    """The API route behind an emailed link (the page at the link itself is the web UI's)."""
    match = re.search(
        rf"https://keyholder\.test(/access-requests/[0-9a-f-]{{36}}/{kind}/\S+)", body
    )
    assert match, body
    return "/api" + match.group(1)


def test_a_reviewed_request_gives_a_new_admin_the_keys(
    story_runtime, factories, smtp_server, dns_server, clock
):
    story = Story.begin(story_runtime, factories)
    factories.admin_of(story.account, "left.the.company@acme.example")  # dormant admin
    relay = story_runtime.relay()
    assert relay is not None
    reviewers = [factories.auth(r) for r in story.reviewers]

    with TestClient(create_app(runtime=story_runtime, run_relay=False, run_jobs=False)) as client:
        # 1. The requester, not signed in, sends the six items and the signed letter.
        letter = letter_png()
        submitted = client.post(
            URL,
            data=form_fields(),
            files={"letter": (letter.filename, letter.data, "image/png")},
        )
        assert submitted.status_code == 202
        relay.run_until_idle()
        (confirm,) = smtp_server.messages_to(REQUESTER)
        assert client.post(link(confirm.body, "confirm-email")).status_code == 200

        # 2. The CEO on record confirms by link; the dormant admin is asked to act.
        relay.run_until_idle()
        (ask,) = smtp_server.messages_to(EXECUTIVE)
        answered = client.post(link(ask.body, "executive-confirmation"), json={"answer": "confirm"})
        assert answered.status_code == 200
        assert smtp_server.messages_to("left.the.company@acme.example")

        # 3. The customer publishes the DNS proof; a reviewer checks it.
        request_id = re.search(r"/access-requests/([0-9a-f-]{36})/", confirm.body).group(1)
        shown = client.get(f"{URL}/{request_id}", headers=reviewers[0]).json()
        token = re.search(r'"keyholder-verification=([^"]+)"', shown["dns_record"]).group(1)
        dns_server.txt["_keyholder-challenge.acme.example"] = [f"keyholder-verification={token}"]
        checked = client.post(f"{URL}/{request_id}/dns-proof/check", headers=reviewers[0]).json()
        summary = {item["check"]: item["status"] for item in checked["risk_summary"]}
        assert summary["dns_proof"] == "pass"
        assert summary["executive_confirmation"] == "pass"
        assert summary["contract_number"] == "pass"

        # 4. Two reviewers approve; the cooling-off starts and everyone on record is told.
        for headers in reviewers:
            decided = client.post(
                f"{URL}/{request_id}/decisions", json={"decision": "approve"}, headers=headers
            )
            assert decided.status_code == 200, decided.text
        assert decided.json()["state"] == "cooling_off"
        relay.run_until_idle()
        assert smtp_server.messages_to("security@acme.example")

        # 5. Nothing before the cooling-off ends; then the worker grants.
        assert run_jobs_once(story_runtime).executed == 0
        clock.advance(story_runtime.settings.cooling_off)
        assert run_jobs_once(story_runtime).executed == 1
        relay.run_until_idle()

        # 6. Requester and CEO get the outcome, threaded with the ticket's mail.
        ticket_ids = {m.message_id for m in smtp_server.messages}
        for person in (REQUESTER, EXECUTIVE):
            outcome = smtp_server.messages_to(person)[-1]
            assert "Admin access granted" in outcome.subject
            assert outcome.message["In-Reply-To"] in ticket_ids
            assert f"[#{checked['ticket']}]" in outcome.subject

        # 7. The new admin accepts the invitation, enrols MFA and adds a member.
        (invitation,) = smtp_server.messages_to(NEW_ADMIN)
        token = re.search(r"/invitations/(khi_[A-Za-z0-9_-]+)", invitation.body).group(1)
        accepted = client.post(f"/api/invitations/{token}/accept", json={"password": NEW_PASSWORD})
        assert accepted.status_code == 200, accepted.text
        login = client.post("/api/session", json={"email": NEW_ADMIN, "password": NEW_PASSWORD})
        session = {
            "Cookie": re.search(r"(keyholder_session=[^;]+)", login.headers["set-cookie"]).group(1)
        }
        factories.user("colleague@acme.example")
        add = {"user": {"email": "colleague@acme.example"}, "permissions": ["view"]}
        members = "/api/enterprise-accounts/acme-corp/members"
        refused = client.post(members, json=add, headers=session)
        assert refused.status_code == 403  # S18: MFA first
        enrolment = client.post(
            "/api/mfa/enrolment", json={"password": NEW_PASSWORD}, headers=session
        )
        code = pyotp.TOTP(enrolment.json()["secret"]).at(clock.now())
        enrolled = client.post("/api/mfa/enrolment/confirm", json={"code": code}, headers=session)
        assert enrolled.status_code == 200
        added = client.post(members, json=add, headers=session)
        assert added.status_code == 201, added.text
        assert added.json()["permissions"] == [{"name": "view"}]
