"""Each composite page reads what it shows in one transaction (issue 16, one read model per page).

Counted as the database transactions a page opens beyond those of a page that
runs no use case (signing the visitor in from their session cookie): one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event

from keyholder.desk.links import ticket_path
from keyholder.identity.models import StaffRole
from tests.access.flow import Story
from tests.factories import PASSWORD
from tests.web.ui.pages import sign_in_staff

BASELINE = "/help/no-admin"  # renders for the signed-in visitor, asks no use case


@contextmanager
def counting_transactions(engine: Engine) -> Iterator[list[int]]:
    begun = [0]

    def count(_connection: object) -> None:
        begun[0] += 1

    event.listen(engine, "begin", count)
    try:
        yield begun
    finally:
        event.remove(engine, "begin", count)


def transactions_of(browser, engine: Engine, path: str) -> int:
    """How many transactions a GET of ``path`` opens beyond signing the visitor in."""
    counts = []
    for page in (BASELINE, path):
        with counting_transactions(engine) as begun:
            response = browser.get(page)
        assert response.status_code == 200, (page, response.text)
        counts.append(begun[0])
    return counts[1] - counts[0]


@pytest.fixture
def acme(factories):
    account = factories.account("acme-corp")
    alice = factories.user("alice@acme.example", password=PASSWORD)
    factories.member(account, alice, "view,manage")
    bob = factories.user("bob@acme.example", password=PASSWORD)
    factories.member(account, bob, "view,create")
    return account


class TestAccountPages:
    @pytest.mark.parametrize("reader", ["alice@acme.example", "bob@acme.example"])
    def test_the_account_page_is_one_transaction(self, browser, runtime, acme, reader):
        browser.sign_in(reader)
        assert transactions_of(browser, runtime.engine, "/accounts/acme-corp") == 1

    def test_my_accounts_is_one_transaction(self, browser, runtime, acme):
        browser.sign_in("bob@acme.example")
        assert transactions_of(browser, runtime.engine, "/accounts") == 1


class TestTicketPages:
    def test_a_customer_ticket_page_is_one_transaction(self, browser, runtime, factories):
        carol = factories.user("carol@acme.example", password=PASSWORD)
        ticket = factories.ticket(carol)
        browser.sign_in(carol.email)
        assert transactions_of(browser, runtime.engine, f"/tickets/{ticket.id}") == 1

    @pytest.mark.parametrize("query", ["", "?canned=missing"])
    def test_a_desk_ticket_page_is_one_transaction(self, browser, runtime, factories, clock, query):
        ticket = factories.ticket(factories.user("carol@acme.example"))
        agent = factories.user(
            "agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT
        )
        sign_in_staff(browser, agent, clock)
        path = f"/desk/tickets/{ticket.id}{query}"
        assert transactions_of(browser, runtime.engine, path) == 1

    def test_a_ticket_page_by_link_is_one_transaction(self, browser, runtime, factories):
        ticket = factories.ticket(factories.user("carol@acme.example"))
        path = ticket_path(runtime.settings, ticket.id, ticket.requester_email)
        assert transactions_of(browser, runtime.engine, path) == 1


class TestDeskPages:
    def test_the_queue_is_one_transaction(self, browser, runtime, factories, clock):
        factories.ticket(factories.user("carol@acme.example"))
        agent = factories.user(
            "agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT
        )
        sign_in_staff(browser, agent, clock)
        assert transactions_of(browser, runtime.engine, "/desk?status=new") == 1


class TestReviewPage:
    def test_the_review_page_is_one_transaction(self, browser, runtime, factories, clock):
        request_id = Story.begin(runtime, factories).submit()
        reviewer = factories.user(
            "rene@keyholder.example", password=PASSWORD, staff_role=StaffRole.REVIEWER
        )
        sign_in_staff(browser, reviewer, clock)
        path = f"/desk/access-requests/{request_id}"
        assert transactions_of(browser, runtime.engine, path) == 1
