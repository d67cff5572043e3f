"""Use cases for the members of an enterprise account."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from keyholder.accounts import repository
from keyholder.accounts.grants import grant_membership, rotate_if_manage_changed
from keyholder.accounts.invitations import invite
from keyholder.accounts.models import EnterpriseAccount, Invitation, Membership
from keyholder.accounts.permissions import (
    ADMIN_PERMISSION,
    PermissionSet,
    ordered,
    parse_permissions,
)
from keyholder.accounts.policy import (
    managed_account,
    readable_account_by_id_or_name,
    readable_member_lookup,
)
from keyholder.accounts.staff_addresses import refuse_staff_admin
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import member_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import (
    AlreadyExists,
    ConfirmationRequired,
    InvalidInput,
    LastAdminError,
    NotFound,
)
from keyholder.identity.actor import Actor
from keyholder.identity.emails import normalize_email
from keyholder.identity.models import User
from keyholder.identity.service import find_user


def list_members(uow: UnitOfWork, account_name: str, *, actor: Actor) -> Sequence[Membership]:
    """Members of an account (by name or id), by email. Visible to its members and to staff."""
    with uow:
        account = readable_account_by_id_or_name(uow, account_name, actor=actor)
        return repository.members(uow.session, account.id)


def get_member(
    uow: UnitOfWork, account_name: str, email: str, *, actor: Actor
) -> repository.MemberRecord:
    """One member of an account (by name or id), by email. Visible to its members and to staff.

    The API's hottest read: one query finds the account, whether the actor is
    a member of it and the member asked for, and the policy decides as for
    every account read. Answers 404 for an account the actor may not see, then
    422 for an invalid email, then 404 for an email that is not a member.
    """
    # normalize_email validates fully (IDNA and all) and costs about as much
    # as the query. For a valid ASCII address it returns the address stripped
    # and lower-cased, and stored addresses are normalized, so an ASCII address
    # is looked up that way first: a member found is the one normalize_email
    # would have found. Validity only decides 422 or 404 when no one is found.
    typed = email.strip().lower() if email.isascii() else None
    with uow:
        found = readable_member_lookup(
            account_name,
            repository.member_lookup(
                uow.read_engine(), account_name, typed, caller_id=actor.user_id
            ),
            actor=actor,
        )
        member = found.member
        if member is None:
            normalized = normalize_email(email)
            if normalized != typed:  # not ASCII: the first lookup could not match
                stored = repository.membership_by_email(uow.session, found.account_id, normalized)
                member = repository.MemberRecord.of(stored) if stored is not None else None
            if member is None:
                raise NotFound(f"{normalized} is not a member of {found.account_name!r}")
    return member


@dataclass(frozen=True, slots=True)
class AddedMember:
    """What adding an email did: a membership, or an invitation when no user has it."""

    membership: Membership | None = None
    invitation: Invitation | None = None


def add_member(
    uow: UnitOfWork,
    account_name: str,
    email: str,
    permissions: Iterable[str],
    *,
    actor: Actor,
) -> AddedMember:
    """Add a person to an account, or invite them when they have no user yet.

    Inviting an email that already has a pending invitation replaces it, so the
    newest email is the only link that works. Adding a user with ``manage``
    ends their sessions and API tokens (S15, S41, see ``identity.sessions``).
    """
    email = normalize_email(email)
    granted = parse_permissions(permissions)
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        added = add_or_invite(uow, account, email, granted, actor=actor)
        uow.commit()
        return added


def add_or_invite(
    tx: Tx,
    account: EnterpriseAccount,
    email: str,
    granted: PermissionSet,
    *,
    actor: Actor,
    user: User | None = None,
) -> AddedMember:
    """``add_member`` in the caller's transaction, for an ``email`` already normalized.

    ``user``: the user of ``email`` when the caller has loaded it already (None
    looks it up). The caller checks that the actor manages ``account``.
    """
    refuse_staff_admin(tx, email, granted)
    user = user or find_user(tx, email)
    if user is None:
        return AddedMember(invitation=invite(tx, account, email, granted, actor=actor))
    if repository.membership(tx.session, account.id, user.id) is not None:
        raise AlreadyExists(f"{email} is already a member of {account.name!r}")
    return AddedMember(membership=grant_membership(tx, account, user, granted, actor=actor))


def set_member_permissions(
    uow: UnitOfWork,
    account_name: str,
    email: str,
    permissions: Iterable[str],
    *,
    actor: Actor,
    confirm: bool = False,
    successor: str | None = None,
) -> Membership:
    """Replace a member's permissions; the account never loses its last admin.

    Taking ``manage`` from one of two admins needs ``confirm`` (else
    ``ConfirmationRequired``); from the last admin it needs a ``successor``,
    an existing member given ``manage`` in the same change (else
    ``LastAdminError``). Gaining or losing ``manage`` ends the member's
    sessions and API tokens (S15, S41, see ``identity.sessions``).
    """
    granted = parse_permissions(permissions)
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        membership = _existing_member(uow, account, email)
        if membership.permissions == granted:
            return membership
        refuse_staff_admin(uow, membership.user.email, granted)
        _admin_leaves(
            uow,
            account,
            membership,
            leaves=ADMIN_PERMISSION in membership.permissions and ADMIN_PERMISSION not in granted,
            verb="take manage from",
            confirm=confirm,
            successor=successor,
            actor=actor,
        )
        replace_permissions(uow, account, membership, granted, actor=actor)
        uow.commit()
        return membership


def replace_permissions(
    tx: Tx,
    account: EnterpriseAccount,
    membership: Membership,
    granted: PermissionSet,
    *,
    actor: Actor,
    note: dict[str, str] | None = None,
) -> None:
    """``set_member_permissions`` in the caller's transaction, after its checks.

    The caller has checked who may change ``account``, S31 (``refuse_staff_admin``)
    and the last-admin guard; this writes the change, its audit event and the
    session rotation.
    """
    before = membership.permissions
    membership.permissions = granted
    membership.updated_at = tx.clock.now()
    record_event(
        tx,
        actor=actor,
        action=AuditAction.MEMBER_UPDATE,
        target=member_target(account.name, membership.user.email),
        before={"permissions": ordered(before)},
        after={"permissions": ordered(granted), **(note or {})},
    )
    rotate_if_manage_changed(tx, membership.user, before, granted, actor=actor)


def remove_member(
    uow: UnitOfWork,
    account_name: str,
    email: str,
    *,
    actor: Actor,
    confirm: bool = False,
    successor: str | None = None,
) -> None:
    """Take a person off an account (themself too); the account never loses its last admin.

    Removing one of two admins needs ``confirm``; the last admin, a
    ``successor`` (see ``set_member_permissions``). Removing a member who
    holds ``manage`` ends their sessions and API tokens (S15, S41, see
    ``identity.sessions``).
    """
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        membership = _existing_member(uow, account, email)
        _admin_leaves(
            uow,
            account,
            membership,
            leaves=ADMIN_PERMISSION in membership.permissions,
            verb="remove",
            confirm=confirm,
            successor=successor,
            actor=actor,
        )
        take_off(uow, account, membership, actor=actor)
        uow.commit()


def take_off(tx: Tx, account: EnterpriseAccount, membership: Membership, *, actor: Actor) -> None:
    """``remove_member`` in the caller's transaction, after its checks (the last-admin guard)."""
    record_event(
        tx,
        actor=actor,
        action=AuditAction.MEMBER_REMOVE,
        target=member_target(account.name, membership.user.email),
        before={"permissions": ordered(membership.permissions)},
    )
    rotate_if_manage_changed(tx, membership.user, membership.permissions, frozenset(), actor=actor)
    tx.session.delete(membership)


