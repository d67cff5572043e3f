"""Importing a members file: every change audited and emailed as one by one, all or nothing."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import event, func, select

from keyholder.accounts import bulk, members
from keyholder.accounts.bulk import (
    ImportResult,
    Outcome,
    export_members,
    import_members,
    import_members_row_by_row,
)
from keyholder.accounts.members_csv import MemberRow, parse_members_csv
from keyholder.accounts.models import EnterpriseAccount
from keyholder.audit.models import AuditEvent
from keyholder.audit.service import verify_chain
from keyholder.bootstrap import Runtime
from keyholder.errors import InvalidRows, NotFound, PermissionDenied, RowError
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole, User
from keyholder.mail.models import OutboxMessage
from tests.factories import OPERATOR, Factories
from tests.outbox import Outbox


@pytest.fixture
def acme(factories: Factories) -> EnterpriseAccount:
    return factories.account("acme-corp")


@pytest.fixture
def alice(factories: Factories, acme: EnterpriseAccount) -> User:
    """acme's only admin."""
    return factories.admin_of(acme, "alice@acme.example")


def rows(text: str) -> list[MemberRow]:
    parsed = parse_members_csv(text.encode())
    assert parsed.errors == []
    return parsed.rows


def run(
    runtime: Runtime, text: str, *, actor: Actor = OPERATOR, dry_run: bool = False
) -> ImportResult:
    return import_members(runtime.uow(), "acme-corp", rows(text), actor=actor, dry_run=dry_run)


def members_of(runtime: Runtime) -> dict[str, list[str]]:
    found = members.list_members(runtime.uow(read_only=True), "acme-corp", actor=OPERATOR)
    return {m.user.email: sorted(m.permissions) for m in found}


def trail(runtime: Runtime) -> list[tuple[str, str, str]]:
    with runtime.uow(read_only=True) as uow:
        return [
            (e.action, e.target, e.actor)
            for e in uow.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
        ]


def count(runtime: Runtime, model: type[AuditEvent] | type[OutboxMessage]) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def commits(runtime: Runtime) -> Iterator[list[int]]:
    """One entry per database commit on the runtime's engine while the test runs."""
    seen: list[int] = []

    def on_commit(_connection: object) -> None:
        seen.append(1)

    event.listen(runtime.engine, "commit", on_commit)
    yield seen
    event.remove(runtime.engine, "commit", on_commit)


def test_each_row_changes_the_member_as_the_single_commands_do(
    runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User, outbox: Outbox
) -> None:
    factories.member(acme, factories.user("bob@acme.example"), "view,create")
    factories.member(acme, factories.user("carol@acme.example"), "view,billing")
    factories.user("dave@acme.example")
    factories.member(acme, factories.user("erin@acme.example"), "view")
    before = len(trail(runtime))

    result = run(
        runtime,
        "email,permissions,action\n"
        "bob@acme.example,view;manage,\n"  # changed
        "carol@acme.example,,remove\n"  # removed
        "Dave@ACME.example,billing,\n"  # added: has a user
        "new@acme.example,create,\n"  # invited: no user yet
        "erin@acme.example,view,\n"  # unchanged
        "ghost@acme.example,,remove\n",  # not a member: nothing to do
        actor=factories.actor(alice),
    )

    assert [(r.line, r.email, r.outcome) for r in result.rows] == [
        (2, "bob@acme.example", Outcome.CHANGED),
        (3, "carol@acme.example", Outcome.REMOVED),
        (4, "dave@acme.example", Outcome.ADDED),
        (5, "new@acme.example", Outcome.INVITED),
        (6, "erin@acme.example", Outcome.UNCHANGED),
        (7, "ghost@acme.example", Outcome.UNCHANGED),
    ]
    assert result.counts == {"added": 1, "invited": 1, "changed": 1, "removed": 1, "unchanged": 2}
    assert members_of(runtime) == {
        "alice@acme.example": ["manage", "view"],
        "bob@acme.example": ["manage", "view"],
        "dave@acme.example": ["billing", "view"],
        "erin@acme.example": ["view"],
    }
    by_alice = [(action, target) for action, target, actor in trail(runtime)[before:]
                if actor == "alice@acme.example"]  # fmt: skip
    assert by_alice[:3] == [
        ("member.update", "account:acme-corp/member:bob@acme.example"),
        ("member.remove", "account:acme-corp/member:carol@acme.example"),
        ("member.add", "account:acme-corp/member:dave@acme.example"),
    ]
    assert by_alice[3][0] == "invitation.create"
    assert len(by_alice) == 4
    [invitation] = outbox.of_kind("invitation")
    assert invitation.recipients == ["new@acme.example"]
    assert "alice@acme.example" in invitation.body  # the inviter, as from `members add`
    assert verify_chain(runtime.uow(read_only=True)).intact


