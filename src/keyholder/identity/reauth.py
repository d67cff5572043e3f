"""Asking a signed-in user for their password again before a sensitive change (S17)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from keyholder.db.uow import UnitOfWork
from keyholder.errors import NotFound, PermissionDenied
from keyholder.identity.actor import Actor
from keyholder.identity.models import User
from keyholder.identity.throttle import RateLimiter, count_login_attempt

if TYPE_CHECKING:
    from keyholder.identity.passwords import PasswordHasher


def reauthenticate(
    uow: UnitOfWork, actor: Actor, password: str, *, limiter: RateLimiter, hasher: PasswordHasher
) -> uuid.UUID:
    """Check the actor's password outside any transaction (argon2 is slow on purpose).

    Counted as a sign-in attempt, so these endpoints cannot be used to guess
    the password faster than the sign-in form allows (S16). Returns the user's id.
    """
    with uow:
        user = uow.session.get(User, actor.user_id) if actor.user_id else None
        if user is None or not user.is_active:
            raise NotFound("this actor has no user record")
        stored, user_id, email = user.password_hash, user.id, user.email
    count_login_attempt(limiter, email, client_address=uow.context.client_address)
    if not hasher.verify(stored, password) or stored is None:
        raise PermissionDenied("the password is wrong")
    return user_id
