"""GET /api/audit/events and /api/enterprise-accounts/{name}/audit-events (issue 19)."""

from __future__ import annotations

import json

import pytest

from keyholder.audit.received import verify_received
from keyholder.audit.settings import chain_keyring
from keyholder.identity.actor import STAFF_NEED_MFA
from keyholder.identity.models import StaffRole
from tests.audit.conftest import record

EVENTS = "/api/audit/events"


def account_events(name: str) -> str:
    return f"/api/enterprise-accounts/{name}/audit-events"


@pytest.fixture
def admin_headers(factories):
    return factories.auth(factories.staff(role=StaffRole.ADMIN))


class TestPlatformStream:
    def test_anonymous_is_401(self, client):
        assert client.get(EVENTS).status_code == 401

    def test_customers_and_agents_are_403(self, client, factories):
        for user in (factories.user(), factories.staff()):
            response = client.get(EVENTS, headers=factories.auth(user))
            assert response.status_code == 403, response.text
            assert response.headers["content-type"] == "application/problem+json"

    def test_staff_admin_without_mfa_is_403(self, client, factories):
        unenrolled = factories.user(staff_role=StaffRole.ADMIN, mfa=False)
        response = client.get(EVENTS, headers=factories.auth(unenrolled))
        assert response.status_code == 403
        assert response.json()["detail"] == STAFF_NEED_MFA

    def test_pages_resume_without_gap_and_verify(self, client, runtime, admin_headers):
        record(runtime, 5)
        received, after, pages = [], 0, 0
        while True:
            response = client.get(
                EVENTS, params={"after": after, "limit": 3}, headers=admin_headers
            )
            assert response.status_code == 200, response.text
            body = response.json()
            if not body["events"]:
                assert body["next_after"] == after
                assert "Link" not in response.headers
                break
            pages += 1
            received += body["events"]
            if len(body["events"]) == 3:
                assert response.headers["Link"].endswith(f'after={body["next_after"]}>; rel="next"')
            after = body["next_after"]

        seqs = [e["seq"] for e in received]
        assert seqs == list(range(1, len(seqs) + 1))
        assert len(seqs) >= 5
        assert pages >= 2
        report = verify_received(
            ((str(e["seq"]), json.dumps(e)) for e in received),
            keyring=chain_keyring(runtime.settings),
        )
        assert report.intact, report.problem

    @pytest.mark.parametrize(
        "params", [{"limit": 0}, {"limit": 1001}, {"after": -1}, {"after": 2**31}, {"after": "x"}]
    )
    def test_bounds_are_422(self, client, admin_headers, params):
        response = client.get(EVENTS, params=params, headers=admin_headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"

    def test_documented(self, client):
        paths = client.get("/api/openapi.json").json()["paths"]
        assert "get" in paths[EVENTS]
        assert "not contiguous" in paths[account_events("{name}")]["get"]["description"]


class TestAccountHistory:
    def test_an_account_admin_sees_only_their_account(self, client, factories):
        acme, other = factories.account("acme"), factories.account("other")
        alice = factories.admin_of(acme)
        factories.admin_of(other)

        response = client.get(account_events("acme"), headers=factories.auth(alice))

        assert response.status_code == 200, response.text
        targets = [e["target"] for e in response.json()["events"]]
        assert targets
        assert all(t == "account:acme" or t.startswith("account:acme/") for t in targets)
        seqs = [e["seq"] for e in response.json()["events"]]
        assert seqs == sorted(seqs)

    def test_paging_skips_other_accounts(self, client, factories):
        acme = factories.account("acme")
        alice = factories.admin_of(acme)
        factories.account("other")
        factories.member(acme, factories.user(), "view")
        headers = factories.auth(alice)

        first = client.get(account_events("acme"), params={"limit": 2}, headers=headers).json()
        rest = client.get(
            account_events("acme"), params={"after": first["next_after"]}, headers=headers
        ).json()

        seqs = [e["seq"] for e in first["events"] + rest["events"]]
        assert len(seqs) == 3  # account.create, two member.add
        assert len(set(seqs)) == 3
        assert first["next_after"] == first["events"][-1]["seq"]

    def test_members_without_manage_are_403_strangers_404(self, client, factories):
        acme = factories.account("acme")
        viewer = factories.user()
        factories.member(acme, viewer, "view")
        assert client.get(account_events("acme"), headers=factories.auth(viewer)).status_code == 403
        stranger = factories.auth(factories.user())
        assert client.get(account_events("acme"), headers=stranger).status_code == 404
        assert client.get(account_events("nowhere"), headers=stranger).status_code == 404

    def test_staff(self, client, factories, admin_headers):
        factories.account("acme")
        assert client.get(account_events("acme"), headers=admin_headers).status_code == 200
        unenrolled = factories.user(staff_role=StaffRole.ADMIN, mfa=False)
        response = client.get(account_events("acme"), headers=factories.auth(unenrolled))
        assert response.status_code == 403
        assert response.json()["detail"] == STAFF_NEED_MFA
        assert client.get(account_events("acme")).status_code == 401
