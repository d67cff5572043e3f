"""Email verification and email change (identity.verification): SECURITY.md S5, S9, S11, S17."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from keyholder.audit.service import list_events
from keyholder.bootstrap import Runtime
from keyholder.clock import FixedClock
from keyholder.errors import AlreadyExists, Conflict, Gone, NotFound, PermissionDenied
from keyholder.identity.models import User
from keyholder.identity.reset import request_password_reset, reset_password
from keyholder.identity.service import find_user
from keyholder.identity.verification import (
    confirm_email_change,
    issue_verification_link,
    request_email_change,
    send_verification,
    verify_email,
)
from keyholder.mail.models import OutboxMessage
from tests.cli import Cli, assert_error
from tests.factories import OPERATOR, PASSWORD, Factories

CARA = "cara@customer.example"
NEW = "cara@new.example"
VERIFY_LINK = re.compile(r"https://keyholder\.test/verify-email/(khv_[A-Za-z0-9_-]+)")
CHANGE_LINK = re.compile(r"https://keyholder\.test/confirm-email-change/(khv_[A-Za-z0-9_-]+)")
RESET_LINK = re.compile(r"https://keyholder\.test/reset/(khr_[A-Za-z0-9_-]+)")


def mails(runtime: Runtime, kind: str) -> list[OutboxMessage]:
    with runtime.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
            )
        )


def last_token(runtime: Runtime, kind: str, link: re.Pattern[str]) -> str:
    match = link.search(mails(runtime, kind)[-1].body)
    assert match, mails(runtime, kind)[-1].body
    return match.group(1)


def user_row(runtime: Runtime, email: str) -> User:
    with runtime.uow(read_only=True) as uow:
        user = find_user(uow, email)
        assert user is not None
        return user


@pytest.fixture
def cli(runtime: Runtime) -> Cli:
    return Cli(runtime)


@pytest.fixture
def cara(factories: Factories) -> User:
    return factories.user(CARA, password=PASSWORD, name="Cara")


@pytest.fixture
def unverified(runtime: Runtime, cara: User) -> User:
    with runtime.uow() as uow:
        uow.session.execute(update(User).where(User.id == cara.id).values(email_verified_at=None))
        uow.commit()
    return user_row(runtime, CARA)


def send(runtime: Runtime, factories: Factories, user: User) -> str:
    send_verification(runtime.uow(), actor=factories.actor(user))
    return last_token(runtime, "email_verification", VERIFY_LINK)


def change(runtime: Runtime, factories: Factories, user: User, email: str = NEW) -> str:
    request_email_change(
        runtime.uow(),
        email,
        actor=factories.actor(user),
        password=PASSWORD,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )
    return last_token(runtime, "email_change_confirm", CHANGE_LINK)


# --- verification ------------------------------------------------------------------


def test_users_created_by_the_operator_are_verified_and_get_no_link(
    runtime: Runtime, factories: Factories, cara: User
) -> None:
    assert cara.email_verified_at is not None
    with pytest.raises(Conflict):
        send_verification(runtime.uow(), actor=factories.actor(cara))
    assert mails(runtime, "email_verification") == []


def test_s11_verification_link_works_once(
    runtime: Runtime, factories: Factories, unverified: User
) -> None:
    token = send(runtime, factories, unverified)
    mail = mails(runtime, "email_verification")[-1]
    assert mail.recipients == [CARA]
    assert mail.holds_secret
    verify_email(runtime.uow(), token)
    assert user_row(runtime, CARA).email_verified_at == runtime.clock.now()
    with pytest.raises(Gone):
        verify_email(runtime.uow(), token)
    actions = [event.action for event in list_events(runtime.uow())]
    assert "email_verification.complete" in actions
    assert "email_verification.failed" in actions


def test_s11_verification_link_only_for_its_purpose(
    runtime: Runtime, factories: Factories, unverified: User
) -> None:
    token = send(runtime, factories, unverified)
    with pytest.raises(NotFound):
        reset_password(
            runtime.uow(), token, "a brand new pass phrase", hasher=runtime.password_hasher
        )
    with pytest.raises(NotFound):
        confirm_email_change(runtime.uow(), token)  # not an email change link
    verify_email(runtime.uow(), token)  # still unused, so it works


def test_s11_reset_and_change_links_do_not_verify(
    runtime: Runtime, factories: Factories, cara: User
) -> None:
    request_password_reset(runtime.uow(), CARA, limiter=runtime.rate_limiter)
    reset_token = last_token(runtime, "password_reset", RESET_LINK)
    with pytest.raises(NotFound):
        verify_email(runtime.uow(), reset_token)
    change_token = change(runtime, factories, cara)
    with pytest.raises(NotFound):
        verify_email(runtime.uow(), change_token)
    with pytest.raises(NotFound):
        verify_email(runtime.uow(), "khv_made-up")


def test_s9_newer_verification_link_kills_older(
    runtime: Runtime, factories: Factories, unverified: User
) -> None:
    older = send(runtime, factories, unverified)
    newer = send(runtime, factories, unverified)
    with pytest.raises(Gone):
        verify_email(runtime.uow(), older)
    verify_email(runtime.uow(), newer)


def test_s8_verification_link_expires(
    runtime: Runtime, clock: FixedClock, factories: Factories, unverified: User
) -> None:
    token = send(runtime, factories, unverified)
    clock.advance(runtime.settings.email_verification_ttl + timedelta(seconds=1))
    with pytest.raises(Gone):
        verify_email(runtime.uow(), token)
    assert user_row(runtime, CARA).email_verified_at is None


def test_s9_verification_link_dies_when_the_email_changes(
    runtime: Runtime, factories: Factories, unverified: User, clock: FixedClock
) -> None:
    token = send(runtime, factories, unverified)
    clock.advance(timedelta(minutes=1))
    confirm_email_change(runtime.uow(), change(runtime, factories, unverified))
    with pytest.raises(Gone):
        verify_email(runtime.uow(), token)


# --- email change ------------------------------------------------------------------


def test_s17_email_change_needs_the_current_password(
    runtime: Runtime, factories: Factories, cara: User
) -> None:
    with pytest.raises(PermissionDenied):
        request_email_change(
            runtime.uow(),
            NEW,
            actor=factories.actor(cara),
            password="not the password",
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
    assert mails(runtime, "email_change_confirm") == []
    assert mails(runtime, "email_change_requested") == []
    actions = [event.action for event in list_events(runtime.uow())]
    assert "user.email_change_refused" in actions


def test_s17_operator_without_a_user_cannot_change_emails(runtime: Runtime) -> None:
    with pytest.raises(PermissionDenied):
        request_email_change(
            runtime.uow(),
            NEW,
            actor=OPERATOR,
            password=PASSWORD,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )


def test_s5_email_change_notifies_old_address_and_new_address_must_confirm(
    runtime: Runtime, factories: Factories, cara: User, clock: FixedClock
) -> None:
    token = change(runtime, factories, cara)
    confirm = mails(runtime, "email_change_confirm")[-1]
    assert confirm.recipients == [NEW]
    assert confirm.holds_secret
    requested = mails(runtime, "email_change_requested")[-1]
    assert requested.recipients == [CARA]  # S5: the previous address hears of it
    assert NEW in requested.body
    assert "khv_" not in requested.body
    # Nothing changes until the new address confirms.
    assert user_row(runtime, CARA).email == CARA

    clock.advance(timedelta(minutes=5))
    confirm_email_change(runtime.uow(), token)
    user = user_row(runtime, NEW)
    assert user.id == cara.id
    assert user.email_verified_at == clock.now()
    assert user.email_changed_at == clock.now()
    changed = mails(runtime, "email_changed")[-1]
    assert changed.recipients == [CARA]  # S5: told again once it happened
    assert NEW in changed.body
    event = next(e for e in list_events(runtime.uow()) if e.action == "user.email_change")
    assert event.data["before"] == {"email": CARA}
    assert event.data["after"]["email"] == NEW
    with pytest.raises(Gone):
        confirm_email_change(runtime.uow(), token)  # works once


def test_s9_reset_link_issued_before_the_change_dies(
    runtime: Runtime, factories: Factories, cara: User, clock: FixedClock
) -> None:
    request_password_reset(runtime.uow(), CARA, limiter=runtime.rate_limiter)
    reset_token = last_token(runtime, "password_reset", RESET_LINK)
    clock.advance(timedelta(minutes=1))
    confirm_email_change(runtime.uow(), change(runtime, factories, cara))
    with pytest.raises(Gone):
        reset_password(
            runtime.uow(), reset_token, "a brand new pass phrase", hasher=runtime.password_hasher
        )


def test_s9_newer_change_link_kills_older(
    runtime: Runtime, factories: Factories, cara: User
) -> None:
    older = change(runtime, factories, cara)
    newer = change(runtime, factories, cara, "cara@newer.example")
    with pytest.raises(Gone):
        confirm_email_change(runtime.uow(), older)
    confirm_email_change(runtime.uow(), newer)
    assert user_row(runtime, "cara@newer.example").id == cara.id


def test_address_of_another_user_is_refused(
    runtime: Runtime, factories: Factories, cara: User
) -> None:
    factories.user(NEW)
    with pytest.raises(AlreadyExists):
        request_email_change(
            runtime.uow(),
            NEW,
            actor=factories.actor(cara),
            password=PASSWORD,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
    assert mails(runtime, "email_change_confirm") == []


def test_address_taken_before_confirmation_is_refused(
    runtime: Runtime, factories: Factories, cara: User
) -> None:
    token = change(runtime, factories, cara)
    factories.user(NEW)
    with pytest.raises(AlreadyExists):
        confirm_email_change(runtime.uow(), token)
    assert user_row(runtime, CARA).id == cara.id


# --- operator link (CLI) -----------------------------------------------------------


def test_cli_verify_link_prints_a_working_link(
    runtime: Runtime, unverified: User, cli: Cli
) -> None:
    result = cli.ok("users", "verify-link", "Cara@Customer.example")
    [line] = result.stdout.splitlines()
    match = VERIFY_LINK.fullmatch(line)
    assert match, line
    assert result.stderr.startswith(f"Give this link to {CARA} only;")
    assert mails(runtime, "email_verification") == []  # shown, not emailed
    verify_email(runtime.uow(), match.group(1))
    assert user_row(runtime, CARA).email_verified_at is not None
    # Verified now: no more links.
    assert_error(cli("users", "verify-link", CARA), "verified already")


def test_only_platform_admins_create_verification_links(
    runtime: Runtime, factories: Factories, unverified: User
) -> None:
    with pytest.raises(PermissionDenied):
        issue_verification_link(runtime.uow(), CARA, actor=factories.actor(unverified))
