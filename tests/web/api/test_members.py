"""/api/enterprise-accounts/{name}/members: the Heroku-shaped members API."""

from __future__ import annotations

import pytest

from keyholder.identity.models import StaffRole

MEMBERS = "/api/enterprise-accounts/{}/members"


@pytest.fixture
def acme(factories):
    return factories.account("acme-corp", domains=["acme.example"])


@pytest.fixture
def alice(factories, acme):
    return factories.admin_of(acme, "alice@acme.example")


def member_emails(response):
    return [m["user"]["email"] for m in response.json()]


class TestListAndGet:
    def test_member_sees_the_heroku_shaped_list(self, client, factories, acme, alice):
        bob = factories.user("bob@acme.example")
        factories.member(acme, bob, "view,create")
        response = client.get(MEMBERS.format("acme-corp"), headers=factories.auth(bob))
        assert response.status_code == 200
        body = response.json()
        assert member_emails(response) == ["alice@acme.example", "bob@acme.example"]
        assert body[1]["permissions"] == [{"name": "view"}, {"name": "create"}]
        assert body[1]["user"] == {"id": str(bob.id), "email": "bob@acme.example"}
        assert body[1]["federated"] is False
        assert {"created_at", "updated_at", "id"} <= set(body[1])

    def test_one_member_by_email_is_case_insensitive(self, client, factories, acme, alice):
        response = client.get(
            MEMBERS.format("acme-corp") + "/ALICE@Acme.Example", headers=factories.auth(alice)
        )
        assert response.status_code == 200
        assert response.json()["permissions"] == [{"name": "view"}, {"name": "manage"}]

    def test_one_member_reads_as_its_entry_in_the_list(self, client, factories, acme, alice):
        # The lookup writes its JSON itself (the hot path); the list goes through
        # FastAPI's response model. A client must not see two shapes of a member.
        headers = factories.auth(alice)
        listed = client.get(MEMBERS.format("acme-corp"), headers=headers)
        one = client.get(MEMBERS.format("acme-corp") + "/alice@acme.example", headers=headers)
        assert one.headers["content-type"] == listed.headers["content-type"]
        assert one.json() == listed.json()[0]

    def test_an_address_with_non_ascii_letters_is_found_as_typed(
        self, client, factories, acme, alice
    ):
        # Not ASCII, so not looked up as typed: normalised first, then found (the
        # lookup's second path), and answered in the same shape as the list.
        jurgen = factories.user("jürgen@acme.example")
        factories.member(acme, jurgen, "view")
        headers = factories.auth(alice)
        one = client.get(MEMBERS.format("acme-corp") + "/JÜRGEN@acme.example", headers=headers)
        assert one.status_code == 200, one.text
        listed = client.get(MEMBERS.format("acme-corp"), headers=headers).json()
        assert one.json() == next(m for m in listed if m["user"]["id"] == str(jurgen.id))

    def test_unknown_member_is_404(self, client, factories, acme, alice):
        response = client.get(
            MEMBERS.format("acme-corp") + "/nobody@acme.example", headers=factories.auth(alice)
        )
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    def test_non_member_gets_404_like_a_missing_account(self, client, factories, acme, alice):
        stranger = factories.user("eve@evil.example")
        headers = factories.auth(stranger)
        hidden = client.get(MEMBERS.format("acme-corp"), headers=headers)
        missing = client.get(MEMBERS.format("no-such-account"), headers=headers)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["title"] == missing.json()["title"]
        assert "acme-corp" not in client.get("/api/enterprise-accounts", headers=headers).text

    def test_anonymous_is_401(self, client, acme):
        response = client.get(MEMBERS.format("acme-corp"))
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")

    def test_bad_token_is_401_not_anonymous(self, client, acme):
        response = client.get(
            MEMBERS.format("acme-corp"), headers={"Authorization": "Bearer kh_not-a-real-token"}
        )
        assert response.status_code == 401

    @pytest.mark.parametrize("role", list(StaffRole))
    def test_staff_can_read_any_account(self, client, factories, acme, alice, role):
        staff = factories.user(f"{role}@keyholder.example", staff_role=role)
        response = client.get(MEMBERS.format("acme-corp"), headers=factories.auth(staff))
        assert response.status_code == 200
        assert member_emails(response) == ["alice@acme.example"]


