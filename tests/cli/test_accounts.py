"""keyholder accounts create|list|show."""

from __future__ import annotations

import pytest

from tests.cli import Cli, assert_error

ACME = (
    "accounts", "create", "acme-corp",
    "--contract", "ENT-2024-001234",
    "--display-name", "Acme Corporation",
    "--domain", "acme.example",
    "--domain", "acme-corp.example",
    "--contact", "executive:Dana Whitfield:Chief Executive Officer:dana@acme.example",
    "--contact", "billing:Priya Nair:Controller:billing@acme.example",
)  # fmt: skip


class TestCreate:
    def test_creates_account_with_domains_and_contacts(self, cli: Cli) -> None:
        result = cli.ok(*ACME)

        assert result.stdout == "created account acme-corp (contract ENT-2024-001234)\n"
        shown = cli.json("accounts", "show", "acme-corp")
        assert shown["name"] == "acme-corp"
        assert shown["display_name"] == "Acme Corporation"
        assert shown["contract_number"] == "ENT-2024-001234"
        assert sorted(d["domain"] for d in shown["domains"]) == [
            "acme-corp.example",
            "acme.example",
        ]
        assert all(d["verified_at"] for d in shown["domains"])  # the operator vouches for them
        assert {(c["kind"], c["name"], c["title"], c["email"]) for c in shown["contacts"]} == {
            ("executive", "Dana Whitfield", "Chief Executive Officer", "dana@acme.example"),
            ("billing", "Priya Nair", "Controller", "billing@acme.example"),
        }

    def test_json_prints_the_created_account(self, cli: Cli) -> None:
        created = cli.json(*ACME)

        assert created["name"] == "acme-corp"
        assert created["contract_number"] == "ENT-2024-001234"
        assert [c["kind"] for c in created["contacts"]] == ["executive", "billing"]
        assert cli.json("accounts", "show", "acme-corp")["id"] == created["id"]

    def test_display_name_defaults_to_name(self, cli: Cli) -> None:
        created = cli.json("accounts", "create", "globex", "--contract", "ENT-2024-000002")

        assert created["display_name"] == "globex"
        assert created["domains"] == []
        assert created["contacts"] == []

    @pytest.mark.parametrize(
        "contact",
        ["executive:Dana Whitfield:dana@acme.example", "executive:Dana::dana@acme.example", "x"],
    )
    def test_bad_contact_syntax_is_one_line_error_and_creates_nothing(
        self, cli: Cli, contact: str
    ) -> None:
        result = cli("accounts", "create", "acme-corp", "--contract", "ENT-1", "--contact", contact)

        assert_error(result, "--contact", "KIND:NAME:TITLE:EMAIL")
        assert cli.json("accounts", "list") == []

    def test_unknown_contact_kind_names_the_valid_kinds(self, cli: Cli) -> None:
        result = cli(
            "accounts", "create", "acme-corp", "--contract", "ENT-1",
            "--contact", "ceo:Dana:CEO:dana@acme.example",
        )  # fmt: skip

        assert_error(result, "'ceo'", "billing, security, executive")
        assert cli.json("accounts", "list") == []

    def test_duplicate_name_is_refused(self, cli: Cli) -> None:
        cli.ok(*ACME)

        result = cli("accounts", "create", "acme-corp", "--contract", "ENT-2024-999999")

        assert_error(result, "acme-corp", "already exists")
        assert [a["contract_number"] for a in cli.json("accounts", "list")] == ["ENT-2024-001234"]

    def test_duplicate_contract_number_is_refused(self, cli: Cli) -> None:
        cli.ok(*ACME)

        # Contract numbers are compared in their canonical upper-case form.
        result = cli("accounts", "create", "acme-two", "--contract", "ent-2024-001234")

        assert_error(result, "ENT-2024-001234", "belongs to another account")
        assert [a["name"] for a in cli.json("accounts", "list")] == ["acme-corp"]

    def test_invalid_name_is_refused(self, cli: Cli) -> None:
        result = cli("accounts", "create", "Acme Corp!", "--contract", "ENT-1")

        assert_error(result, "not a valid account name")

    def test_missing_contract_is_a_usage_error(self, cli: Cli) -> None:
        result = cli("accounts", "create", "acme-corp")

        assert result.exit_code == 2
        assert "--contract" in result.stderr
        assert cli.json("accounts", "list") == []


class TestList:
    def test_empty(self, cli: Cli) -> None:
        assert cli.json("accounts", "list") == []
        assert cli.ok("accounts", "list").stdout.split() == [
            "NAME",
            "DISPLAY",
            "NAME",
            "CONTRACT",
            "DOMAINS",
        ]

    def test_lists_accounts_by_name(self, cli: Cli) -> None:
        cli.ok("accounts", "create", "zeta", "--contract", "ENT-2024-000009")
        cli.ok(*ACME)

        listed = cli.json("accounts", "list")

        assert [a["name"] for a in listed] == ["acme-corp", "zeta"]
        assert listed[0]["display_name"] == "Acme Corporation"
        assert {d["domain"] for d in listed[0]["domains"]} == {"acme.example", "acme-corp.example"}

    def test_table_has_a_row_per_account(self, cli: Cli) -> None:
        cli.ok(*ACME)
        cli.ok("accounts", "create", "zeta", "--contract", "ENT-2024-000009")

        lines = cli.ok("accounts", "list").stdout.splitlines()

        assert lines[0].split() == ["NAME", "DISPLAY", "NAME", "CONTRACT", "DOMAINS"]
        assert lines[1].split() == [
            "acme-corp", "Acme", "Corporation", "ENT-2024-001234", "acme-corp.example,acme.example",
        ]  # fmt: skip
        assert lines[2].split() == ["zeta", "zeta", "ENT-2024-000009"]  # no domains: blank
        assert len(lines) == 3


class TestShow:
    def test_text(self, cli: Cli) -> None:
        cli.ok(*ACME)

        out = cli.ok("accounts", "show", "acme-corp").stdout

        assert "name:          acme-corp\n" in out
        assert "display name:  Acme Corporation\n" in out
        assert "contract:      ENT-2024-001234\n" in out
        assert "created:       2026-01-15 12:00:00 UTC\n" in out  # the fixed test clock
        assert "domain:        acme.example (verified)\n" in out
        assert (
            "contact:       executive: Dana Whitfield, Chief Executive Officer "
            "<dana@acme.example>\n" in out
        )

    def test_json(self, cli: Cli) -> None:
        cli.ok(*ACME)

        shown = cli.json("accounts", "show", "acme-corp")

        assert shown["name"] == "acme-corp"
        assert shown["created_at"].startswith("2026-01-15T12:00:00")

    @pytest.mark.parametrize("as_json", [False, True])
    def test_unknown_account(self, cli: Cli, as_json: bool) -> None:
        result = cli("accounts", "show", "nope", *(["--json"] if as_json else []))

        assert_error(result, "no enterprise account named 'nope'")
