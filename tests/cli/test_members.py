"""keyholder members list|add|set|remove --account NAME."""

from __future__ import annotations

import pytest

from keyholder.accounts.models import EnterpriseAccount
from tests.cli import Cli, assert_error
from tests.factories import Factories


@pytest.fixture
def acme(factories: Factories) -> EnterpriseAccount:
    return factories.account("acme-corp", contract_number="ENT-2024-001234")


@pytest.fixture
def admin(factories: Factories, acme: EnterpriseAccount) -> str:
    """The only member of acme with ``manage``."""
    user = factories.user("alice@acme.example", password=None)
    factories.member(acme, user, "view,manage")
    return user.email


def members_of(cli: Cli, account: str = "acme-corp") -> dict[str, list[str]]:
    return {
        m["user"]["email"]: [p["name"] for p in m["permissions"]]
        for m in cli.json("members", "list", "--account", account)
    }


class TestList:
    def test_json_shape_follows_the_members_api(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount, admin: str
    ) -> None:
        bob = factories.user("bob@acme.example", password=None)
        factories.member(acme, bob, "create,billing")

        listed = cli.json("members", "list", "--account", "acme-corp")

        assert [m["user"]["email"] for m in listed] == ["alice@acme.example", "bob@acme.example"]
        assert listed[1]["user"]["id"] == str(bob.id)
        assert listed[1]["permissions"] == [
            {"name": "view"},
            {"name": "create"},
            {"name": "billing"},
        ]
        assert listed[1]["federated"] is False

    def test_table(self, cli: Cli, admin: str) -> None:
        lines = cli.ok("members", "list", "-a", "acme-corp").stdout.splitlines()

        assert lines == [
            "EMAIL               PERMISSIONS  SINCE",
            "alice@acme.example  view,manage  2026-01-15",
        ]

    def test_unknown_account(self, cli: Cli) -> None:
        assert_error(
            cli("members", "list", "--account", "nope"), "no enterprise account named 'nope'"
        )


class TestAdd:
    def test_user_becomes_member(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount
    ) -> None:
        factories.user("bob@acme.example", password=None)

        result = cli.ok("members", "add", "Bob@Acme.example", "--account", "acme-corp",
                        "--permissions", "view,manage")  # fmt: skip

        assert result.stdout == "added bob@acme.example to acme-corp with view,manage\n"
        assert members_of(cli) == {"bob@acme.example": ["view", "manage"]}
        assert cli.json("mail", "outbox") == []  # a member is added, not invited

    def test_json_prints_the_membership(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount
    ) -> None:
        bob = factories.user("bob@acme.example", password=None)

        added = cli.json("members", "add", "bob@acme.example", "-a", "acme-corp", "-p", "billing")

        assert added["user"] == {"email": "bob@acme.example", "id": str(bob.id)}
        assert added["permissions"] == [{"name": "view"}, {"name": "billing"}]  # view is implied

    def test_default_permission_is_view(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount
    ) -> None:
        factories.user("bob@acme.example", password=None)

        cli.ok("members", "add", "bob@acme.example", "--account", "acme-corp")

        assert members_of(cli) == {"bob@acme.example": ["view"]}

    def test_email_without_user_gets_an_invitation_email(
        self, cli: Cli, acme: EnterpriseAccount
    ) -> None:
        result = cli.ok("members", "add", "new@acme.example", "--account", "acme-corp",
                        "--permissions", "view,manage")  # fmt: skip

        assert result.stdout == (
            "new@acme.example has no user yet: invited to acme-corp with view,manage "
            "(expires 2026-01-22)\n"
        )
        assert members_of(cli) == {}  # not a member until they accept
        [mail] = cli.json("mail", "outbox")
        assert mail["kind"] == "invitation"
        assert mail["to"] == ["new@acme.example"]
        assert mail["status"] == "pending"
        assert "https://keyholder.test/invitations/khi_" in mail["body"]
        assert "view, manage" in mail["body"]

    def test_invitation_as_json(self, cli: Cli, acme: EnterpriseAccount) -> None:
        added = cli.json("members", "add", "new@acme.example", "-a", "acme-corp", "-p", "create")

        invitation = added["invitation"]
        assert invitation["email"] == "new@acme.example"
        assert invitation["permissions"] == [{"name": "view"}, {"name": "create"}]
        assert invitation["expires_at"].startswith("2026-01-22T12:00:00")

    def test_unknown_permission_names_the_valid_ones(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount
    ) -> None:
        factories.user("bob@acme.example", password=None)

        result = cli("members", "add", "bob@acme.example", "-a", "acme-corp", "-p", "view,admin")

        assert_error(result, "'admin'", "valid permissions are: view, create, manage, billing")
        assert members_of(cli) == {}

    def test_already_a_member(self, cli: Cli, admin: str) -> None:
        result = cli("members", "add", admin, "-a", "acme-corp", "-p", "view")

        assert_error(result, "alice@acme.example is already a member of 'acme-corp'")
        assert members_of(cli) == {admin: ["view", "manage"]}

    def test_unknown_account(self, cli: Cli, factories: Factories) -> None:
        factories.user("bob@acme.example", password=None)

        result = cli("members", "add", "bob@acme.example", "--account", "nope")

        assert_error(result, "no enterprise account named 'nope'")
        assert cli.json("mail", "outbox") == []


