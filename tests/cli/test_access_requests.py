"""keyholder access-requests list|show|approve|reject|request-info."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keyholder.access.states import RequestState
from tests.access.flow import Story
from tests.cli import Cli, assert_error


@pytest.fixture
def story(runtime, factories):
    return Story.begin(runtime, factories)


def test_list_and_show_with_the_risk_summary(cli: Cli, story: Story) -> None:
    request_id = story.submit(contract_number="ENT-0000-000001")
    story.confirm(request_id)
    listed = cli.json("access-requests", "list")
    assert [r["id"] for r in listed] == [str(request_id)]
    out = cli.ok("access-requests", "show", str(request_id)).stdout
    assert "(in_review)" in out
    assert "proofs:      MISSING" in out  # S23b
    assert "customer can: the executive on record opens the confirmation link" in out
    evidence = out.split("evidence:\n")[1].splitlines()
    assert evidence[0].split()[:2] == ["fail", "contract_number"]


def test_two_named_reviewers_approve(cli: Cli, story: Story) -> None:
    request_id = story.submit()
    story.confirm(request_id)
    first, second = (r.email for r in story.reviewers)
    assert (
        "approved_once"
        in cli.ok("access-requests", "approve", str(request_id), "--as", first).stdout
    )
    assert_error(
        cli("access-requests", "approve", str(request_id), "--as", first), "different reviewer"
    )
    # S23b: no second approval before a proof from outside the request, note or not.
    refused = cli("access-requests", "approve", str(request_id), "--as", second, "--note", "ok")
    assert_error(refused, "S23b")
    story.executive_answers(request_id, confirm=True)
    assert (
        "cooling_off"
        in cli.ok("access-requests", "approve", str(request_id), "--as", second).stdout
    )


def test_reject_and_request_info_need_words_for_the_requester(cli: Cli, story: Story) -> None:
    request_id = story.submit()
    story.confirm(request_id)
    reviewer = story.reviewers[0].email
    cli.ok(
        "access-requests", "request-info", str(request_id), "--as", reviewer,
        "--message", "Please send the signed original",
    )  # fmt: skip
    assert story.request(request_id).state is RequestState.NEEDS_INFO
    cli.ok("access-requests", "reject", str(request_id), "--as", reviewer, "--reason", "No reply")
    assert story.request(request_id).state is RequestState.REJECTED


def test_bad_id_and_non_staff_are_one_line_errors(cli: Cli, story: Story, factories) -> None:
    assert_error(cli("access-requests", "show", "nope"), "not a request id")
    request_id = story.submit()
    customer = factories.user("carol@acme.example")
    assert_error(
        cli("access-requests", "approve", str(request_id), "--as", customer.email),
        "not a staff member",
    )


def test_worker_once_grants_what_is_due(cli: Cli, story: Story) -> None:
    request_id = story.ready()
    out = cli.ok("worker", "--once")
    assert "0 access requests executed" in out.stdout
    assert "mail stays in the outbox" in out.stderr
    story.runtime.clock.advance(story.runtime.settings.cooling_off)
    assert "1 access requests executed" in cli.ok("worker", "--once").stdout
    assert story.request(request_id).state is RequestState.EXECUTED


def test_purge_due_lists_then_deletes_what_is_past_its_retention(cli: Cli, story: Story) -> None:
    request_id = story.ready()
    story.execute_after_cooling_off(request_id)
    assert cli.ok("access-requests", "purge-due", "--dry-run").stdout.endswith(
        "0 request(s) past their retention of 90 days\n"
    )
    story.runtime.clock.advance(timedelta(days=90))  # type: ignore[attr-defined]
    listed = cli.ok("access-requests", "purge-due", "--dry-run").stdout
    assert str(request_id) in listed
    assert story.request(request_id).purged_at is None  # a dry run deletes nothing
    assert cli.ok("access-requests", "purge-due").stdout == "purged 1 request(s)\n"
    assert story.request(request_id).purged_at is not None
