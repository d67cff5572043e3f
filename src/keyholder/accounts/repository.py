"""Queries for accounts and members. Nothing here commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, Select, and_, bindparam, false, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from keyholder.accounts.models import EnterpriseAccount, Invitation, Membership
from keyholder.accounts.permissions import ADMIN_PERMISSION, PermissionSet, grants
from keyholder.db.prepared import PreparedRead
from keyholder.identity.actor import Actor
from keyholder.identity.models import User


def visible_accounts(actor: Actor) -> Select[EnterpriseAccount]:
    """Accounts the actor may see: all for staff, their own for members."""
    query = select(EnterpriseAccount).options(
        selectinload(EnterpriseAccount.domains), selectinload(EnterpriseAccount.contacts)
    )
    if actor.is_staff:
        return query
    if actor.user_id is None:
        return query.where(false())
    return query.join(Membership, Membership.account_id == EnterpriseAccount.id).where(
        Membership.user_id == actor.user_id
    )


def account_by_name(
    session: Session, name: str, *, for_update: bool = False
) -> EnterpriseAccount | None:
    query = select(EnterpriseAccount).where(EnterpriseAccount.name == name)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def account_id_in(reference: str) -> uuid.UUID | None:
    """The id ``reference`` spells, when it is a UUID in its usual 36-character form.

    Heroku's API names an account by id or name; only the hyphenated form counts
    as an id, so a 32-hex-digit name (a valid slug) stays a name. Most names are
    turned away by their length alone: the member lookup asks this every time.
    """
    if len(reference) != 36:
        return None
    try:
        parsed = uuid.UUID(reference)
    except ValueError:
        return None
    return parsed if str(parsed) == reference.lower() else None


def account_by_id_or_name(session: Session, reference: str) -> EnterpriseAccount | None:
    """The account with id ``reference`` (see ``account_id_in``), or else named ``reference``.

    An account whose name happens to be UUID-shaped stays reachable by its name,
    unless another account has that id (new names cannot be UUID-shaped).
    """
    account_id = account_id_in(reference)
    if account_id is not None:
        account = session.scalar(
            select(EnterpriseAccount).where(EnterpriseAccount.id == account_id)
        )
        if account is not None:
            return account
    return account_by_name(session, reference)


def own_permissions(session: Session, user_id: uuid.UUID | None) -> dict[uuid.UUID, PermissionSet]:
    """The permissions ``user_id`` holds, by account id (none for no user)."""
    if user_id is None:
        return {}
    rows = session.execute(
        select(Membership.account_id, Membership.permissions).where(Membership.user_id == user_id)
    )
    return {row.account_id: row.permissions for row in rows}


def membership(session: Session, account_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None:
    return session.scalar(
        select(Membership).where(Membership.account_id == account_id, Membership.user_id == user_id)
    )


def membership_by_email(session: Session, account_id: uuid.UUID, email: str) -> Membership | None:
    return session.scalar(
        select(Membership)
        .join(Membership.user)
        .where(Membership.account_id == account_id, User.email == email)
    )


@dataclass(frozen=True, slots=True)
class MemberLookup:
    """What one query found about "member ``email`` of account ``name``, asked by a user"."""

    account_id: uuid.UUID
    account_name: str
    caller_is_member: bool
    member: MemberRecord | None


@dataclass(frozen=True, slots=True)
class MemberUser:
    id: uuid.UUID
    email: str


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A membership as read for an answer: its columns and its user's id and email.

    Plain values, not an ORM instance: the member lookup runs on every
    permission check, and building detached ORM instances cost it more than
    the query (benchmarks/README.md, "A plain record for the member lookup").
    """

    id: uuid.UUID
    account_id: uuid.UUID
    user_id: uuid.UUID
    permissions: PermissionSet
    added_by_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    user: MemberUser

    @classmethod
    def of(cls, membership: Membership) -> MemberRecord:
        return cls(
            id=membership.id,
            account_id=membership.account_id,
            user_id=membership.user_id,
            permissions=membership.permissions,
            added_by_id=membership.added_by_id,
            created_at=membership.created_at,
            updated_at=membership.updated_at,
            user=MemberUser(id=membership.user.id, email=membership.user.email),
        )


