"""S18: staff (agents, reviewers, admins) must have MFA to act; S29: and get 403, not 404.

A staff member without MFA keeps their role but uses no staff power: every
check of ``Actor.is_staff`` / ``is_staff_admin`` refuses with 403 instead of
treating them as a customer. Signing in, enrolling and signing out still work,
and the CLI operator (no user) is exempt.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pyotp
import pytest

from keyholder.accounts import invitations, members
from keyholder.accounts import service as accounts
from keyholder.cli.common import operator
from keyholder.errors import PermissionDenied
from keyholder.identity import mfa
from keyholder.identity import service as identity
from keyholder.identity.actor import STAFF_NEED_MFA, Actor
from keyholder.identity.models import StaffRole
from tests.factories import OPERATOR, PASSWORD

ACCOUNTS = "/api/enterprise-accounts"
NEW_ACCOUNT = {"name": "globex", "contract_number": "ENT-2024-009999"}


@pytest.fixture
def acme(factories):
    account = factories.account("acme-corp")
    factories.admin_of(account, "dana@acme.example")
    return account


def without_mfa(factories, role: StaffRole):
    return factories.user(
        f"{role}@keyholder.example", password=PASSWORD, staff_role=role, mfa=False
    )


def enrol(runtime, user) -> None:
    """Enable MFA through the real use cases, with a code at the test clock."""
    actor = Actor.for_user(user)
    secret = mfa.begin_mfa_enrolment(
        runtime.uow(),
        actor=actor,
        password=PASSWORD,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    ).secret
    code = pyotp.TOTP(secret).at(runtime.clock.now())
    mfa.confirm_mfa_enrolment(runtime.uow(), code, actor=actor, limiter=runtime.rate_limiter)


def assert_needs_mfa(response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == STAFF_NEED_MFA


class TestActor:
    @pytest.mark.parametrize("role", list(StaffRole))
    def test_s18_staff_without_mfa_raise_instead_of_answering(self, role):
        actor = Actor(label="x", user_id=uuid.uuid4(), staff_role=role, mfa_enabled=False)
        with pytest.raises(PermissionDenied, match=STAFF_NEED_MFA):
            _ = actor.is_staff
        with pytest.raises(PermissionDenied, match=STAFF_NEED_MFA):
            _ = actor.is_staff_admin

    def test_s18_staff_with_mfa_and_customers_answer(self):
        admin = Actor(label="x", user_id=uuid.uuid4(), staff_role=StaffRole.ADMIN, mfa_enabled=True)
        agent = Actor(label="x", user_id=uuid.uuid4(), staff_role=StaffRole.AGENT, mfa_enabled=True)
        customer = Actor(label="x", user_id=uuid.uuid4())
        assert (admin.is_staff, admin.is_staff_admin) == (True, True)
        assert (agent.is_staff, agent.is_staff_admin) == (True, False)
        assert (customer.is_staff, customer.is_staff_admin) == (False, False)

    def test_s18_the_cli_operator_is_exempt(self):
        actor = operator()
        assert actor.user_id is None
        assert not actor.mfa_enabled
        assert actor.is_staff
        assert actor.is_staff_admin

    def test_s18_actors_carry_mfa_from_the_user_and_its_credentials(self, runtime, factories):
        plain = without_mfa(factories, StaffRole.AGENT)
        assert not Actor.for_user(plain).mfa_enabled
        assert not identity.authenticate_api_token(
            runtime.uow(), factories.token(plain)
        ).mfa_enabled
        enrolled = factories.user(staff_role=StaffRole.AGENT)
        assert Actor.for_user(enrolled).mfa_enabled
        assert identity.authenticate_api_token(runtime.uow(), factories.token(enrolled)).mfa_enabled


class TestReading:
    @pytest.mark.parametrize("role", list(StaffRole))
    def test_s18_s29_staff_without_mfa_reading_another_account_get_403(
        self, client, factories, acme, role
    ):
        headers = factories.auth(without_mfa(factories, role))
        for path in (
            ACCOUNTS,
            f"{ACCOUNTS}/acme-corp",
            f"{ACCOUNTS}/acme-corp/members",
            f"{ACCOUNTS}/acme-corp/members/dana@acme.example",
            f"{ACCOUNTS}/no-such-account",  # 403 too: no customer's 404
            f"{ACCOUNTS}/no-such-account/members/dana@acme.example",
        ):
            assert_needs_mfa(client.get(path, headers=headers))

    @pytest.mark.parametrize("role", list(StaffRole))
    def test_s18_staff_with_mfa_read_any_account(self, client, factories, acme, role):
        headers = factories.auth(factories.user(staff_role=role))
        assert client.get(f"{ACCOUNTS}/acme-corp", headers=headers).status_code == 200
        member = client.get(f"{ACCOUNTS}/acme-corp/members/dana@acme.example", headers=headers)
        assert member.status_code == 200
        assert [a["name"] for a in client.get(ACCOUNTS, headers=headers).json()] == ["acme-corp"]

    @pytest.mark.parametrize("role", list(StaffRole))
    def test_s18_after_enrolling_the_same_token_reads(self, client, runtime, factories, acme, role):
        staff = without_mfa(factories, role)
        headers = factories.auth(staff)
        assert_needs_mfa(client.get(f"{ACCOUNTS}/acme-corp", headers=headers))
        enrol(runtime, staff)
        assert client.get(f"{ACCOUNTS}/acme-corp", headers=headers).status_code == 200

    def test_s18_staff_who_are_also_members_get_403_not_customer_access(
        self, client, factories, acme
    ):
        agent = without_mfa(factories, StaffRole.AGENT)
        factories.member(acme, agent, "view")
        assert_needs_mfa(client.get(f"{ACCOUNTS}/acme-corp", headers=factories.auth(agent)))

    def test_customers_are_unaffected(self, client, factories, acme):
        customer = factories.user()
        headers = factories.auth(customer)
        assert client.get(f"{ACCOUNTS}/acme-corp", headers=headers).status_code == 404
        factories.member(acme, customer, "view")
        assert client.get(f"{ACCOUNTS}/acme-corp", headers=headers).status_code == 200


class TestStaffAdmin:
    def test_s18_admin_without_mfa_cannot_create_accounts_or_users_or_change_members(
        self, client, runtime, factories, acme
    ):
        admin = without_mfa(factories, StaffRole.ADMIN)
        actor, headers = Actor.for_user(admin), factories.auth(admin)
        dana = f"{ACCOUNTS}/acme-corp/members/dana@acme.example"

        assert_needs_mfa(client.post(ACCOUNTS, json=NEW_ACCOUNT, headers=headers))
        with pytest.raises(PermissionDenied, match=STAFF_NEED_MFA):
            identity.create_user(
                runtime.uow(), "new@acme.example", actor=actor, hasher=runtime.password_hasher
            )
        with pytest.raises(PermissionDenied, match=STAFF_NEED_MFA):
            identity.set_staff_role(runtime.uow(), admin.email, StaffRole.ADMIN, actor=actor)
        assert_needs_mfa(
            client.post(
                f"{ACCOUNTS}/acme-corp/members",
                json={"user": {"email": "eve@acme.example"}, "permissions": ["view"]},
                headers=headers,
            )
        )
        assert_needs_mfa(client.patch(dana, json={"permissions": ["view"]}, headers=headers))
        assert_needs_mfa(client.delete(dana, headers=headers))
        assert_needs_mfa(client.get(f"{ACCOUNTS}/acme-corp/invitations", headers=headers))
        # Nothing changed.
        names = [a.name for a in accounts.list_accounts(runtime.uow(), actor=OPERATOR)]
        assert names == ["acme-corp"]
        with runtime.uow(read_only=True) as uow:
            assert identity.find_user(uow, "new@acme.example") is None
        assert [
            m.user.email for m in members.list_members(runtime.uow(), "acme-corp", actor=OPERATOR)
        ] == ["dana@acme.example"]

    def test_s18_after_enrolling_the_admin_can(self, client, runtime, factories, acme):
        admin = without_mfa(factories, StaffRole.ADMIN)
        headers = factories.auth(admin)
        enrol(runtime, admin)
        actor = identity.authenticate_api_token(runtime.uow(), headers["Authorization"][7:])
        assert actor is not None

        assert client.post(ACCOUNTS, json=NEW_ACCOUNT, headers=headers).status_code == 201
        eve = identity.create_user(
            runtime.uow(), "eve@acme.example", actor=actor, hasher=runtime.password_hasher
        )
        added = client.post(
            f"{ACCOUNTS}/acme-corp/members",
            json={"user": {"email": eve.email}, "permissions": ["view"]},
            headers=headers,
        )
        assert added.status_code == 201, added.text
        eve_path = f"{ACCOUNTS}/acme-corp/members/eve@acme.example"
        patched = client.patch(eve_path, json={"permissions": ["view", "billing"]}, headers=headers)
        assert patched.status_code == 200, patched.text
        assert client.delete(eve_path, headers=headers).status_code == 204

    def test_s18_the_cli_operator_is_unaffected(self, runtime):
        account = accounts.create_account(
            runtime.uow(), name="initech", contract_number="ENT-2024-000777", actor=OPERATOR
        )
        assert account.name == "initech"
        identity.create_user(
            runtime.uow(), "root@keyholder.example", actor=OPERATOR, hasher=runtime.password_hasher
        )
        members.add_member(
            runtime.uow(), "initech", "root@keyholder.example", ["view"], actor=OPERATOR
        )

    def test_s18_a_staff_admin_may_still_create_their_own_api_token(self, runtime, factories):
        admin = without_mfa(factories, StaffRole.ADMIN)
        issued = identity.create_api_token(runtime.uow(), admin.email, actor=Actor.for_user(admin))
        assert issued.token
        customer = factories.user()
        with pytest.raises(PermissionDenied, match=STAFF_NEED_MFA):
            identity.create_api_token(runtime.uow(), customer.email, actor=Actor.for_user(admin))


def sign_in(client, email: str) -> dict[str, str]:
    response = client.post("/api/session", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = re.search(r"keyholder_session=([^;]+)", response.headers["set-cookie"]).group(1)
    return {"Cookie": f"keyholder_session={token}"}


@pytest.mark.parametrize("role", list(StaffRole))
def test_s18_staff_without_mfa_can_sign_in_enrol_act_and_sign_out(
    client, runtime, factories, acme, role
):
    staff = without_mfa(factories, role)
    headers = sign_in(client, staff.email)
    me = client.get("/api/session", headers=headers)
    assert me.status_code == 200
    assert me.json()["staff_role"] == role
    assert_needs_mfa(client.get(f"{ACCOUNTS}/acme-corp", headers=headers))

    begun = client.post("/api/mfa/enrolment", json={"password": PASSWORD}, headers=headers)
    assert begun.status_code == 200, begun.text
    code = pyotp.TOTP(begun.json()["secret"]).at(runtime.clock.now())
    confirmed = client.post("/api/mfa/enrolment/confirm", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text

    # The session that enrolled proved the factor: it now acts as staff.
    assert client.get(f"{ACCOUNTS}/acme-corp", headers=headers).status_code == 200
    assert client.delete("/api/session", headers=headers).status_code == 204
    assert client.get("/api/session", headers=headers).status_code == 401


def _account_routes(client) -> list[tuple[str, str]]:
    """Every route the app serves under /api/enterprise-accounts, from its OpenAPI document."""
    paths = client.get("/api/openapi.json").json()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith(ACCOUNTS)
        for method in operations
    )


BODIES = {
    ("POST", f"{ACCOUNTS}"): NEW_ACCOUNT,
    ("POST", f"{ACCOUNTS}/{{name}}/members"): {
        "user": {"email": "eve@acme.example"},
        "permissions": ["view"],
    },
    ("PATCH", f"{ACCOUNTS}/{{name}}/members/{{email}}"): {"permissions": ["view"]},
    ("POST", f"{ACCOUNTS}/{{name}}/recovery-claims"): {"code": "0000-0000"},
    # Recovery contacts (issue 18): their changes carry the password again (S17).
    ("POST", f"{ACCOUNTS}/{{name}}/contacts"): {
        "kind": "executive",
        "name": "Eve",
        "title": "CEO",
        "email": "eve@acme.example",
        "password": PASSWORD,
    },
    ("PATCH", f"{ACCOUNTS}/{{name}}/contacts/{{contact_id}}"): {
        "title": "CFO",
        "password": PASSWORD,
    },
    ("DELETE", f"{ACCOUNTS}/{{name}}/contacts/{{contact_id}}"): {"password": PASSWORD},
}


@pytest.mark.parametrize("role", list(StaffRole))
def test_s29_no_enterprise_account_route_answers_2xx_to_staff_without_mfa(
    client, runtime, factories, acme, role
):
    staff = without_mfa(factories, role)
    members.add_member(runtime.uow(), "acme-corp", "invitee@acme.example", ["view"], actor=OPERATOR)
    [invitation] = invitations.list_invitations(runtime.uow(), "acme-corp", actor=OPERATOR)
    credentials = {
        "token": factories.auth(staff),
        "session": sign_in(client, staff.email),
    }
    routes = _account_routes(client)
    assert len(routes) >= 10
    for kind, headers in credentials.items():
        for method, template in routes:
            for name in ("acme-corp", "no-such-account"):
                path = template.format(
                    name=name,
                    email="dana@acme.example",
                    invitation_id=invitation.id,
                    contact_id=uuid.uuid4(),
                )
                response = client.request(
                    method, path, json=BODIES.get((method, template)), headers=headers
                )
                assert response.status_code in (401, 403), (kind, method, path, response.text)


def test_s18_a_token_made_before_mfa_was_enabled_carries_no_staff_power(runtime, factories, clock):
    """A token minted with the password alone (perhaps a stolen one) stays customer-grade."""
    staff = factories.user("early@keyholder.example", staff_role=StaffRole.AGENT, mfa=False)
    early_token = factories.token(staff)
    clock.advance(timedelta(seconds=1))
    factories.enable_mfa(staff)
    late_token = factories.token(staff)
    early = identity.authenticate_api_token(runtime.uow(), early_token)
    late = identity.authenticate_api_token(runtime.uow(), late_token)
    assert early is not None
    assert late is not None
    assert late.is_staff
    with pytest.raises(PermissionDenied):
        _ = early.is_staff
