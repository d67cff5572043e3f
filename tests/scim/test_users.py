"""SCIM Users are members: adding, inviting, permissions, deactivation, removal, the guard."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from keyholder.accounts import invitations, repository
from keyholder.audit.models import AuditEvent
from keyholder.identity.models import ApiToken
from keyholder.web.app import create_app
from tests.scim.conftest import SCIM_JSON, ScimSetup

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
EXT = "urn:ietf:params:scim:schemas:extension:keyholder:2.0:Member"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def new_user(email: str, **flags: bool) -> dict[str, Any]:
    return {
        "schemas": [CORE, EXT],
        "userName": email,
        "externalId": f"okta-{email}",
        "name": {"givenName": "Bob", "familyName": "Builder"},
        "displayName": "Bob Builder",
        "emails": [{"value": email, "type": "work", "primary": True}],
        EXT: flags,
    }


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(operations)}


def user_id_of(client, scim: ScimSetup, email: str) -> str:
    found = client.get(
        f"{scim.base}/Users", params={"filter": f'userName eq "{email}"'}, headers=scim.headers
    ).json()
    assert found["totalResults"] == 1, found
    return str(found["Resources"][0]["id"])


def permissions_of(runtime, scim: ScimSetup, email: str) -> list[str] | None:
    with runtime.uow(read_only=True) as uow:
        membership = repository.membership_by_email(uow.session, scim.account.id, email)
        return None if membership is None else sorted(membership.permissions)


def audit(runtime) -> list[tuple[str, str, str]]:
    with runtime.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.target).order_by(AuditEvent.seq)
        ).all()
    return [tuple(row) for row in rows]


class TestCreate:
    def test_an_existing_user_becomes_a_member_audited_as_the_token(
        self, client, runtime, factories, scim: ScimSetup
    ):
        factories.user("bob@acme.example")

        made = client.post(f"{scim.base}/Users", headers=scim.headers, json=new_user(
            "bob@acme.example", create=True))  # fmt: skip

        assert made.status_code == 201, made.text
        assert made.headers["content-type"] == SCIM_JSON
        body = made.json()
        assert made.headers["location"] == body["meta"]["location"]
        assert made.headers["etag"] == body["meta"]["version"]
        assert made.headers["etag"].startswith('W/"')
        assert body[EXT] == {"create": True}
        assert body["externalId"] == "okta-bob@acme.example"
        assert permissions_of(runtime, scim, "bob@acme.example") == ["create", "view"]
        actor, action, target = audit(runtime)[-1]
        assert action == "member.add"
        assert target == "account:acme-corp/member:bob@acme.example"
        assert actor.startswith("scim:acme-corp/okta#")

    def test_an_address_without_a_user_is_invited_by_email(
        self, client, runtime, outbox, scim: ScimSetup
    ):
        made = client.post(f"{scim.base}/Users", headers=scim.headers, json=new_user(
            "new@acme.example"))  # fmt: skip

        assert made.status_code == 201
        assert made.json()["active"] is True
        (invitation,) = outbox.of_kind("invitation")
        assert invitation.recipients == ["new@acme.example"]
        # The invitee is told who asked: their company's identity provider, not "an administrator".
        assert "The identity provider of acme-corp (SCIM) invited you" in invitation.body
        assert audit(runtime)[-1][1] == "invitation.create"
        listed = client.get(f"{scim.base}/Users", headers=scim.headers).json()
        assert sorted(r["userName"] for r in listed["Resources"]) == [
            "alice@acme.example",
            "new@acme.example",
        ]

    def test_an_invited_user_keeps_its_id_once_the_invitation_is_accepted(
        self, client, runtime, factories, scim: ScimSetup
    ):
        made = client.post(f"{scim.base}/Users", headers=scim.headers, json=new_user(
            "new@acme.example", billing=True))  # fmt: skip
        user_id = made.json()["id"]

        invitations.accept_invitation(
            runtime.uow(),
            factories.last_invitation_token(),
            actor=None,
            password="a long enough passphrase",
            hasher=runtime.password_hasher,
        )

        found = client.get(f"{scim.base}/Users/{user_id}", headers=scim.headers)
        assert found.status_code == 200
        assert (found.json()["userName"], found.json()[EXT]["billing"]) == (
            "new@acme.example",
            True,
        )
        assert permissions_of(runtime, scim, "new@acme.example") == ["billing", "view"]
        assert user_id_of(client, scim, "new@acme.example") == user_id

    def test_members_added_elsewhere_are_users_with_a_stable_id(
        self, client, factories, scim: ScimSetup
    ):
        factories.member(
            scim.account, factories.user("bob@acme.example", name="Bob B"), "view,create"
        )
        user_id = user_id_of(client, scim, "bob@acme.example")

        found = client.get(f"{scim.base}/Users/{user_id}", headers=scim.headers).json()

        assert found["displayName"] == "Bob B"
        assert found["name"] == {"formatted": "Bob B"}
        assert found["emails"] == [{"value": "bob@acme.example", "type": "work", "primary": True}]
        assert found[EXT] == {"create": True, "manage": False, "billing": False}
        assert found["active"] is True
        by_id = client.get(f"{scim.base}/Users", params={"filter": f'id eq "{user_id}"'},
                           headers=scim.headers).json()  # fmt: skip
        assert [r["userName"] for r in by_id["Resources"]] == ["bob@acme.example"]

    def test_a_user_name_that_is_no_address_takes_the_primary_email(
        self, client, runtime, factories, scim: ScimSetup
    ):
        factories.user("carol@acme.example")
        payload = new_user("carol@acme.example")
        payload["userName"] = "carol.upn"

        made = client.post(f"{scim.base}/Users", headers=scim.headers, json=payload)

        assert made.status_code == 201
        assert made.json()["userName"] == "carol.upn"
        assert permissions_of(runtime, scim, "carol@acme.example") == ["view"]

    def test_an_address_already_on_the_account_is_a_uniqueness_conflict(
        self, client, scim: ScimSetup
    ):
        again = client.post(f"{scim.base}/Users", headers=scim.headers, json=new_user(
            "alice@acme.example"))  # fmt: skip

        assert again.status_code == 409
        assert again.json()["scimType"] == "uniqueness"

    def test_staff_addresses_never_get_manage(self, client, derive_runtime, factories, scim):
        """S31, as on every other path."""
        factories.user("eve@keyholder.example")
        runtime = derive_runtime(staff_email_domains=["keyholder.example"])
        with TestClient(create_app(runtime=runtime, run_relay=False)) as staff_client:
            refused = staff_client.post(f"{scim.base}/Users", headers=scim.headers, json=new_user(
                "eve@keyholder.example", manage=True))  # fmt: skip
        assert refused.status_code == 403
        assert refused.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


class TestChanges:
    def test_patching_manage_grants_it_and_ends_the_members_sessions(
        self, client, runtime, factories, scim: ScimSetup
    ):
        bob = factories.user("bob@acme.example")
        factories.member(scim.account, bob)
        factories.token(bob)
        user_id = user_id_of(client, scim, "bob@acme.example")

        changed = client.patch(f"{scim.base}/Users/{user_id}", headers=scim.headers, json=patch(
            {"op": "replace", "path": f"{EXT}:manage", "value": True}))  # fmt: skip

        assert changed.status_code == 200, changed.text
        assert changed.json()[EXT]["manage"] is True
        assert permissions_of(runtime, scim, "bob@acme.example") == ["manage", "view"]
        with runtime.uow(read_only=True) as uow:  # S15, S41: gaining manage ends his tokens
            assert all(t.revoked_at for t in uow.session.scalars(select(ApiToken)))
        assert ("member.update", "account:acme-corp/member:bob@acme.example") in [
            (action, target) for _, action, target in audit(runtime)
        ]

    def test_active_false_removes_the_member_and_true_brings_them_back(
        self, client, runtime, factories, scim: ScimSetup
    ):
        bob = factories.user("bob@acme.example")
        factories.member(scim.account, bob, "view,billing")
        user_id = user_id_of(client, scim, "bob@acme.example")

        off = client.patch(f"{scim.base}/Users/{user_id}", headers=scim.headers, json=patch(
            {"op": "replace", "value": {"active": False}}))  # fmt: skip

        assert off.status_code == 200, off.text
        assert off.json()["active"] is False
        assert permissions_of(runtime, scim, "bob@acme.example") is None
        actor, action, target = audit(runtime)[-1]
        assert (action, target) == ("member.remove", "account:acme-corp/member:bob@acme.example")
        assert actor.startswith("scim:acme-corp/okta#")
        # Still a (deactivated) User, with the permissions it had.
        kept = client.get(f"{scim.base}/Users/{user_id}", headers=scim.headers).json()
        assert (kept["active"], kept[EXT]["billing"]) == (False, True)

        on = client.patch(f"{scim.base}/Users/{user_id}", headers=scim.headers, json=patch(
            {"op": "replace", "path": "active", "value": True}))  # fmt: skip
        assert on.json()["active"] is True
        assert permissions_of(runtime, scim, "bob@acme.example") == ["billing", "view"]

    def test_delete_removes_the_member_and_forgets_the_user(
        self, client, runtime, factories, scim: ScimSetup
    ):
        factories.member(scim.account, factories.user("bob@acme.example"))
        user_id = user_id_of(client, scim, "bob@acme.example")

        gone = client.delete(f"{scim.base}/Users/{user_id}", headers=scim.headers)

        assert gone.status_code == 204
        assert permissions_of(runtime, scim, "bob@acme.example") is None
        assert client.get(f"{scim.base}/Users/{user_id}", headers=scim.headers).status_code == 404

    def test_put_cannot_change_the_user_name(self, client, factories, scim: ScimSetup):
        user_id = user_id_of(client, scim, "alice@acme.example")
        replaced = new_user("mallory@acme.example", manage=True)

        refused = client.put(f"{scim.base}/Users/{user_id}", headers=scim.headers, json=replaced)

        assert refused.status_code == 400
        assert refused.json()["scimType"] == "mutability"


class TestLastAdmin:
    """The last-admin guard holds for SCIM: 409 with a detail that says what to do."""

    def requests(self, client, scim: ScimSetup) -> list[Any]:
        user_id = user_id_of(client, scim, "alice@acme.example")
        url = f"{scim.base}/Users/{user_id}"
        return [
            client.delete(url, headers=scim.headers),
            client.patch(url, headers=scim.headers, json=patch(
                {"op": "replace", "path": "active", "value": False})),
            client.patch(url, headers=scim.headers, json=patch(
                {"op": "replace", "path": f"{EXT}:manage", "value": False})),
            client.patch(url, headers=scim.headers, json=patch(
                {"op": "remove", "path": EXT})),
            client.put(url, headers=scim.headers, json=new_user("alice@acme.example")),
        ]  # fmt: skip

    def test_the_last_admin_cannot_be_removed_deactivated_or_demoted(
        self, client, runtime, scim: ScimSetup
    ):
        before = audit(runtime)

        for refused in self.requests(client, scim):
            assert refused.status_code == 409, refused.text
            assert refused.headers["content-type"] == SCIM_JSON
            body = refused.json()
            assert body["status"] == "409"
            assert "last member of 'acme-corp' with the manage permission" in body["detail"]
            assert "Give another member manage first" in body["detail"]

        assert permissions_of(runtime, scim, "alice@acme.example") == ["manage", "view"]
        assert audit(runtime) == before

    def test_one_of_two_admins_may_go_without_confirmation(
        self, client, runtime, factories, scim: ScimSetup
    ):
        factories.admin_of(scim.account, "bob@acme.example")
        user_id = user_id_of(client, scim, "alice@acme.example")

        gone = client.delete(f"{scim.base}/Users/{user_id}", headers=scim.headers)

        assert gone.status_code == 204
        assert permissions_of(runtime, scim, "bob@acme.example") == ["manage", "view"]
        again = client.delete(
            f"{scim.base}/Users/{user_id_of(client, scim, 'bob@acme.example')}",
            headers=scim.headers,
        )
        assert again.status_code == 409


class TestETags:
    def test_if_match_with_an_old_version_is_412_and_changes_nothing(
        self, client, runtime, factories, scim: ScimSetup
    ):
        factories.member(scim.account, factories.user("bob@acme.example"))
        user_id = user_id_of(client, scim, "bob@acme.example")
        url = f"{scim.base}/Users/{user_id}"
        first = client.get(url, headers=scim.headers)
        version = first.headers["etag"]
        assert version == first.json()["meta"]["version"]
        changed = client.patch(url, headers={**scim.headers, "If-Match": version}, json=patch(
            {"op": "replace", "path": "displayName", "value": "Bob"}))  # fmt: skip
        assert changed.status_code == 200
        assert changed.headers["etag"] != version

        for stale in (
            client.patch(url, headers={**scim.headers, "If-Match": version}, json=patch(
                {"op": "replace", "path": f"{EXT}:billing", "value": True})),
            client.put(url, headers={**scim.headers, "If-Match": version},
                       json=new_user("bob@acme.example", billing=True)),
            client.delete(url, headers={**scim.headers, "If-Match": version}),
        ):  # fmt: skip
            assert stale.status_code == 412, stale.text
            assert stale.json()["status"] == "412"
        assert permissions_of(runtime, scim, "bob@acme.example") == ["view"]

        current = changed.headers["etag"]
        for matching in (current, current.removeprefix("W/"), "*"):
            answer = client.get(url, headers=scim.headers)
            assert answer.headers["etag"] == current
            same = patch({"op": "replace", "path": "displayName", "value": "Bob"})
            headers = {**scim.headers, "If-Match": matching}
            assert client.patch(url, headers=headers, json=same).status_code == 200


class TestWhatIdentityProvidersSend:
    """Payloads as Okta and Entra ID send them: extra attributes, Entra's PATCH dialect."""

    def test_okta_create_with_attributes_this_server_does_not_keep(
        self, client, runtime, factories, scim: ScimSetup
    ):
        factories.user("dana@acme.example")
        payload = {
            **new_user("dana@acme.example", billing=True),
            "locale": "en-US",
            "title": "CFO",
            "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
            "groups": [],
            "password": "never-stored",
        }

        made = client.post(f"{scim.base}/Users", headers=scim.headers, json=payload)

        assert made.status_code == 201, made.text
        assert "title" not in made.json()
        assert "password" not in made.text
        assert permissions_of(runtime, scim, "dana@acme.example") == ["billing", "view"]

    def test_entra_patch_dialect(self, client, runtime, factories, scim: ScimSetup):
        factories.member(scim.account, factories.user("erin@acme.example"))
        url = f"{scim.base}/Users/{user_id_of(client, scim, 'erin@acme.example')}"

        changed = client.patch(url, headers=scim.headers, json=patch(
            {"op": "Add", "path": 'emails[type eq "work"].value', "value": "erin@acme.example"},
            {"op": "Replace", "path": "title", "value": "Engineer"},
            {"op": "Replace", "path": f"{EXT}:manage", "value": "True"},
            {"op": "Add", "value": {"displayName": "Erin", "name.givenName": "Erin"}},
        ))  # fmt: skip

        assert changed.status_code == 200, changed.text
        assert changed.json()["displayName"] == "Erin"
        assert permissions_of(runtime, scim, "erin@acme.example") == ["manage", "view"]
        off = client.patch(url, headers=scim.headers, json=patch(
            {"op": "Replace", "path": "active", "value": "False"}))  # fmt: skip
        assert off.status_code == 200, off.text
        assert permissions_of(runtime, scim, "erin@acme.example") is None
