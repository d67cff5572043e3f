"""/api/enterprise-accounts read by a Heroku Platform API client (issue 19 item 4).

A client written for Heroku sends its own Accept header, names an account by
id or name, and reads Heroku's Enterprise Account fields: ``id``, ``name``,
``created_at``, ``updated_at``, ``permissions`` (strings), ``trial`` and
``identity_provider``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from keyholder.identity.models import StaffRole

ACCOUNTS = "/api/enterprise-accounts"
HEROKU_ACCEPT = {"Accept": "application/vnd.heroku+json; version=3"}
HEROKU_FIELDS = {
    "id",
    "name",
    "created_at",
    "updated_at",
    "permissions",
    "trial",
    "identity_provider",
}
KEYHOLDER_FIELDS = {"display_name", "contract_number", "domains", "contacts"}


@pytest.fixture
def acme(factories):
    return factories.account("acme-corp", domains=["acme.example"])


def heroku(factories, user):
    return {**factories.auth(user), **HEROKU_ACCEPT}


def assert_heroku_shaped(account):
    assert set(account) >= HEROKU_FIELDS | KEYHOLDER_FIELDS
    assert str(uuid.UUID(account["id"])) == account["id"]
    assert isinstance(account["name"], str)
    datetime.fromisoformat(account["created_at"])
    datetime.fromisoformat(account["updated_at"])
    assert isinstance(account["permissions"], list)
    assert all(isinstance(p, str) for p in account["permissions"])
    assert account["trial"] is False
    assert account["identity_provider"] is None


def problem_without(response, typed):
    """The 404 body with the identifier the caller typed taken out."""
    body = response.json()
    return {
        key: value.replace(typed, "<typed>") if isinstance(value, str) else value
        for key, value in body.items()
    }


class TestHerokuClient:
    def test_lists_its_accounts_with_every_heroku_field(self, client, factories, acme):
        factories.account("someone-else")
        alice = factories.admin_of(acme)
        response = client.get(ACCOUNTS, headers=heroku(factories, alice))
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        (account,) = response.json()
        assert_heroku_shaped(account)
        assert account["name"] == "acme-corp"
        assert account["id"] == str(acme.id)
        assert account["permissions"] == ["view", "manage"]

    def test_reads_one_account_by_id_as_by_name(self, client, factories, acme):
        headers = heroku(factories, factories.admin_of(acme))
        by_name = client.get(f"{ACCOUNTS}/acme-corp", headers=headers)
        by_id = client.get(f"{ACCOUNTS}/{acme.id}", headers=headers)
        by_upper_id = client.get(f"{ACCOUNTS}/{str(acme.id).upper()}", headers=headers)
        assert by_name.status_code == by_id.status_code == by_upper_id.status_code == 200
        assert by_id.headers["content-type"] == "application/json"
        assert_heroku_shaped(by_id.json())
        assert by_id.json() == by_name.json() == by_upper_id.json()

    def test_reads_members_by_account_id_as_by_name(self, client, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        headers = heroku(factories, alice)
        for path in ("members", "members/alice@acme.example"):
            by_name = client.get(f"{ACCOUNTS}/acme-corp/{path}", headers=headers)
            by_id = client.get(f"{ACCOUNTS}/{acme.id}/{path}", headers=headers)
            assert by_name.status_code == by_id.status_code == 200, path
            assert by_id.json() == by_name.json()

    def test_an_id_nobody_has_is_404(self, client, factories, acme):
        headers = heroku(factories, factories.admin_of(acme))
        nobody = uuid.uuid4()
        for path in (f"{nobody}", f"{nobody}/members", f"{nobody}/members/a@acme.example"):
            response = client.get(f"{ACCOUNTS}/{path}", headers=headers)
            assert response.status_code == 404, path


class TestPermissions:
    def test_permissions_are_the_callers_own(self, client, factories, acme):
        viewer = factories.user("viewer@acme.example")
        factories.member(acme, viewer, "view,billing")
        factories.admin_of(acme, "admin@acme.example")
        response = client.get(f"{ACCOUNTS}/{acme.id}", headers=heroku(factories, viewer))
        assert response.json()["permissions"] == ["view", "billing"]
        listed = client.get(ACCOUNTS, headers=heroku(factories, viewer)).json()
        assert [a["permissions"] for a in listed] == [["view", "billing"]]

    def test_each_account_lists_the_callers_permissions_in_it(self, client, factories, acme):
        other = factories.account("beta-inc")
        alice = factories.admin_of(acme)
        factories.member(other, alice, "view")
        listed = client.get(ACCOUNTS, headers=heroku(factories, alice)).json()
        assert {a["name"]: a["permissions"] for a in listed} == {
            "acme-corp": ["view", "manage"],
            "beta-inc": ["view"],
        }

    def test_staff_who_are_not_members_read_with_no_permissions(self, client, factories, acme):
        agent = factories.user(staff_role=StaffRole.AGENT)
        listed = client.get(ACCOUNTS, headers=heroku(factories, agent)).json()
        assert [(a["name"], a["permissions"]) for a in listed] == [("acme-corp", [])]
        one = client.get(f"{ACCOUNTS}/{acme.id}", headers=heroku(factories, agent))
        assert one.status_code == 200
        assert one.json()["permissions"] == []


class TestStrangers:
    """No existence leak: an account's id tells a stranger no more than its name."""

    @pytest.mark.parametrize("path", ["", "/members", "/members/alice@acme.example"])
    def test_same_404_for_an_id_a_name_and_nothing(self, client, factories, acme, path):
        factories.admin_of(acme, "alice@acme.example")
        stranger = heroku(factories, factories.user("eve@evil.example"))
        answers = {
            typed: client.get(f"{ACCOUNTS}/{typed}{path}", headers=stranger)
            for typed in (str(acme.id), "acme-corp", str(uuid.uuid4()), "no-such-account")
        }
        assert {r.status_code for r in answers.values()} == {404}
        bodies = [problem_without(r, typed) for typed, r in answers.items()]
        assert all(body == bodies[0] for body in bodies), bodies

    @pytest.mark.parametrize("path", ["", "/members", "/members/alice@acme.example"])
    def test_staff_without_mfa_get_403_for_an_id_too(self, client, factories, acme, path):
        # S18: staff act only with MFA, and are told so (403) rather than given a 404.
        agent = heroku(factories, factories.user(staff_role=StaffRole.AGENT, mfa=False))
        for typed in (str(acme.id), str(uuid.uuid4()), "acme-corp"):
            response = client.get(f"{ACCOUNTS}/{typed}{path}", headers=agent)
            assert response.status_code == 403, (typed, response.text)
        assert client.get(ACCOUNTS, headers=agent).status_code == 403


