"""Storage rules shared by every one-time emailed token (reset, verification).

Only hashes are stored; a token is found only under its own purpose (S11);
spending is one conditional UPDATE, so two concurrent uses cannot both win
(S10); issuing a token revokes the older unused ones it replaces (S9).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, select, update

from keyholder.db.tx import Tx
from keyholder.identity.models import TokenPurpose, UserToken


def add_token(
    tx: Tx,
    *,
    user_id: uuid.UUID,
    purpose: TokenPurpose,
    email: str,
    token_hash: str,
    now: datetime,
    expires_at: datetime,
) -> UserToken:
    record = UserToken(
        id=uuid.uuid4(),  # known before the flush, for audit events
        user_id=user_id,
        purpose=purpose,
        token_hash=token_hash,
        email=email,
        created_at=now,
        expires_at=expires_at,
    )
    tx.session.add(record)
    return record


def find_token(tx: Tx, token_hash: str, purpose: TokenPurpose) -> UserToken | None:
    return tx.session.scalar(
        select(UserToken).where(UserToken.token_hash == token_hash, UserToken.purpose == purpose)
    )


def spend_token(tx: Tx, record: UserToken, now: datetime) -> bool:
    """Mark the token used; False when a concurrent request spent or revoked it first."""
    spent = tx.session.execute(
        update(UserToken)
        .where(
            UserToken.id == record.id,
            UserToken.used_at.is_(None),
            UserToken.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(spent == 1)


def revoke_tokens(
    tx: Tx,
    user_id: uuid.UUID,
    now: datetime,
    *,
    purpose: TokenPurpose | None,
    which: ColumnElement[bool] | None = None,
) -> None:
    """Revoke the user's unused tokens of ``purpose`` (every purpose when None)."""
    query = update(UserToken).where(
        UserToken.user_id == user_id,
        UserToken.used_at.is_(None),
        UserToken.revoked_at.is_(None),
    )
    if purpose is not None:
        query = query.where(UserToken.purpose == purpose)
    if which is not None:
        query = query.where(which)
    tx.session.execute(query.values(revoked_at=now).execution_options(synchronize_session=False))
