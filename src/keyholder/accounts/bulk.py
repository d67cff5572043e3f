"""Bulk members: import a members file into an account, export one from it.

An import makes the account's members what the file's rows say, for the rows it
lists (``accounts.members_csv`` describes the file): an email that is not a
member is added, or invited when it has no user; a member gets the row's
permissions as their complete set; a ``remove`` row takes them off. Members the
file does not list are left alone.

Each change goes through the same helpers as ``keyholder members add|set|remove``
(``accounts.members``), so it writes the same audit event, the same invitation
email (an outbox row) and ends the same sessions. All rows apply in one
transaction: when any row cannot, nothing is applied and every error is
reported with its line. The last-admin guard holds for the file's end state, so
a file may promote a new admin and demote the old one in any order, but one
that would leave the account without an admin is refused at the line that took
``manage`` from its last one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from keyholder.accounts import repository
from keyholder.accounts.members import add_or_invite, replace_permissions, take_off
from keyholder.accounts.members_csv import ACTION, EMAIL, PERMISSIONS, MemberRow, RowAction
from keyholder.accounts.models import EnterpriseAccount, Membership
from keyholder.accounts.permissions import ADMIN_PERMISSION, PermissionSet
from keyholder.accounts.policy import managed_account, readable_account
from keyholder.accounts.staff_addresses import refuse_staff_admin
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork, UnitOfWorkFactory
from keyholder.errors import InvalidRows, KeyholderError, PermissionDenied, RowError
from keyholder.identity.actor import Actor
from keyholder.identity.models import User

# Emails per query when the file's users are looked up (well under any bind-parameter limit).
_LOOKUP_CHUNK = 500


class Outcome(StrEnum):
    ADDED = "added"
    INVITED = "invited"
    CHANGED = "changed"
    REMOVED = "removed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class RowResult:
    """What a row did (or, in a dry run, would do)."""

    line: int
    email: str
    outcome: Outcome
    before: PermissionSet | None = None  # None: not a member before
    after: PermissionSet | None = None  # granted, or offered (invited); None: removed


@dataclass(frozen=True, slots=True)
class ImportResult:
    account: str
    rows: Sequence[RowResult]
    dry_run: bool
    errors: Sequence[RowError] = ()  # the rows skipped by ``import_members_row_by_row``

    def count(self, outcome: Outcome) -> int:
        return sum(1 for row in self.rows if row.outcome is outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {outcome.value: self.count(outcome) for outcome in Outcome}


def import_members(
    uow: UnitOfWork,
    account_name: str,
    rows: Sequence[MemberRow],
    *,
    actor: Actor,
    dry_run: bool = False,
    on_row: Callable[[], None] | None = None,
) -> ImportResult:
    """Apply ``rows`` (from ``parse_members_csv``) to the account, all or nothing.

    Raises ``InvalidRows`` with every row that cannot apply; then nothing has.
    ``dry_run``: the same work, rolled back instead of committed, so the plan
    is exactly what a real run would do and nothing is written (no audit
    event, no email). ``on_row`` is called after each row, for a progress bar.
    """
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        results, errors = _apply(uow, account, rows, actor=actor, on_row=on_row)
        if errors:
            raise InvalidRows(errors)
        if not dry_run:
            uow.commit()
        # Otherwise leaving the block rolls everything back.
        return ImportResult(account=account.name, rows=results, dry_run=dry_run)


def import_members_row_by_row(
    uow_factory: UnitOfWorkFactory,
    account_name: str,
    rows: Sequence[MemberRow],
    *,
    actor: Actor,
    dry_run: bool = False,
    on_row: Callable[[], None] | None = None,
) -> ImportResult:
    """Apply each row in its own transaction, in file order; a row that cannot is skipped.

    The opt-out of all or nothing: the rows that applied stay applied, and the
    result lists the others' errors. Each row is checked against the state the
    rows before it left, the last-admin guard too. An error that is not the
    row's (no such account, not allowed) stops the import at the first row.
    """
    results: list[RowResult] = []
    errors: list[RowError] = []
    name = account_name
    for row in rows:
        try:
            done = import_members(uow_factory(), account_name, [row], actor=actor, dry_run=dry_run)
        except InvalidRows as exc:
            errors.extend(exc.errors)
        else:
            results.extend(done.rows)
            name = done.account
        if on_row is not None:
            on_row()
    return ImportResult(account=name, rows=results, dry_run=dry_run, errors=errors)


def export_members(
    uow: UnitOfWork, account_name: str, *, actor: Actor
) -> list[tuple[str, PermissionSet]]:
    """Every member's email and permissions, by email, for ``write_members_csv``."""
    with uow:
        account = readable_account(uow, account_name, actor=actor)
        return [(m.user.email, m.permissions) for m in repository.members(uow.session, account.id)]