class TestSet:
    def test_replaces_permissions(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount, admin: str
    ) -> None:
        bob = factories.user("bob@acme.example", password=None)
        factories.member(acme, bob, "view,billing")

        result = cli.ok("members", "set", "bob@acme.example", "-a", "acme-corp", "-p", "create")

        assert result.stdout == "bob@acme.example on acme-corp: view,create\n"
        assert members_of(cli)["bob@acme.example"] == ["view", "create"]

    def test_json(self, cli: Cli, admin: str) -> None:
        updated = cli.json("members", "set", admin, "-a", "acme-corp", "-p", "manage,billing")

        assert updated["permissions"] == [{"name": "view"}, {"name": "manage"}, {"name": "billing"}]

    def test_demoting_the_last_admin_is_refused_and_changes_nothing(
        self, cli: Cli, admin: str
    ) -> None:
        result = cli("members", "set", admin, "--account", "acme-corp", "--permissions", "view")

        assert_error(result, "last member of 'acme-corp' with the manage permission")
        assert members_of(cli) == {admin: ["view", "manage"]}
        assert cli.json("audit", "list", "--action", "member.update") == []

    def test_demoting_an_admin_when_another_remains(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount, admin: str
    ) -> None:
        factories.admin_of(acme, "bob@acme.example")

        warned = cli("members", "set", admin, "-a", "acme-corp", "-p", "view")
        assert_error(warned, "one admin left", "confirm")
        assert members_of(cli)[admin] == ["view", "manage"]
        cli.ok("members", "set", admin, "-a", "acme-corp", "-p", "view", "--confirm")

        assert members_of(cli) == {admin: ["view"], "bob@acme.example": ["view", "manage"]}

    def test_the_last_admin_steps_down_for_a_successor(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount, admin: str
    ) -> None:
        factories.member(acme, factories.user("bob@acme.example"), "view")

        cli.ok(
            "members",
            "set",
            admin,
            "-a",
            "acme-corp",
            "-p",
            "view",
            "--successor",
            "bob@acme.example",
        )

        assert members_of(cli) == {admin: ["view"], "bob@acme.example": ["view", "manage"]}

    def test_unknown_permission(self, cli: Cli, admin: str) -> None:
        result = cli("members", "set", admin, "-a", "acme-corp", "-p", "owner")

        assert_error(result, "'owner'", "valid permissions are: view, create, manage, billing")
        assert members_of(cli) == {admin: ["view", "manage"]}

    def test_not_a_member(self, cli: Cli, acme: EnterpriseAccount) -> None:
        result = cli("members", "set", "ghost@acme.example", "-a", "acme-corp", "-p", "view")

        assert_error(result, "ghost@acme.example is not a member of 'acme-corp'")

    def test_unknown_account(self, cli: Cli) -> None:
        result = cli("members", "set", "bob@acme.example", "-a", "nope", "-p", "view")

        assert_error(result, "no enterprise account named 'nope'")


