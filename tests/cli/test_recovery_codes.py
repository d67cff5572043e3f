"""keyholder accounts recovery-codes generate|status."""

from __future__ import annotations

import re

from tests.cli import Cli, assert_error

CODE = re.compile(r"^  [0-9a-f]{4}(-[0-9a-f]{4}){5}$")


def acme(factories):
    account = factories.account("acme-corp", domains=["acme.example"])
    return factories.admin_of(account, "admin@acme.example")


class TestGenerate:
    def test_prints_the_codes_once_and_voids_the_old_set(self, cli: Cli, factories, outbox):
        acme(factories)

        result = cli.ok("accounts", "recovery-codes", "generate", "acme-corp",
                        "--as", "admin@acme.example")  # fmt: skip

        lines = result.stdout.splitlines()
        assert lines[0].startswith("recovery codes for acme-corp (shown once")
        assert len(lines) == 11
        assert all(CODE.match(line) for line in lines[1:])
        again = cli.json("accounts", "recovery-codes", "generate", "acme-corp",
                         "--as", "admin@acme.example")  # fmt: skip
        assert again["account"] == "acme-corp"
        assert len(again["codes"]) == 10
        assert not {c.strip() for c in lines[1:]} & set(again["codes"])
        assert len(outbox.of_kind("account_recovery_codes_generated")) == 2

    def test_a_member_without_manage_is_refused_in_one_line(self, cli: Cli, factories):
        account = factories.account("acme-corp", domains=["acme.example"])
        factories.member(account, factories.user("viewer@acme.example"))

        result = cli("accounts", "recovery-codes", "generate", "acme-corp",
                     "--as", "viewer@acme.example")  # fmt: skip

        assert_error(result, "manage")

    def test_an_unknown_user_is_refused(self, cli: Cli, factories):
        acme(factories)

        result = cli("accounts", "recovery-codes", "generate", "acme-corp",
                     "--as", "nobody@acme.example")  # fmt: skip

        assert_error(result, "no user with email nobody@acme.example")

    def test_as_is_required(self, cli: Cli, factories):
        acme(factories)

        result = cli("accounts", "recovery-codes", "generate", "acme-corp")

        assert result.exit_code != 0
        assert "--as" in result.stderr


class TestStatus:
    def test_none_then_codes_left(self, cli: Cli, factories):
        acme(factories)
        assert cli.ok("accounts", "recovery-codes", "status", "acme-corp").stdout == (
            "acme-corp: no recovery codes generated\n"
        )

        cli.ok("accounts", "recovery-codes", "generate", "acme-corp", "--as", "admin@acme.example")

        shown = cli.json("accounts", "recovery-codes", "status", "acme-corp")
        assert shown["codes_left"] == 10
        assert shown["generated_at"]
