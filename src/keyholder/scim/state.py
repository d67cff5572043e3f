"""Who the SCIM Users of an account are, and how each looks as a SCIM resource.

A SCIM User is an address on the account that is a member, has a pending
invitation, or that the IdP told us about (``ScimUser``: one it deactivated
stays, inactive). The membership or invitation is the truth about access; the
record supplies what SCIM has and Keyholder does not. Read in one transaction
with the account row locked (writes) or not (reads).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scim2_models import Context, Meta
from sqlalchemy import func, select

from keyholder.accounts import repository
from keyholder.accounts.models import EnterpriseAccount, Invitation, Membership
from keyholder.accounts.permissions import PermissionSet
from keyholder.db.tx import Tx
from keyholder.identity.models import User
from keyholder.scim.models import ScimUser
from keyholder.scim.resources import CORE_USER_URN, EXTENSION_URN, FLAGS, Member, scim_id

# Where a record keeps the permission flags as the IdP set them (None: left unassigned).
SAID = "keyholder_flags"


@dataclass(slots=True)
class UserState:
    """One SCIM User: its address and what Keyholder holds about it."""

    id: uuid.UUID
    email: str
    membership: Membership | None = None
    invitation: Invitation | None = None  # the newest pending one
    record: ScimUser | None = None

    @property
    def present(self) -> bool:
        """Whether the person is on the account now (a member, or invited)."""
        return self.membership is not None or self.invitation is not None

    @property
    def permissions(self) -> PermissionSet:
        """The permissions held (or offered); for an inactive User, those the IdP wants."""
        if self.membership is not None:
            return self.membership.permissions
        if self.invitation is not None:
            return self.invitation.permissions
        return self.record.permissions if self.record is not None else frozenset()

    @property
    def user_name(self) -> str:
        return self.record.user_name if self.record is not None else self.email


def load_states(
    tx: Tx, account: EnterpriseAccount, *, emails: Collection[str] | None = None
) -> list[UserState]:
    """Every SCIM User of the account, by address (the order pages are cut in);
    only those of ``emails`` when given."""
    states: dict[str, UserState] = {}
    if emails is not None and not emails:
        return []

    def state(email: str, record_id: uuid.UUID | None = None) -> UserState:
        if email not in states:
            states[email] = UserState(id=record_id or scim_id(account.id, email), email=email)
        return states[email]

    records = select(ScimUser).where(ScimUser.account_id == account.id)
    members = select(Membership).join(Membership.user).where(Membership.account_id == account.id)
    if emails is not None:
        records = records.where(ScimUser.email.in_(emails))
        members = members.where(User.email.in_(emails))
    for record in tx.session.scalars(records):
        state(record.email, record.id).record = record
    for membership in tx.session.scalars(members):
        state(membership.user.email).membership = membership
    # Oldest first: the newest pending invitation of an address is the one that counts.
    now = tx.clock.now()
    for invitation in repository.pending_invitations(tx.session, account.id, now, emails=emails):
        state(invitation.email).invitation = invitation
    return [states[email] for email in sorted(states)]


def state_by_id(tx: Tx, account: EnterpriseAccount, user_id: str) -> UserState | None:
    """The SCIM User with ``user_id``, read alone: its record, or else the address
    whose derived id it is (a scan of the account's addresses, not of its rows)."""
    try:
        wanted = uuid.UUID(user_id.strip())
    except ValueError:
        return None
    record = tx.session.get(ScimUser, wanted)
    if record is not None and record.account_id == account.id:
        return _one(load_states(tx, account, emails=[record.email]), wanted)
    for email in addresses(tx, account):
        if scim_id(account.id, email) == wanted:
            return _one(load_states(tx, account, emails=[email]), wanted)
    return None


def addresses(tx: Tx, account: EnterpriseAccount) -> list[str]:
    """Every SCIM User's address on the account, sorted: read from three columns only."""
    now = tx.clock.now()
    found = set(
        tx.session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.account_id == account.id)
        )
    )
    found.update(
        tx.session.scalars(select(ScimUser.email).where(ScimUser.account_id == account.id))
    )
    found.update(
        tx.session.scalars(
            select(Invitation.email).where(
                Invitation.account_id == account.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
        )
    )
    return sorted(found)


def _one(states: Sequence[UserState], wanted: uuid.UUID) -> UserState | None:
    return next((state for state in states if state.id == wanted), None)


def emails_for_key(tx: Tx, account: EnterpriseAccount, key: str, value: str) -> set[str] | None:
    """The addresses whose User can have ``value`` as its ``key`` (userName,
    externalId), read from the keys alone; None for another key."""
    folded = value.casefold()
    if key == "username":
        named = select(ScimUser.email).where(
            ScimUser.account_id == account.id, func.lower(ScimUser.user_name) == folded
        )
        return {folded} | set(tx.session.scalars(named))
    if key == "externalid":
        marked = select(ScimUser.email).where(
            ScimUser.account_id == account.id, ScimUser.external_id == value
        )
        return set(tx.session.scalars(marked))
    return None


def find_state(states: Sequence[UserState], user_id: str) -> UserState | None:
    return next((s for s in states if str(s.id) == user_id.strip().lower()), None)


def _active(state: UserState) -> bool | None:
    if not state.present:
        return False
    # Left unassigned when the IdP removed it (RFC 7644 §3.5.2.2): a member still.
    if state.record is not None and state.record.active is None:
        return None
    return True


def _attributes(state: UserState) -> dict[str, Any]:
    """name, displayName and emails: as the IdP gave them, or from the user."""
    if state.record is not None:
        return {k: v for k, v in state.record.attributes.items() if k != SAID}
    person_name = state.membership.user.name if state.membership is not None else ""
    found: dict[str, Any] = {"emails": [{"value": state.email, "type": "work", "primary": True}]}
    if person_name:
        found["name"] = {"formatted": person_name}
        found["displayName"] = person_name
    return found


def _moments(state: UserState) -> tuple[datetime, datetime]:
    created: list[datetime] = []
    changed: list[datetime] = []
    if state.record is not None:
        created.append(state.record.created_at)
        changed.append(state.record.updated_at)
    if state.membership is not None:
        created.append(state.membership.created_at)
        changed.append(state.membership.updated_at)
    if state.invitation is not None:
        created.append(state.invitation.created_at)
        changed.append(state.invitation.created_at)
    return min(created), max(changed)


def flags(state: UserState) -> dict[str, bool]:
    """The extension's flags: true for each permission held (or, inactive, wanted).

    A permission not held reads false, or unassigned where the IdP left it so
    (never set it, or removed it): what a client wrote is what it reads back.
    """
    said: dict[str, bool] = state.record.attributes.get(SAID, {}) if state.record else {}
    found = {}
    for permission in FLAGS:
        if permission in state.permissions:
            found[permission.value] = True
        elif state.record is None or said.get(permission.value) is not None:
            found[permission.value] = False
    return found


def render(state: UserState, base: str, *, with_meta: bool = True) -> Member:
    """The SCIM resource of ``state``, its ``meta.version`` a weak ETag of its content.

    ``with_meta=False`` leaves meta out (``add_meta`` adds it): matching a
    filter needs none, and the ETag is most of a render's cost.
    """
    payload: dict[str, Any] = {
        "schemas": [CORE_USER_URN, EXTENSION_URN],
        "id": str(state.id),
        "userName": state.user_name,
        **_attributes(state),
        EXTENSION_URN: flags(state),
    }
    if state.record is not None and state.record.external_id is not None:
        payload["externalId"] = state.record.external_id
    active = _active(state)
    if active is not None:
        payload["active"] = active
    resource = Member.model_validate(payload)
    return add_meta(resource, state, base) if with_meta else resource


def add_meta(resource: Member, state: UserState, base: str) -> Member:
    """``resource`` (rendered from ``state``) with its meta: times, location, version."""
    created, changed = _moments(state)
    resource.meta = Meta(
        resource_type="User",
        created=created,
        last_modified=changed,
        location=f"{base}/Users/{state.id}",
        version=etag_of(resource),
    )
    return resource


def etag_of(resource: Member) -> str:
    """A weak ETag over everything the resource says but its meta."""
    content = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, exclude={"meta"})
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode())
    return f'W/"{digest.hexdigest()[:20]}"'
