"""What the account pages show, each read in one transaction.

A page that called the use cases one by one (the account, its members, its
invitations, its history) opened a transaction for each and could show them
from different moments; a refusal of one of them was how it learnt what the
reader may do. Here each page is one query function: the same rules as the
use cases (``policy``), asked rather than raised, and one snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from keyholder.accounts import repository
from keyholder.accounts.admin_presence import without_admin
from keyholder.accounts.contacts import counts_for_recovery, counts_from
from keyholder.accounts.history import recent_events
from keyholder.accounts.models import AccountContact, EnterpriseAccount, Invitation, Membership
from keyholder.accounts.permissions import ADMIN_PERMISSION
from keyholder.accounts.policy import manage_refusal, readable_account
from keyholder.accounts.recovery_codes import recovery_code_status
from keyholder.audit.models import AuditEvent
from keyholder.db.uow import UnitOfWork
from keyholder.errors import AdminNeedsMfa, NeedsPhishingResistantFactor
from keyholder.identity.actor import Actor


class ContactStatus(StrEnum):
    COUNTS = "counts"  # confirmed and past the waiting period: on record for recovery
    WAITING = "waiting"  # confirmed, within the waiting period (S22)
    UNCONFIRMED = "unconfirmed"  # its emailed link not used yet


@dataclass(frozen=True, slots=True)
class RecoveryContact:
    contact: AccountContact
    status: ContactStatus
    counts_from: datetime | None  # None while unconfirmed


@dataclass(frozen=True, slots=True)
class RecoveryCodesStatus:
    """The account's break-glass recovery codes (``accounts.recovery_codes``): how many
    are left of the set generated when."""

    remaining: int
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccountOverview:
    """An account's page. Invitations and history only for those who may manage it."""

    account: EnterpriseAccount
    members: Sequence[Membership]
    invitations: Sequence[Invitation]  # pending ones
    events: Sequence[AuditEvent]  # newest first
    can_manage: bool
    # An admin granted through an access request who has no MFA yet (S18): the
    # page tells them to enrol rather than offering forms that would be refused.
    needs_mfa: bool
    # An admin whose sign-in was not with a passkey, while the policy asks for one.
    needs_passkey: bool = False
    # The "Recovery codes" section: for the account's own admins (staff never generate
    # codes), with (codes left, generated at), or None before any was generated.
    recovery_codes_section: bool = False
    # "How this account recovers if every admin is gone" (issue 18): its
    # contacts, each with where it stands, and its verified domains (DNS proof).
    recovery_contacts: Sequence[RecoveryContact] = ()
    verified_domains: Sequence[str] = ()
    recovery_codes: RecoveryCodesStatus | None = None

    @property
    def has_admin(self) -> bool:
        return any(ADMIN_PERMISSION in m.permissions for m in self.members)

    @property
    def one_admin_left(self) -> bool:
        """Exactly one active admin: every member is told to add a second (issue 18)."""
        active = [m for m in self.members if ADMIN_PERMISSION in m.permissions]
        return len([m for m in active if m.user.is_active]) == 1


def account_overview(uow: UnitOfWork, name: str, *, actor: Actor) -> AccountOverview:
    """The account page of ``name``: visible to its members and to staff (else 404/403).

    Members and staff see the account and its members; those who may change
    its members (``policy.manage_refusal``) also its pending invitations and
    its history. Read only: nothing is locked.
    """
    with uow:
        account = readable_account(uow, name, actor=actor)
        _ = account.domains, account.contacts  # rendered after the session closes
        refusal = manage_refusal(uow.session, account, actor=actor)
        can_manage = refusal is None
        session = uow.session
        codes_section = can_manage and not actor.is_staff
        now, min_age = uow.clock.now(), uow.settings.access_contact_min_age
        return AccountOverview(
            account=account,
            members=repository.members(session, account.id),
            invitations=repository.pending_invitations(session, account.id, uow.clock.now())
            if can_manage
            else (),
            events=recent_events(session, account) if can_manage else (),
            can_manage=can_manage,
            needs_mfa=isinstance(refusal, AdminNeedsMfa),
            needs_passkey=isinstance(refusal, NeedsPhishingResistantFactor),
            recovery_codes_section=codes_section,
            recovery_contacts=[_recovery_contact(c, now, min_age) for c in account.contacts],
            verified_domains=[d.domain for d in account.domains if d.verified_at is not None],
            recovery_codes=_codes_status(recovery_code_status(uow, account)),
        )


def _recovery_contact(
    contact: AccountContact, now: datetime, min_age: timedelta
) -> RecoveryContact:
    if counts_for_recovery(contact, now=now, min_age=min_age):
        status = ContactStatus.COUNTS
    elif contact.confirmed_at is not None:
        status = ContactStatus.WAITING
    else:
        status = ContactStatus.UNCONFIRMED
    return RecoveryContact(contact, status, counts_from(contact, min_age=min_age))


@dataclass(frozen=True, slots=True)
class AccountsOverview:
    """The reader's accounts, and which of them have no admin left."""

    accounts: Sequence[EnterpriseAccount]
    without_admin: frozenset[str]


def accounts_overview(uow: UnitOfWork, *, actor: Actor) -> AccountsOverview:
    """The accounts this actor can see, by name; staff see every account, so for them
    the accounts without an admin are not looked for (the way to recovery is for the
    customers' own accounts)."""
    with uow:
        staff = actor.is_staff  # first: 403 for staff without MFA (S18), as list_accounts
        query = repository.visible_accounts(actor).order_by(EnterpriseAccount.name)
        found = uow.session.scalars(query).all()
        orphaned = frozenset() if staff else without_admin(uow.session, found)
        return AccountsOverview(accounts=found, without_admin=orphaned)


def _codes_status(status: tuple[int, datetime] | None) -> RecoveryCodesStatus | None:
    return RecoveryCodesStatus(remaining=status[0], created_at=status[1]) if status else None
