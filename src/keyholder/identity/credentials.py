"""Ending a user's sign-ins: every session and API token at once."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from keyholder.db.tx import Tx
from keyholder.identity.models import ApiToken, UserSession


def revoke_all_credentials(
    tx: Tx, user_id: uuid.UUID, *, keep_session_id: uuid.UUID | None = None
) -> int:
    """Revoke the user's sessions and API tokens in the caller's transaction.

    Used after a password reset (SECURITY.md S14) and for "log out everywhere".
    ``keep_session_id`` spares the session the user is acting from. Returns how
    many credentials were revoked.
    """
    now = tx.clock.now()
    sessions = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep_session_id is not None:
        sessions = sessions.where(UserSession.id != keep_session_id)
    revoked = tx.session.execute(sessions.values(revoked_at=now)).rowcount  # type: ignore[attr-defined]
    tokens = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    revoked += tx.session.execute(tokens.values(revoked_at=now)).rowcount  # type: ignore[attr-defined]
    return int(revoked)
