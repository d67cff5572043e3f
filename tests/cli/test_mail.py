"""keyholder mail outbox|send."""

from __future__ import annotations

import pytest

from tests.cli import Cli, assert_error
from tests.factories import Factories


@pytest.fixture
def invited(cli: Cli, factories: Factories) -> list[str]:
    """Two invitations queued as emails, oldest first."""
    factories.account("acme-corp")
    emails = ["first@acme.example", "second@acme.example"]
    for email in emails:
        cli.ok("members", "add", email, "--account", "acme-corp", "--permissions", "manage")
    return emails


class TestOutbox:
    def test_json_newest_first(self, cli: Cli, invited: list[str]) -> None:
        messages = cli.json("mail", "outbox")

        assert [m["to"] for m in messages] == [["second@acme.example"], ["first@acme.example"]]
        newest = messages[0]
        assert newest["kind"] == "invitation"
        assert newest["status"] == "pending"
        assert newest["attempts"] == 0
        assert newest["last_error"] is None
        assert newest["subject"].startswith("You are invited to the ")
        assert "https://keyholder.test/invitations/khi_" in newest["body"]
        assert newest["message_id"].startswith("<")
        assert newest["message_id"].endswith("@keyholder.test>")

    def test_filters_by_status_and_limits(self, cli: Cli, invited: list[str]) -> None:
        assert cli.json("mail", "outbox", "--status", "sent") == []
        assert len(cli.json("mail", "outbox", "--status", "pending")) == 2
        assert [m["to"] for m in cli.json("mail", "outbox", "--limit", "1")] == [
            ["second@acme.example"]
        ]

    def test_unknown_status_is_a_usage_error(self, cli: Cli) -> None:
        result = cli("mail", "outbox", "--status", "lost")

        assert result.exit_code == 2
        assert "lost" in result.stderr

    def test_table(self, cli: Cli, invited: list[str]) -> None:
        lines = cli.ok("mail", "outbox").stdout.splitlines()

        assert lines[0].split() == ["ID", "STATUS", "KIND", "TO", "SUBJECT"]
        assert lines[1].split()[1:4] == ["pending", "invitation", "second@acme.example"]
        assert lines[2].split()[1:4] == ["pending", "invitation", "first@acme.example"]
        assert len(lines) == 3

    def test_full_prints_whole_messages(self, cli: Cli, invited: list[str]) -> None:
        [newest] = cli.json("mail", "outbox", "--limit", "1")

        out = cli.ok("mail", "outbox", "--full", "--limit", "1").stdout

        assert out.startswith(f"--- #{newest['id']} pending {newest['message_id']}\n")
        assert f"To: second@acme.example\nSubject: {newest['subject']}\n\n" in out
        assert newest["body"] in out


class TestSend:
    def test_without_smtp_mail_stays_queued(
        self, cli: Cli, factories: Factories, invited: list[str]
    ) -> None:
        result = cli("mail", "send")

        assert_error(result, "KEYHOLDER_SMTP_URL is not set")
        assert len(cli.json("mail", "outbox", "--status", "pending")) == 2
