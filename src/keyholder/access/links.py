"""One-time links emailed about a request: confirm, deny, veto (S6, S10, S11).

Only a hash is stored. A link is found only under its own purpose and its own
request, and spending it is one conditional UPDATE, so two clicks at once
cannot both count.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from keyholder.access.models import LinkPurpose, RequestLink
from keyholder.db.tx import Tx
from keyholder.errors import Gone, NotFound
from keyholder.identity.tokens import hash_token, new_token

LINK_PREFIX = "kha"


def issue_link(tx: Tx, request_id: uuid.UUID, purpose: LinkPurpose, email: str) -> str:
    """A new link token for ``email``; returns the token (the email carries it)."""
    token, token_hash = new_token(LINK_PREFIX)
    now = tx.clock.now()
    tx.session.add(
        RequestLink(
            request_id=request_id,
            purpose=purpose,
            email=email,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + tx.settings.access_link_ttl,
        )
    )
    return token


def spend_link(tx: Tx, request_id: uuid.UUID, purpose: LinkPurpose, token: str) -> RequestLink:
    """The link, now used. 404 for an unknown token (or one of another purpose or
    request), 410 when used or expired."""
    link = tx.session.scalar(
        select(RequestLink).where(
            RequestLink.token_hash == hash_token(token),
            RequestLink.purpose == purpose,
            RequestLink.request_id == request_id,
        )
    )
    if link is None:
        raise NotFound("this link is not valid")
    now = tx.clock.now()
    if link.used_at is not None:
        raise Gone("this link was already used")
    if now >= link.expires_at:
        raise Gone("this link has expired")
    spent = tx.session.execute(
        update(RequestLink)
        .where(RequestLink.id == link.id, RequestLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if spent != 1:
        raise Gone("this link was already used")
    link.used_at = now
    return link
