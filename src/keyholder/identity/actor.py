"""Who is acting: a signed-in person or the operator at the CLI."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from keyholder.identity.models import StaffRole, User


@dataclass(frozen=True, slots=True)
class Actor:
    """The acting party, detached from any database session.

    ``user_id`` is None for the platform operator running the CLI on the
    server: whoever can run it can already read the database, so it acts with
    staff-admin rights and is recorded as ``label`` in the audit log.
    """

    label: str
    user_id: uuid.UUID | None = None
    email: str | None = None
    staff_role: StaffRole | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(label=user.email, user_id=user.id, email=user.email, staff_role=user.staff_role)

    @classmethod
    def operator(cls, name: str) -> Actor:
        return cls(label=f"cli:{name}", staff_role=StaffRole.ADMIN)

    @property
    def is_staff(self) -> bool:
        return self.staff_role is not None

    @property
    def is_staff_admin(self) -> bool:
        return self.staff_role is StaffRole.ADMIN