class TestRemove:
    def test_removes_a_member(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount, admin: str
    ) -> None:
        bob = factories.user("bob@acme.example", password=None)
        factories.member(acme, bob, "view,create")

        result = cli.ok("members", "remove", "bob@acme.example", "--account", "acme-corp")

        assert result.stdout == "removed bob@acme.example from acme-corp\n"
        assert members_of(cli) == {admin: ["view", "manage"]}

    def test_removing_the_last_admin_is_refused_and_changes_nothing(
        self, cli: Cli, admin: str
    ) -> None:
        result = cli("members", "remove", admin, "--account", "acme-corp")

        assert_error(result, "cannot remove alice@acme.example", "last member", "manage")
        assert members_of(cli) == {admin: ["view", "manage"]}
        assert cli.json("audit", "list", "--action", "member.remove") == []

    def test_removing_an_admin_when_another_remains(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount, admin: str
    ) -> None:
        factories.admin_of(acme, "bob@acme.example")

        assert_error(cli("members", "remove", admin, "-a", "acme-corp"), "one admin left")
        cli.ok("members", "remove", admin, "-a", "acme-corp", "--confirm")

        assert members_of(cli) == {"bob@acme.example": ["view", "manage"]}

    def test_not_a_member(self, cli: Cli, admin: str) -> None:
        result = cli("members", "remove", "ghost@acme.example", "-a", "acme-corp")

        assert_error(result, "ghost@acme.example is not a member of 'acme-corp'")

    def test_unknown_account(self, cli: Cli) -> None:
        assert_error(cli("members", "remove", "bob@acme.example", "-a", "nope"), "'nope'")


class TestAcceptance:
    """The issue's acceptance line, on demo data."""

    def test_new_admin_added_on_demo_data_shows_in_members_and_audit(
        self, cli: Cli, dev_cli: Cli
    ) -> None:
        dev_cli.ok("demo")  # newperson@acme.example has a user but no account yet

        result = cli.ok("members", "add", "newperson@acme.example", "--account", "acme-corp",
                        "--permissions", "view,manage")  # fmt: skip

        assert result.stdout == "added newperson@acme.example to acme-corp with view,manage\n"
        assert members_of(cli) == {
            "alice@acme.example": ["view", "manage", "billing"],
            "bob@acme.example": ["view", "create"],
            "carol@acme.example": ["view", "billing"],
            "newperson@acme.example": ["view", "manage"],
        }
        [event] = cli.json("audit", "list", "--action", "member.add", "--limit", "1")
        assert event["target"] == "account:acme-corp/member:newperson@acme.example"
        assert event["after"] == {"permissions": ["view", "manage"]}
        assert event["actor"].startswith("cli:")
        newest = cli.ok("audit", "list", "--limit", "1").stdout.splitlines()[1]
        assert "member.add" in newest
        assert "account:acme-corp/member:newperson@acme.example" in newest
        assert "{'permissions': ['view', 'manage']}" in newest

    def test_adding_an_email_without_user_on_demo_data_invites_it(
        self, cli: Cli, dev_cli: Cli
    ) -> None:
        dev_cli.ok("demo")

        result = cli.ok("members", "add", "dave@acme.example", "--account", "acme-corp",
                        "--permissions", "view,manage")  # fmt: skip

        assert "dave@acme.example has no user yet: invited to acme-corp" in result.stdout
        assert "dave@acme.example" not in members_of(cli)
        [event] = cli.json("audit", "list", "--action", "invitation.create", "--limit", "1")
        assert event["target"].startswith("account:acme-corp/invitation:")
        assert event["after"]["email"] == "dave@acme.example"
        assert event["after"]["permissions"] == ["view", "manage"]
        assert cli.json("mail", "outbox", "--limit", "1")[0]["to"] == ["dave@acme.example"]
