"""Who may see and change an account. Every account use case goes through here.

Each rule asks ``actor.is_staff`` / ``is_staff_admin`` before looking at the
account: for staff without MFA that raises 403 (S18), whether or not the
account exists, so they never get a customer's 404 instead (S29).

With ``require_phishing_resistant_admin`` on, staff powers and ``manage``
need a sign-in with a passkey (``Actor.lacks_required_factor``): the refusal,
``NeedsPhishingResistantFactor`` (403), says where to add one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from keyholder.accounts import repository
from keyholder.accounts.models import EnterpriseAccount, Membership
from keyholder.accounts.permissions import ADMIN_PERMISSION
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import (
    AdminNeedsMfa,
    KeyholderError,
    NeedsPhishingResistantFactor,
    NotFound,
    PermissionDenied,
)
from keyholder.identity.actor import ENROL_PASSKEY, Actor

ADMIN_NEEDS_MFA = (
    "your admin access was granted through a recovery request: enrol multi-factor "
    "authentication (POST /api/mfa/enrolment) before using it"
)


ADMIN_NEEDS_PASSKEY = (
    f"changing an account's members needs a sign-in with a passkey or security key (a "
    f"phishing-resistant factor; an authenticator-app code is not enough here): {ENROL_PASSKEY}"
)


def _not_found(name: str) -> NotFound:
    # The same answer for "absent" and "not yours": no existence leak.
    return NotFound(f"no enterprise account named {name!r}")


def readable_account(tx: Tx, name: str, *, actor: Actor) -> EnterpriseAccount:
    """The account if the actor is staff or a member of it; otherwise 404."""
    return _readable(tx, name, repository.account_by_name, actor=actor)


def readable_account_by_id_or_name(tx: Tx, reference: str, *, actor: Actor) -> EnterpriseAccount:
    """``readable_account``, for an account named by its id or its name (as Heroku does).

    A stranger gets the same 404 for an account's id as for its name, or for
    an id no account has.
    """
    return _readable(tx, reference, repository.account_by_id_or_name, actor=actor)


def _readable(
    tx: Tx,
    name: str,
    find: Callable[[Session, str], EnterpriseAccount | None],
    *,
    actor: Actor,
) -> EnterpriseAccount:
    staff = actor.is_staff  # first: 403 for staff without MFA (S18)
    account = find(tx.session, name)
    if account is None:
        raise _not_found(name)
    if staff:
        return account
    if (
        actor.user_id is None
        or repository.membership(tx.session, account.id, actor.user_id) is None
    ):
        raise _not_found(name)
    return account


def readable_member_lookup(
    name: str, found: repository.MemberLookup | None, *, actor: Actor
) -> repository.MemberLookup:
    """``found`` if the actor may read its account; otherwise 404 as for a missing account.

    The rule of ``readable_account``, applied to what ``repository.member_lookup``
    read in one query (the account, and whether the actor is a member of it).
    """
    if actor.is_staff:  # first: 403 for staff without MFA (S18)
        if found is None:
            raise _not_found(name)
        return found
    if found is None or actor.user_id is None or not found.caller_is_member:
        raise _not_found(name)
    return found


def managed_account(tx: Tx, name: str, *, actor: Actor) -> EnterpriseAccount:
    """The account, locked for change, if the actor may change its members.

    Members without ``manage`` get 403; strangers get 404 as for a missing
    account. The row lock serialises member changes per account on
    PostgreSQL, which keeps the last-admin guard true under concurrency.
    """
    staff_admin = actor.is_staff_admin  # first: 403 for staff without MFA (S18)
    account = repository.account_by_name(tx.session, name, for_update=True)
    if account is None:
        raise _not_found(name)
    if staff_admin:
        return account
    refusal = manage_refusal(tx.session, account, actor=actor)
    if refusal is not None:
        raise refusal
    return account


def manage_refusal(
    session: Session, account: EnterpriseAccount, *, actor: Actor
) -> KeyholderError | None:
    """Why the actor may not change the members of ``account``, or None when they may.

    The rule of ``managed_account`` for an account already found, without the
    lock: a page that only shows whether its forms would be taken asks this.
    """
    if actor.is_staff_admin:  # first: 403 for staff without MFA (S18)
        return None
    own = (
        repository.membership(session, account.id, actor.user_id)
        if actor.user_id is not None
        else None
    )
    if own is None:
        if actor.is_staff:
            return PermissionDenied("only platform admins can change members of an account")
        return _not_found(account.name)
    if ADMIN_PERMISSION not in own.permissions:
        return PermissionDenied(
            f"changing members of {account.name!r} needs the {ADMIN_PERMISSION} permission"
        )
    return _factor_refusal(own.mfa_required, actor)


def held_back_by_passkey_policy(uow: UnitOfWork, *, actor: Actor) -> bool:
    """Whether the phishing-resistant policy holds back a power this actor has.

    Staff powers, or ``manage`` on some account, used from a sign-in without a
    passkey while ``require_phishing_resistant_admin`` is on. The security page
    asks, to say why and offer a passkey; members without ``manage`` are not
    concerned.
    """
    if not actor.lacks_required_factor:
        return False
    if actor.staff_role is not None:
        return True
    with uow:
        rows = uow.session.scalars(
            select(Membership.permissions).where(Membership.user_id == actor.user_id)
        ).all()
    return any(ADMIN_PERMISSION in permissions for permissions in rows)


def _factor_refusal(mfa_required: bool, actor: Actor) -> KeyholderError | None:
    """Why a member with ``manage`` may not use it from this sign-in, or None."""
    if mfa_required and not actor.mfa_enabled:
        return AdminNeedsMfa(ADMIN_NEEDS_MFA)
    if actor.lacks_required_factor:
        return NeedsPhishingResistantFactor(ADMIN_NEEDS_PASSKEY)
    return None
