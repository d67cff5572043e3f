"""Recovery contacts: the people on record who vouch for a recovery when no admin is left.

Admins (``manage``) name executives and recovery officers (security contacts),
and billing contacts, each with a name, a title and an email on one of the
account's verified domains (look-alikes refused, S23a). A contact confirms its
address by an emailed one-time link before it counts, and it counts for
recovery (``counts_for_recovery``) only once the waiting period
(``access_contact_min_age``, S22) has passed since it confirmed and since its
last change. Adding, changing and removing one needs the admin's password
again (S17), is audited, and is told to the other contacts and to the admins,
so a hijacked admin cannot quietly put their own "executive" on record.

Only the hash of a confirmation link is stored (S6); the link is found only in
this table (S11), expires (``contact_confirmation_ttl``), and spending it is one
conditional UPDATE, so two clicks at once cannot both count (S10). A new link
(resend, or a changed email) replaces the old one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from keyholder.accounts import repository
from keyholder.accounts.models import AccountContact, ContactKind, EnterpriseAccount
from keyholder.accounts.policy import managed_account, readable_account
from keyholder.accounts.service import ContactInput
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import contact_target
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.domains import check_email_domain
from keyholder.errors import AlreadyExists, Gone, InvalidInput, NotFound
from keyholder.identity.actor import Actor
from keyholder.identity.emails import normalize_email
from keyholder.identity.reauth import reauthenticate
from keyholder.identity.throttle import RateLimiter
from keyholder.identity.tokens import hash_token, new_token
from keyholder.mail.outbox import send_templated_email

if TYPE_CHECKING:
    from keyholder.identity.passwords import PasswordHasher

CONTACT_PREFIX = "khc"
KIND_LABELS = {
    ContactKind.EXECUTIVE: "executive",
    ContactKind.SECURITY: "recovery officer (security contact)",
    ContactKind.BILLING: "billing contact",
}


@dataclass(frozen=True, slots=True)
class ContactChange:
    """What to change on a contact; None leaves a field as it is."""

    kind: ContactKind | None = None
    name: str | None = None
    title: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Reauthentication:
    """The acting admin's password, checked again before a contact changes (S17)."""

    password: str
    limiter: RateLimiter
    hasher: PasswordHasher


def contacts_on_record(
    account: EnterpriseAccount,
    *,
    now: datetime,
    min_age: timedelta,
    kind: ContactKind | None = None,
) -> list[AccountContact]:
    """The contacts that count for recovery (of ``kind`` when given), oldest first."""
    return [
        c
        for c in account.contacts
        if (kind is None or c.kind is kind) and counts_for_recovery(c, now=now, min_age=min_age)
    ]


def counts_from(contact: AccountContact, *, min_age: timedelta) -> datetime | None:
    """When the contact counts (or counted) for recovery: the waiting period (S22) after
    it confirmed and after its last change. None while it has not confirmed."""
    if contact.confirmed_at is None:
        return None
    return max(contact.confirmed_at, contact.changed_at) + min_age


def counts_for_recovery(contact: AccountContact, *, now: datetime, min_age: timedelta) -> bool:
    """Confirmed, and neither confirmed nor changed within the waiting period (S22)."""
    start = counts_from(contact, min_age=min_age)
    return start is not None and start <= now


def list_contacts(uow: UnitOfWork, account_name: str, *, actor: Actor) -> Sequence[AccountContact]:
    """The account's contacts, confirmed or not. Visible to its members and to staff."""
    with uow:
        account = readable_account(uow, account_name, actor=actor)
        return list(account.contacts)


def add_contact(
    uow: UnitOfWork,
    account_name: str,
    contact: ContactInput,
    *,
    actor: Actor,
    reauth: Reauthentication,
) -> AccountContact:
    """Name a new contact. It counts once it confirmed by link and waited (S22, S17)."""
    name, title = _text(contact.name, "name"), _text(contact.title, "title")
    email = normalize_email(contact.email)
    _reauthenticate(uow, actor, reauth)
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        _check_email(account, email)
        _refuse_duplicate(account, contact.kind, email)
        now = uow.clock.now()
        added = AccountContact(
            id=uuid.uuid4(),
            account_id=account.id,
            kind=contact.kind,
            name=name,
            title=title,
            email=email,
            added_at=now,
            changed_at=now,
        )
        uow.session.add(added)
        account.contacts.append(added)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.CONTACT_ADD,
            target=contact_target(account.name, added.id),
            after=_describe(added),
        )
        _send_confirmation(uow, account, added)
        _tell_others(uow, account, added, actor=actor, what=f"named {_who(added)}")
        uow.commit()
        return added