def test_gaining_manage_ends_the_members_sessions_and_tokens_s15(
    runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User
) -> None:
    bob = factories.user("bob@acme.example")
    factories.member(acme, bob, "view")
    factories.token(bob)

    run(runtime, "email,permissions\nbob@acme.example,manage\n")

    assert ("user.credentials_revoke", "user:bob@acme.example", "cli:tests") in trail(runtime)


def test_a_dry_run_plans_the_same_and_writes_nothing(
    runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User
) -> None:
    factories.member(acme, factories.user("bob@acme.example"), "view")
    text = "email,permissions,action\nbob@acme.example,billing,\nnew@acme.example,view,\n"
    audit_before, mail_before = count(runtime, AuditEvent), count(runtime, OutboxMessage)

    planned = run(runtime, text, dry_run=True)

    assert planned.dry_run
    assert planned.counts == {"added": 0, "invited": 1, "changed": 1, "removed": 0, "unchanged": 0}
    assert members_of(runtime)["bob@acme.example"] == ["view"]
    assert count(runtime, AuditEvent) == audit_before
    assert count(runtime, OutboxMessage) == mail_before
    applied = run(runtime, text)
    assert applied.rows == planned.rows
    assert not applied.dry_run


def test_a_row_that_cannot_apply_leaves_everything_unchanged_and_all_are_named(
    runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User, outbox: Outbox
) -> None:
    """S31 is checked per row, like `members add`; one refused row and nothing applies."""
    factories.user("agent@acme.example", staff_role=StaffRole.AGENT)
    factories.user("reviewer@acme.example", staff_role=StaffRole.REVIEWER)
    audit_before = count(runtime, AuditEvent)

    with pytest.raises(InvalidRows) as refused:
        run(
            runtime,
            "email,permissions\nbob@acme.example,view\nagent@acme.example,manage\n"
            "new@acme.example,create\nreviewer@acme.example,view;manage\n",
        )

    assert [(e.line, e.column) for e in refused.value.errors] == [
        (3, "permissions"),
        (5, "permissions"),
    ]
    assert "platform staff" in refused.value.errors[0].reason
    assert members_of(runtime) == {"alice@acme.example": ["manage", "view"]}
    assert count(runtime, AuditEvent) == audit_before
    assert outbox.of_kind("invitation") == []


class TestLastAdmin:
    def test_demoting_the_only_admin_is_refused_at_its_line(
        self, runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User
    ) -> None:
        factories.member(acme, factories.user("bob@acme.example"), "view")

        with pytest.raises(InvalidRows) as refused:
            run(runtime, "email,permissions\nbob@acme.example,billing\nalice@acme.example,view\n")

        assert refused.value.errors == [
            RowError(
                3,
                "permissions",
                "taking manage from alice@acme.example leaves 'acme-corp' without a member with "
                "the manage permission: keep one admin, or give another member manage in the "
                "same file",
            )
        ]
        assert members_of(runtime) == {
            "alice@acme.example": ["manage", "view"],
            "bob@acme.example": ["view"],
        }

    def test_a_file_that_removes_every_admin_names_the_last_one(
        self, runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User
    ) -> None:
        factories.admin_of(acme, "bob@acme.example")

        with pytest.raises(InvalidRows) as refused:
            run(
                runtime,
                "email,permissions,action\nalice@acme.example,,remove\nbob@acme.example,,remove\n",
            )

        [error] = refused.value.errors
        assert (error.line, error.column) == (3, "action")
        assert error.reason.startswith("removing bob@acme.example leaves 'acme-corp' without")
        assert set(members_of(runtime)) == {"alice@acme.example", "bob@acme.example"}

    @pytest.mark.parametrize("order", ["promote first", "demote first"])
    def test_handing_over_in_one_file_works_in_either_order(
        self,
        runtime: Runtime,
        factories: Factories,
        acme: EnterpriseAccount,
        alice: User,
        order: str,
    ) -> None:
        """The guard holds for the file's end state, not for each row on its own."""
        factories.member(acme, factories.user("bob@acme.example"), "view")
        lines = ["bob@acme.example,manage,", "alice@acme.example,,remove"]
        if order == "demote first":
            lines.reverse()

        run(runtime, "email,permissions,action\n" + "\n".join(lines) + "\n")

        assert members_of(runtime) == {"bob@acme.example": ["manage", "view"]}

    def test_an_invited_admin_does_not_count(
        self, runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User
    ) -> None:
        with pytest.raises(InvalidRows) as refused:
            run(runtime, "email,permissions\nnew@acme.example,manage\nalice@acme.example,view\n")

        assert [e.line for e in refused.value.errors] == [3]

    def test_an_account_without_admins_can_still_import_members(
        self, runtime: Runtime, factories: Factories, acme: EnterpriseAccount
    ) -> None:
        """No admin to lose (an account waiting for an access request): nothing to guard."""
        factories.member(acme, factories.user("bob@acme.example"), "view,create")

        run(runtime, "email,permissions\nbob@acme.example,view\n")

        assert members_of(runtime) == {"bob@acme.example": ["view"]}


