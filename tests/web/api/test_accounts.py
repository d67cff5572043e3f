"""/api/enterprise-accounts: creating, listing and showing accounts."""

from __future__ import annotations

from keyholder.identity.models import StaffRole

ACCOUNTS = "/api/enterprise-accounts"

NEW_ACCOUNT = {
    "name": "acme-corp",
    "display_name": "Acme Corporation",
    "contract_number": "ent-2024-001234",
    "domains": ["ACME.example"],
    "contacts": [
        {
            "kind": "executive",
            "name": "Dana Whitfield",
            "title": "CEO",
            "email": "dana@acme.example",
        },
    ],
}


def staff_admin_headers(factories):
    return factories.auth(factories.user("root@keyholder.example", staff_role=StaffRole.ADMIN))


class TestCreate:
    def test_staff_admin_creates_an_account(self, client, factories):
        response = client.post(ACCOUNTS, json=NEW_ACCOUNT, headers=staff_admin_headers(factories))
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["name"] == "acme-corp"
        assert body["contract_number"] == "ENT-2024-001234"
        assert [d["domain"] for d in body["domains"]] == ["acme.example"]
        assert body["domains"][0]["verified_at"] is not None
        assert body["contacts"][0]["kind"] == "executive"

    def test_customer_cannot_create_accounts(self, client, factories):
        response = client.post(ACCOUNTS, json=NEW_ACCOUNT, headers=factories.auth(factories.user()))
        assert response.status_code == 403

    def test_duplicate_name_and_contract_are_409(self, client, factories):
        headers = staff_admin_headers(factories)
        assert client.post(ACCOUNTS, json=NEW_ACCOUNT, headers=headers).status_code == 201
        same_name = client.post(
            ACCOUNTS,
            json={**NEW_ACCOUNT, "contract_number": "ENT-1", "domains": []},
            headers=headers,
        )
        same_contract = client.post(
            ACCOUNTS, json={**NEW_ACCOUNT, "name": "other", "domains": []}, headers=headers
        )
        assert same_name.status_code == same_contract.status_code == 409
        assert "ENT-2024-001234" in same_contract.json()["detail"]

    def test_a_domain_belongs_to_one_account(self, client, factories):
        headers = staff_admin_headers(factories)
        client.post(ACCOUNTS, json=NEW_ACCOUNT, headers=headers)
        other = {"name": "other", "contract_number": "ENT-9", "domains": ["acme.example"]}
        response = client.post(ACCOUNTS, json=other, headers=headers)
        assert response.status_code == 409
        assert "acme.example" in response.json()["detail"]

    def test_bad_values_are_422_with_a_reason(self, client, factories):
        headers = staff_admin_headers(factories)
        for field, value in [
            ("name", "Not A Slug!"),
            ("contract_number", "x"),
            ("domains", ["not a domain"]),
        ]:
            response = client.post(ACCOUNTS, json={**NEW_ACCOUNT, field: value}, headers=headers)
            assert response.status_code == 422, (field, response.text)
            assert response.json()["detail"]

    def test_unicode_lookalike_domain_is_stored_as_punycode(self, client, factories):
        headers = staff_admin_headers(factories)
        response = client.post(
            ACCOUNTS, json={**NEW_ACCOUNT, "domains": ["\u0430cme.example"]}, headers=headers
        )  # Cyrillic a
        assert response.status_code == 201
        assert response.json()["domains"][0]["domain"].startswith("xn--")


class TestRead:
    def test_members_see_only_their_accounts(self, client, factories):
        mine, _theirs = factories.account("mine"), factories.account("theirs")
        me = factories.admin_of(mine)
        response = client.get(ACCOUNTS, headers=factories.auth(me))
        assert [a["name"] for a in response.json()] == ["mine"]
        assert client.get(f"{ACCOUNTS}/theirs", headers=factories.auth(me)).status_code == 404
        assert client.get(f"{ACCOUNTS}/mine", headers=factories.auth(me)).status_code == 200

    def test_staff_see_every_account(self, client, factories):
        factories.account("one")
        factories.account("two")
        agent = factories.user(staff_role=StaffRole.AGENT)
        response = client.get(ACCOUNTS, headers=factories.auth(agent))
        assert [a["name"] for a in response.json()] == ["one", "two"]


class TestServiceEndpoints:
    def test_openapi_documents_the_members_api(self, client):
        spec = client.get("/api/openapi.json").json()
        member_paths = spec["paths"]["/api/enterprise-accounts/{name}/members/{email}"]
        assert {"get", "patch", "delete"} <= set(member_paths)

    def test_unknown_route_is_a_problem(self, client):
        response = client.get("/api/nothing-here")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