class TestAdd:
    def test_admin_adds_an_existing_user(self, client, factories, acme, alice):
        factories.user("bob@acme.example")
        response = client.post(
            MEMBERS.format("acme-corp"),
            json={"user": {"email": "Bob@Acme.example"}, "permissions": ["create"]},
            headers=factories.auth(alice),
        )
        assert response.status_code == 201, response.text
        assert response.json()["user"]["email"] == "bob@acme.example"
        assert response.json()["permissions"] == [{"name": "view"}, {"name": "create"}]

    def test_permissions_accept_the_response_shape_and_a_bare_email(
        self, client, factories, acme, alice
    ):
        factories.user("bob@acme.example")
        response = client.post(
            MEMBERS.format("acme-corp"),
            json={"user": "bob@acme.example", "permissions": [{"name": "billing"}]},
            headers=factories.auth(alice),
        )
        assert response.status_code == 201, response.text
        assert response.json()["permissions"] == [{"name": "view"}, {"name": "billing"}]

    def test_email_without_a_user_gets_an_invitation(self, client, factories, acme, alice):
        response = client.post(
            MEMBERS.format("acme-corp"),
            json={"user": {"email": "new@acme.example"}, "permissions": ["view", "manage"]},
            headers=factories.auth(alice),
        )
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["email"] == "new@acme.example"
        assert body["permissions"] == [{"name": "view"}, {"name": "manage"}]
        listed = client.get(
            "/api/enterprise-accounts/acme-corp/invitations", headers=factories.auth(alice)
        )
        assert [i["email"] for i in listed.json()] == ["new@acme.example"]

    def test_adding_an_existing_member_is_409(self, client, factories, acme, alice):
        response = client.post(
            MEMBERS.format("acme-corp"),
            json={"user": {"email": "alice@acme.example"}, "permissions": ["view"]},
            headers=factories.auth(alice),
        )
        assert response.status_code == 409

    def test_unknown_permission_is_422_listing_valid_names(self, client, factories, acme, alice):
        factories.user("bob@acme.example")
        response = client.post(
            MEMBERS.format("acme-corp"),
            json={"user": {"email": "bob@acme.example"}, "permissions": ["view", "superuser"]},
            headers=factories.auth(alice),
        )
        assert response.status_code == 422
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert "superuser" in problem["detail"]
        assert problem["valid_permissions"] == ["view", "create", "manage", "billing"]
        for name in ("view", "create", "manage", "billing"):
            assert name in problem["detail"]

    def test_malformed_body_is_422_problem(self, client, factories, acme, alice):
        response = client.post(
            MEMBERS.format("acme-corp"),
            json={"permissions": "manage"},
            headers=factories.auth(alice),
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]

    def test_invalid_email_is_422(self, client, factories, acme, alice):
        response = client.post(
            MEMBERS.format("acme-corp"),
            json={"user": {"email": "not an email"}, "permissions": ["view"]},
            headers=factories.auth(alice),
        )
        assert response.status_code == 422

    def test_member_without_manage_is_403(self, client, factories, acme, alice):
        bob = factories.user("bob@acme.example")
        factories.member(acme, bob, "view,create,billing")
        factories.user("carol@acme.example")
        response = client.post(
            MEMBERS.format("acme-corp"),
            json={"user": {"email": "carol@acme.example"}, "permissions": ["manage"]},
            headers=factories.auth(bob),
        )
        assert response.status_code == 403
        assert "manage" in response.json()["detail"]

    def test_non_member_cannot_add_and_learns_nothing(self, client, factories, acme, alice):
        eve = factories.user("eve@evil.example")
        response = client.post(
            MEMBERS.format("acme-corp"),
            json={"user": {"email": "eve@evil.example"}, "permissions": ["manage"]},
            headers=factories.auth(eve),
        )
        assert response.status_code == 404

    def test_staff_agent_reads_but_cannot_change(self, client, factories, acme, alice):
        agent = factories.user("agent@keyholder.example", staff_role=StaffRole.AGENT)
        factories.user("bob@acme.example")
        response = client.post(
            MEMBERS.format("acme-corp"),
            json={"user": {"email": "bob@acme.example"}, "permissions": ["manage"]},
            headers=factories.auth(agent),
        )
        assert response.status_code == 403

    def test_staff_admin_can_change_members(self, client, factories, acme, alice):
        admin = factories.user("root@keyholder.example", staff_role=StaffRole.ADMIN)
        factories.user("bob@acme.example")
        response = client.post(
            MEMBERS.format("acme-corp"),
            json={"user": {"email": "bob@acme.example"}, "permissions": ["manage"]},
            headers=factories.auth(admin),
        )
        assert response.status_code == 201