def change_contact(
    uow: UnitOfWork,
    account_name: str,
    contact_id: uuid.UUID,
    change: ContactChange,
    *,
    actor: Actor,
    reauth: Reauthentication,
) -> AccountContact:
    """Change a contact. Any change restarts its waiting period; a new email must confirm."""
    name = _text(change.name, "name") if change.name is not None else None
    title = _text(change.title, "title") if change.title is not None else None
    email = normalize_email(change.email) if change.email is not None else None
    _reauthenticate(uow, actor, reauth)
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        contact = _contact_of(account, contact_id)
        before = _describe(contact)
        after = before | {
            key: value
            for key, value in (
                ("kind", change.kind.value if change.kind is not None else None),
                ("name", name),
                ("title", title),
                ("email", email),
            )
            if value is not None
        }
        if after == before:
            return contact
        new_email = after["email"] != before["email"]
        if new_email:
            _check_email(account, after["email"])
        if after["kind"] != before["kind"] or new_email:
            _refuse_duplicate(account, ContactKind(after["kind"]), after["email"])
        previous = contact.email if contact.confirmed_at is not None else None
        contact.kind = ContactKind(after["kind"])
        contact.name, contact.title, contact.email = after["name"], after["title"], after["email"]
        contact.changed_at = uow.clock.now()
        if new_email:
            contact.confirmed_at = None
        record_event(
            uow,
            actor=actor,
            action=AuditAction.CONTACT_UPDATE,
            target=contact_target(account.name, contact.id),
            before=before,
            after=_describe(contact),
        )
        if new_email:
            _send_confirmation(uow, account, contact)
        also = [previous] if new_email and previous else []
        _tell_others(uow, account, contact, actor=actor, what=f"changed {_who(contact)}", also=also)
        uow.commit()
        return contact


def remove_contact(
    uow: UnitOfWork,
    account_name: str,
    contact_id: uuid.UUID,
    *,
    actor: Actor,
    reauth: Reauthentication,
) -> None:
    """Take a contact off the record; they and the others are told (S17)."""
    _reauthenticate(uow, actor, reauth)
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        contact = _contact_of(account, contact_id)
        record_event(
            uow,
            actor=actor,
            action=AuditAction.CONTACT_REMOVE,
            target=contact_target(account.name, contact.id),
            before=_describe(contact),
        )
        also = [contact.email] if contact.confirmed_at is not None else []
        account.contacts.remove(contact)
        uow.session.delete(contact)
        _tell_others(uow, account, contact, actor=actor, what=f"removed {_who(contact)}", also=also)
        uow.commit()


def resend_confirmation(
    uow: UnitOfWork, account_name: str, contact_id: uuid.UUID, *, actor: Actor
) -> AccountContact:
    """A new confirmation link for a contact that has not confirmed; the old one dies."""
    with uow:
        account = managed_account(uow, account_name, actor=actor)
        contact = _contact_of(account, contact_id)
        if contact.confirmed_at is not None:
            raise AlreadyExists(f"{contact.email} has already confirmed")
        record_event(
            uow,
            actor=actor,
            action=AuditAction.CONTACT_CONFIRMATION_SEND,
            target=contact_target(account.name, contact.id),
        )
        _send_confirmation(uow, account, contact)
        uow.commit()
        return contact


