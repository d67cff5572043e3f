"""Break-glass recovery by code, end to end (issue 18 item 4).

acme-corp has one admin. While she can, she generates the account's recovery
codes; everyone on record is told. She leaves (never signs in again). A
member of the account, signed in with a verified address on acme.example,
redeems a code: no letter, no support staff. Every admin and contact on record
gets a veto link; the cooling-off passes (fixed clock); the worker grants; the
claimant, the contacts and the departed admin are each told, over real SMTP.
The same with a vetoed claim ends in no grant; a reused or wrong code is
refused in the same words, and throttled.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from keyholder.access.models import AccessRequest
from keyholder.accounts import members
from keyholder.accounts.models import ContactKind, Membership
from keyholder.accounts.service import ContactInput, create_account
from keyholder.bootstrap import bootstrap
from keyholder.identity.models import User
from keyholder.mail.transports import SMTPTransport
from keyholder.web.app import create_app
from keyholder.worker import run_jobs_once
from tests.factories import OPERATOR, PASSWORD

ADMIN = "alice.admin@acme.example"
MEMBER = "bob.member@acme.example"
EXECUTIVE = "dana.whitfield@acme.example"
SECURITY = "security@acme.example"
BILLING = "billing@acme.example"
ON_RECORD = (ADMIN, EXECUTIVE, SECURITY, BILLING)
ACCOUNT = "/api/enterprise-accounts/acme-corp"


@pytest.fixture
def story_runtime(runtime, settings, clock, engine, smtp_server):
    changed = settings.model_copy(update={"recovery_claim_limit_per_user": "4 per 1 hour"})
    story_runtime = bootstrap(
        changed,
        clock=clock,
        engine=engine,
        mail_transport=SMTPTransport(smtp_server.url, timeout=5),
    )
    yield story_runtime
    story_runtime.hashing.close()


def sign_in(client: TestClient, email: str) -> dict[str, str]:
    login = client.post("/api/session", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Cookie": re.search(r"(keyholder_session=[^;]+)", login.headers["set-cookie"]).group(1)}


def veto_path(body: str) -> str:
    match = re.search(r"https://keyholder\.test(/access-requests/[0-9a-f-]{36}/veto/\S+)", body)
    assert match, body
    return "/api" + match.group(1)


def acme_with_one_admin(runtime, factories):
    create_account(
        runtime.uow(),
        name="acme-corp",
        display_name="Acme Corporation",
        contract_number="ENT-2024-001234",
        domains=["acme.example"],
        contacts=[
            ContactInput(ContactKind.EXECUTIVE, "Dana Whitfield", "CEO", EXECUTIVE),
            ContactInput(ContactKind.SECURITY, "Omar Haddad", "CISO", SECURITY),
            ContactInput(ContactKind.BILLING, "Priya Nair", "Controller", BILLING),
        ],
        actor=OPERATOR,
    )
    admin = factories.user(ADMIN, password=PASSWORD)
    member = factories.user(MEMBER, password=PASSWORD)
    members.add_member(runtime.uow(), "acme-corp", ADMIN, ["view", "manage"], actor=OPERATOR)
    members.add_member(runtime.uow(), "acme-corp", MEMBER, ["view"], actor=OPERATOR)
    return admin, member


def is_admin(runtime, email: str) -> bool:
    with runtime.uow(read_only=True) as uow:
        membership = uow.session.scalar(
            select(Membership).join(User, Membership.user_id == User.id).where(User.email == email)
        )
        return membership is not None and "manage" in membership.permissions


def codes_generated_then_admin_leaves(client, story_runtime, smtp_server, relay, clock):
    admin_session = sign_in(client, ADMIN)
    generated = client.post(f"{ACCOUNT}/recovery-codes", headers=admin_session)
    assert generated.status_code == 201, generated.text
    codes = generated.json()["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    relay.run_until_idle()
    for person in ON_RECORD:  # every generation is told to everyone on record
        (told,) = smtp_server.messages_to(person)
        assert "New recovery codes" in told.subject
        assert codes[0] not in told.body  # never the codes themselves
    # The admin leaves: she never signs in again, and after the active window
    # no admin can act (S21's rule).
    clock.advance(story_runtime.settings.access_admin_active_window + timedelta(days=1))
    return codes


def test_a_member_redeems_a_code_and_becomes_admin_after_the_cooling_off(
    story_runtime, factories, smtp_server, clock
):
    acme_with_one_admin(story_runtime, factories)
    relay = story_runtime.relay()
    with TestClient(create_app(runtime=story_runtime, run_relay=False, run_jobs=False)) as client:
        codes = codes_generated_then_admin_leaves(client, story_runtime, smtp_server, relay, clock)

        # 1. The member, signed in with a verified acme.example address, redeems a code.
        member_session = sign_in(client, MEMBER)
        claimed = client.post(
            f"{ACCOUNT}/recovery-claims",
            json={"code": codes[3].upper(), "reason": "Alice left; nobody can add people."},
            headers=member_session,
        )
        assert claimed.status_code == 202, claimed.text
        claim = claimed.json()
        assert claim["state"] == "cooling_off"

        # 2. Everyone on record gets a veto link; the claimant hears when it happens.
        relay.run_until_idle()
        for person in ON_RECORD:
            notice = smtp_server.messages_to(person)[-1]
            assert MEMBER in notice.subject
            assert "/veto/" in notice.body
        (accepted,) = smtp_server.messages_to(MEMBER)
        assert "accepted" in accepted.subject
        assert "the executive on record" in accepted.body

        # 3. The same code again (by anyone) is refused; it was spent.
        again = client.post(
            f"{ACCOUNT}/recovery-claims", json={"code": codes[3]}, headers=member_session
        )
        assert again.status_code == 409  # a claim is already under way

        # 4. Nothing before the cooling-off ends; then the worker grants.
        assert run_jobs_once(story_runtime).executed == 0
        assert not is_admin(story_runtime, MEMBER)
        clock.advance(story_runtime.settings.recovery_claim_cooling_off)
        assert run_jobs_once(story_runtime).executed == 1
        assert is_admin(story_runtime, MEMBER)
        relay.run_until_idle()

        # 5. Everyone is told: the claimant, the contacts and the admin who left.
        ticket_message_ids = {m.message_id for m in smtp_server.messages}
        for person in (MEMBER, *ON_RECORD):
            outcome = smtp_server.messages_to(person)[-1]
            assert "Admin access granted" in outcome.subject
            assert f"[#{claim['ticket']}]" in outcome.subject
            assert outcome.message["In-Reply-To"] in ticket_message_ids
    with story_runtime.uow(read_only=True) as uow:
        request = uow.session.scalars(select(AccessRequest)).one()
        assert request.state == "executed"
        assert request.via == "recovery_code"


def test_a_vetoed_claim_ends_without_a_grant(story_runtime, factories, smtp_server, clock):
    acme_with_one_admin(story_runtime, factories)
    relay = story_runtime.relay()
    with TestClient(create_app(runtime=story_runtime, run_relay=False, run_jobs=False)) as client:
        codes = codes_generated_then_admin_leaves(client, story_runtime, smtp_server, relay, clock)
        member_session = sign_in(client, MEMBER)
        claimed = client.post(
            f"{ACCOUNT}/recovery-claims", json={"code": codes[0]}, headers=member_session
        )
        assert claimed.status_code == 202, claimed.text
        relay.run_until_idle()

        # The security contact does not know of this claim, and stops it.
        notice = smtp_server.messages_to(SECURITY)[-1]
        assert client.post(veto_path(notice.body)).status_code == 200
        relay.run_until_idle()
        closed = smtp_server.messages_to(MEMBER)[-1]
        assert "closed" in closed.subject.lower() or "closed" in closed.body.lower()

        clock.advance(story_runtime.settings.recovery_claim_cooling_off)
        assert run_jobs_once(story_runtime).executed == 0
        assert not is_admin(story_runtime, MEMBER)

        # Paused after the veto (S25): another code changes nothing.
        paused = client.post(
            f"{ACCOUNT}/recovery-claims", json={"code": codes[1]}, headers=member_session
        )
        assert paused.status_code == 409
        assert "paused" in paused.json()["detail"]
    with story_runtime.uow(read_only=True) as uow:
        assert uow.session.scalars(select(AccessRequest.state)).one() == "cancelled"


def test_a_reused_or_wrong_code_is_refused_alike_and_throttled(
    story_runtime, factories, smtp_server, clock
):
    acme_with_one_admin(story_runtime, factories)
    relay = story_runtime.relay()
    with TestClient(create_app(runtime=story_runtime, run_relay=False, run_jobs=False)) as client:
        codes = codes_generated_then_admin_leaves(client, story_runtime, smtp_server, relay, clock)
        member_session = sign_in(client, MEMBER)
        # A code spent on a claim that was then vetoed stays spent.
        claim = client.post(
            f"{ACCOUNT}/recovery-claims", json={"code": codes[0]}, headers=member_session
        )
        assert claim.status_code == 202
        with story_runtime.uow() as uow:  # closed by staff, say: no freeze on the account
            request = uow.session.scalars(select(AccessRequest)).one()
            request.state = "rejected"
            uow.commit()

        reused = client.post(
            f"{ACCOUNT}/recovery-claims", json={"code": codes[0]}, headers=member_session
        )
        wrong = client.post(
            f"{ACCOUNT}/recovery-claims",
            json={"code": "0000-0000-0000-0000-0000-0000"},
            headers=member_session,
        )
        assert reused.status_code == wrong.status_code == 422
        assert reused.json()["detail"] == wrong.json()["detail"]  # reused or wrong: not said

        # Four attempts an hour for one claimant (this test's setting), then 429,
        # even with a good code: guessing cannot go on at speed.
        one_more = client.post(
            f"{ACCOUNT}/recovery-claims",
            json={"code": "abcd-" * 5 + "abcd"},
            headers=member_session,
        )
        assert one_more.status_code == 422
        throttled = client.post(
            f"{ACCOUNT}/recovery-claims", json={"code": codes[5]}, headers=member_session
        )
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) >= 1
        assert not is_admin(story_runtime, MEMBER)