def _existing_member(tx: Tx, account: EnterpriseAccount, email: str) -> Membership:
    email = normalize_email(email)
    membership = repository.membership_by_email(tx.session, account.id, email)
    if membership is None:
        raise NotFound(f"{email} is not a member of {account.name!r}")
    return membership


_SUCCESSOR_ONLY = "a successor is named only when the last admin leaves"


def _admin_leaves(
    tx: Tx,
    account: EnterpriseAccount,
    membership: Membership,
    *,
    leaves: bool,
    verb: str,
    confirm: bool,
    successor: str | None,
    actor: Actor,
) -> None:
    """Let an admin go (``leaves``: the change takes their ``manage``) only as issue 18
    says: one of two with ``confirm``, the last one with a ``successor`` who takes
    ``manage`` now. The account row is locked (``managed_account``), so two admins
    leaving at once cannot both pass."""
    if not leaves:
        if successor is not None:
            raise InvalidInput(_SUCCESSOR_ONLY, field="successor")
        return
    admins = repository.count_admins(tx.session, account.id)
    email = membership.user.email
    if admins <= 1:
        if successor is None:
            raise LastAdminError(
                f"cannot {verb} {email}: they are the last member of {account.name!r} with "
                f"the {ADMIN_PERMISSION} permission. Name a successor (a member who gets "
                f"{ADMIN_PERMISSION} in the same change), or give another member "
                f"{ADMIN_PERMISSION} first."
            )
        _hand_over(tx, account, membership, successor, actor=actor)
        return
    if successor is not None:
        raise InvalidInput(_SUCCESSOR_ONLY, field="successor")
    if admins == 2 and not confirm:
        raise ConfirmationRequired(
            f"if you {verb} {email}, {account.name!r} has one admin left: should they lose "
            "access, nobody can change its members until a recovery by letter and review. "
            "Add a second admin first, or confirm to go ahead."
        )


def _hand_over(
    tx: Tx, account: EnterpriseAccount, leaving: Membership, successor: str, *, actor: Actor
) -> None:
    """The last admin's successor, an existing member, gets ``manage`` (audited)."""
    heir = _existing_member(tx, account, successor)
    if heir.id == leaving.id:
        raise InvalidInput("the successor must be another member", field="successor")
    granted = heir.permissions | {ADMIN_PERMISSION}
    refuse_staff_admin(tx, heir.user.email, granted)
    replace_permissions(
        tx, account, heir, granted, actor=actor, note={"successor_of": leaving.user.email}
    )
