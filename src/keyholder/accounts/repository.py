"""Queries for accounts and members. Nothing here commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session, selectinload

from keyholder.accounts.models import EnterpriseAccount, Invitation, Membership
from keyholder.accounts.permissions import ADMIN_PERMISSION, grants
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
        .where(Membership.account_id == account_id, grants(Membership.permissions, ADMIN_PERMISSION))
    )
    return session.scalar(query) or 0


def pending_invitations(
    session: Session, account_id: uuid.UUID, now: datetime, *, email: str | None = None
) -> Sequence[Invitation]:
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
    return session.scalars(query).all()


def invitation_by_token_hash(session: Session, token_hash: str) -> Invitation | None:
    return session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash).with_for_update()
    )
