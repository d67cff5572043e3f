"""Factories that build test data through the real services."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

import pyotp
from sqlalchemy import select

from keyholder.accounts import members
from keyholder.accounts import service as accounts
from keyholder.accounts.invitations import INVITATION_PREFIX
from keyholder.accounts.models import ContactKind, EnterpriseAccount, Membership
from keyholder.accounts.service import ContactInput
from keyholder.bootstrap import Runtime
from keyholder.desk import customer
from keyholder.desk.models import Ticket
from keyholder.identity import service as identity
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole, User
from keyholder.identity.totp_keys import encrypt_totp_secret
from keyholder.mail.models import OutboxMessage

PASSWORD = "correct horse battery staple"
OPERATOR = Actor.operator("tests")


class Factories:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._counter = itertools.count(1)

    def user(
        self,
        email: str | None = None,
        *,
        password: str | None = None,
        staff_role: StaffRole | None = None,
        name: str = "",
        mfa: bool | None = None,
    ) -> User:
        """A user; staff get MFA enabled (S18: staff act only with it) unless ``mfa=False``.

        ``mfa=True`` enables it for a customer too. The clear TOTP secret is in
        ``user.totp_secret``, for computing codes at the test clock (see enable_mfa).
        """
        email = email or f"user{next(self._counter)}@example.com"
        user = identity.create_user(
            self.runtime.uow(),
            email,
            name=name,
            password=password,
            staff_role=staff_role,
            actor=OPERATOR,
            hasher=self.runtime.password_hasher,
        )
        if mfa if mfa is not None else staff_role is not None:
            user = self.enable_mfa(user)
        return user

    def enable_mfa(self, user: User) -> User:
        """``user`` with MFA enabled now, set directly (identity.mfa is tested on its own).

        The database holds the secret encrypted, as enrolment stores it; the
        returned object also carries it in clear as ``totp_secret``, a plain
        attribute of this copy only, never stored.
        """
        secret = pyotp.random_base32()
        with self.runtime.uow() as uow:
            stored = uow.session.get(User, user.id)
            assert stored is not None
            stored.mfa_secret = encrypt_totp_secret(uow.settings, secret)
            stored.mfa_enabled_at = uow.clock.now()
            uow.commit()
        stored.totp_secret = secret  # type: ignore[attr-defined]
        return stored

    def actor(self, user: User) -> Actor:
        return Actor.for_user(user)

    def token(self, user: User) -> str:
        return identity.create_api_token(self.runtime.uow(), user.email, actor=OPERATOR).token

    def auth(self, user: User) -> dict[str, str]:
        """Headers that authenticate as ``user`` through a fresh API token."""
        return {"Authorization": f"Bearer {self.token(user)}"}

    def account(
        self,
        name: str | None = None,
        *,
        contract_number: str | None = None,
        domains: Iterable[str] = (),
        executive_email: str | None = None,
    ) -> EnterpriseAccount:
        n = next(self._counter)
        name = name or f"account-{n}"
        contacts = []
        if executive_email:
            contacts.append(
                ContactInput(ContactKind.EXECUTIVE, "Exec Utive", "CEO", executive_email)
            )
        return accounts.create_account(
            self.runtime.uow(),
            name=name,
            contract_number=contract_number or f"ENT-2024-{n:06d}",
            domains=list(domains),
            contacts=contacts,
            actor=OPERATOR,
        )

    def member(
        self, account: EnterpriseAccount, user: User, permissions: str = "view"
    ) -> Membership:
        added = members.add_member(
            self.runtime.uow(), account.name, user.email, permissions.split(","), actor=OPERATOR
        )
        assert added.membership is not None
        return added.membership

    def admin_of(self, account: EnterpriseAccount, email: str | None = None) -> User:
        user = self.user(email)
        self.member(account, user, "view,manage")
        return user

    def last_invitation_token(self) -> str:
        """The token from the newest invitation email, as its recipient would read it."""
        with self.runtime.uow(read_only=True) as uow:
            body = uow.session.scalars(
                select(OutboxMessage.body)
                .where(OutboxMessage.kind == "invitation")
                .order_by(OutboxMessage.id.desc())
            ).first()
        match = re.search(rf"/invitations/({INVITATION_PREFIX}_[A-Za-z0-9_-]+)", body or "")
        assert match, body
        return match.group(1)

    def staff(self, email: str | None = None, role: StaffRole = StaffRole.AGENT) -> User:
        """A support staff member with MFA (S18)."""
        return self.user(email, staff_role=role, name=f"Agent {next(self._counter)}")

    def ticket(
        self,
        requester: User | None = None,
        *,
        subject: str = "Cannot export invoices",
        body: str = "The export button does nothing.",
        account: EnterpriseAccount | None = None,
    ) -> Ticket:
        """A ticket opened through the customer API's service by ``requester``."""
        requester = requester or self.user()
        opened = customer.open_ticket(
            self.runtime.uow(),
            subject=subject,
            body=body,
            account_name=account.name if account else None,
            actor=Actor.for_user(requester),
        )
        return opened.ticket
