"""keyholder audit list|verify (the deeper chain tests live in tests/audit)."""

from __future__ import annotations

from sqlalchemy import text

from keyholder.bootstrap import Runtime
from tests.cli import Cli, assert_error


def make_history(cli: Cli) -> None:
    cli.ok("accounts", "create", "acme-corp", "--contract", "ENT-2024-001234")
    cli.ok("users", "create", "alice@acme.example")
    cli.ok("members", "add", "alice@acme.example", "-a", "acme-corp", "-p", "manage")


class TestList:
    def test_json_newest_first(self, cli: Cli) -> None:
        make_history(cli)

        events = cli.json("audit", "list")

        assert [(e["seq"], e["action"]) for e in events] == [
            (3, "member.add"),
            (2, "user.create"),
            (1, "account.create"),
        ]
        newest = events[0]
        assert newest["target"] == "account:acme-corp/member:alice@acme.example"
        assert newest["before"] is None
        assert newest["after"] == {"permissions": ["view", "manage"]}
        assert newest["at"].startswith("2026-01-15T12:00:00")
        assert newest["actor"].startswith("cli:")
        assert len(newest["hash"]) == 64

    def test_filters_and_limit(self, cli: Cli) -> None:
        make_history(cli)

        by_target = cli.json("audit", "list", "--target", "account:acme-corp")
        by_action = cli.json("audit", "list", "--action", "user.create")
        limited = cli.json("audit", "list", "--limit", "2")

        assert [e["action"] for e in by_target] == ["account.create"]
        assert [e["target"] for e in by_action] == ["user:alice@acme.example"]
        assert [e["seq"] for e in limited] == [3, 2]

    def test_table(self, cli: Cli) -> None:
        make_history(cli)

        lines = cli.ok("audit", "list").stdout.splitlines()

        assert lines[0].split() == ["SEQ", "AT", "ACTOR", "ACTION", "TARGET", "CHANGE"]
        seq, at, actor, action, target = lines[1].split()[:5]
        assert (seq, at, action) == ("3", "2026-01-15T12:00:00", "member.add")
        assert actor.startswith("cli:")
        assert target == "account:acme-corp/member:alice@acme.example"
        assert lines[1].endswith("{'permissions': ['view', 'manage']}")
        assert len(lines) == 4

    def test_empty_log(self, cli: Cli) -> None:
        assert cli.json("audit", "list") == []


class TestVerify:
    def test_intact_chain_exits_0(self, cli: Cli) -> None:
        make_history(cli)

        result = cli.ok("audit", "verify")

        assert result.stdout == "audit chain intact: 3 events\n"

    def test_edited_row_exits_1_naming_the_first_bad_event(
        self, cli: Cli, runtime: Runtime
    ) -> None:
        make_history(cli)
        with runtime.engine.begin() as connection:
            connection.execute(text("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 2"))

        result = cli("audit", "verify")

        assert_error(
            result,
            "audit chain broken at event #2: content does not match its hash",
            "(1 events before it are intact)",
        )