def _apply(
    tx: Tx,
    account: EnterpriseAccount,
    rows: Sequence[MemberRow],
    *,
    actor: Actor,
    on_row: Callable[[], None] | None,
) -> tuple[list[RowResult], list[RowError]]:
    emails = [row.email for row in rows]
    members = _memberships_by_email(tx, account, emails)
    importer = _Importer(
        tx,
        account,
        actor,
        users=_users_by_email(tx, [email for email in emails if email not in members]),
        pending=_pending_invitations(tx, account, emails),
    )
    admins_before = repository.count_admins(tx.session, account.id)
    results: list[RowResult] = []
    errors: list[RowError] = []
    last_admin_taken: MemberRow | None = None
    for row in rows:
        membership = members.get(row.email)
        try:
            if row.action is RowAction.REMOVE:
                result = importer.remove(row, membership)
            else:
                result = importer.set(row, membership)
        except PermissionDenied as exc:  # S31: manage for a staff address
            errors.append(RowError(row.line, PERMISSIONS, exc.detail))
        except KeyholderError as exc:
            errors.append(RowError(row.line, EMAIL, exc.detail))
        else:
            results.append(result)
            if _takes_manage(result):
                last_admin_taken = row
        if on_row is not None:
            on_row()
    if admins_before and last_admin_taken is not None and not errors:
        tx.flush()
        if repository.count_admins(tx.session, account.id) == 0:
            errors.append(_no_admin_left(account, last_admin_taken))
    return results, errors


@dataclass(frozen=True, slots=True)
class _Importer:
    """Applies rows to one account in the caller's transaction, through ``accounts.members``."""

    tx: Tx
    account: EnterpriseAccount
    actor: Actor
    users: dict[str, User]  # the users of the file's emails that are not members yet
    pending: dict[str, PermissionSet]  # pending invitations' permissions, by email

    def remove(self, row: MemberRow, membership: Membership | None) -> RowResult:
        if membership is None:  # already off; a pending invitation is left alone
            return RowResult(row.line, row.email, Outcome.UNCHANGED)
        take_off(self.tx, self.account, membership, actor=self.actor)
        return RowResult(row.line, row.email, Outcome.REMOVED, before=membership.permissions)

    def set(self, row: MemberRow, membership: Membership | None) -> RowResult:
        if membership is None:
            if self.pending.get(row.email) == row.permissions:  # invited so: no second email
                return RowResult(row.line, row.email, Outcome.UNCHANGED)
            added = add_or_invite(
                self.tx,
                self.account,
                row.email,
                row.permissions,
                actor=self.actor,
                user=self.users.get(row.email),
            )
            outcome = Outcome.INVITED if added.membership is None else Outcome.ADDED
            return RowResult(row.line, row.email, outcome, after=row.permissions)
        before = membership.permissions
        if before == row.permissions:
            return RowResult(row.line, row.email, Outcome.UNCHANGED, before=before, after=before)
        refuse_staff_admin(self.tx, row.email, row.permissions)
        replace_permissions(self.tx, self.account, membership, row.permissions, actor=self.actor)
        return RowResult(row.line, row.email, Outcome.CHANGED, before=before, after=row.permissions)


def _takes_manage(result: RowResult) -> bool:
    had = result.before is not None and ADMIN_PERMISSION in result.before
    return had and (result.after is None or ADMIN_PERMISSION not in result.after)


def _no_admin_left(account: EnterpriseAccount, row: MemberRow) -> RowError:
    verb = "removing" if row.action is RowAction.REMOVE else "taking manage from"
    return RowError(
        row.line,
        ACTION if row.action is RowAction.REMOVE else PERMISSIONS,
        f"{verb} {row.email} leaves {account.name!r} without a member with the "
        f"{ADMIN_PERMISSION} permission: keep one admin, or give another member "
        f"{ADMIN_PERMISSION} in the same file",
    )


def _chunks(emails: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(emails), _LOOKUP_CHUNK):
        yield emails[start : start + _LOOKUP_CHUNK]


def _memberships_by_email(
    tx: Tx, account: EnterpriseAccount, emails: Sequence[str]
) -> dict[str, Membership]:
    """The memberships of the file's emails only: an account may have many more members."""
    found: dict[str, Membership] = {}
    for chunk in _chunks(emails):
        query = (
            select(Membership)
            .join(Membership.user)
            .where(Membership.account_id == account.id, User.email.in_(chunk))
        )
        found.update((m.user.email, m) for m in tx.session.scalars(query).unique())
    return found


def _users_by_email(tx: Tx, emails: Sequence[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in _chunks(emails):
        query = select(User).where(User.email.in_(chunk))
        found.update((user.email, user) for user in tx.session.scalars(query))
    return found


def _pending_invitations(
    tx: Tx, account: EnterpriseAccount, emails: Sequence[str]
) -> dict[str, PermissionSet]:
    """The permissions each of ``emails`` is invited with now (the newest invitation's)."""
    now = tx.clock.now()
    pending: dict[str, PermissionSet] = {}
    for chunk in _chunks(emails):
        found = repository.pending_invitations(tx.session, account.id, now, emails=chunk)
        pending.update((invitation.email, invitation.permissions) for invitation in found)
    return pending