_CALLER = aliased(Membership, name="caller_membership")
# users.email and (memberships.account_id, memberships.user_id) are unique, so
# the left joins add at most one row each to the one account found by name.
_MEMBER_LOOKUP_COLUMNS = (
    select(
        EnterpriseAccount.id.label("account_id"),
        EnterpriseAccount.name.label("account_name"),
        _CALLER.id.label("caller_membership_id"),
        Membership.id,
        Membership.user_id,
        Membership.permissions,
        Membership.added_by_id,
        Membership.created_at,
        Membership.updated_at,
        User.email,
    )
    .select_from(EnterpriseAccount)
    .outerjoin(User, User.email == bindparam("email"))
    .outerjoin(
        Membership,
        and_(Membership.account_id == EnterpriseAccount.id, Membership.user_id == User.id),
    )
    .outerjoin(
        _CALLER,
        and_(_CALLER.account_id == EnterpriseAccount.id, _CALLER.user_id == bindparam("caller_id")),
    )
)
_MEMBER_LOOKUP = PreparedRead(
    _MEMBER_LOOKUP_COLUMNS.where(EnterpriseAccount.name == bindparam("name"))
)
# The same read for an account named by its id, as Heroku's clients do.
_MEMBER_LOOKUP_BY_ID = PreparedRead(
    _MEMBER_LOOKUP_COLUMNS.where(EnterpriseAccount.id == bindparam("account_id"))
)


def member_lookup(
    engine: Engine, account_name: str, email: str | None, *, caller_id: uuid.UUID | None
) -> MemberLookup | None:
    """The account, whether ``caller_id`` is a member of it, and the member with ``email``.

    ``account_name`` may also be the account's id (see ``account_by_id_or_name``).

    One indexed query returning a plain row, not ORM loading: this is the API's
    hottest read, run as a ``PreparedRead`` (``engine`` from the unit of work's
    ``read_engine``). None when no account has the name; ``member`` is None when
    ``email`` (None matches nobody) is not a member; else it is a
    ``MemberRecord`` of the selected columns.
    """
    row = None
    account_id = account_id_in(account_name)
    if account_id is not None:  # an id, else a UUID-shaped name (account_by_id_or_name)
        row = _MEMBER_LOOKUP_BY_ID.first(
            engine, {"account_id": account_id, "email": email, "caller_id": caller_id}
        )
    if row is None:
        row = _MEMBER_LOOKUP.first(
            engine, {"name": account_name, "email": email, "caller_id": caller_id}
        )
    if row is None:
        return None
    member = None
    if row.id is not None:
        member = MemberRecord(
            id=row.id,
            account_id=row.account_id,
            user_id=row.user_id,
            permissions=row.permissions,
            added_by_id=row.added_by_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            user=MemberUser(id=row.user_id, email=row.email),
        )
    return MemberLookup(
        account_id=row.account_id,
        account_name=row.account_name,
        caller_is_member=row.caller_membership_id is not None,
        member=member,
    )


def members(session: Session, account_id: uuid.UUID) -> Sequence[Membership]:
    return session.scalars(
        select(Membership)
        .join(Membership.user)
        .where(Membership.account_id == account_id)
        .order_by(User.email)
    ).all()


def count_admins(session: Session, account_id: uuid.UUID) -> int:
    query = (
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.account_id == account_id, grants(Membership.permissions, ADMIN_PERMISSION)
        )
    )
    return session.scalar(query) or 0


def admin_users(session: Session, account_id: uuid.UUID) -> Sequence[User]:
    """The active users holding ``manage`` on the account, by email."""
    return session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.account_id == account_id,
            grants(Membership.permissions, ADMIN_PERMISSION),
            User.is_active,
        )
        .order_by(User.email)
    ).all()


def pending_invitations(
    session: Session,
    account_id: uuid.UUID,
    now: datetime,
    *,
    email: str | None = None,
    emails: Collection[str] | None = None,
) -> Sequence[Invitation]:
    """Oldest first; only those for ``email``, or for any of ``emails``, when given."""
    query = (
        select(Invitation)
        .where(
            Invitation.account_id == account_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.created_at)
    )
    if email is not None:
        query = query.where(Invitation.email == email)
    if emails is not None:
        query = query.where(Invitation.email.in_(emails))
    return session.scalars(query).all()


def invitation_by_token_hash(session: Session, token_hash: str) -> Invitation | None:
    return session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash).with_for_update()
    )
