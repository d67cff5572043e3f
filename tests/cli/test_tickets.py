"""keyholder tickets list|show."""

from __future__ import annotations

from keyholder.desk import service
from tests.cli import Cli, assert_error
from tests.factories import Factories


def test_list_shows_newest_open_tickets(cli: Cli, factories: Factories) -> None:
    carol = factories.user("carol@customer.example")
    older = factories.ticket(carol, subject="Older")
    newer = factories.ticket(carol, subject="Newer")
    listed = cli.json("tickets", "list")
    assert [t["number"] for t in listed] == [newer.id, older.id]
    table = cli.ok("tickets", "list").stdout
    assert "Newer" in table
    assert "carol@customer.example" in table
    assert cli.json("tickets", "list", "--state", "done") == []


def test_show_marks_internal_notes(cli: Cli, factories: Factories) -> None:
    agent = factories.staff("agent@example.com")
    ticket = factories.ticket(subject="Locked out")
    service.add_internal_note(
        factories.runtime.uow(), ticket.id, body="Check the contract", actor=factories.actor(agent)
    )
    out = cli.ok("tickets", "show", str(ticket.id)).stdout
    assert f"#{ticket.id} Locked out" in out
    assert "(INTERNAL NOTE, via api)" in out
    assert "Check the contract" in out
    shown = cli.json("tickets", "show", str(ticket.id))
    assert [m["visibility"] for m in shown["messages"]] == ["public", "internal"]


def test_unknown_ticket_is_a_one_line_error(cli: Cli) -> None:
    assert_error(cli("tickets", "show", "4242"), "no ticket #4242")


def test_a_number_no_ticket_can_have_is_a_usage_error(cli: Cli) -> None:
    """S39: past the column's range, a usage error, not a driver's overflow."""
    for number in ["0", str(2**31), str(2**63)]:
        result = cli("tickets", "show", number)
        assert result.exit_code == 2, result.stderr
        assert "Invalid value" in result.stderr
        assert "Traceback" not in result.stderr