def test_an_email_already_invited_with_those_permissions_is_not_emailed_again(
    runtime: Runtime, acme: EnterpriseAccount, alice: User, outbox: Outbox
) -> None:
    run(runtime, "email,permissions\nnew@acme.example,create\n")

    again = run(runtime, "email,permissions\nnew@acme.example,create\n")
    other = run(runtime, "email,permissions\nnew@acme.example,billing\n")

    assert again.rows[0].outcome is Outcome.UNCHANGED
    assert other.rows[0].outcome is Outcome.INVITED  # the newer invitation replaces the older
    assert len(outbox.of_kind("invitation")) == 2


class TestRowByRow:
    """The opt-out of all or nothing: each row in its own transaction, bad ones skipped."""

    def test_valid_rows_apply_and_the_others_are_reported(
        self, runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User
    ) -> None:
        factories.user("agent@acme.example", staff_role=StaffRole.AGENT)
        factories.member(acme, factories.user("bob@acme.example"), "view")
        text = (
            "email,permissions,action\n"
            "alice@acme.example,,remove\n"  # the only admin so far: refused
            "agent@acme.example,manage,\n"  # S31: refused
            "bob@acme.example,manage,\n"
            "new@acme.example,billing,\n"
        )
        audit_before = count(runtime, AuditEvent)

        result = import_members_row_by_row(runtime.uow, "acme-corp", rows(text), actor=OPERATOR)

        assert [(r.line, r.outcome) for r in result.rows] == [
            (4, Outcome.CHANGED),
            (5, Outcome.INVITED),
        ]
        assert [(e.line, e.column) for e in result.errors] == [
            (2, "action"),
            (3, "permissions"),
        ]
        assert members_of(runtime) == {
            "alice@acme.example": ["manage", "view"],
            "bob@acme.example": ["manage", "view"],
        }
        assert count(runtime, AuditEvent) > audit_before

    def test_each_row_commits_on_its_own(
        self, runtime: Runtime, acme: EnterpriseAccount, alice: User, commits: list[int]
    ) -> None:
        text = "email,permissions\n" + "".join(f"u{i}@acme.example,view\n" for i in range(3))
        commits.clear()

        import_members_row_by_row(runtime.uow, "acme-corp", rows(text), actor=OPERATOR)

        assert len(commits) == 3

    def test_a_dry_run_writes_nothing(
        self, runtime: Runtime, acme: EnterpriseAccount, alice: User, commits: list[int]
    ) -> None:
        commits.clear()
        audit_before = count(runtime, AuditEvent)

        result = import_members_row_by_row(
            runtime.uow, "acme-corp", rows("email,permissions\nnew@acme.example,view\n"),
            actor=OPERATOR, dry_run=True,
        )  # fmt: skip

        assert result.count(Outcome.INVITED) == 1
        assert commits == []
        assert count(runtime, AuditEvent) == audit_before

    def test_an_error_not_of_a_row_stops_it(self, runtime: Runtime) -> None:
        with pytest.raises(NotFound):
            import_members_row_by_row(
                runtime.uow, "nope", rows("email,permissions\nnew@acme.example,view\n"),
                actor=OPERATOR,
            )  # fmt: skip