def confirm_contact(uow: UnitOfWork, token: str) -> AccountContact:
    """The contact confirms its address by the emailed link; its waiting period starts.

    404 for an unknown link (or one replaced by a newer one), 410 when used or
    expired. Spent by one conditional UPDATE: two clicks at once, one success.
    """
    with uow:
        contact = uow.session.scalar(
            select(AccountContact).where(AccountContact.confirm_token_hash == hash_token(token))
        )
        if contact is None:
            raise NotFound("this link is not valid")
        now = uow.clock.now()
        if contact.confirmed_at is not None:
            raise Gone("this link was already used")
        if contact.confirm_expires_at is None or now >= contact.confirm_expires_at:
            raise Gone("this link has expired; ask an admin of the account to send a new one")
        spent = uow.session.execute(
            update(AccountContact)
            .where(
                AccountContact.id == contact.id,
                AccountContact.confirm_token_hash == contact.confirm_token_hash,
                AccountContact.confirmed_at.is_(None),
            )
            .values(confirmed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if spent != 1:
            raise Gone("this link was already used")
        contact.confirmed_at = now
        account = contact.account
        record_event(
            uow,
            actor=Actor(label=f"contact:{contact.email}"),
            action=AuditAction.CONTACT_CONFIRM,
            target=contact_target(account.name, contact.id),
            after={"email": contact.email},
        )
        uow.commit()
        return contact


def _reauthenticate(uow: UnitOfWork, actor: Actor, reauth: Reauthentication) -> None:
    reauthenticate(uow, actor, reauth.password, limiter=reauth.limiter, hasher=reauth.hasher)


def _text(value: str, field: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned or len(cleaned) > 200:
        raise InvalidInput(f"a contact's {field} must be 1 to 200 characters", field=field)
    return cleaned


def _check_email(account: EnterpriseAccount, email: str) -> None:
    """On one of the account's verified domains; a look-alike is named as such (S23a)."""
    verified = [d.domain for d in account.domains if d.verified_at is not None]
    if not verified:
        raise InvalidInput(
            f"{account.name!r} has no verified domain yet: a contact's email must be on one",
            field="email",
        )
    verdict = check_email_domain(email, verified)
    if verdict.status != "pass":
        raise InvalidInput(verdict.explanation, field="email")


def _refuse_duplicate(account: EnterpriseAccount, kind: ContactKind, email: str) -> None:
    if any(c.kind is kind and c.email == email for c in account.contacts):
        raise AlreadyExists(f"{email} is already on record as {KIND_LABELS[kind]}")


def _contact_of(account: EnterpriseAccount, contact_id: uuid.UUID) -> AccountContact:
    found = next((c for c in account.contacts if c.id == contact_id), None)
    if found is None:
        raise NotFound("no such contact on this account")
    return found


def _describe(contact: AccountContact) -> dict[str, str]:
    return {
        "kind": contact.kind.value,
        "name": contact.name,
        "title": contact.title,
        "email": contact.email,
    }


def _who(contact: AccountContact) -> str:
    return f"{contact.name} ({contact.title}, {contact.email}) as {KIND_LABELS[contact.kind]}"


def _send_confirmation(tx: Tx, account: EnterpriseAccount, contact: AccountContact) -> None:
    token, token_hash = new_token(CONTACT_PREFIX)
    now = tx.clock.now()
    contact.confirm_token_hash = token_hash
    contact.confirm_expires_at = now + tx.settings.contact_confirmation_ttl
    send_templated_email(
        tx,
        "contact_confirm",
        to=[contact.email],
        holds_secret=True,
        contact_name=contact.name,
        role=KIND_LABELS[contact.kind],
        account_display_name=account.display_name,
        account_name=account.name,
        link=f"{tx.settings.base_url.rstrip('/')}/contact-confirmations/{token}",
        expires_at=f"{contact.confirm_expires_at:%Y-%m-%d %H:%M}",
        waiting_days=tx.settings.access_contact_min_age.days,
    )


def _tell_others(
    tx: Tx,
    account: EnterpriseAccount,
    contact: AccountContact,
    *,
    actor: Actor,
    what: str,
    also: Sequence[str] = (),
) -> None:
    """Tell the confirmed contacts (but the one changed) and the admins of the change."""
    recipients = {
        c.email for c in account.contacts if c.id != contact.id and c.confirmed_at is not None
    }
    recipients |= {u.email for u in repository.admin_users(tx.session, account.id)}
    recipients |= set(also)
    if not recipients:
        return
    send_templated_email(
        tx,
        "contact_changed",
        to=sorted(recipients),
        who=actor.email or actor.label,
        what=what,
        account_display_name=account.display_name,
        account_name=account.name,
        waiting_days=tx.settings.access_contact_min_age.days,
        link=f"{tx.settings.base_url.rstrip('/')}/accounts/{account.name}",
    )
