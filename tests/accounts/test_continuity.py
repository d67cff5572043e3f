"""Admin continuity (issue 18 item 2): the banner's flag and the single-admin reminder job."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from keyholder.accounts import members, overview
from keyholder.accounts.continuity import remind_single_admins
from keyholder.worker import REMINDER_PAGE, run_jobs_once
from tests.factories import OPERATOR


@pytest.fixture
def acme(factories):
    return factories.account("acme-corp")


def reminders(outbox):
    return outbox.of_kind("admin_continuity_reminder")


class TestOneAdminLeftFlag:
    def test_a_member_is_told_when_one_admin_is_left(self, runtime, factories, acme):
        factories.admin_of(acme, "alice@acme.example")
        bob = factories.user("bob@acme.example")
        factories.member(acme, bob)
        page = overview.account_overview(runtime.uow(), "acme-corp", actor=factories.actor(bob))
        assert page.one_admin_left

    def test_two_admins_need_no_banner(self, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        factories.admin_of(acme, "bob@acme.example")
        page = overview.account_overview(runtime.uow(), "acme-corp", actor=factories.actor(alice))
        assert not page.one_admin_left

    def test_a_deactivated_second_admin_does_not_count(self, runtime, factories, acme):
        alice = factories.admin_of(acme, "alice@acme.example")
        bob = factories.admin_of(acme, "bob@acme.example")
        deactivate(runtime, bob)
        page = overview.account_overview(runtime.uow(), "acme-corp", actor=factories.actor(alice))
        assert page.one_admin_left


def deactivate(runtime, user):
    from keyholder.identity.models import User  # noqa: PLC0415

    with runtime.uow() as uow:
        stored = uow.session.get(User, user.id)
        stored.is_active = False
        uow.commit()


class TestReminderJob:
    def test_the_single_admin_is_reminded(self, runtime, factories, acme, outbox):
        factories.admin_of(acme, "alice@acme.example")
        factories.member(acme, factories.user("bob@acme.example"))
        assert remind_single_admins(runtime.uow) == 1
        [mail] = reminders(outbox)
        assert mail.recipients == ["alice@acme.example"]
        assert "add a second" in mail.subject
        assert "https://keyholder.test/accounts/acme-corp" in mail.body

    def test_at_most_once_per_interval(self, runtime, factories, acme, outbox):
        factories.admin_of(acme, "alice@acme.example")
        every = runtime.settings.admin_continuity_reminder_every
        assert remind_single_admins(runtime.uow) == 1
        assert remind_single_admins(runtime.uow) == 0
        runtime.clock.advance(every - timedelta(seconds=1))
        assert remind_single_admins(runtime.uow) == 0
        runtime.clock.advance(timedelta(seconds=1))
        assert remind_single_admins(runtime.uow) == 1
        assert len(reminders(outbox)) == 2

    def test_it_stops_once_there_are_two_admins(self, runtime, factories, acme, outbox):
        factories.admin_of(acme, "alice@acme.example")
        assert remind_single_admins(runtime.uow) == 1
        factories.admin_of(acme, "bob@acme.example")
        runtime.clock.advance(runtime.settings.admin_continuity_reminder_every * 3)
        assert remind_single_admins(runtime.uow) == 0
        assert len(reminders(outbox)) == 1

    def test_it_starts_again_when_one_of_two_leaves(self, runtime, factories, acme, outbox):
        factories.admin_of(acme, "alice@acme.example")
        factories.admin_of(acme, "bob@acme.example")
        assert remind_single_admins(runtime.uow) == 0
        members.remove_member(
            runtime.uow(), "acme-corp", "bob@acme.example", actor=OPERATOR, confirm=True
        )
        assert remind_single_admins(runtime.uow) == 1

    def test_accounts_without_admin_or_with_a_deactivated_one_get_nothing(
        self, runtime, factories, acme, outbox
    ):
        factories.account("empty-corp")
        assert remind_single_admins(runtime.uow) == 0
        factories.admin_of(acme, "alice@acme.example")
        bob = factories.admin_of(acme, "bob@acme.example")
        deactivate(runtime, bob)
        assert remind_single_admins(runtime.uow) == 1  # alice is the only one who can act
        assert reminders(outbox)[0].recipients == ["alice@acme.example"]

    def test_the_worker_runs_it(self, runtime, factories, acme, outbox):
        factories.admin_of(acme, "alice@acme.example")
        assert run_jobs_once(runtime).reminded == 1
        assert run_jobs_once(runtime).reminded == 0

    def test_the_worker_sweeps_hourly_unless_reminders_are_waiting(
        self, runtime, factories, acme, outbox, clock
    ):
        # Finding the accounts due scans every admin: not on every 15-second pass.
        factories.admin_of(acme, "alice@acme.example")
        assert run_jobs_once(runtime).reminded == 1
        other = factories.account("other-corp")
        factories.admin_of(other, "olga@other.example")
        assert run_jobs_once(runtime).reminded == 0  # swept a moment ago
        clock.advance(timedelta(hours=1))
        assert run_jobs_once(runtime).reminded == 1

    def test_a_full_page_of_reminders_sweeps_again_on_the_next_pass(
        self, runtime, factories, outbox
    ):
        for n in range(REMINDER_PAGE + 5):
            account = factories.account(f"single-{n}")
            factories.admin_of(account, f"admin{n}@single.example")
        assert run_jobs_once(runtime).reminded == REMINDER_PAGE
        assert run_jobs_once(runtime).reminded == 5

    def test_workers_running_at_once_send_one_reminder(self, runtime, factories, acme, outbox):
        """Several worker processes on one database: the claim makes one of them send it."""
        for n in range(5):
            account = factories.account(f"single-{n}")
            factories.admin_of(account, f"admin{n}@single.example")
        barrier = threading.Barrier(4)
        sent: list[int] = []

        def worker() -> None:
            barrier.wait()
            sent.append(remind_single_admins(runtime.uow))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(sent) == 5
        assert sorted(r for m in reminders(outbox) for r in m.recipients) == [
            f"admin{n}@single.example" for n in range(5)
        ]