class TestWhoMay:
    def test_an_admin_of_the_account_may(
        self, runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User
    ) -> None:
        run(runtime, "email,permissions\nnew@acme.example,view\n", actor=factories.actor(alice))

    def test_a_member_without_manage_may_not(
        self, runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User
    ) -> None:
        bob = factories.user("bob@acme.example")
        factories.member(acme, bob, "view,create")

        with pytest.raises(PermissionDenied):
            run(runtime, "email,permissions\nbob@acme.example,manage\n", actor=factories.actor(bob))
        assert members_of(runtime)["bob@acme.example"] == ["create", "view"]

    def test_a_stranger_gets_not_found(
        self, runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User
    ) -> None:
        stranger = factories.actor(factories.user("eve@evil.example"))

        with pytest.raises(NotFound):
            run(runtime, "email,permissions\neve@evil.example,manage\n", actor=stranger)
        with pytest.raises(NotFound):
            export_members(runtime.uow(read_only=True), "acme-corp", actor=stranger)


def test_export_lists_every_member_by_email(
    runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User
) -> None:
    factories.member(acme, factories.user("bob@acme.example"), "view,billing")

    exported = export_members(runtime.uow(read_only=True), "acme-corp", actor=OPERATOR)

    assert [(email, sorted(p)) for email, p in exported] == [
        ("alice@acme.example", ["manage", "view"]),
        ("bob@acme.example", ["billing", "view"]),
    ]


def test_five_thousand_rows_apply_in_one_transaction(
    runtime: Runtime,
    acme: EnterpriseAccount,
    alice: User,
    commits: list[int],
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    """4,000 users added and 1,000 emails invited: 5,000 audit events, 1,000 emails."""
    with runtime.uow() as uow:
        now = uow.clock.now()
        uow.session.add_all(
            User(email=f"user{i:04d}@acme.example", name="", created_at=now) for i in range(4_000)
        )
        uow.commit()
    text = "email,permissions\n" + "".join(
        f"user{i:04d}@acme.example,view\n" for i in range(4_000)
    ) + "".join(f"invitee{i:04d}@acme.example,create\n" for i in range(1_000))  # fmt: skip
    parsed = parse_members_csv(text.encode())
    audit_before = count(runtime, AuditEvent)
    ticks: list[None] = []
    commits.clear()

    started = time.perf_counter()
    result = import_members(
        runtime.uow(), "acme-corp", parsed.rows, actor=OPERATOR, on_row=lambda: ticks.append(None)
    )
    took = time.perf_counter() - started

    assert len(commits) == 1
    assert result.counts == {
        "added": 4_000, "invited": 1_000, "changed": 0, "removed": 0, "unchanged": 0
    }  # fmt: skip
    assert len(ticks) == 5_000
    assert len(members_of(runtime)) == 4_001
    assert count(runtime, AuditEvent) == audit_before + 5_000
    assert count(runtime, OutboxMessage) == 1_000
    # Shown with `pytest -rP`, and kept in a --junitxml report: a figure, not a limit.
    record_property("import_5000_rows_seconds", round(took, 1))
    with capsys.disabled():
        sys.stderr.write(f"\n5,000-row import on {runtime.engine.dialect.name}: {took:.1f} s\n")


def test_only_the_files_members_are_loaded_and_others_stay(
    runtime: Runtime, factories: Factories, acme: EnterpriseAccount, alice: User
) -> None:
    factories.member(acme, factories.user("bob@acme.example"), "view,billing")

    result = run(runtime, "email,permissions\ncarol@acme.example,view\n")

    assert result.count(Outcome.INVITED) == 1
    assert members_of(runtime) == {
        "alice@acme.example": ["manage", "view"],
        "bob@acme.example": ["billing", "view"],
    }


def test_the_lookup_of_many_users_is_chunked(
    runtime: Runtime, acme: EnterpriseAccount, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Users, members and pending invitations are read 2 emails at a time here."""
    monkeypatch.setattr(bulk, "_LOOKUP_CHUNK", 2)
    with runtime.uow() as uow:
        uow.session.add_all(
            User(email=f"user{i}@acme.example", name="", created_at=uow.clock.now())
            for i in range(5)
        )
        uow.commit()
    run(runtime, "email,permissions\nuser0@acme.example,view\nuser1@acme.example,billing\n"
                 "invitee0@acme.example,view\ninvitee1@acme.example,view\n")  # fmt: skip
    text = "email,permissions\n" + "".join(f"user{i}@acme.example,view\n" for i in range(5))
    text += "invitee0@acme.example,view\ninvitee1@acme.example,create\n"

    result = run(runtime, text)

    assert [r.outcome for r in result.rows] == [
        Outcome.UNCHANGED,  # user0: a member already
        Outcome.CHANGED,  # user1: billing → view
        Outcome.ADDED,
        Outcome.ADDED,
        Outcome.ADDED,
        Outcome.UNCHANGED,  # invited so already
        Outcome.INVITED,  # invited with other permissions
    ]
