"""Demo data for a newcomer's first run. Idempotent: safe to run again.

Development only: it creates users with a published password and back-dates
contacts on record so that confirmation links go to them (S22), neither of
which may happen to a real database.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, update

from keyholder.accounts import members
from keyholder.accounts import service as accounts
from keyholder.accounts.models import AccountContact, ContactKind
from keyholder.accounts.service import ContactInput
from keyholder.bootstrap import Runtime
from keyholder.config import Environment, Settings
from keyholder.demo_letter import demo_letter_png
from keyholder.desk import canned, customer
from keyholder.desk.models import Ticket
from keyholder.errors import AlreadyExists, ConfigurationError
from keyholder.identity import service as identity
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole, User

DEMO_PASSWORD = "keyholder-demo"  # noqa: S105 - printed in the README; development data only


@dataclass(frozen=True)
class DemoAccount:
    name: str
    display_name: str
    contract: str
    domain: str
    contacts: tuple[ContactInput, ...]
    members: tuple[tuple[str, str], ...]  # (email, comma-separated permissions)


STAFF = (
    ("admin@keyholder.example", "Platform Admin", StaffRole.ADMIN),
    ("agent@keyholder.example", "Sam Agent", StaffRole.AGENT),
    ("reviewer@keyholder.example", "Riley Reviewer", StaffRole.REVIEWER),
    ("reviewer2@keyholder.example", "Robin Reviewer", StaffRole.REVIEWER),
)

# Signed up on the platform but on no enterprise account yet: ready to be added.
PLATFORM_USERS = (("newperson@acme.example", "New Person"),)

ACCOUNTS = (
    DemoAccount(
        "acme-corp",
        "Acme Corporation",
        "ENT-2024-001234",
        "acme.example",
        (
            ContactInput(
                ContactKind.EXECUTIVE,
                "Dana Whitfield",
                "Chief Executive Officer",
                "dana.whitfield@acme.example",
            ),
            ContactInput(ContactKind.SECURITY, "Omar Haddad", "CISO", "security@acme.example"),
            ContactInput(ContactKind.BILLING, "Priya Nair", "Controller", "billing@acme.example"),
        ),
        (
            ("alice@acme.example", "view,manage,billing"),
            ("bob@acme.example", "view,create"),
            ("carol@acme.example", "view,billing"),
        ),
    ),
    DemoAccount(
        "globex",
        "Globex Inc.",
        "ENT-2024-004321",
        "globex.example",
        (ContactInput(ContactKind.EXECUTIVE, "Hank Scorpio", "CEO", "hank@globex.example"),),
        (("hank@globex.example", "view,create,manage,billing"), ("frank@globex.example", "view")),
    ),
    # No admin left: the account the recovery flow is for.
    DemoAccount(
        "initech",
        "Initech LLC",
        "ENT-2025-000777",
        "initech.example",
        (ContactInput(ContactKind.EXECUTIVE, "Bill Lumbergh", "Owner", "bill@initech.example"),),
        (("peter@initech.example", "view,create"),),
    ),
)


def initech_letter_png(dated: date) -> bytes:
    """A signed letter for a demo request on Initech, which has no admin left: Peter asks."""
    return demo_letter_png(
        account="initech",
        display_name="Initech LLC",
        contract="ENT-2025-000777",
        email_to_add="peter@initech.example",
        reason="Our only administrator left the company and his mailbox was deleted.",
        executive_name="Bill Lumbergh",
        executive_title="Owner",
        executive_email="bill@initech.example",
        dated=dated,
    )


def require_development(settings: Settings) -> None:
    """Refuse to touch a database that is not a development one."""
    if settings.env is not Environment.DEVELOPMENT:
        raise ConfigurationError(
            f"demo data is for development only (KEYHOLDER_ENV is {settings.env.value!r}); "
            "nothing was written"
        )


def demo_steps() -> int:
    """How many steps ``load_demo_data`` reports: one per user, account and member."""
    return len(STAFF) + len(PLATFORM_USERS) + sum(1 + len(demo.members) for demo in ACCOUNTS)


def load_demo_data(runtime: Runtime, *, step: Callable[[], None] | None = None) -> list[str]:
    """Create what is missing; return a line for each thing created.

    ``step`` is called after each of ``demo_steps()`` steps (a progress bar:
    every user's password is hashed, which takes a moment each).
    """
    require_development(runtime.settings)
    actor = Actor.operator("demo")
    created: list[str] = []
    step = step or (lambda: None)
    for email, name, role in STAFF:
        step()
        with contextlib.suppress(AlreadyExists):
            identity.create_user(
                runtime.uow(),
                email,
                name=name,
                password=DEMO_PASSWORD,
                staff_role=role,
                actor=actor,
                hasher=runtime.password_hasher,
            )
            created.append(f"staff {role}: {email}")
    for email, name in PLATFORM_USERS:
        step()
        with contextlib.suppress(AlreadyExists):
            identity.create_user(
                runtime.uow(),
                email,
                name=name,
                password=DEMO_PASSWORD,
                actor=actor,
                hasher=runtime.password_hasher,
            )
            created.append(f"user {email} (on no account yet)")
    for demo in ACCOUNTS:
        step()
        with contextlib.suppress(AlreadyExists):
            account = accounts.create_account(
                runtime.uow(),
                name=demo.name,
                display_name=demo.display_name,
                contract_number=demo.contract,
                domains=[demo.domain],
                contacts=demo.contacts,
                actor=actor,
            )
            _backdate_contacts(runtime, account.id)
            created.append(f"account {demo.name}")
        for email, permissions in demo.members:
            step()
            with contextlib.suppress(AlreadyExists):
                identity.create_user(
                    runtime.uow(),
                    email,
                    password=DEMO_PASSWORD,
                    actor=actor,
                    hasher=runtime.password_hasher,
                )
            with contextlib.suppress(AlreadyExists):
                members.add_member(
                    runtime.uow(), demo.name, email, permissions.split(","), actor=actor
                )
                created.append(f"member {email} of {demo.name} ({permissions})")
    created.extend(_load_desk(runtime, actor))
    # No access request is seeded: an unconfirmed one only left a second, unexplained
    # confirmation email in /dev/mail. Peter (Initech, no admin) asks for one himself.
    return created


def _backdate_contacts(runtime: Runtime, account_id: uuid.UUID) -> None:
    """Date the contacts of an account the demo just created a year back.

    As a real account's would be, so confirmation links go to them (S22). Only
    that account's: a contact the demo did not create keeps its date.
    """
    with runtime.uow() as uow:
        year_ago = uow.clock.now() - timedelta(days=365)
        uow.session.execute(
            update(AccountContact)
            .where(AccountContact.account_id == account_id)
            .values(added_at=year_ago, changed_at=year_ago, confirmed_at=year_ago)
        )
        uow.commit()


# Each: requester, account, subject, first message.
TICKETS = (
    (
        "carol@acme.example",
        "acme-corp",
        "March invoice is missing",
        "Hello, the invoice for March does not show on the billing page. Can you resend it?",
    ),
    (
        "peter@initech.example",
        "initech",
        "Nobody at Initech can manage our account",
        "Our only admin left the company and his mailbox is gone. How do we get admin access?",
    ),
)

CANNED_REPLIES = (
    (
        "self-service-first",
        "Hello {requester_name},\n\nIf your IT team can recover your former admin's mailbox, "
        "that admin can reset the password and add you: that is the fastest way. Otherwise, "
        "ask for admin access with a letter signed by an executive of {account_name}.\n\n"
        "{agent_name}",
    ),
)


def _load_desk(runtime: Runtime, actor: Actor) -> list[str]:
    with runtime.uow(read_only=True) as uow:
        if uow.session.scalar(select(Ticket.id).limit(1)) is not None:
            return []
    created = []
    for email, account, subject, body in TICKETS:
        with runtime.uow(read_only=True) as uow:
            user = uow.session.scalars(select(User).where(User.email == email)).one()
        opened = customer.open_ticket(
            runtime.uow(),
            subject=subject,
            body=body,
            account_name=account,
            actor=Actor.for_user(user),
        )
        created.append(f"ticket #{opened.ticket.id} from {email}")
    for name, body in CANNED_REPLIES:
        with contextlib.suppress(AlreadyExists):
            canned.save_canned_reply(runtime.uow(), name, body, actor=actor, create=True)
            created.append(f"canned reply {name}")
    return created


def has_any_account(runtime: Runtime) -> bool:
    return bool(accounts.list_accounts(runtime.uow(read_only=True), actor=Actor.operator("demo")))