class TestChangeAndRemove:
    def test_admin_changes_permissions(self, client, factories, acme, alice):
        bob = factories.user("bob@acme.example")
        factories.member(acme, bob, "view")
        response = client.patch(
            MEMBERS.format("acme-corp") + "/bob@acme.example",
            json={"permissions": ["billing", "manage"]},
            headers=factories.auth(alice),
        )
        assert response.status_code == 200
        assert response.json()["permissions"] == [
            {"name": "view"},
            {"name": "manage"},
            {"name": "billing"},
        ]

    def test_admin_removes_a_member(self, client, factories, acme, alice):
        bob = factories.user("bob@acme.example")
        factories.member(acme, bob, "view")
        headers = factories.auth(alice)
        response = client.delete(MEMBERS.format("acme-corp") + "/bob@acme.example", headers=headers)
        assert response.status_code == 204
        assert member_emails(client.get(MEMBERS.format("acme-corp"), headers=headers)) == [
            "alice@acme.example"
        ]

    def test_removing_the_last_admin_is_409_and_changes_nothing(
        self, client, factories, acme, alice
    ):
        headers = factories.auth(alice)
        response = client.delete(
            MEMBERS.format("acme-corp") + "/alice@acme.example", headers=headers
        )
        assert response.status_code == 409
        assert "last" in response.json()["detail"]
        assert "manage" in response.json()["detail"]
        assert member_emails(client.get(MEMBERS.format("acme-corp"), headers=headers)) == [
            "alice@acme.example"
        ]

    def test_demoting_the_last_admin_is_409(self, client, factories, acme, alice):
        response = client.patch(
            MEMBERS.format("acme-corp") + "/alice@acme.example",
            json={"permissions": ["view", "billing"]},
            headers=factories.auth(alice),
        )
        assert response.status_code == 409
        again = client.get(
            MEMBERS.format("acme-corp") + "/alice@acme.example", headers=factories.auth(alice)
        )
        assert {"name": "manage"} in again.json()["permissions"]

    def test_an_admin_can_step_down_when_another_remains(self, client, factories, acme, alice):
        factories.admin_of(acme, "bob@acme.example")
        response = client.delete(
            MEMBERS.format("acme-corp") + "/alice@acme.example?confirm=true",
            headers=factories.auth(alice),
        )
        assert response.status_code == 204

    def test_change_of_unknown_member_is_404(self, client, factories, acme, alice):
        response = client.patch(
            MEMBERS.format("acme-corp") + "/ghost@acme.example",
            json={"permissions": ["view"]},
            headers=factories.auth(alice),
        )
        assert response.status_code == 404

    def test_member_without_manage_cannot_remove(self, client, factories, acme, alice):
        bob = factories.user("bob@acme.example")
        factories.member(acme, bob, "view,billing")
        response = client.delete(
            MEMBERS.format("acme-corp") + "/alice@acme.example", headers=factories.auth(bob)
        )
        assert response.status_code == 403


class TestAdminLeaving:
    """Issue 18: the warning and the successor, through the API."""

    def test_one_of_two_admins_leaving_answers_409_until_confirmed(
        self, client, factories, acme, alice
    ):
        factories.admin_of(acme, "bob@acme.example")
        url = MEMBERS.format("acme-corp") + "/bob@acme.example"
        warned = client.patch(url, json={"permissions": ["view"]}, headers=factories.auth(alice))
        assert warned.status_code == 409
        assert warned.headers["content-type"] == "application/problem+json"
        assert warned.json()["title"] == "Confirmation required"
        assert "one admin left" in warned.json()["detail"]
        confirmed = client.patch(
            url + "?confirm=true", json={"permissions": ["view"]}, headers=factories.auth(alice)
        )
        assert confirmed.status_code == 200
        assert confirmed.json()["permissions"] == [{"name": "view"}]

    def test_the_last_admin_leaves_only_for_a_successor(self, client, factories, acme, alice):
        factories.member(acme, factories.user("bob@acme.example"))
        url = MEMBERS.format("acme-corp") + "/alice@acme.example"
        refused = client.delete(url, headers=factories.auth(alice))
        assert refused.status_code == 409
        assert refused.json()["title"] == "Last admin"
        left = client.delete(url + "?successor=bob@acme.example", headers=factories.auth(alice))
        assert left.status_code == 204
        bob = client.get(
            MEMBERS.format("acme-corp") + "/bob@acme.example",
            headers=factories.auth(factories.staff(role=StaffRole.ADMIN)),
        )
        assert bob.json()["permissions"] == [{"name": "view"}, {"name": "manage"}]

    def test_a_successor_that_is_no_member_is_404_and_nothing_changes(
        self, client, factories, acme, alice
    ):
        url = MEMBERS.format("acme-corp") + "/alice@acme.example"
        response = client.delete(
            url + "?successor=ghost@acme.example", headers=factories.auth(alice)
        )
        assert response.status_code == 404
        assert client.get(url, headers=factories.auth(alice)).status_code == 200
