"""Who is acting: a signed-in person or the operator at the CLI."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from keyholder.errors import NeedsPhishingResistantFactor, PermissionDenied
from keyholder.identity.models import MfaMethod, StaffRole, User

STAFF_NEED_MFA = "staff must enrol multi-factor authentication before acting"
# Where a refused admin or staff member enrols a passkey (the page, and the API).
ENROL_PASSKEY = (
    "add a passkey or security key on your Sign-in and security page (/account/security, "
    "or POST /api/passkeys/registration), then sign in with it"
)
STAFF_NEED_PASSKEY = (
    "staff act only after signing in with a passkey or security key (a phishing-resistant "
    f"factor; an authenticator-app code is not enough here): {ENROL_PASSKEY}"
)


@dataclass(frozen=True, slots=True)
class Actor:
    """The acting party, detached from any database session.

    ``user_id`` is None for the platform operator running the CLI on the
    server: whoever can run it can already read the database, so it acts with
    staff-admin rights and is recorded as ``label`` in the audit log.

    ``mfa_enabled`` is whether the user has a second factor enabled (TOTP or
    passkeys). Sessions
    of such users act only once verified (``identity.service``), and their API
    tokens count as verified.

    S18: staff act only with MFA. ``is_staff`` and ``is_staff_admin`` are the
    one way to use a staff power, and both raise ``PermissionDenied`` (403) for
    a staff member without MFA instead of answering False, so such a person is
    never treated as a customer (no 404s, S29). ``staff_role`` is the bare fact,
    for display only. The operator is exempt.

    ``mfa_method`` is how the session (or the session that made the API token)
    passed its second factor. With ``phishing_resistant_required`` (the
    setting ``require_phishing_resistant_admin``, copied here when the actor is
    authenticated) staff powers need ``phishing_resistant``: otherwise the same
    two properties raise ``NeedsPhishingResistantFactor`` (403), saying where
    to enrol. ``accounts.policy`` asks the same of members acting with ``manage``.
    """

    label: str
    user_id: uuid.UUID | None = None
    email: str | None = None
    staff_role: StaffRole | None = None
    mfa_enabled: bool = False
    mfa_method: MfaMethod | None = None
    phishing_resistant_required: bool = False
    # How emails name an actor that is no person ("Your identity provider"); None: by email.
    described_as: str | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(
            label=user.email,
            user_id=user.id,
            email=user.email,
            staff_role=user.staff_role,
            mfa_enabled=user.second_factor_since is not None,
        )

    @property
    def phishing_resistant(self) -> bool:
        """Whether this sign-in passed a passkey (or, once, a recovery code)."""
        return self.mfa_method is not None and self.mfa_method.phishing_resistant

    @property
    def lacks_required_factor(self) -> bool:
        """Whether the policy asks for a passkey sign-in this actor has not made.

        The operator at the CLI (no user) is exempt, as from S18.
        """
        return (
            self.phishing_resistant_required
            and self.user_id is not None
            and not self.phishing_resistant
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
        if role is not None and self.lacks_required_factor:
            raise NeedsPhishingResistantFactor(STAFF_NEED_PASSKEY)
        return role
