"""Use cases for enterprise accounts themselves."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from keyholder.accounts import repository
from keyholder.accounts.models import (
    AccountContact,
    AccountDomain,
    ContactKind,
    EnterpriseAccount,
)
from keyholder.accounts.permissions import PermissionSet
from keyholder.accounts.policy import readable_account, readable_account_by_id_or_name
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import account_target
from keyholder.db.uow import UnitOfWork
from keyholder.errors import AlreadyExists, InvalidInput, PermissionDenied
from keyholder.identity.actor import Actor
from keyholder.identity.emails import normalize_email

ACCOUNT_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
CONTRACT_NUMBER = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{1,62}[A-Z0-9])$")
DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True, slots=True)
class ContactInput:
    kind: ContactKind
    name: str
    title: str
    email: str


def normalize_account_name(name: str) -> str:
    candidate = name.strip().lower()
    if not ACCOUNT_NAME.fullmatch(candidate):
        raise InvalidInput(
            f"{name!r} is not a valid account name: use lowercase letters, digits and "
            "hyphens (1-64 characters, no hyphen at either end)"
        )
    return candidate


def normalize_contract_number(number: str) -> str:
    """The one rule for contract numbers: on accounts, and as typed in an access request."""
    candidate = number.strip().upper()
    if not CONTRACT_NUMBER.fullmatch(candidate):
        raise InvalidInput(
            f"{number!r} is not a valid contract number: use letters, digits and hyphens, "
            "like ENT-2024-001234",
            field="contract_number",
        )
    return candidate


def normalize_domain(domain: str) -> str:
    """Lowercase ASCII (IDNA) form; look-alike Unicode domains become visible punycode."""
    candidate = domain.strip().rstrip(".").lower()
    try:
        ascii_form = candidate.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput(f"{domain!r} is not a valid domain name") from None
    labels = ascii_form.split(".")
    if len(labels) < 2 or len(ascii_form) > 253 or not all(map(DOMAIN_LABEL.fullmatch, labels)):
        raise InvalidInput(f"{domain!r} is not a valid domain name")
    return ascii_form


def create_account(
    uow: UnitOfWork,
    *,
    name: str,
    contract_number: str,
    display_name: str | None = None,
    domains: Sequence[str] = (),
    contacts: Sequence[ContactInput] = (),
    actor: Actor,
) -> EnterpriseAccount:
    """Open an enterprise account. Platform admins only.

    Domains given here are recorded as verified, and contacts as confirmed: the
    operator vouches for them (contacts still wait ``access_contact_min_age``
    before they count for recovery, S22). Admins change contacts through
    ``accounts.contacts``, where each confirms by an emailed link.
    """
    if not actor.is_staff_admin:
        raise PermissionDenied("only platform admins can create enterprise accounts")
    name = normalize_account_name(name)
    if repository.account_id_in(name) is not None:
        # The API looks an account up by id first (Heroku's way): a name shaped
        # like an id could be shadowed by another account's id.
        raise InvalidInput(f"{name!r} looks like an account id: choose another name")
    contract_number = normalize_contract_number(contract_number)
    domain_names = sorted({normalize_domain(d) for d in domains})
    with uow:
        session = uow.session
        if repository.account_by_name(session, name) is not None:
            raise AlreadyExists(f"an enterprise account named {name!r} already exists")
        if session.scalar(
            select(EnterpriseAccount.id).where(EnterpriseAccount.contract_number == contract_number)
        ):
            raise AlreadyExists(f"contract number {contract_number} belongs to another account")
        taken = session.scalars(
            select(AccountDomain.domain).where(AccountDomain.domain.in_(domain_names))
        ).all()
        if taken:
            raise AlreadyExists(f"domain(s) already belong to another account: {', '.join(taken)}")
        now = uow.clock.now()
        account = EnterpriseAccount(
            name=name,
            display_name=(display_name or name).strip(),
            contract_number=contract_number,
            created_at=now,
            updated_at=now,
            domains=[
                AccountDomain(domain=d, verified_at=now, created_at=now) for d in domain_names
            ],
            contacts=[
                AccountContact(
                    kind=c.kind,
                    name=c.name.strip(),
                    title=c.title.strip(),
                    email=normalize_email(c.email),
                    added_at=now,
                    changed_at=now,
                    confirmed_at=now,
                )
                for c in contacts
            ],
        )
        session.add(account)
        session.flush()
        record_event(
            uow,
            actor=actor,
            action=AuditAction.ACCOUNT_CREATE,
            target=account_target(account.name),
            after=describe_account(account),
        )
        uow.commit()
        return account


def describe_account(account: EnterpriseAccount) -> dict[str, object]:
    return {
        "name": account.name,
        "display_name": account.display_name,
        "contract_number": account.contract_number,
        "domains": [d.domain for d in account.domains],
        "contacts": [
            {"kind": c.kind, "name": c.name, "title": c.title, "email": c.email}
            for c in account.contacts
        ],
    }


def list_accounts(uow: UnitOfWork, *, actor: Actor) -> Sequence[EnterpriseAccount]:
    """The accounts this actor can see, by name."""
    with uow:
        query = repository.visible_accounts(actor).order_by(EnterpriseAccount.name)
        return uow.session.scalars(query).all()


def get_account(uow: UnitOfWork, name: str, *, actor: Actor) -> EnterpriseAccount:
    with uow:
        account = readable_account(uow, name, actor=actor)
        # Loaded now, while the session is open: callers render them afterwards.
        _ = account.domains, account.contacts
        return account


@dataclass(frozen=True, slots=True)
class AccountWithPermissions:
    """An account, and the permissions the caller holds in it (Heroku's ``permissions``).

    Empty for staff who read the account without being a member of it.
    """

    account: EnterpriseAccount
    permissions: PermissionSet


def list_accounts_with_permissions(
    uow: UnitOfWork, *, actor: Actor
) -> list[AccountWithPermissions]:
    """``list_accounts``, each with the actor's own permissions in it."""
    with uow:
        query = repository.visible_accounts(actor).order_by(EnterpriseAccount.name)
        found = uow.session.scalars(query).all()
        own = repository.own_permissions(uow.session, actor.user_id)
        return [AccountWithPermissions(a, own.get(a.id, frozenset())) for a in found]


def get_account_with_permissions(
    uow: UnitOfWork, id_or_name: str, *, actor: Actor
) -> AccountWithPermissions:
    """The account named by its id or name, if the actor may read it, with their permissions."""
    with uow:
        account = readable_account_by_id_or_name(uow, id_or_name, actor=actor)
        _ = account.domains, account.contacts
        own = (
            repository.membership(uow.session, account.id, actor.user_id)
            if actor.user_id is not None
            else None
        )
        return AccountWithPermissions(account, own.permissions if own else frozenset())
