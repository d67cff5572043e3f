"""POST /api/enterprise-accounts/{name}/recovery-codes and /recovery-claims."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from keyholder.identity.models import User

ACCOUNT = "/api/enterprise-accounts/acme-corp"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"recovery_claim_limit_per_user": "2 per 1 hour"})


@pytest.fixture
def acme(factories):
    account = factories.account(
        "acme-corp", domains=["acme.example"], executive_email="ceo@acme.example"
    )
    return account, factories.admin_of(account, "admin@acme.example")


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def generate(client, factories, admin) -> list[str]:
    response = client.post(f"{ACCOUNT}/recovery-codes", headers=factories.auth(admin))
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"  # shown once, never cached
    return response.json()["codes"]


class TestGenerate:
    def test_an_admin_gets_ten_codes(self, client, factories, acme):
        _, admin = acme

        assert len(generate(client, factories, admin)) == 10

    def test_anonymous_401_member_403_stranger_404(self, client, factories, acme):
        account, _ = acme
        viewer = factories.user("viewer@acme.example")
        factories.member(account, viewer)
        stranger = factories.user("someone@else.example")

        problem(client.post(f"{ACCOUNT}/recovery-codes"), 401)
        problem(client.post(f"{ACCOUNT}/recovery-codes", headers=factories.auth(viewer)), 403)
        problem(client.post(f"{ACCOUNT}/recovery-codes", headers=factories.auth(stranger)), 404)


class TestClaim:
    def test_a_claim_is_accepted_with_its_cooling_off(self, client, factories, acme, clock):
        _, admin = acme
        codes = generate(client, factories, admin)
        claimant = factories.user("bob@acme.example")

        response = client.post(
            f"{ACCOUNT}/recovery-claims",
            json={"code": codes[0], "reason": "nobody can add people"},
            headers=factories.auth(claimant),
        )

        assert response.status_code == 202, response.text
        body = response.json()
        assert body["state"] == "cooling_off"
        assert body["ticket_path"].startswith(f"/t/{body['ticket']}/")
        assert body["cooling_off_until"].startswith(f"{clock.now() + timedelta(hours=24):%Y-%m-%d}")

    def test_refusals_are_problems(self, client, factories, acme):
        _, admin = acme
        codes = generate(client, factories, admin)
        claimant = factories.auth(factories.user("bob@acme.example"))
        outsider = factories.auth(factories.user("eve@elsewhere.example"))

        problem(client.post(f"{ACCOUNT}/recovery-claims", json={"code": codes[0]}), 401)
        problem(
            client.post(f"{ACCOUNT}/recovery-claims", json={"code": codes[0]}, headers=outsider),
            403,
        )
        problem(client.post(f"{ACCOUNT}/recovery-claims", json={"code": ""}, headers=claimant), 422)
        wrong = problem(
            client.post(f"{ACCOUNT}/recovery-claims", json={"code": "nope"}, headers=claimant),
            422,
        )
        assert "not a valid recovery code" in wrong["detail"]

    def test_throttled_429_with_retry_after(self, client, factories, acme):
        _, admin = acme
        codes = generate(client, factories, admin)
        claimant = factories.auth(factories.user("bob@acme.example"))
        for _ in range(2):
            client.post(f"{ACCOUNT}/recovery-claims", json={"code": "nope"}, headers=claimant)

        response = client.post(
            f"{ACCOUNT}/recovery-claims", json={"code": codes[0]}, headers=claimant
        )

        problem(response, 429)
        assert int(response.headers["Retry-After"]) >= 1

    def test_an_admin_who_can_act_gets_409_telling_to_ask_them(
        self, client, factories, acme, runtime
    ):
        _, admin = acme
        codes = generate(client, factories, admin)
        with runtime.uow() as uow:
            uow.session.execute(
                update(User).where(User.id == admin.id).values(last_login_at=uow.clock.now())
            )
            uow.commit()
        claimant = factories.auth(factories.user("bob@acme.example"))

        refused = problem(
            client.post(f"{ACCOUNT}/recovery-claims", json={"code": codes[0]}, headers=claimant),
            409,
        )
        assert "ask them" in refused["detail"]


def test_openapi_documents_both_routes(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "post" in paths["/api/enterprise-accounts/{name}/recovery-codes"]
    assert "post" in paths["/api/enterprise-accounts/{name}/recovery-claims"]


def test_staff_see_a_claim_as_one_with_its_code_as_proof(client, factories, acme):
    _, admin = acme
    codes = generate(client, factories, admin)
    claimant = factories.auth(factories.user("bob@acme.example"))
    claim = client.post(f"{ACCOUNT}/recovery-claims", json={"code": codes[0]}, headers=claimant)
    reviewer = factories.auth(factories.staff("riley@keyholder-staff.example"))

    shown = client.get(f"/api/access-requests/{claim.json()['request_id']}", headers=reviewer)

    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["via"] == "recovery_code"
    assert body["state"] == "cooling_off"
    assert body["proofs"]["held"] is True
    assert [p["check"] for p in body["proofs"]["items"]] == ["recovery_code"]