class TestNames:
    def test_a_new_account_cannot_be_named_like_an_id(self, client, factories):
        root = factories.user("root@keyholder.example", staff_role=StaffRole.ADMIN)
        body = {"name": str(uuid.uuid4()), "contract_number": "ENT-77"}
        response = client.post(ACCOUNTS, json=body, headers=factories.auth(root))
        assert response.status_code == 422
        assert "looks like an account id" in response.json()["detail"]

    def test_a_hex_name_without_hyphens_stays_a_name(self, client, factories):
        name = uuid.uuid4().hex
        factories.account(name)
        alice = factories.admin_of(factories.account("acme-corp"))
        agent = factories.user(staff_role=StaffRole.AGENT)
        assert client.get(f"{ACCOUNTS}/{name}", headers=heroku(factories, agent)).status_code == 200
        assert client.get(f"{ACCOUNTS}/{name}", headers=heroku(factories, alice)).status_code == 404


class TestOpenApi:
    def test_documents_the_heroku_fields_and_the_mapping(self, client):
        spec = client.get("/api/openapi.json").json()
        fields = spec["components"]["schemas"]["AccountOut"]["properties"]
        for name in HEROKU_FIELDS | KEYHOLDER_FIELDS:
            assert fields[name].get("description"), name
        assert "Heroku" in fields["permissions"]["description"]
        assert fields["trial"]["type"] == "boolean"
        info = spec["paths"]["/api/enterprise-accounts/{name}"]["get"]
        assert "identity_provider" in info["description"]
        (parameter,) = info["parameters"]
        assert "id" in parameter["description"]
        assert (
            "identity_provider" in spec["paths"]["/api/enterprise-accounts"]["get"]["description"]
        )
