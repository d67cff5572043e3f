"""Who is acting: a signed-in person or the operator at the CLI."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from keyholder.errors import PermissionDenied
from keyholder.identity.models import StaffRole, User

STAFF_NEED_MFA = "staff must enrol multi-factor authentication before acting"


@dataclass(frozen=True, slots=True)
class Actor:
    """The acting party, detached from any database session.

    ``user_id`` is None for the platform operator running the CLI on the
    server: whoever can run it can already read the database, so it acts with
    staff-admin rights and is recorded as ``label`` in the audit log.

    ``mfa_enabled`` is whether the user has a second factor enabled. Sessions
    of such users act only once verified (``identity.service``), and their API
    tokens count as verified.

    S18: staff act only with MFA. ``is_staff`` and ``is_staff_admin`` are the
    one way to use a staff power, and both raise ``PermissionDenied`` (403) for
    a staff member without MFA instead of answering False, so such a person is
    never treated as a customer (no 404s, S29). ``staff_role`` is the bare fact,
    for display only. The operator is exempt.
    """

    label: str
    user_id: uuid.UUID | None = None
    email: str | None = None
    staff_role: StaffRole | None = None
    mfa_enabled: bool = False

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(
            label=user.email,
            user_id=user.id,
            email=user.email,
            staff_role=user.staff_role,
            mfa_enabled=user.mfa_enabled_at is not None,
        )

    @classmethod
    def operator(cls, name: str) -> Actor:
        return cls(label=f"cli:{name}", staff_role=StaffRole.ADMIN)

    @property
    def is_staff(self) -> bool:
        """Whether the actor may use staff powers; raises for staff without MFA (S18)."""
        return self._staff_power() is not None

    @property
    def is_staff_admin(self) -> bool:
        """Whether the actor may use admin powers; raises for staff without MFA (S18)."""
        return self._staff_power() is StaffRole.ADMIN

    def _staff_power(self) -> StaffRole | None:
        role = self.staff_role
        if role is not None and not self.mfa_enabled and self.user_id is not None:
            raise PermissionDenied(STAFF_NEED_MFA)
        return role
